import { type LogSource, OKTA } from './log-sources.ts';
import { nameUuid } from './name-uuid.ts';

/**
 * The EventBridge envelope a log stream would have sent for an event that came without one: a System Log event read
 * from the System Log API (the watchdog's and `olp audit --fill`'s backfill), a raw event fed to `olp local`, an Auth0
 * log received by the HTTP sink. Built, not forged: only the stack's own watchdog and operator role may put it on the ingest queue,
 * and it names the pinned source and account like a delivered one.
 */

/** Where the envelope says it comes from: the partner event source, the AWS account and region of the stream. */
export interface EnvelopeOrigin {
  readonly source: string;
  readonly account: string;
  readonly region: string;
}

/** The UUIDv5 namespace of envelope ids derived from event uuids. */
const ENVELOPE_ID_NAMESPACE = Buffer.from('a1f35ee9eabc4559bf3a64f3bc3950e6', 'hex');

/**
 * A UUIDv5 of the event's uuid, so wrapping the same event twice gives the same envelope id. Lowercased first, as the
 * pipeline's dedupe does: Okta writes some uuids in uppercase.
 */
export function envelopeIdOf(uuid: unknown): string {
  return nameUuid(ENVELOPE_ID_NAMESPACE, typeof uuid === 'string' ? uuid.toLowerCase() : JSON.stringify(uuid));
}

const UTC_INSTANT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/;

/** The envelope `time`: `published` to the second, in UTC, as EventBridge writes it; left as is when unreadable. */
export function envelopeTimeOf(published: unknown): string {
  if (typeof published !== 'string') return JSON.stringify(published);
  const utc = UTC_INSTANT.exec(published);
  if (utc?.[1] !== undefined) return `${utc[1]}Z`;
  const millis = Date.parse(published);
  return Number.isFinite(millis) ? `${new Date(millis).toISOString().slice(0, 19)}Z` : published;
}

/** The envelope's fields around an event of `kind` (everything but `detail`), in EventBridge's order. */
export const envelopeFields = (
  event: Readonly<Record<string, unknown>>,
  origin: EnvelopeOrigin,
  kind: LogSource = OKTA,
) => {
  const claimed = kind.claimedIdentity(event);
  return {
    version: '0',
    id: envelopeIdOf(claimed.id),
    'detail-type': kind.detailType,
    source: origin.source,
    account: origin.account,
    time: envelopeTimeOf(claimed.published),
    region: origin.region,
    resources: [] as string[],
  };
};

/**
 * The envelope's text with the event's own text as `detail`: never re-serialised, so every digit and key of the event
 * stays as written.
 */
export const envelopeText = (
  event: Readonly<Record<string, unknown>>,
  eventText: string,
  origin: EnvelopeOrigin,
  kind: LogSource = OKTA,
): string => wrapEvent(event, eventText, origin, kind).text;

/** The envelope around an event, as an object (for the alert rules) and as text (for ingest), built once. */
export const wrapEvent = (
  event: Readonly<Record<string, unknown>>,
  eventText: string,
  origin: EnvelopeOrigin,
  kind: LogSource = OKTA,
): { readonly envelope: Record<string, unknown>; readonly text: string } => {
  const fields = envelopeFields(event, origin, kind);
  return {
    envelope: { ...fields, detail: event },
    text: `${JSON.stringify(fields).slice(0, -1)},"detail":${eventText.trim()}}`,
  };
};
