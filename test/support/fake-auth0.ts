import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the parts of an Auth0 tenant olp uses, behaving like the real one as its Management API v2
 * specification and the Authentication API docs describe it:
 *
 * - `POST /oauth/token`: the client credentials grant (form or JSON body) for machine-to-machine apps, checking the
 *   client id and secret and the audience (the Management API identifier), issuing expiring Bearer tokens with the
 *   app's granted scopes; OAuth errors `{error, error_description}`;
 * - `/api/v2/log-streams` (GET list, POST create with Auth0's payload validation) and `/api/v2/log-streams/{id}`
 *   (GET, PATCH, DELETE), Bearer auth (a static Management API token or an issued one), scopes checked per call
 *   (`read:`, `create:`, `update:`, `delete:log_streams`), errors `{statusCode, error, message, errorCode}`;
 * - `X-RateLimit-Limit/Remaining/Reset` (epoch seconds) on every Management API answer, and a 429 every Nth request;
 * - stream statuses active, paused and suspended (tests set suspended, as Auth0 does when a sink keeps failing);
 * - the tenant's logs: `GET /api/v2/logs` (scope `read:logs`) by checkpoint (`from`, `take` up to 100, ordered by
 *   `log_id`, a `Link` header whose next URL is the same one again when nothing is newer) and by search criteria
 *   (`page`, `per_page` up to 100, `sort` by date, at most the first 1,000 results);
 * - log streaming: each log written (`log()`) is delivered to every active stream, up to three attempts as Auth0 makes;
 *   a paused or suspended stream delivers nothing, and what it missed is not replayed when it is resumed.
 *
 * Each stream keeps the sink it was configured with (endpoint, authorization, content format), so a test of an HTTP
 * sink can read where and how Auth0 would deliver.
 */

export const FAKE_AUTH0_MGMT_TOKEN = 'fake-auth0-mgmt-token.for-tests-only.5c1d9e';

export const LOG_STREAM_SCOPES = ['read:log_streams', 'create:log_streams', 'update:log_streams', 'delete:log_streams'];

/** The scope `GET /api/v2/logs` needs. */
export const LOG_SCOPES = ['read:logs'];

/** Auth0's LogStreamFilterGroupNameEnum (Management API spec), kept apart from olp's copy so a drift shows. */
const CATEGORIES = new Set([
  'auth.login.fail',
  'auth.login.notification',
  'auth.login.success',
  'auth.logout.fail',
  'auth.logout.success',
  'auth.signup.fail',
  'auth.signup.success',
  'auth.silent_auth.fail',
  'auth.silent_auth.success',
  'auth.token_exchange.fail',
  'auth.token_exchange.success',
  'management.fail',
  'management.success',
  'scim.event',
  'system.notification',
  'user.fail',
  'user.notification',
  'user.success',
  'actions',
  'other',
]);

/** Auth0's LogStreamEventBridgeSinkRegionEnum: where it can create partner event sources. */
const EVENTBRIDGE_REGIONS = new Set([
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
]);

const CONTENT_FORMATS = new Set(['JSONARRAY', 'JSONLINES', 'JSONOBJECT']);
const PII_FIELDS = new Set(['first_name', 'last_name', 'username', 'email', 'phone', 'address']);
const STATUSES = new Set(['active', 'paused', 'suspended']);
const CREATE_KEYS = new Set(['name', 'type', 'isPriority', 'filters', 'pii_config', 'sink', 'startFrom']);
const UPDATE_KEYS = new Set(['name', 'status', 'isPriority', 'filters', 'pii_config', 'sink']);
const HTTP_SINK_KEYS = new Set([
  'httpEndpoint',
  'httpAuthorization',
  'httpContentFormat',
  'httpContentType',
  'httpCustomHeaders',
]);
const EVENTBRIDGE_SINK_KEYS = new Set(['awsAccountId', 'awsRegion', 'awsPartnerEventSource']);
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export type FakeAuth0StreamStatus = 'active' | 'paused' | 'suspended';

export interface FakeAuth0StreamInput {
  id?: string;
  name: string;
  type: string;
  status?: FakeAuth0StreamStatus;
  sink: Record<string, unknown>;
  filters?: Array<{ type: string; name: string }>;
  pii_config?: { log_fields: string[]; method?: string; algorithm?: string };
}

