import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSRecord } from 'aws-lambda';
import { createAlertBatchHandler } from '../../lambdas/alert/alert-records.ts';
import { handleDetectorMessage } from '../../lambdas/detector/process-detection.ts';
import { type IngestOutcome, ingestEnvelope, MAX_CLOCK_SKEW_MS } from '../../lambdas/ingest/ingest-envelope.ts';
import { runSequencer, type SequencerSettings } from '../../lambdas/sequencer/run-sequencer.ts';
import {
  LOG_SOURCES,
  type LogSource,
  OKTA,
  type SourceName,
  sourceOfEnvelope,
} from '../../lambdas/shared/log-sources.ts';
import type { SourcePin } from '../../lambdas/shared/okta-event.ts';
import { type PiiSources, piiRedactions } from '../../lambdas/shared/pii.ts';
import type { ArchiveSigner, EventStager } from '../../lambdas/shared/ports.ts';
import { quarantine } from '../../lambdas/shared/quarantine.ts';
import type { QueueMessage } from '../../lambdas/shared/sqs-queue-sender.ts';
import { type EventOrigin, ORIGIN_ATTRIBUTE } from '../../lambdas/shared/staged-event.ts';
import { windowEndOf, windowStartOf } from '../../lambdas/shared/window.ts';
import type { OktaFeed, WatchdogDeps } from '../../lambdas/watchdog/run-watchdog.ts';
import { compileRules, type LoadedRule, matchingRules, ruleSummary } from '../rules/index.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { MemoryDetectorStore } from './memory-detector-store.ts';
import {
  type Lane,
  type LocalStore,
  LocalStoreError,
  type PipelineStack,
  startInProcessStack,
  startStandInStack,
} from './pipeline-stack.ts';

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
  /**
   * What the tables and queues live in (pipeline-stack.ts): `in-process` unless `dataDir` is given, which needs the
   * stand-ins. @default 'in-process'
   */
  readonly store?: LocalStore;
  /**
   * Keeps DynamoDB's data (dedupe records, alert claims, sequencer progress) between runs, in dynalite's files here;
   * in memory otherwise.
   */
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
  /** PII controls (`--okta-pii`, `--auth0-pii`, `--pii-key-file`): redacted alerts, and archives with `archive`. */
  readonly pii?: { readonly sources: PiiSources; readonly key?: Uint8Array };
  readonly onAlert: (alert: LocalAlert) => void;
  /**
   * Called with each event an alert rule matched, as it is handed to the alert path (`olp local --forward` sends it
   * on to the rule's destinations, lib/local/forwarder.ts). @default - none
   */
  readonly onMatch?: (ruleId: string, envelope: Readonly<Record<string, unknown>>) => void;
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

/** A record that fails this many times is quarantined with its error instead of being retried forever. */
const MAX_RECEIVES = 3;

