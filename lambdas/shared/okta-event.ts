import { z } from 'zod';

/**
 * The Okta System Log event (developer.okta.com, System Log API, LogEvent object).
 *
 * Strict only where the pipeline depends on a field: `uuid` (dedupe key), `published` (ordering) and `eventType`
 * (alert rules). Every other field may have any shape, because real events are messy (JSON null next to the string
 * "null", `{}` for client or debugContext, JSON inside debugData strings) and Okta adds and reshapes fields; the alert
 * path reads them defensively (lambdas/alert/event-reader.ts). Unknown fields are kept, never stripped, because the
 * archive must hold the event exactly as Okta sent it.
 */

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** An ISO-8601 instant: date, time and an explicit offset (Okta writes `2023-05-30T14:17:58.126Z`). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** The calendar date and clock time exist (Date.parse alone rolls 30 February over into March). */
const isRealInstant = (value: string): boolean => {
  const [year, month, day, hour, minute, second] = value.split(/[-T:.Z+]/, 6).map(Number);
  if (year === undefined || month === undefined || day === undefined) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    (hour ?? 0) < 24 &&
    (minute ?? 0) < 60 &&
    (second ?? 0) < 60 &&
    Number.isFinite(Date.parse(value))
  );
};
const EVENT_TYPE = /^[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)+$/;

/**
 * The fields the pipeline depends on, strictly: ingest validates these and nothing more, so that a change in the shape
 * of a field nothing reads (Okta adds and reshapes them) never keeps an event out of the archive.
 */
export const OktaEventCore = z.looseObject({
  uuid: z.string().regex(UUID, 'must be a UUID'),
  published: z
    .string()
    .regex(ISO_INSTANT, 'must be an ISO-8601 instant with an offset, e.g. 2023-05-30T14:17:58.126Z')
    .refine(isRealInstant, 'must be a real date and time'),
  eventType: z.string().regex(EVENT_TYPE, 'must be a dotted Okta event type, e.g. user.session.start'),
});
export type OktaEventCore = z.infer<typeof OktaEventCore>;

export const OKTA_SOURCE_PREFIX = 'aws.partner/okta.com/';
export const OKTA_DETAIL_TYPE = 'SystemLog';

/** The EventBridge envelope in which Okta Log Streaming delivers one System Log event. */
export const OktaEnvelope = z.looseObject({
  version: z.string(),
  id: z.string(),
  'detail-type': z.literal(OKTA_DETAIL_TYPE),
  source: z.string().startsWith(OKTA_SOURCE_PREFIX, `must start with ${OKTA_SOURCE_PREFIX}`),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
});
export type OktaEnvelope = z.infer<typeof OktaEnvelope>;

/**
 * Which envelopes the pipeline accepts: deployed, exactly the configured partner event source and the stack's own
 * account; locally, the source given with `--event-source-name`, else any Okta source (and any account).
 */
export interface SourcePin {
  /** The `source` accepted (one, or one of several: the Okta and Auth0 sources); any of the kind when absent. */
  readonly source?: string | readonly string[];
  /** The one `account` accepted; any when absent. */
  readonly account?: string;
}

/**
 * Why an envelope that passed `OktaEnvelope` is not from the pinned source, or undefined when it is. The reason names
 * the field and what was expected; the received value is left out, so nothing an attacker chose reaches a log.
 */
export const sourcePinIssue = (
  envelope: Pick<OktaEnvelope, 'source' | 'account'>,
  pin: SourcePin,
): string | undefined => {
  if (pin.source !== undefined) {
    const accepted: readonly string[] = typeof pin.source === 'string' ? [pin.source] : pin.source;
    if (!accepted.includes(envelope.source)) return `source: must be ${accepted.join(' or ')}`;
  }
  if (pin.account !== undefined && envelope.account !== pin.account) return `account: must be ${pin.account}`;
  return undefined;
};

/** One line per problem, each naming the field path: `published: must be an ISO-8601 instant ...`. */
export const describeIssues = (error: z.ZodError): string =>
  error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(event)'}: ${issue.message}`)
    .join('; ');
