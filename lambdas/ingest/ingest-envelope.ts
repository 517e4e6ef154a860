import { JsonTooDeepError } from '../shared/canonical-json.ts';
import { type EventIdentity, type LogSource, OKTA } from '../shared/log-sources.ts';
import { describeIssues, type SourcePin, sourcePinIssue } from '../shared/okta-event.ts';
import type { ArchiveStore, EventStager } from '../shared/ports.ts';
import { type QuarantineOrigin, quarantine } from '../shared/quarantine.ts';
import { type EventOrigin, type StagedEvent, type StagingSettings, stageEvent } from '../shared/staged-event.ts';
import { findDuplicateKey, hasDuplicateKeys, rawDetail } from './raw-detail.ts';

export type IngestOutcome =
  | { readonly kind: 'staged'; readonly event: StagedEvent }
  | { readonly kind: 'duplicate'; readonly event: StagedEvent }
  | { readonly kind: 'quarantined'; readonly reason: string; readonly key: string };

export interface IngestDeps {
  readonly events: EventStager;
  /**
   * The sequencer's close (`closedBefore`): events published before it are staged late. Read from the state item,
   * cached for at most a few seconds deployed (the seal guard covers the cache); undefined before the first run.
   */
  readonly closedBefore: () => Promise<number | undefined>;
  /** Where rejected input goes, with its reason (the archive bucket's `quarantine/` prefix). */
  readonly quarantine: ArchiveStore;
  /** The clock: stamps quarantine records, bounds `published`, starts dedupe retention. */
  readonly now: () => number;
  readonly newToken: () => string;
  /** Which envelopes are accepted; deployed, the configured source and the stack's account. */
  readonly pin: SourcePin;
  /** The kind of log this ingest takes (Okta System Log events unless said otherwise). */
  readonly source?: LogSource;
}

export type IngestOrigin = QuarantineOrigin;

type Parsed =
  | { readonly ok: true; readonly event: EventIdentity; readonly body: string; readonly content: unknown }
  | { readonly ok: false; readonly reason: string };

/**
 * How far ahead of the wall clock `published` may be. Okta stamps events itself, so more than clock skew means a
 * broken event; staged, it would wait for a window that never closes, so it is rejected instead.
 */
export const MAX_CLOCK_SKEW_MS = 60 * 60 * 1000;

/** Validation, pure: the raw EventBridge event in, the event and its text as received, or the reason to reject. */
export const parseEnvelope = (raw: string, pin: SourcePin, wallClock: number, source: LogSource = OKTA): Parsed => {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const envelope = source.envelope.safeParse(json);
  if (!envelope.success)
    return { ok: false, reason: `not an ${source.label} EventBridge event: ${describeIssues(envelope.error)}` };
  const pinned = sourcePinIssue(envelope.data, pin);
  if (pinned !== undefined) return { ok: false, reason: `not from the pinned ${source.label} event source: ${pinned}` };
  // Validated on the parsed value, archived as text: with a key given twice the two could differ.
  try {
    if (hasDuplicateKeys(raw, json)) {
      return { ok: false, reason: `ambiguous JSON: key ${findDuplicateKey(raw) ?? '(unknown)'} appears twice` };
    }
  } catch (error) {
    if (error instanceof JsonTooDeepError)
      return { ok: false, reason: `not an ${source.label} EventBridge event: ${error.message}` };
    throw error;
  }
  const identified = source.identify(envelope.data.detail);
  if (!identified.ok) return identified;
  const event = identified.event;
  if (Date.parse(event.published) > wallClock + MAX_CLOCK_SKEW_MS) {
    return {
      ok: false,
      reason: `invalid ${source.eventName} in detail: ${source.timeField}: ${event.published} is in the future`,
    };
  }
  const body = rawDetail(raw);
  if (body === undefined)
    return { ok: false, reason: `not an ${source.label} EventBridge event: detail: must be an object` };
  return { ok: true, event, body, content: envelope.data.detail };
};

/**
 * Ingests one EventBridge event: quarantine it with its reason, or stage it with one conditional write that also
 * dedupes it. An on-time event's bucket is announced first (once per bucket and process, by the staging memory), so
 * the sequencer finds it; a late event gets its marker first, so that whatever fails after, the sequencer learns of
 * it (docs/design.md). Errors other than rejection propagate, so the queue redelivers the event.
 */
export const ingestEnvelope = async (
  raw: string,
  origin: IngestOrigin,
  deps: IngestDeps,
  settings: StagingSettings,
  /** `backfill` for events refilled from the System Log API; recorded on the staged item and in the manifest. */
  delivery: EventOrigin = 'stream',
): Promise<IngestOutcome> => {
  const now = deps.now();
  const parsed = parseEnvelope(raw, deps.pin, now, deps.source);
  if (!parsed.ok) {
    const key = await quarantine(deps.quarantine, { reason: parsed.reason, origin, raw }, now);
    return { kind: 'quarantined', reason: parsed.reason, key };
  }
  const closedBefore = (await deps.closedBefore()) ?? Number.NEGATIVE_INFINITY;
  const identity = { uuid: parsed.event.id, published: parsed.event.published };
  const event = stageEvent(identity, parsed.body, settings, now, closedBefore, parsed.content, delivery);
  if (event.late) {
    await deps.events.putLateMarker({
      publishedMs: event.publishedMs,
      pk: event.pk,
      sk: event.sk,
      token: deps.newToken(),
      writtenAt: now,
    });
  } else {
    await deps.events.announce({
      bucketStart: event.windowStart,
      bucketSeconds: settings.windowSeconds,
      shards: settings.windowShards,
    });
  }
  const result = await deps.events.stage(event);
  return { kind: result, event };
};
