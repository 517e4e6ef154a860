import { type QuarantineRecord, quarantineKey } from '../shared/archive-layout.ts';
import { describeIssues, OktaEnvelope, OktaEventCore } from '../shared/okta-event.ts';
import type { ArchiveStore, EventStore } from '../shared/ports.ts';
import { type StagedEvent, type StagingSettings, stageEvent } from '../shared/staged-event.ts';
import { rawDetail } from './raw-detail.ts';

export type IngestOutcome =
  | { readonly kind: 'staged'; readonly event: StagedEvent }
  | { readonly kind: 'duplicate'; readonly event: StagedEvent }
  | { readonly kind: 'quarantined'; readonly reason: string; readonly key: string };

/** The part of the events table ingest uses: it writes, and never reads. */
export type EventStager = Pick<EventStore, 'stage' | 'putLateMarker'>;

export interface IngestDeps {
  readonly events: EventStager;
  /** Where rejected input goes, with its reason (the archive bucket's `quarantine/` prefix). */
  readonly quarantine: ArchiveStore;
  /** The clock (deployed) or the event-time watermark (local): decides whether an event is late. */
  readonly now: () => number;
  /** The wall clock, when `now` is a watermark: stamps quarantine records and bounds `published` (default `now`). */
  readonly wallClock?: () => number;
  readonly newToken: () => string;
}

/** Where one input came from: `id` names it uniquely (an SQS message id; a file and line locally). */
export interface IngestOrigin {
  readonly id: string;
  readonly [detail: string]: string | number;
}

type Parsed = { readonly ok: true; readonly staged: StagedEvent } | { readonly ok: false; readonly reason: string };

/**
 * How far ahead of the wall clock `published` may be. Okta stamps events itself, so more than clock skew means a
 * broken event; staged, it would wait for a window that never closes, so it is rejected instead.
 */
export const MAX_CLOCK_SKEW_MS = 60 * 60 * 1000;

/** Writes one rejected input with its reason under `quarantine/`; the key comes from its origin, so a retry overwrites. */
export const quarantine = async (
  store: ArchiveStore,
  rejected: Pick<QuarantineRecord, 'reason' | 'origin' | 'raw'> & { readonly origin: IngestOrigin },
  at: number,
): Promise<string> => {
  const key = quarantineKey(at, rejected.origin.id);
  const record: QuarantineRecord = { ...rejected, receivedAt: new Date(at).toISOString() };
  await store.put(key, `${JSON.stringify(record, null, 2)}\n`, 'application/json');
  return key;
};

/** Validation and staging, pure: the raw EventBridge event in, the item to stage or the reason to reject out. */
export const parseEnvelope = (raw: string, settings: StagingSettings, now: number, wallClock = now): Parsed => {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const envelope = OktaEnvelope.safeParse(json);
  if (!envelope.success)
    return { ok: false, reason: `not an Okta EventBridge event: ${describeIssues(envelope.error)}` };
  const event = OktaEventCore.safeParse(envelope.data.detail);
  if (!event.success)
    return { ok: false, reason: `invalid System Log event in detail: ${describeIssues(event.error)}` };
  if (Date.parse(event.data.published) > wallClock + MAX_CLOCK_SKEW_MS) {
    return {
      ok: false,
      reason: `invalid System Log event in detail: published: ${event.data.published} is in the future`,
    };
  }
  // The event's own text when it can be cut out; otherwise the parsed detail, which keeps every field in order.
  const body = rawDetail(raw) ?? JSON.stringify(envelope.data.detail);
  return { ok: true, staged: stageEvent(event.data, body, settings, now) };
};

/**
 * Ingests one EventBridge event: quarantine it with its reason, or stage it with one conditional write that also
 * dedupes it. A late event gets its marker first, so that whatever fails after, the sequencer learns of it
 * (docs/design.md). Errors other than rejection propagate, so the queue redelivers the event.
 */
export const ingestEnvelope = async (
  raw: string,
  origin: IngestOrigin,
  deps: IngestDeps,
  settings: StagingSettings,
): Promise<IngestOutcome> => {
  const now = deps.now();
  const wallClock = deps.wallClock?.() ?? now;
  const parsed = parseEnvelope(raw, settings, now, wallClock);
  if (!parsed.ok) {
    const key = await quarantine(deps.quarantine, { reason: parsed.reason, origin, raw }, wallClock);
    return { kind: 'quarantined', reason: parsed.reason, key };
  }
  const event = parsed.staged;
  if (event.late) {
    await deps.events.putLateMarker({
      windowStart: event.windowStart,
      pk: event.pk,
      sk: event.sk,
      token: deps.newToken(),
      expiresAt: event.expiresAt,
    });
  }
  const result = await deps.events.stage(event);
  return { kind: result, event };
};