/** A tenant log as a log stream delivers it; `data` is the log as `GET /api/v2/logs` returns it (log_id included). */
export interface FakeAuth0Log {
  log_id: string;
  data: Record<string, unknown>;
}

export interface FakeAuth0Stream {
  id: string;
  name: string;
  type: string;
  status: FakeAuth0StreamStatus;
  isPriority: boolean;
  /** As configured: for http the endpoint, authorization, content type and format Auth0 delivers with. */
  sink: Record<string, unknown>;
  filters?: Array<{ type: string; name: string }>;
  pii_config?: { log_fields: string[]; method?: string; algorithm?: string };
  startFrom?: string;
}

/** A machine-to-machine application authorized for the Management API. */
export interface FakeAuth0App {
  clientId: string;
  clientSecret: string;
  /** Scopes of its client grant for the Management API; [] means no grant at all. Default LOG_STREAM_SCOPES. */
  scopes?: string[];
  /** Lifetime of issued tokens; default 86400 s, as Auth0's. */
  tokenTtlSeconds?: number;
}

export interface FakeAuth0Options {
  streams?: FakeAuth0StreamInput[];
  /** The static Management API token accepted (as the API Explorer issues one); default FAKE_AUTH0_MGMT_TOKEN. */
  token?: string;
  /** Scopes of the static token; default LOG_STREAM_SCOPES. */
  tokenScopes?: string[];
  apps?: FakeAuth0App[];
  /** The Management API identifier; default `<url>/api/v2/`. A tenant behind a custom domain keeps its canonical one. */
  audience?: string;
  /** The tenant name Auth0 puts in partner event sources (`aws.partner/auth0.com/<tenant>-<id>/auth0.logs`). */
  tenant?: string;
  /** Streams a tenant may have before Auth0 answers 409 (plan-dependent); default 10. */
  maxStreams?: number;
  /** Answer 429 on every Nth Management API request, with X-RateLimit-Reset that many seconds ahead (default 1). */
  rateLimit?: { every: number; resetAfterSeconds?: number };
  /** The server's clock (epoch ms): token expiry and rate limit resets. */
  now?: () => number;
  /** Delivers one log to an active stream (its sink); a throw is a failed attempt. @default - nothing is delivered */
  deliver?: (log: FakeAuth0Log, stream: FakeAuth0Stream) => Promise<void>;
}

export interface FakeAuth0Request {
  method: string;
  path: string;
  authorization?: string;
  /** The parsed request body (JSON or form), if any. */
  body?: unknown;
  /** The status the fake answered with. */
  status: number;
}

export interface FakeAuth0 {
  url: string;
  requests: FakeAuth0Request[];
  /** The tenant's log streams as the fake holds them now; tests may change them (e.g. suspend one). */
  streams: FakeAuth0Stream[];
  /** Access tokens issued by `/oauth/token`, in order. */
  issuedTokens: string[];
  /** The tenant's logs in Auth0's checkpoint order (by `log_id`, the order they were written in). */
  logs: FakeAuth0Log[];
  /** Log deliveries to streams: delivered, and failed after Auth0's three attempts. */
  deliveries: { delivered: number; failed: number };
  /**
   * Writes logs (each `data` needs at least `date` and `type`), giving each a `log_id` after the last one unless it
   * has one, and delivers them to every active stream.
   */
  log(entries: ReadonlyArray<Record<string, unknown>>): Promise<FakeAuth0Log[]>;
  /** Sets a stream's status as Auth0 (suspended) or an admin (paused, active) would. */
  setStatus(id: string, status: FakeAuth0StreamStatus): void;
  /** The next `count` Management API requests fail with this status (e.g. 503), after authentication. */
  failNext(status: number, count?: number): void;
  stop(): Promise<void>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode?: string,
    readonly oauthError?: string,
  ) {
    super(message);
  }
}

const invalidBody = (detail: string, property: string): HttpProblem =>
  new HttpProblem(400, `Payload validation error: '${detail}' on property ${property}.`, 'invalid_body');

const oauthProblem = (status: number, error: string, description: string): HttpProblem =>
  new HttpProblem(status, description, undefined, error);

