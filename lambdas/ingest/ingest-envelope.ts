import { type QuarantineRecord, quarantineKey } from '../shared/archive-layout.ts';
import { describeIssues, OktaEnvelope, OktaSystemLogEvent } from '../shared/okta-event.ts';
import type { ArchiveStore, EventStore } from '../shared/ports.ts';
import { type StagedEvent, type StagingSettings, stageEvent } from '../shared/staged-event.ts';

export type IngestOutcome =
  | { readonly kind: 'staged'; readonly event: StagedEvent }
  | { readonly kind: 'duplicate'; readonly event: StagedEvent }
  | { readonly kind: 'quarantined'; readonly reason: string; readonly key: string };

export interface IngestDeps {
  readonly events: EventStore;
  /** Where rejected input goes, with its reason (the archive bucket's `quarantine/` prefix). */
  readonly quarantine: ArchiveStore;
  /** The clock (deployed) or the event-time watermark (local): decides whether an event is late. */
  readonly now: () => number;
  readonly newToken: () => string;
}

/** Where one input came from: `id` names it uniquely (an SQS message id; a file and line locally). */
export interface IngestOrigin {
  readonly id: string;
  readonly [detail: string]: string | number;
}

type Parsed = { readonly ok: true; readonly staged: StagedEvent } | { readonly ok: false; readonly reason: string };

/** Validation and staging, pure: the raw EventBridge event in, the item to stage or the reason to reject out. */
export const parseEnvelope = (raw: string, settings: StagingSettings, now: number): Parsed => {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const envelope = OktaEnvelope.safeParse(json);
  if (!envelope.success)
    return { ok: false, reason: `not an Okta EventBridge event: ${describeIssues(envelope.error)}` };
  const event = OktaSystemLogEvent.safeParse(envelope.data.detail);
  if (!event.success)
    return { ok: false, reason: `invalid System Log event in detail: ${describeIssues(event.error)}` };
  // The parsed detail keeps every field in the order received: serializing it gives the event as Okta sent it.
  const body = JSON.stringify(envelope.data.detail);
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
  const parsed = parseEnvelope(raw, settings, now);
  if (!parsed.ok) {
    const key = quarantineKey(now, origin.id);
    const record: QuarantineRecord = { reason: parsed.reason, receivedAt: new Date(now).toISOString(), origin, raw };
    await deps.quarantine.put(key, `${JSON.stringify(record, null, 2)}\n`, 'application/json');
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
