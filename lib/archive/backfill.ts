import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { ORIGIN_ATTRIBUTE } from '../../lambdas/shared/staged-event.ts';
import { type EnvelopeOrigin, wrapEvent } from '../../lambdas/shared/system-log-envelope.ts';
import { HOUR_MS } from '../../lambdas/shared/window.ts';
import { LocalPipeline, type PipelineInput } from '../local/local-pipeline.ts';
import type { AuditedWindow, MissingEvent } from './audit-archive.ts';

/**
 * Fills what an audit found missing through the same pipeline into the same archive, marked as refilled from the
 * System Log API (origin `backfill`): into a local archive directory through the local pipeline, or to the deployed
 * ingest queue. Either way ingest dedupes and the sequencer seals, so an event is archived once however often it is
 * filled, and a window that already has a manifest gains a late supplement listing the events as `backfilled`.
 */

/**
 * The envelope Okta Log Streaming would have sent for an event read from the System Log API, and its text (the event
 * as the API gave it, parsed: JSON.stringify writes it back as Okta sent it).
 */
const backfillEnvelope = (event: Readonly<Record<string, unknown>>, origin: EnvelopeOrigin) =>
  wrapEvent(event, JSON.stringify(event), origin);

/** What an archive built without `--window` uses. */
export const DEFAULT_WINDOW_SECONDS = 60;

/**
 * The archive's window length at `at`: that of a sealed window in the same hour (a length changes only at a whole
 * hour), else of the nearest sealed window before it, else after it, else the default.
 */
export function windowSecondsAt(at: number, windows: readonly AuditedWindow[]): number {
  const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
  const lengthOf = (window: AuditedWindow) => (window.end - window.start) / 1000;
  const sameHour = windows.find((window) => Math.floor(window.start / HOUR_MS) * HOUR_MS === hour);
  if (sameHour !== undefined) return lengthOf(sameHour);
  const before = windows.filter((window) => window.start < at).at(-1);
  if (before !== undefined) return lengthOf(before);
  const after = windows.find((window) => window.start >= at);
  return after === undefined ? DEFAULT_WINDOW_SECONDS : lengthOf(after);
}

export interface ArchiveDirFill {
  readonly archiveDir: string;
  readonly events: readonly MissingEvent[];
  /** The archive's sealed windows around the events, by start: they say its window length. */
  readonly windows: readonly AuditedWindow[];
  readonly origin: EnvelopeOrigin;
  /** Accept only envelopes from this source, as `olp local --event-source-name` does. */
  readonly eventSourceName?: string;
  /** Names the input in quarantine records. */
  readonly inputName: string;
}

export interface FillOutcome {
  /** Events archived by this fill (sent, for the ingest queue). */
  readonly filled: number;
  /** Events ingest refused, each quarantined with its reason. */
  readonly quarantined: number;
}

const CHUNK = 1000;

/**
 * Runs the missing events through the local pipeline into `archiveDir`, once per window length the archive uses
 * for their times, so every event lands in the window the archive already has for it.
 */
export async function fillArchiveDir(fill: ArchiveDirFill): Promise<FillOutcome> {
  const byLength = new Map<number, MissingEvent[]>();
  for (const event of fill.events) {
    const seconds = windowSecondsAt(Date.parse(event.published), fill.windows);
    byLength.set(seconds, [...(byLength.get(seconds) ?? []), event]);
  }
  let filled = 0;
  let quarantined = 0;
  for (const [windowSeconds, events] of byLength) {
    const pipeline = await LocalPipeline.start({
      archiveDir: fill.archiveDir,
      // An audit fill archives; alerting on what the stream missed is the watchdog's, which has the claims.
      rules: [],
      windowSeconds,
      // Events go in published order; a lateness of an hour keeps a window from being split across chunks.
      allowedLatenessSeconds: 3600,
      dedupeRetentionDays: 7,
      alertDedupeRetentionDays: 30,
      inputName: fill.inputName,
      ...(fill.eventSourceName === undefined ? {} : { eventSourceName: fill.eventSourceName }),
      onAlert: () => {},
    });
    try {
      const sorted = [...events].sort((a, b) => Date.parse(a.published) - Date.parse(b.published));
      for (let i = 0; i < sorted.length; i += CHUNK) {
        const records: PipelineInput[] = sorted.slice(i, i + CHUNK).map((missing, j) => {
          const { envelope, text } = backfillEnvelope(missing.event, fill.origin);
          return { line: i + j + 1, envelope, raw: text };
        });
        await pipeline.push(records, 'backfill');
      }
      const counts = await pipeline.finish();
      filled += counts.archived;
      quarantined += counts.quarantined;
    } finally {
      await pipeline.stop();
    }
  }
  return { filled, quarantined };
}

