import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createAlertBatchHandler } from '../../lambdas/alert/alert-records.ts';
import { createSnsAlertPublisher } from '../../lambdas/alert/sns-publisher.ts';
import { type IngestOutcome, ingestEnvelope, MAX_CLOCK_SKEW_MS } from '../../lambdas/ingest/ingest-envelope.ts';
import { withStagingMemory } from '../../lambdas/ingest/staging-memory.ts';
import { runSequencer, type SequencerSettings } from '../../lambdas/sequencer/run-sequencer.ts';
import { createDynamoAlertClaims } from '../../lambdas/shared/dynamo-alert-claims.ts';
import { DynamoEventStore } from '../../lambdas/shared/dynamo-event-store.ts';
import {
  AUTH0,
  LOG_SOURCES,
  type LogSource,
  OKTA,
  type SourceName,
  sourceOfEnvelope,
} from '../../lambdas/shared/log-sources.ts';
import type { SourcePin } from '../../lambdas/shared/okta-event.ts';
import type { ArchiveSigner, ArchiveStore, EventStager } from '../../lambdas/shared/ports.ts';
import { prefixedArchive } from '../../lambdas/shared/prefixed-archive.ts';
import { quarantine } from '../../lambdas/shared/quarantine.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { sqsQueueSender } from '../../lambdas/shared/sqs-queue-sender.ts';
import { type EventOrigin, ORIGIN_ATTRIBUTE } from '../../lambdas/shared/staged-event.ts';
import { windowEndOf, windowStartOf } from '../../lambdas/shared/window.ts';
import { DynamoWatchdogStore } from '../../lambdas/watchdog/dynamo-watchdog-store.ts';
import type { OktaFeed, WatchdogDeps } from '../../lambdas/watchdog/run-watchdog.ts';
import { compileRules, type LoadedRule, matchingRules, ruleSummary } from '../rules/index.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { ArchiveDirStore, MirroredArchiveStore } from './archive-dir-store.ts';
import { createKeyTable, STAND_IN_REGION, standInClientConfig, startDynalite, startFauxqsServer } from './stand-ins.ts';

/** One alert as the local runner shows it: the fields of the SNS message's JSON form that identify it. */
export interface LocalAlert {
  readonly ruleId: string;
  readonly severity: string;
  readonly eventType: string;
  readonly uuid: string;
  readonly published: string;
  readonly subject: string;
}

/** One input record for the pipeline: an EventBridge envelope, or what was wrong with the record. */
export type PipelineInput =
  | { readonly line: number; readonly envelope: Record<string, unknown>; readonly raw: string }
  | { readonly line: number; readonly error: string; readonly raw: string };

export interface LocalPipelineOptions {
  readonly archiveDir: string;
  /** Keeps DynamoDB's data (dedupe records, alert claims, sequencer progress) between runs; in memory otherwise. */
  readonly dataDir?: string;
  readonly rules: readonly LoadedRule[];
  readonly windowSeconds: number;
  readonly allowedLatenessSeconds: number;
  readonly dedupeRetentionDays: number;
  readonly alertDedupeRetentionDays: number;
  /** Names the input in quarantine records (a file name, `stdin`, the Okta org). */
  readonly inputName: string;
  /** Accept only envelopes from this partner event source; any Okta source when absent. */
  readonly eventSourceName?: string;
  /** Signs the archive's digest records (`--signing-key`); unsigned when absent. */
  readonly signer?: ArchiveSigner;
  readonly onAlert: (alert: LocalAlert) => void;
}

export interface PipelineCounts {
  read: number;
  staged: number;
  duplicates: number;
  late: number;
  /** Staged events that came from a backfill (`push(records, 'backfill')`) rather than the stream. */
  backfilled: number;
  quarantined: number;
  windowsSealed: number;
  lateSupplements: number;
  archived: number;
  /** Quarantined input by kind of reason, with the first few line numbers of each. */
  readonly quarantineReasons: Map<string, { count: number; lines: number[] }>;
  readonly alertsByRule: Map<string, number>;
  /** Alerts that could not be raised after every retry, with why. */
  readonly alertFailures: Array<{ ruleId: string; uuid: string; reason: string }>;
  readonly conflicts: Set<string>;
  /** The source envelopes must come from, or undefined for any Okta source. */
  readonly sourcePin: string | undefined;
}