function errorBody(problem: HttpProblem): object {
  if (problem.oauthError !== undefined) return { error: problem.oauthError, error_description: problem.message };
  return {
    statusCode: problem.status,
    error: STATUS_CODES[problem.status] ?? 'Error',
    message: problem.message,
    ...(problem.errorCode === undefined ? {} : { errorCode: problem.errorCode }),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function onlyKeys(record: Record<string, unknown>, allowed: Set<string>, where: string): void {
  const extra = Object.keys(record).filter((key) => !allowed.has(key));
  if (extra.length > 0) throw invalidBody(`Additional properties not allowed: ${extra.join(',')}`, where);
}

/** Auth0's checks of `filters` (LogStreamFilter). */
function checkFilters(filters: unknown): Array<{ type: string; name: string }> {
  if (!Array.isArray(filters)) throw invalidBody('Expected type array but found type object', 'filters');
  return filters.map((filter, i) => {
    if (!isRecord(filter)) throw invalidBody('Expected type object', `filters[${i}]`);
    if (filter.type !== 'category')
      throw invalidBody(`No enum match for: "${String(filter.type)}"`, `filters[${i}].type`);
    if (typeof filter.name !== 'string' || !CATEGORIES.has(filter.name)) {
      throw invalidBody(`No enum match for: "${String(filter.name)}"`, `filters[${i}].name (Category group name)`);
    }
    return { type: 'category', name: filter.name };
  });
}

/** Auth0's checks of `pii_config` (LogStreamPiiConfig). */
function checkPii(pii: unknown): NonNullable<FakeAuth0Stream['pii_config']> {
  if (!isRecord(pii)) throw invalidBody('Expected type object', 'pii_config');
  onlyKeys(pii, new Set(['log_fields', 'method', 'algorithm']), 'pii_config');
  const fields = pii.log_fields;
  if (!Array.isArray(fields) || fields.length < 1) {
    throw invalidBody('Array is too short (0), minimum 1', 'pii_config.log_fields');
  }
  for (const [i, field] of fields.entries()) {
    if (typeof field !== 'string' || !PII_FIELDS.has(field)) {
      throw invalidBody(`No enum match for: "${String(field)}"`, `pii_config.log_fields[${i}]`);
    }
  }
  if (pii.method !== undefined && pii.method !== 'mask' && pii.method !== 'hash') {
    throw invalidBody(`No enum match for: "${String(pii.method)}"`, 'pii_config.method');
  }
  if (pii.algorithm !== undefined && pii.algorithm !== 'xxhash') {
    throw invalidBody(`No enum match for: "${String(pii.algorithm)}"`, 'pii_config.algorithm');
  }
  return {
    log_fields: fields as string[],
    ...(typeof pii.method === 'string' ? { method: pii.method } : {}),
    ...(typeof pii.algorithm === 'string' ? { algorithm: pii.algorithm } : {}),
  };
}

/** Auth0's checks of an http sink (LogStreamHttpSink). */
function checkHttpSink(sink: Record<string, unknown>): Record<string, unknown> {
  onlyKeys(sink, HTTP_SINK_KEYS, 'sink');
  if (typeof sink.httpEndpoint !== 'string') throw invalidBody('Missing required property: httpEndpoint', 'sink');
  if (!/^https:\/\/.*/.test(sink.httpEndpoint)) {
    throw invalidBody(
      `String does not match pattern ^https://.*: ${sink.httpEndpoint}`,
      'sink.httpEndpoint (HTTP endpoint)',
    );
  }
  if (sink.httpContentFormat !== undefined && !CONTENT_FORMATS.has(String(sink.httpContentFormat))) {
    throw invalidBody(`No enum match for: "${String(sink.httpContentFormat)}"`, 'sink.httpContentFormat');
  }
  for (const key of ['httpAuthorization', 'httpContentType'] as const) {
    if (sink[key] !== undefined && typeof sink[key] !== 'string') {
      throw invalidBody('Expected type string', `sink.${key}`);
    }
  }
  return { ...sink };
}

/** Auth0's checks of an eventbridge sink (LogStreamEventBridgeSink). */
function checkEventBridgeSink(sink: Record<string, unknown>): Record<string, unknown> {
  onlyKeys(sink, EVENTBRIDGE_SINK_KEYS, 'sink');
  if (typeof sink.awsAccountId !== 'string' || !/^\d{12}$/.test(sink.awsAccountId)) {
    throw invalidBody(`String does not match pattern ^\\d{12}$: ${String(sink.awsAccountId)}`, 'sink.awsAccountId');
  }
  if (typeof sink.awsRegion !== 'string' || !EVENTBRIDGE_REGIONS.has(sink.awsRegion)) {
    throw invalidBody(
      `No enum match for: "${String(sink.awsRegion)}"`,
      'sink.awsRegion (The region in which the EventBridge event source will be created)',
    );
  }
  return { awsAccountId: sink.awsAccountId, awsRegion: sink.awsRegion };
}

const streamId = (): string => `lst_${String(randomInt(0, 10 ** 12)).padStart(16, '0')}`;

/** Auth0 makes up to three attempts to deliver a log (docs: Log Streams, "Delivery attempts"). */
const DELIVERY_ATTEMPTS = 3;
const MAX_TAKE = 100;
/** Search by criteria pages through the first 1,000 results only. */
const MAX_SEARCH_RESULTS = 1000;

/**
 * Log ids as Auth0's look: long digit strings, here all 56, ordered as Auth0 orders them for checkpoints, by when
 * they were indexed (the order they were written in), not by their date: `900`, a counter, the date's digits.
 */
const logIdOf = (date: unknown, sequence: number): string => {
  const ms = typeof date === 'string' ? Date.parse(date) : Number.NaN;
  const stamp = Number.isFinite(ms) ? new Date(ms).toISOString().replaceAll(/\D/g, '') : '0'.repeat(17);
  return `900${String(sequence).padStart(36, '0')}${stamp}`;
};

/** An integer query parameter within [min, max], its default when absent, or Auth0's 400. */
function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw invalidBody(`Expected an integer from ${min} to ${max}, found ${text}`, name);
  }
  return value;
}

