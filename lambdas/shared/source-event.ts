import { type EventIdentity, type LogSource, sourceOfEnvelope } from './log-sources.ts';
import { describeIssues, type SourcePin, sourcePinIssue } from './okta-event.ts';

/** An EventBridge event that a queue consumer accepted: its log source, its identity, and its detail as received. */
export interface SourceEvent {
  readonly source: LogSource;
  readonly identity: EventIdentity;
  readonly detail: Record<string, unknown>;
}

/**
 * Checks an EventBridge event that came with a queue message (the alert and detector queues): the envelope of one of
 * the log sources, from the pinned source and account, with a valid core. Reasons name fields and what was
 * expected, never a value the sender chose (they reach logs and terminals).
 */
export function checkSourceEvent(
  event: { readonly 'detail-type': string; readonly source: string; readonly detail: unknown },
  pin: SourcePin,
): { readonly ok: true; readonly event: SourceEvent } | { readonly ok: false; readonly reason: string } {
  const source = sourceOfEnvelope(event);
  if (source === undefined) {
    return {
      ok: false,
      reason: 'not from a known log source: detail-type and source must be those of an Okta or Auth0 log stream',
    };
  }
  const envelope = source.envelope.safeParse(event);
  if (!envelope.success) {
    return { ok: false, reason: `not an ${source.label} EventBridge event: ${describeIssues(envelope.error)}` };
  }
  const pinIssue = sourcePinIssue(envelope.data, pin);
  if (pinIssue !== undefined) return { ok: false, reason: `not from the pinned source: ${pinIssue}` };
  const identified = source.identify(event.detail);
  if (!identified.ok) return { ok: false, reason: identified.reason };
  return { ok: true, event: { source, identity: identified.event, detail: event.detail as Record<string, unknown> } };
}