/** How many line numbers the summary keeps for each kind of quarantine reason. */
const LINES_PER_REASON = 5;

/** SQS caps a receive and a batch send at 10 messages. */
const SQS_BATCH = 10;
const RECEIVERS = 4;
/** A record that fails this many times is quarantined with its error instead of being retried forever. */
const MAX_RECEIVES = 3;

/**
 * The deployed topology in one process: the partner bus is the local pattern engine; the ingest and alert queues, the
 * alert topic and a subscriber queue are on fauxqs; the events and alert-claims tables on dynalite; the archive in a
 * directory (mirrored to a fauxqs bucket) with the S3 key layout. Ingest, sequencer and alert code are the Lambdas'.
 *
 * Time is event time: `now` is the watermark, the latest `published` seen, so replaying last week's events seals
 * windows as the deployed pipeline would have. Input is pushed in chunks; after each chunk the queues are drained and
 * the sequencer runs; `finish()` moves the watermark past the last window and seals everything.
 */
export class LocalPipeline {
  readonly counts: PipelineCounts;
  private watermark = Number.NEGATIVE_INFINITY;
  private readonly pin: SourcePin;
  private readonly compiled = new Map<string, CompiledAlertRule[]>();
  private readonly runId = new Date().toISOString().replaceAll(/[-:.]/g, '').slice(0, 15);

  private constructor(
    private readonly options: LocalPipelineOptions,
    private readonly stack: Awaited<ReturnType<typeof startStandIns>>,
    private readonly settings: SequencerSettings,
  ) {
    this.counts = {
      read: 0,
      staged: 0,
      duplicates: 0,
      late: 0,
      backfilled: 0,
      quarantined: 0,
      windowsSealed: 0,
      lateSupplements: 0,
      archived: 0,
      quarantineReasons: new Map(),
      alertsByRule: new Map(),
      alertFailures: [],
      conflicts: new Set(),
      sourcePin: options.eventSourceName,
    };
    this.pin = options.eventSourceName === undefined ? {} : { source: options.eventSourceName };
  }

  /** Where sealed windows go. */
  get archiveDir(): string {
    return this.options.archiveDir;
  }

  static async start(options: LocalPipelineOptions): Promise<LocalPipeline> {
    const settings: SequencerSettings = {
      windowSeconds: options.windowSeconds,
      allowedLatenessSeconds: options.allowedLatenessSeconds,
      // One process writes the table: spreading a window over partitions buys nothing here.
      windowShards: 1,
      dedupeRetentionDays: options.dedupeRetentionDays,
      // Ingest and sealing alternate in this process, so no ingest write can land after a seal began.
      sealGuardSeconds: 0,
      maxWindowsPerRun: Number.POSITIVE_INFINITY,
      maxLateMarkersPerRun: Number.POSITIVE_INFINITY,
    };
    return new LocalPipeline(options, await startStandIns(options), settings);
  }

  /**
   * Sends a chunk of input through the pipeline: bus, ingest, alerts, then one sequencer run. `backfill` input is
   * what the stream never delivered, refilled from the System Log API; its origin is recorded as the watchdog's is.
   */
  async push(records: readonly PipelineInput[], origin: EventOrigin = 'stream'): Promise<void> {
    const ingest = new Map<SourceName, Array<{ body: string; line: number; origin?: EventOrigin }>>();
    const alerts: string[] = [];
    for (const record of records) {
      this.counts.read++;
      if ('error' in record) {
        await this.quarantineLine(record.line, record.error, record.raw);
        continue;
      }
      const lane = this.laneOf(record.envelope);
      this.advanceWatermark(record.envelope, lane.source);
      ingest.set(lane.source.name, [
        ...(ingest.get(lane.source.name) ?? []),
        { body: record.raw, line: record.line, origin },
      ]);
      for (const rule of matchingRules(this.rulesFor(record.envelope.source), record.envelope)) {
        alerts.push(JSON.stringify({ rule: ruleSummary(rule), event: record.envelope }));
      }
    }
    await Promise.all([
      ...this.stack.lanes.map((lane) => this.send(lane.queue, ingest.get(lane.source.name) ?? [])),
      this.send(
        this.stack.queues.alert,
        alerts.map((body) => ({ body })),
      ),
    ]);
    // Sealing happens between chunks, so the close read now holds for every record of this one.
    await Promise.all([
      ...this.stack.lanes.map(async (lane) => this.drainIngest(lane, await lane.events.readClose())),
      this.drainAlerts(),
    ]);
    for (const lane of this.stack.lanes) await this.seal(lane, this.watermark);
    await this.drainAlertSubscriber();
  }