/** The stream as Auth0 answers it: sink included, authorization and all. */
function resource(stream: FakeAuth0Stream): object {
  return {
    id: stream.id,
    name: stream.name,
    type: stream.type,
    status: stream.status,
    isPriority: stream.isPriority,
    ...(stream.filters === undefined ? {} : { filters: stream.filters.map((filter) => ({ ...filter })) }),
    ...(stream.pii_config === undefined ? {} : { pii_config: { ...stream.pii_config } }),
    sink: { ...stream.sink },
  };
}

function parseBody(req: IncomingMessage, text: string): unknown {
  if (text === '') return undefined;
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpProblem(400, 'Invalid request payload JSON format', 'invalid_body');
  }
}

export async function startFakeAuth0(options: FakeAuth0Options = {}): Promise<FakeAuth0> {
  const staticToken = options.token ?? FAKE_AUTH0_MGMT_TOKEN;
  const staticScopes = options.tokenScopes ?? LOG_STREAM_SCOPES;
  const now = options.now ?? Date.now;
  const tenant = options.tenant ?? 'acme';
  const streams: FakeAuth0Stream[] = (options.streams ?? []).map((stream) => ({
    id: stream.id ?? streamId(),
    name: stream.name,
    type: stream.type,
    status: stream.status ?? 'active',
    isPriority: false,
    sink: { ...stream.sink },
    ...(stream.filters === undefined ? {} : { filters: stream.filters }),
    ...(stream.pii_config === undefined ? {} : { pii_config: stream.pii_config }),
  }));
  const logs: FakeAuth0Log[] = [];
  const deliveries = { delivered: 0, failed: 0 };
  const tokens = new Map<string, { scopes: string[]; expiresAtMs: number }>();
  const issuedTokens: string[] = [];
  const requests: FakeAuth0Request[] = [];
  const failures: number[] = [];
  let apiRequests = 0;
  let baseUrl = '';
  const audience = (): string => options.audience ?? `${baseUrl}/api/v2/`;

  function send(res: ServerResponse, status: number, body: unknown): void {
    res.statusCode = status;
    if (body === undefined) {
      res.end();
      return;
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  }

  /** The client credentials grant, as Auth0's Authentication API answers it. */
  function issueToken(body: unknown, res: ServerResponse): void {
    const form = isRecord(body) ? body : {};
    if (form.grant_type !== 'client_credentials') {
      throw oauthProblem(
        403,
        'unauthorized_client',
        `Grant type '${String(form.grant_type)}' not allowed for the client.`,
      );
    }
    const app = options.apps?.find((candidate) => candidate.clientId === form.client_id);
    if (app === undefined || app.clientSecret !== form.client_secret) {
      throw oauthProblem(401, 'access_denied', 'Unauthorized');
    }
    if (typeof form.audience !== 'string' || form.audience === '') {
      throw oauthProblem(
        403,
        'access_denied',
        'No audience parameter was provided, and no default audience has been configured',
      );
    }
    if (form.audience !== audience()) {
      throw oauthProblem(403, 'access_denied', `Service not enabled within domain: ${form.audience}`);
    }
    const scopes = app.scopes ?? LOG_STREAM_SCOPES;
    if (scopes.length === 0) {
      throw oauthProblem(
        403,
        'access_denied',
        `Client is not authorized to access "${form.audience}". You need to create a "client-grant" associated to this API.`,
      );
    }
    const ttl = app.tokenTtlSeconds ?? 86_400;
    const accessToken = `eyFakeAuth0.${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, { scopes, expiresAtMs: now() + ttl * 1000 });
    issuedTokens.push(accessToken);
    send(res, 200, { access_token: accessToken, scope: scopes.join(' '), expires_in: ttl, token_type: 'Bearer' });
  }

  /** The Bearer token's scopes, or Auth0's 401. */
  function authenticate(authorization: string | undefined): string[] {
    if (authorization === undefined) throw new HttpProblem(401, 'Missing authentication');
    const bearer = /^Bearer (.+)$/.exec(authorization)?.[1];
    if (bearer === staticToken) return staticScopes;
    const issued = bearer === undefined ? undefined : tokens.get(bearer);
    if (issued === undefined) throw new HttpProblem(401, 'Invalid token');
    if (issued.expiresAtMs <= now()) {
      throw new HttpProblem(401, 'Expired token received for JSON Web Token validation');
    }
    return issued.scopes;
  }

  function requireScope(scopes: string[], method: string, path: string): void {
    const verb = { GET: 'read', POST: 'create', PATCH: 'update', DELETE: 'delete' }[method] ?? 'read';
    const needed = path.startsWith('/api/v2/logs') ? `${verb}:logs` : `${verb}:log_streams`;
    if (!scopes.includes(needed)) {
      throw new HttpProblem(403, `Insufficient scope, expected any of: ${needed}`, 'insufficient_scope');
    }
  }

  /** By checkpoint: the logs after `from` in log_id order, and the next URL (the same one when there are none). */
  function logsFrom(url: URL, res: ServerResponse): void {
    const from = url.searchParams.get('from') ?? '';
    const take = intParam(url, 'take', 50, 1, MAX_TAKE);
    const page = logs.filter((log) => log.log_id > from).slice(0, take);
    const last = page.at(-1)?.log_id ?? from;
    res.setHeader('Link', `<${baseUrl}/api/v2/logs?from=${encodeURIComponent(last)}&take=${take}>; rel="next"`);
    send(
      res,
      200,
      page.map((log) => ({ ...log.data })),
    );
  }

  /** By search criteria: a page of the logs sorted by date (ties in log_id order), within the first 1,000. */
  function searchLogs(url: URL, res: ServerResponse): void {
    if (url.searchParams.has('q')) throw invalidBody('the fake does not search with q', 'q');
    const perPage = intParam(url, 'per_page', 50, 1, MAX_TAKE);
    const page = intParam(url, 'page', 0, 0, MAX_SEARCH_RESULTS);
    if ((page + 1) * perPage > MAX_SEARCH_RESULTS) {
      throw new HttpProblem(400, 'You can only page through the first 1000 records.', 'invalid_query_string');
    }
    const sort = url.searchParams.get('sort') ?? 'date:-1';
    if (sort !== 'date:-1' && sort !== 'date:1') throw invalidBody(`the fake sorts by date only, got ${sort}`, 'sort');
    const dated = logs.map((log, i) => ({ log, i, ms: Date.parse(String(log.data.date)) }));
    dated.sort((a, b) => (sort === 'date:1' ? a.ms - b.ms || a.i - b.i : b.ms - a.ms || b.i - a.i));
    send(
      res,
      200,
      dated.slice(page * perPage, (page + 1) * perPage).map(({ log }) => ({ ...log.data })),
    );
  }

  async function deliver(log: FakeAuth0Log): Promise<void> {
    for (const stream of streams) {
      if (stream.status !== 'active' || options.deliver === undefined) continue;
      let delivered = false;
      for (let attempt = 0; attempt < DELIVERY_ATTEMPTS && !delivered; attempt += 1) {
        try {
          await options.deliver({ log_id: log.log_id, data: { ...log.data } }, stream);
          delivered = true;
        } catch {
          // Another attempt, as Auth0 makes.
        }
      }
      if (delivered) deliveries.delivered += 1;
      else deliveries.failed += 1;
    }
  }

  function rateLimitHeaders(res: ServerResponse, tripped: boolean): void {
    const limit = 50;
    const seconds = now() / 1000;
    const reset = tripped ? Math.ceil(seconds + (options.rateLimit?.resetAfterSeconds ?? 1)) : Math.floor(seconds) + 1;
    res.setHeader('x-ratelimit-limit', String(limit));
    res.setHeader('x-ratelimit-remaining', String(tripped ? 0 : limit - 1 - (apiRequests % limit)));
    res.setHeader('x-ratelimit-reset', String(reset));
  }

  function findStream(id: string): FakeAuth0Stream {
    const stream = streams.find((candidate) => candidate.id === id);
    if (stream === undefined) throw new HttpProblem(404, 'The log stream does not exist.', 'inexistent_log_stream');
    return stream;
  }

  function createStream(body: unknown, res: ServerResponse): void {
    if (!isRecord(body)) throw invalidBody('Expected type object', 'body');
    onlyKeys(body, CREATE_KEYS, 'body');
    if (body.type !== 'http' && body.type !== 'eventbridge') {
      throw invalidBody(`No enum match for: "${String(body.type)}" (the fake knows http and eventbridge)`, 'type');
    }
    if (!isRecord(body.sink)) throw invalidBody('Missing required property: sink', 'body');
    if (body.name !== undefined && typeof body.name !== 'string') throw invalidBody('Expected type string', 'name');
    if (body.startFrom !== undefined && (typeof body.startFrom !== 'string' || !ISO_DATE_TIME.test(body.startFrom))) {
      throw invalidBody(`Object didn't pass validation for format date-time: ${String(body.startFrom)}`, 'startFrom');
    }
    const sink = body.type === 'http' ? checkHttpSink(body.sink) : checkEventBridgeSink(body.sink);
    const filters = body.filters === undefined ? undefined : checkFilters(body.filters);
    const pii = body.pii_config === undefined ? undefined : checkPii(body.pii_config);
    if (streams.length >= (options.maxStreams ?? 10)) {
      throw new HttpProblem(409, 'You have reached the maximum number of log streams for your account.');
    }
    if (body.type === 'eventbridge')
      sink.awsPartnerEventSource = `aws.partner/auth0.com/${tenant}-${randomUUID()}/auth0.logs`;
    const stream: FakeAuth0Stream = {
      id: streamId(),
      name: typeof body.name === 'string' ? body.name : '',
      type: body.type,
      status: 'active',
      isPriority: body.isPriority === true,
      sink,
      ...(filters === undefined ? {} : { filters }),
      ...(pii === undefined ? {} : { pii_config: pii }),
      ...(typeof body.startFrom === 'string' ? { startFrom: body.startFrom } : {}),
    };
    streams.push(stream);
    send(res, 200, resource(stream));
  }

  function updateStream(id: string, body: unknown, res: ServerResponse): void {
    const stream = findStream(id);
    if (!isRecord(body)) throw invalidBody('Expected type object', 'body');
    onlyKeys(body, UPDATE_KEYS, 'body');
    if (body.status !== undefined && !STATUSES.has(String(body.status))) {
      throw invalidBody(`No enum match for: "${String(body.status)}"`, 'status');
    }
    if (body.sink !== undefined && stream.type === 'eventbridge') {
      throw new HttpProblem(400, 'Updating the sink of an eventbridge log stream is not permitted.', 'invalid_body');
    }
    const sink = body.sink === undefined ? undefined : isRecord(body.sink) ? checkHttpSink(body.sink) : undefined;
    if (typeof body.name === 'string') stream.name = body.name;
    if (typeof body.status === 'string') stream.status = body.status as FakeAuth0StreamStatus;
    if (typeof body.isPriority === 'boolean') stream.isPriority = body.isPriority;
    if (body.filters !== undefined) stream.filters = checkFilters(body.filters);
    if (body.pii_config !== undefined) stream.pii_config = checkPii(body.pii_config);
    if (sink !== undefined) stream.sink = { ...stream.sink, ...sink };
    send(res, 200, resource(stream));
  }

  function route(method: string, path: string, body: unknown, res: ServerResponse): void {
    const single = /^\/api\/v2\/log-streams\/([^/]+)$/.exec(path)?.[1];
    if (path === '/api/v2/log-streams' && method === 'GET') {
      send(res, 200, streams.map(resource));
    } else if (path === '/api/v2/log-streams' && method === 'POST') {
      createStream(body, res);
    } else if (single !== undefined && method === 'GET') {
      send(res, 200, resource(findStream(decodeURIComponent(single))));
    } else if (single !== undefined && method === 'PATCH') {
      updateStream(decodeURIComponent(single), body, res);
    } else if (single !== undefined && method === 'DELETE') {
      const stream = findStream(decodeURIComponent(single));
      streams.splice(streams.indexOf(stream), 1);
      send(res, 204, undefined);
    } else {
      throw new HttpProblem(404, 'Not Found');
    }
  }

  function handle(req: IncomingMessage, text: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', baseUrl);
    const method = req.method ?? 'GET';
    const authorization = req.headers.authorization;
    const record: FakeAuth0Request = {
      method,
      path: url.pathname,
      status: 0,
      ...(authorization === undefined ? {} : { authorization }),
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    try {
      const body = parseBody(req, text);
      if (body !== undefined) record.body = body;
      if (url.pathname === '/oauth/token' && method === 'POST') {
        issueToken(body, res);
        return;
      }
      if (!url.pathname.startsWith('/api/v2/')) throw new HttpProblem(404, 'Not Found');
      let scopes: string[];
      try {
        scopes = authenticate(authorization);
      } catch (error) {
        rateLimitHeaders(res, false);
        throw error;
      }
      apiRequests += 1;
      const every = options.rateLimit?.every;
      const tripped = every !== undefined && every > 0 && apiRequests % every === 0;
      rateLimitHeaders(res, tripped);
      if (tripped) throw new HttpProblem(429, 'Global limit has been reached', 'too_many_requests');
      const failure = failures.shift();
      if (failure !== undefined) throw new HttpProblem(failure, `${STATUS_CODES[failure] ?? 'Error'} (injected)`);
      requireScope(scopes, method, url.pathname);
      if (url.pathname === '/api/v2/logs' && method === 'GET') {
        if (url.searchParams.has('from')) logsFrom(url, res);
        else searchLogs(url, res);
        return;
      }
      route(method, url.pathname, body, res);
    } catch (error) {
      const problem = error instanceof HttpProblem ? error : new HttpProblem(500, 'Internal Server Error');
      if (!res.headersSent) send(res, problem.status, errorBody(problem));
    }
  }

  const server = createServer((req, res) => {
    // Read the whole body (which also keeps keep-alive connections usable) before answering.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    requests,
    streams,
    issuedTokens,
    logs,
    deliveries,
    async log(entries) {
      const written: FakeAuth0Log[] = [];
      for (const entry of entries) {
        const logId =
          typeof entry.log_id === 'string' ? entry.log_id : logIdOf(entry.date, logs.length + written.length + 1);
        written.push({ log_id: logId, data: { ...entry, log_id: logId } });
      }
      logs.push(...written);
      for (const log of written) await deliver(log);
      return written;
    },
    setStatus(id, status) {
      findStream(id).status = status;
    },
    failNext: (status, count = 1) => {
      for (let i = 0; i < count; i += 1) failures.push(status);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