/**
 * The deployed topology in one process: the partner bus is the local pattern engine; the ingest and alert queues, the
 * alert topic and a subscriber queue, the events and alert-claims tables are in this process (or on fauxqs and
 * dynalite, the `stand-ins` store); the archive in a directory with the S3 key layout (mirrored to a fauxqs bucket on
 * the stand-ins). Ingest, sequencer and alert code are the Lambdas', over the same ports either way.
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
  /** Stateful rules' windows: in memory, whichever store the tables use. */
  private readonly detectorStore = new MemoryDetectorStore();
  private detected = 0;

  private constructor(
    private readonly options: LocalPipelineOptions,
    private readonly stack: PipelineStack,
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

  /** What the tables and queues live in. */
  get store(): LocalStore {
    return this.stack.store;
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
    if (options.store === 'in-process' && options.dataDir !== undefined) {
      throw new LocalStoreError(
        'the in-process store keeps nothing between runs: a data directory needs the stand-ins',
      );
    }
    const stack =
      options.store === 'stand-ins' || options.dataDir !== undefined
        ? await startStandInStack(options)
        : await startInProcessStack(options);
    return new LocalPipeline(options, stack, settings);
  }

  /**
   * Sends a chunk of input through the pipeline: bus, ingest, alerts, then one sequencer run. `backfill` input is
   * what the stream never delivered, refilled from the System Log API; its origin is recorded as the watchdog's is.
   * The records are routed before this returns and not held after: a caller that lets go of them too keeps only the
   * events' text while the chunk goes through.
   */
  async push(records: readonly PipelineInput[], origin: EventOrigin = 'stream'): Promise<void> {
    return this.deliver(this.route(records, origin));
  }

  /** The bus: each record to its lane's ingest queue, and to the alert queue once for each rule it matches. */
  private route(records: readonly PipelineInput[], origin: EventOrigin): Routed {
    const routed: Routed = { rejected: [], ingest: new Map(), alerts: [], detections: [] };
    for (const record of records) {
      this.counts.read++;
      if ('error' in record) {
        routed.rejected.push(record);
        continue;
      }
      const lane = this.laneOf(record.envelope);
      this.advanceWatermark(record.envelope, lane.source);
      let messages = routed.ingest.get(lane.source.name);
      if (messages === undefined) {
        messages = [];
        routed.ingest.set(lane.source.name, messages);
      }
      messages.push({
        body: record.raw,
        attributes: { line: String(record.line), ...(origin === 'backfill' ? { [ORIGIN_ATTRIBUTE]: origin } : {}) },
      });
      // As the HTTP sink does: an event ingest will quarantine is matched by no rule, so it is quarantined once.
      if (!lane.source.identify(record.envelope.detail).ok) continue;
      for (const rule of matchingRules(this.rulesFor(record.envelope.source), record.envelope)) {
        if (rule.detect !== undefined) {
          // A stateful rule's pre-filter: the event goes to its detector, as the rule's EventBridge target sends it.
          routed.detections.push(
            JSON.stringify({ rule: { ...ruleSummary(rule), detect: rule.detect }, event: record.envelope }),
          );
          continue;
        }
        routed.alerts.push({ body: JSON.stringify({ rule: ruleSummary(rule), event: record.envelope }) });
        this.options.onMatch?.(rule.id, record.envelope);
      }
    }
    return routed;
  }

  private async deliver({ rejected, ingest, alerts, detections }: Routed): Promise<void> {
    for (const record of rejected) await this.quarantineLine(record.line, record.error, record.raw);
    await Promise.all([
      ...this.stack.lanes.map((lane) => lane.queue.send(ingest.get(lane.source.name) ?? [])),
      this.stack.alertQueue.send(alerts),
    ]);
    await this.detect(detections);
    // Sealing happens between chunks, so the close read now holds for every record of this one.
    await Promise.all([
      ...this.stack.lanes.map(async (lane) => this.drainIngest(lane, await lane.events.readClose())),
      this.drainAlerts(),
    ]);
    for (const lane of this.stack.lanes) await this.seal(lane, this.watermark);
    await this.drainAlertSubscriber();
  }

  /**
   * What the feed watchdog (lambdas/watchdog) needs, on this pipeline's store: the events table (its state item and
   * the staged events), the ingest and alert queues it refills through, the alert claims and topic. `process()` then
   * ingests, alerts and seals what it sent.
   */
  watchdogDeps(okta: OktaFeed, rules: readonly CompiledAlertRule[], now: () => number): WatchdogDeps {
    return {
      okta,
      state: this.stack.watchdogState,
      staged: this.stack.okta.events,
      ingestQueue: this.stack.okta.queue,
      alertQueue: this.stack.alertQueue,
      // The local detector runs inline: what the watchdog refills is counted as it is sent.
      detectorQueue: { send: async (messages) => this.detect(messages.map((message) => message.body)) },
      claims: this.stack.claims,
      publisher: this.stack.topic,
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
    return lane.queue.drain(async (event) => {
      const batch = ingestRecord(lane.stager);
      const response = await processPartialResponse(event, batch, new BatchProcessor(EventType.SQS), {
        throwOnFullBatchFailure: false,
      });
      return response.batchItemFailures.map((failure) => failure.itemIdentifier);
    });
  }

  /**
   * The detector Lambda's code on the events stateful rules' pre-filters matched, in arrival order, its state in
   * memory; what it detects goes to the alert queue like any alert. A message it cannot accept is quarantined.
   */
  private async detect(bodies: readonly string[]): Promise<void> {
    for (const [index, body] of bodies.entries()) {
      await handleDetectorMessage(body, `detect-${this.runId}-${++this.detected}-${index}`, {
        store: this.detectorStore,
        alertQueue: this.stack.alertQueue,
        quarantine: this.stack.archive,
        pin: this.pin,
        keepSeconds: this.options.allowedLatenessSeconds + DETECTOR_KEEP_MARGIN_SECONDS,
        now: Date.now,
      });
    }
  }

  /**
   * The alert Lambda's code on the alert queue. A record that fails MAX_RECEIVES times is reported with its reason
   * and dropped, as the deployed queue would move it to its DLQ: a run always ends.
   */
  private drainAlerts(): Promise<void> {
    const reasons = new Map<string, string>();
    const handleBatch = createAlertBatchHandler({
      claims: this.stack.claims,
      publisher: this.stack.topic,
      quarantine: this.stack.archive,
      pin: this.pin,
      now: Date.now,
      redact: piiRedactions(this.options.pii?.sources ?? {}, this.options.pii?.key, 'alerts'),
      onReport: (report) => {
        if (report.kind === 'failed') reasons.set(report.messageId, report.reason);
      },
    });
    return this.stack.alertQueue.drain(async (event) => {
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
    return this.stack.subscriber.drain(async (event) => {
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
    const redact = piiRedactions(this.options.pii?.sources ?? {}, this.options.pii?.key, 'archive')[lane.source.name];
    const report = await runSequencer({ ...deps, ...(redact === undefined ? {} : { redact }) }, this.settings, now);
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

/** One chunk of input as the bus routed it: what to quarantine, what each lane ingests, what goes to the alert queue. */
interface Routed {
  readonly rejected: Array<Extract<PipelineInput, { error: string }>>;
  readonly ingest: Map<SourceName, QueueMessage[]>;
  readonly alerts: QueueMessage[];
  /** Detector-queue messages of stateful rules. */
  readonly detections: string[];
}

/** How long detector state outlives its window besides the allowed lateness, as deployed (lib/constructs/detection.ts). */
const DETECTOR_KEEP_MARGIN_SECONDS = 86_400;

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