  /**
   * What the feed watchdog (lambdas/watchdog) needs, on this pipeline's stand-ins: the events table (its state item
   * and the staged events), the ingest and alert queues it refills through, the alert claims and topic. `process()`
   * then ingests, alerts and seals what it sent.
   */
  watchdogDeps(okta: OktaFeed, rules: readonly CompiledAlertRule[], now: () => number): WatchdogDeps {
    return {
      okta,
      state: new DynamoWatchdogStore(this.stack.dynamo, 'events'),
      staged: this.stack.okta.events,
      ingestQueue: sqsQueueSender(this.stack.sqs, this.stack.okta.queue),
      alertQueue: sqsQueueSender(this.stack.sqs, this.stack.queues.alert),
      claims: this.stack.claims,
      publisher: createSnsAlertPublisher({ client: this.stack.sns, topicArn: this.stack.topicArn }),
      rules,
      now,
      remainingMs: () => Number.POSITIVE_INFINITY,
    };
  }

  /** Handles what others put on the queues (the watchdog's refill): ingest, alerts, then one sequencer run. */
  process(): Promise<void> {
    return this.push([]);
  }

  /** The end of a finite input: the watermark jumps past the last window, so every window is sealed. */
  async finish(): Promise<PipelineCounts> {
    if (Number.isFinite(this.watermark)) {
      const lastEnd = windowEndOf(
        windowStartOf(this.watermark, this.settings.windowSeconds),
        this.settings.windowSeconds,
      );
      for (const lane of this.stack.lanes) await this.seal(lane, lastEnd + this.settings.allowedLatenessSeconds * 1000);
    }
    await this.drainAlertSubscriber();
    return this.counts;
  }

  async stop(): Promise<void> {
    await this.stack.stop();
  }

  private rulesFor(source: unknown): CompiledAlertRule[] {
    if (typeof source !== 'string') return [];
    const kind = LOG_SOURCES.find((candidate) => candidate.isSource(source));
    if (kind === undefined) return [];
    // --event-source-name pins the Okta source; Auth0 logs are accepted from any tenant locally.
    if (kind === OKTA && this.pin.source !== undefined && source !== this.pin.source) return [];
    let rules = this.compiled.get(source);
    if (rules === undefined) {
      // Deployed, rules are compiled for the configured sources; locally, for each source the input carries.
      rules = compileRules(this.options.rules, { [kind.name]: source });
      this.compiled.set(source, rules);
    }
    return rules;
  }

  /** The lane (ingest queue, events table, archive prefix) of an envelope's source; Okta's for anything unknown. */
  private laneOf(envelope: Record<string, unknown>): Lane {
    const kind = sourceOfEnvelope(envelope) ?? OKTA;
    return this.stack.lanes.find((lane) => lane.source === kind) ?? this.stack.okta;
  }

  private advanceWatermark(envelope: Record<string, unknown>, kind: LogSource): void {
    const detail = (typeof envelope.detail === 'object' && envelope.detail !== null ? envelope.detail : {}) as Record<
      string,
      unknown
    >;
    const claimed = kind.claimedIdentity(detail).published;
    const published = typeof claimed === 'string' ? Date.parse(claimed) : Number.NaN;
    // An implausible future instant is quarantined by ingest; it must not drag the watermark along.
    if (!Number.isFinite(published) || published > Date.now() + MAX_CLOCK_SKEW_MS) return;
    this.watermark = Math.max(this.watermark, published);
  }

  private async quarantineLine(line: number, reason: string, raw: string, error?: string): Promise<void> {
    const full = error === undefined ? reason : `${reason}: ${error}`;
    const origin = { id: this.originId(line), input: this.options.inputName, line };
    await quarantine(this.stack.archive, { reason: full, origin, raw }, Date.now());
    this.countQuarantine(full, line);
  }

