import { z } from 'zod';
import { AUTH0_DETAIL_TYPE, AUTH0_SOURCE_PREFIX, Auth0LogCore } from './auth0-log.ts';
import { describeIssues, OKTA_DETAIL_TYPE, OKTA_SOURCE_PREFIX, OktaEnvelope, OktaEventCore } from './okta-event.ts';

/**
 * The seam where a log source plugs in. Ingest, the sequencer, the archive and the alert path know an event only by
 * what its source says of it: its identity (the dedupe key), its time (the archive order) and its type (what rules
 * match); where its archive lives; and how an alert reads it. Okta is the first source, with the layout it always had; Auth0 is the second.
 */

/** What the pipeline needs of every event, whatever its source. */
export interface EventIdentity {
  /** The source's event id: Okta's `uuid`, Auth0's `log_id`. */
  readonly id: string;
  /** When the source says the event happened (ISO-8601): Okta's `published`, Auth0's `data.date`. */
  readonly published: string;
  /** What rules match: Okta's `eventType`, Auth0's `data.type`. */
  readonly type: string;
}

export type SourceName = 'okta' | 'auth0';

export interface LogSource {
  readonly name: SourceName;
  /** The source as reasons name it: "Okta", "Auth0". */
  readonly label: string;
  /** The EventBridge envelope its events come in (the HTTP sink builds the same one). */
  readonly envelope: z.ZodType<{ readonly source: string; readonly account: string; readonly detail: unknown }>;
  /** The field that holds the event's time, as reasons name it. */
  readonly timeField: string;
  /** What one event is called in reasons: "System Log event", "Auth0 log". */
  readonly eventName: string;
  /** Whether an envelope's `source` is one of this kind (a partner event source, or a sink of the pipeline's). */
  isSource(source: string): boolean;
  readonly detailType: string;
  /**
   * The prefix of the source's objects in the archive bucket (its windows, digests and quarantine): empty for Okta,
   * the layout it always had; `auth0/` for Auth0. Applied by the archive adapter; the domain code never sees it. Each
   * source stages in an events table of its own, so its keys need no prefix.
   */
  readonly archivePrefix: string;
  /** What a record says its id, time and type are, unchecked: for building the envelope around a bare event. */
  claimedIdentity(detail: Readonly<Record<string, unknown>>): {
    readonly id: unknown;
    readonly published: unknown;
    readonly type: unknown;
  };
  /** Whether a bare record (no envelope) looks like one of this source's events. */
  isBareEvent(record: Readonly<Record<string, unknown>>): boolean;
  /** The event's identity, or why it cannot be staged (naming fields and rules, never values). */
  identify(
    detail: unknown,
  ): { readonly ok: true; readonly event: EventIdentity } | { readonly ok: false; readonly reason: string };
  /**
   * The event as the alert formatter reads it: System Log field names (`uuid`, `published`, `eventType`,
   * `displayMessage`, `actor`, `target`, `client.ipAddress`, `outcome`), with the event's own fields beside them.
   */
  alertView(detail: Readonly<Record<string, unknown>>, identity: EventIdentity): OktaEventCore;
  /**
   * The record rule field paths are relative to (`where`, `groupBy`, `suppress.by`): the System Log event itself;
   * an Auth0 log's `data`.
   */
  ruleRecord(detail: unknown): unknown;
  /** Where the event says its client was, in degrees, when it says so: for rules about travel. */
  location(record: unknown): { readonly lat: number; readonly lon: number } | undefined;
}

const member = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;

/** Latitude and longitude when both are finite numbers in range; Okta writes no geolocation for private networks. */
const coordinates = (lat: unknown, lon: unknown): { lat: number; lon: number } | undefined =>
  typeof lat === 'number' && typeof lon === 'number' && Math.abs(lat) <= 90 && Math.abs(lon) <= 180
    ? { lat, lon }
    : undefined;