/** The deployed ingest queue, and the account and region its URL names (what the envelope must say). */
export interface IngestQueue {
  readonly url: string;
  readonly account: string;
  readonly region: string;
}

export class IngestQueueUrlError extends Error {
  override readonly name = 'IngestQueueUrlError';
}

const QUEUE_URL = /^https?:\/\/([a-z0-9.-]+)(?::\d+)?\/(\d{12})\/[\w-]{1,80}(?:\.fifo)?$/;
const REGION = /^(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\./;

/**
 * `https://sqs.<region>.amazonaws.com/<account>/<name>` (or the legacy `<region>.queue.amazonaws.com` form). Read
 * as text: a stand-in's host such as `sqs.us-east-1.127.0.0.1` is not a host the URL parser accepts.
 */
export function parseIngestQueueUrl(text: string): IngestQueue {
  const url = QUEUE_URL.exec(text.trim());
  const region = REGION.exec(url?.[1] ?? '');
  if (url?.[2] === undefined || region?.[1] === undefined) {
    throw new IngestQueueUrlError(
      'must be a queue URL naming its region and account, like https://sqs.eu-west-1.amazonaws.com/123456789012/<queue>',
    );
  }
  return { url: text.trim(), account: url[2], region: region[1] };
}

/** SQS takes at most 10 messages per batch. */
const SQS_BATCH = 10;
const SEND_ATTEMPTS = 3;
const BATCHES_IN_FLIGHT = 4;

export interface QueueFillOutcome {
  readonly sent: number;
  /** Events SQS refused after every attempt, with its reason. */
  readonly failed: Array<{ uuid: string; reason: string }>;
}

/**
 * Sends each event's envelope to the ingest queue with the message attribute `origin=backfill`, 10 per
 * SendMessageBatch, retrying the entries SQS refuses. Ingest dedupes, so an event sent twice is archived once.
 */
export async function sendToIngestQueue(
  sqs: Pick<SQSClient, 'send'>,
  queue: IngestQueue,
  events: readonly MissingEvent[],
  source: string,
): Promise<QueueFillOutcome> {
  const origin: EnvelopeOrigin = { source, account: queue.account, region: queue.region };
  const batches: MissingEvent[][] = [];
  for (let i = 0; i < events.length; i += SQS_BATCH) batches.push(events.slice(i, i + SQS_BATCH));
  let sent = 0;
  const failed: QueueFillOutcome['failed'] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++] ?? [];
      let pending = batch.map((event, i) => ({ event, entry: entryOf(event, origin, i) }));
      let reasons = new Map<string, string>();
      for (let attempt = 1; attempt <= SEND_ATTEMPTS && pending.length > 0; attempt++) {
        const response = await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: pending.map(({ entry }) => entry) }),
        );
        reasons = new Map(
          (response.Failed ?? []).map((f) => [f.Id ?? '', `${f.Code ?? 'failed'}: ${f.Message ?? ''}`]),
        );
        sent += pending.length - reasons.size;
        pending = pending.filter(({ entry }) => reasons.has(entry.Id ?? ''));
      }
      for (const { event, entry } of pending) {
        failed.push({ uuid: event.uuid, reason: reasons.get(entry.Id ?? '') ?? 'failed' });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCHES_IN_FLIGHT, batches.length) }, worker));
  return { sent, failed };
}

const entryOf = (event: MissingEvent, origin: EnvelopeOrigin, index: number): SendMessageBatchRequestEntry => ({
  Id: String(index),
  MessageBody: backfillEnvelope(event.event, origin).text,
  MessageAttributes: { [ORIGIN_ATTRIBUTE]: { DataType: 'String', StringValue: 'backfill' } },
});