  private countQuarantine(reason: string, line: number): void {
    this.counts.quarantined++;
    // Group by the reason's first clause and the field it names, if any: "invalid System Log event in detail:
    // published", "not JSON"; never by a part of the reason that quotes the input.
    const [first = reason, second] = reason.split(/:\s/);
    const kind = second !== undefined && /^[\w.[\]-]+$/.test(second) ? `${first}: ${second}` : first;
    const group = this.counts.quarantineReasons.get(kind) ?? { count: 0, lines: [] };
    group.count++;
    if (group.lines.length < LINES_PER_REASON) group.lines.push(line);
    this.counts.quarantineReasons.set(kind, group);
  }

  private originId(line: number): string {
    return `${this.runId}-line-${line}`;
  }

  private async send(
    queueUrl: string,
    messages: ReadonlyArray<{ body: string; line?: number; origin?: EventOrigin }>,
  ): Promise<void> {
    const batches: Array<typeof messages> = [];
    for (let i = 0; i < messages.length; i += SQS_BATCH) batches.push(messages.slice(i, i + SQS_BATCH));
    await Promise.all(
      batches.map((batch) =>
        this.stack.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((message, i) => ({
              Id: String(i),
              MessageBody: message.body,
              MessageAttributes: {
                ...(message.line === undefined
                  ? {}
                  : { line: { DataType: 'Number', StringValue: String(message.line) } }),
                ...(message.origin === 'backfill'
                  ? { [ORIGIN_ATTRIBUTE]: { DataType: 'String', StringValue: message.origin } }
                  : {}),
              },
            })),
          }),
        ),
      ),
    );
  }

  /** Receives until the queue is empty, with a few receivers at once; handles each batch like the Lambda would. */
  private async drain(queueUrl: string, handle: (event: SQSEvent) => Promise<string[]>): Promise<void> {
    const receiver = async () => {
      for (;;) {
        const { Messages = [] } = await this.stack.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: SQS_BATCH,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        if (Messages.length === 0) return;
        const failed = new Set(await handle({ Records: Messages.map((m) => toRecord(m, queueUrl)) }));
        const done = Messages.filter((m) => !failed.has(m.MessageId ?? ''));
        const retry = Messages.filter((m) => failed.has(m.MessageId ?? ''));
        if (done.length > 0) {
          const { Failed = [] } = await this.stack.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
          if (Failed.length > 0) throw new Error(`could not delete handled messages: ${Failed[0]?.Message}`);
        }
        if (retry.length > 0) {
          // Redeliver failed records now rather than after the visibility timeout.
          await this.stack.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: retry.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
            }),
          );
        }
      }
    };
    await Promise.all(Array.from({ length: RECEIVERS }, receiver));
  }

  private drainIngest(lane: Lane, closedBefore: number | undefined): Promise<void> {
    const deps = {
      quarantine: lane.archive,
      source: lane.source,
      now: Date.now,
      newToken: randomUUID,
      pin: lane.source === OKTA ? this.pin : {},
      closedBefore: async () => closedBefore,
    };
    const ingestRecord =
      (events: EventStager) =>
      async (record: SQSRecord): Promise<void> => {
        const line = Number(record.messageAttributes.line?.stringValue ?? 0);
        const origin = { id: this.originId(line), input: this.options.inputName, line };
        let outcome: IngestOutcome;
        try {
          const delivery =
            record.messageAttributes[ORIGIN_ATTRIBUTE]?.stringValue === 'backfill' ? 'backfill' : 'stream';
          outcome = await ingestEnvelope(record.body, origin, { ...deps, events }, this.settings, delivery);
        } catch (error) {
          // The queue would redeliver; after MAX_RECEIVES the record is quarantined with the error, never lost.
          if (Number(record.attributes.ApproximateReceiveCount) < MAX_RECEIVES) throw error;
          await this.quarantineLine(line, `ingest failed ${MAX_RECEIVES} times`, record.body, (error as Error).message);
          return;
        }
        if (outcome.kind === 'quarantined') {
          this.countQuarantine(outcome.reason, line);
          return;
        }
        // What others put on the queue (the watchdog's refill) moves event time too.
        this.watermark = Math.max(this.watermark, outcome.event.publishedMs);
        if (outcome.kind === 'duplicate') this.counts.duplicates++;
        else {
          this.counts.staged++;
          if (outcome.event.late) this.counts.late++;
          if (outcome.event.origin === 'backfill') this.counts.backfilled++;
        }
      };
    return this.drain(lane.queue, async (event) => {
      const batch = ingestRecord(lane.stager);
      const response = await processPartialResponse(event, batch, new BatchProcessor(EventType.SQS), {
        throwOnFullBatchFailure: false,
      });
      return response.batchItemFailures.map((failure) => failure.itemIdentifier);
    });
  }

  /**
   * The alert Lambda's code on the alert queue. A record that fails MAX_RECEIVES times is reported with its reason
   * and dropped, as the deployed queue would move it to its DLQ: a run always ends.
   */
  private drainAlerts(): Promise<void> {
    const reasons = new Map<string, string>();
    const handleBatch = createAlertBatchHandler({
      claims: this.stack.claims,
      publisher: createSnsAlertPublisher({ client: this.stack.sns, topicArn: this.stack.topicArn }),
      quarantine: this.stack.archive,
      pin: this.pin,
      now: Date.now,
      onReport: (report) => {
        if (report.kind === 'failed') reasons.set(report.messageId, report.reason);
      },
    });
    return this.drain(this.stack.queues.alert, async (event) => {
      const failed = (await handleBatch(event)).batchItemFailures.map((failure) => failure.itemIdentifier);
      return failed.filter((id) => {
        const record = event.Records.find((r) => r.messageId === id);
        if (record === undefined || Number(record.attributes.ApproximateReceiveCount) < MAX_RECEIVES) return true;
        this.counts.alertFailures.push({ ...alertIdentity(record.body), reason: reasons.get(id) ?? 'failed' });
        return false;
      });
    });
  }

  /** Reads what subscribers of the alert topic receive, and shows each alert. */
  private drainAlertSubscriber(): Promise<void> {
    return this.drain(this.stack.queues.subscriber, async (event) => {
      for (const record of event.Records) {
        const alert = readAlertNotification(record.body);
        this.counts.alertsByRule.set(alert.ruleId, (this.counts.alertsByRule.get(alert.ruleId) ?? 0) + 1);
        this.options.onAlert(alert);
      }
      return [];
    });
  }

  private async seal(lane: Lane, now: number): Promise<void> {
    if (!Number.isFinite(now)) return;
    const deps = {
      events: lane.events,
      archive: lane.archive,
      source: lane.source,
      ...(this.options.signer === undefined ? {} : { signer: this.options.signer }),
    };
    const report = await runSequencer(deps, this.settings, now);
    for (const window of report.sealed) {
      if (window.kind === 'main') this.counts.windowsSealed++;
      else this.counts.lateSupplements++;
      this.counts.archived += window.eventCount;
      for (const uuid of window.conflicts) this.counts.conflicts.add(uuid);
    }
    // Locally nothing retries a set-aside window later: the run stops and says why.
    const [setAside] = report.setAside;
    if (setAside !== undefined)
      throw new WindowSetAsideError(`window ${setAside.window} set aside: ${setAside.reason}`);
  }
}