export const OKTA: LogSource = {
  name: 'okta',
  label: 'Okta',
  envelope: OktaEnvelope,
  timeField: 'published',
  claimedIdentity: (detail) => ({ id: detail.uuid, published: detail.published, type: detail.eventType }),
  isBareEvent: (record) =>
    ['uuid', 'published', 'eventType'].every((field) => Object.hasOwn(record, field)) &&
    !Object.hasOwn(record, 'detail'),
  eventName: 'System Log event',
  isSource: (source) => source.startsWith(OKTA_SOURCE_PREFIX),
  detailType: OKTA_DETAIL_TYPE,
  archivePrefix: '',
  identify(detail) {
    const core = OktaEventCore.safeParse(detail);
    if (!core.success)
      return { ok: false, reason: `invalid System Log event in detail: ${describeIssues(core.error)}` };
    return { ok: true, event: { id: core.data.uuid, published: core.data.published, type: core.data.eventType } };
  },
  alertView: (detail) => detail as OktaEventCore,
  ruleRecord: (detail) => detail,
  location(record) {
    const geolocation = member(member(member(record, 'client'), 'geographicalContext'), 'geolocation');
    return coordinates(member(geolocation, 'lat'), member(geolocation, 'lon'));
  },
};

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * Auth0 logs carry no outcome field; the type code says it (Auth0's log event type codes): failures start with `f`
 * (`f`, `fp`, `fu`, `fapi`, `fcoa`, ...), blocks are `limit_*`, breached passwords end in `pwd_leak`, and Guardian
 * MFA failures are `gd_*` codes that name a failure, rejection or exceeded limit.
 */
const AUTH0_FAILURE = /^f|^limit_|pwd_leak$|^gd_.*(fail|reject|exceed)/;

/** The `source` the HTTP sink gives the logs it receives: they have no partner event source of their own. */
export const AUTH0_HTTP_SOURCE = 'olp.auth0.http-sink';

/** The EventBridge envelope of an Auth0 log stream (and of the logs the HTTP sink receives). */
const Auth0Envelope = z.looseObject({
  version: z.string(),
  id: z.string(),
  'detail-type': z.literal(AUTH0_DETAIL_TYPE),
  source: z
    .string()
    .refine(
      (source) => source.startsWith(AUTH0_SOURCE_PREFIX) || source === AUTH0_HTTP_SOURCE,
      `must start with ${AUTH0_SOURCE_PREFIX}, or be ${AUTH0_HTTP_SOURCE}`,
    ),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.unknown(),
});

export const AUTH0: LogSource = {
  name: 'auth0',
  label: 'Auth0',
  envelope: Auth0Envelope,
  timeField: 'data.date',
  claimedIdentity: (detail) => {
    const data = detail.data as { date?: unknown; type?: unknown } | null | undefined;
    const present = typeof data === 'object' && data !== null;
    return { id: detail.log_id, published: present ? data.date : undefined, type: present ? data.type : undefined };
  },
  isBareEvent: (record) =>
    Object.hasOwn(record, 'log_id') && Object.hasOwn(record, 'data') && !Object.hasOwn(record, 'detail'),
  eventName: 'Auth0 log',
  isSource: (source) => source.startsWith(AUTH0_SOURCE_PREFIX) || source === AUTH0_HTTP_SOURCE,
  detailType: AUTH0_DETAIL_TYPE,
  archivePrefix: 'auth0/',
  identify(detail) {
    const core = Auth0LogCore.safeParse(detail);
    if (!core.success) return { ok: false, reason: `invalid Auth0 log in detail: ${describeIssues(core.error)}` };
    return { ok: true, event: { id: core.data.log_id, published: core.data.data.date, type: core.data.data.type } };
  },
  alertView(detail, identity) {
    const data = (typeof detail.data === 'object' && detail.data !== null ? detail.data : {}) as Record<
      string,
      unknown
    >;
    const user = text(data.user_name) ?? text(data.user_id);
    const client = text(data.client_name) ?? text(data.client_id);
    return {
      ...detail,
      uuid: identity.id,
      published: identity.published,
      eventType: identity.type,
      ...(text(data.description) === undefined ? {} : { displayMessage: data.description }),
      actor:
        user === undefined
          ? null
          : { id: text(data.user_id) ?? null, type: 'User', alternateId: user, displayName: user },
      target:
        client === undefined
          ? []
          : [{ id: text(data.client_id) ?? null, type: 'Application', alternateId: client, displayName: client }],
      client: { ipAddress: text(data.ip) ?? null, userAgent: { rawUserAgent: text(data.user_agent) ?? null } },
      outcome: { result: AUTH0_FAILURE.test(identity.type) ? 'FAILURE' : 'SUCCESS' },
    } as OktaEventCore;
  },
  ruleRecord: (detail) => member(detail, 'data'),
  /** Auth0 writes where an IP is in `location_info` (latitude, longitude) on logs of sign-ins and sign-ups. */
  location(record) {
    const info = member(record, 'location_info');
    return coordinates(member(info, 'latitude'), member(info, 'longitude'));
  },
};

export const LOG_SOURCES: readonly LogSource[] = [OKTA, AUTH0];

export const sourceNamed = (name: string): LogSource => {
  const source = LOG_SOURCES.find((candidate) => candidate.name === name);
  if (source === undefined)
    throw new Error(`unknown log source "${name}": one of ${LOG_SOURCES.map((s) => s.name).join(', ')}`);
  return source;
};

/** The source an envelope names by its `detail-type` and `source`, if any. */
export const sourceOfEnvelope = (envelope: {
  readonly 'detail-type'?: unknown;
  readonly source?: unknown;
}): LogSource | undefined =>
  LOG_SOURCES.find(
    (candidate) =>
      envelope['detail-type'] === candidate.detailType &&
      typeof envelope.source === 'string' &&
      candidate.isSource(envelope.source),
  );