/** The local sequencer could not seal a window (e.g. the archive directory holds a damaged manifest). */
export class WindowSetAsideError extends Error {
  override readonly name = 'WindowSetAsideError';
}

/** The rule id and event uuid of an alert-queue message, as far as it can be read. */
const alertIdentity = (body: string): { ruleId: string; uuid: string } => {
  try {
    const message = JSON.parse(body) as { rule?: { id?: unknown }; event?: { detail?: { uuid?: unknown } } };
    const text = (value: unknown) => (typeof value === 'string' ? value : '(unknown)');
    return { ruleId: text(message.rule?.id), uuid: text(message.event?.detail?.uuid) };
  } catch {
    return { ruleId: '(unknown)', uuid: '(unknown)' };
  }
};

const toRecord = (message: Message, queueUrl: string): SQSRecord => ({
  messageId: message.MessageId ?? '',
  receiptHandle: message.ReceiptHandle ?? '',
  body: message.Body ?? '',
  attributes: {
    ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
    SentTimestamp: '',
    SenderId: '',
    ApproximateFirstReceiveTimestamp: '',
  },
  messageAttributes: Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      { stringValue: value.StringValue, dataType: value.DataType ?? 'String' },
    ]),
  ),
  md5OfBody: message.MD5OfBody ?? '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueUrl,
  awsRegion: STAND_IN_REGION,
});

/**
 * An SNS notification as an SQS subscriber receives it. SNS delivers the message structure's `sqs` entry; fauxqs
 * delivers the whole structure, so both are accepted.
 */
const readAlertNotification = (body: string): LocalAlert => {
  const notification = JSON.parse(body) as { Message: string };
  const message = JSON.parse(notification.Message) as { sqs?: string } & Partial<LocalAlert>;
  const alert = (typeof message.sqs === 'string' ? JSON.parse(message.sqs) : message) as LocalAlert;
  return {
    ruleId: alert.ruleId,
    severity: alert.severity,
    eventType: alert.eventType,
    uuid: alert.uuid,
    published: alert.published,
    subject: alert.subject,
  };
};

/** Where one log source's events go: its ingest queue, its events table (and ingest's memory of it), its archive. */
interface Lane {
  readonly source: LogSource;
  readonly queue: string;
  readonly events: DynamoEventStore;
  readonly stager: EventStager;
  readonly archive: ArchiveStore;
}

/** dynalite and fauxqs on 127.0.0.1, with the tables, queues, topic and bucket of the deployed stack. */
const startStandIns = async (options: LocalPipelineOptions) => {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const dynamoServer = await startDynalite(options.dataDir === undefined ? {} : { path: options.dataDir });
  const fauxqs = await startFauxqsServer();
  const dynamo = new DynamoDBClient(standInClientConfig(dynamoServer.endpoint));
  const sqs = new SQSClient(standInClientConfig(fauxqs.endpoint));
  const sns = new SNSClient(standInClientConfig(fauxqs.endpoint));
  const s3 = new S3Client({ ...standInClientConfig(fauxqs.endpoint), forcePathStyle: true });

  const { TableNames = [] } = await dynamo.send(new ListTablesCommand({}));
  // A persisted --data-dir already has the tables.
  if (!TableNames.includes('events')) await createKeyTable(dynamo, 'events', { sortKey: true });
  if (!TableNames.includes('events-auth0')) await createKeyTable(dynamo, 'events-auth0', { sortKey: true });
  if (!TableNames.includes('alert-claims')) await createKeyTable(dynamo, 'alert-claims', { sortKey: false });
  const queue = async (name: string) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } }))).QueueUrl ??
    '';
  const queues = {
    ingest: await queue('ingest'),
    ingestAuth0: await queue('ingest-auth0'),
    alert: await queue('alert'),
    subscriber: await queue('alert-subscriber'),
  };
  const { TopicArn = '' } = await sns.send(new CreateTopicCommand({ Name: 'alerts' }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queues.subscriber, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));
  await s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
  await mkdir(options.archiveDir, { recursive: true });

  const archive = new MirroredArchiveStore(new ArchiveDirStore(options.archiveDir), new S3ArchiveStore(s3, 'archive'));
  /** One lane per log source, as deployed: its own ingest queue and events table, its part of the archive. */
  const lane = (source: LogSource, table: string, queueUrl: string): Lane => {
    const events = new DynamoEventStore(dynamo, table);
    return {
      source,
      queue: queueUrl,
      events,
      stager: withStagingMemory(events),
      archive: prefixedArchive(archive, source.archivePrefix),
    };
  };
  const okta = lane(OKTA, 'events', queues.ingest);
  const lanes = [okta, lane(AUTH0, 'events-auth0', queues.ingestAuth0)];
  return {
    dynamo,
    sqs,
    sns,
    queues,
    topicArn: TopicArn,
    okta,
    lanes,
    claims: createDynamoAlertClaims({
      client: dynamo,
      tableName: 'alert-claims',
      retentionDays: options.alertDedupeRetentionDays,
      now: Date.now,
    }),
    archive,
    stop: async () => {
      for (const client of [dynamo, sqs, sns, s3]) client.destroy();
      await fauxqs.stop();
      await dynamoServer.stop();
    },
  };
};
