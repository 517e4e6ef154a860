import { Auth0ApiError, type Auth0Client } from './auth0-client.ts';

/**
 * Auth0 log streams (Management API v2 `/api/v2/log-streams`) of type `http` and `eventbridge`, over an Auth0Client.
 * Field names, enums and patterns follow Auth0's Management API specification (auth0.com/docs/api/management/v2,
 * Log Streams: CreateLogStreamHttpRequestBody, LogStreamHttpSink, LogStreamEventBridgeSink, LogStreamFilter,
 * LogStreamPiiConfig, LogStreamStatusEnum).
 */

export type Auth0LogStreamStatus = 'active' | 'paused' | 'suspended';

/** What olp shows of a log stream; anything else Auth0 sends (the sink's authorization above all) is left out. */
export interface Auth0LogStreamSummary {
  id: string;
  name: string;
  type: string;
  status: string;
  /** http: the endpoint (credentials in it shown as [redacted]); eventbridge: the partner event source; else null. */
  sink: string | null;
}

/** `--format` values and the `httpContentFormat` each maps to (LogStreamHttpContentFormatEnum). */
export const HTTP_CONTENT_FORMATS = {
  jsonarray: 'JSONARRAY',
  jsonlines: 'JSONLINES',
  jsonobject: 'JSONOBJECT',
} as const;

export type HttpContentFormat = keyof typeof HTTP_CONTENT_FORMATS;

/**
 * The filter categories Auth0 accepts (`{type: 'category', name}`; LogStreamFilterGroupNameEnum of the Management API
 * spec, as node-auth0 5.x ships it as LogStreamFilterGroupNameEnum). The dashboard calls them "Filter By Event
 * Category" (auth0.com/docs/customize/log-streams/event-filters). Auth0 has the last word: a category it drops or
 * adds later shows up as its own 400, or as a refusal here until this list follows.
 */
export const LOG_STREAM_CATEGORIES: readonly string[] = [
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
];

/** The log fields Auth0 can mask or hash (LogStreamPiiLogFieldsEnum). */
export const PII_LOG_FIELDS: readonly string[] = ['first_name', 'last_name', 'username', 'email', 'phone', 'address'];

/** How Auth0 hides them (LogStreamPiiMethodEnum); `hash` uses xxhash, the only LogStreamPiiAlgorithmEnum value. */
export const PII_METHODS: readonly string[] = ['mask', 'hash'];

/**
 * The form of an AWS region name: `us-east-1`, `ap-southeast-7`, `us-gov-west-1`, `eusc-de-east-1`. Auth0 checks the
 * region against the regions where it can create partner event sources and refuses others with its own 400.
 */
const AWS_REGION =
  /^[a-z]{2,4}(-[a-z]{2,4})?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
const ONE_LINE = /^[^\p{Cc}\u2028\u2029]+$/u;

export type LogStreamField =
  | 'type'
  | 'name'
  | 'endpoint'
  | 'format'
  | 'authorization'
  | 'accountId'
  | 'region'
  | 'filters'
  | 'piiFields'
  | 'piiMethod'
  | 'startFrom';

/** A field of a new log stream that Auth0 would refuse (or that olp refuses on the user's behalf). */
export class LogStreamValidationError extends Error {
  override readonly name = 'LogStreamValidationError';
  constructor(
    readonly field: LogStreamField,
    message: string,
  ) {
    super(message);
  }
}

/** Several streams have the name asked for; Auth0 does not keep names unique. */
export class AmbiguousLogStreamNameError extends Error {
  override readonly name = 'AmbiguousLogStreamNameError';
  constructor(readonly ids: readonly string[]) {
    super(`${ids.length} log streams have that name`);
  }
}

/** A new stream's fields as the user gave them (flags and the authorization variable), before validation. */
export interface NewLogStreamInput {
  type: string;
  name: string;
  endpoint?: string | undefined;
  format?: string | undefined;
  /** The sink's Authorization header value (from OLP_HTTP_AUTHORIZATION, never a flag). */
  authorization?: string | undefined;
  accountId?: string | undefined;
  region?: string | undefined;
  /** Categories, each possibly a comma-separated list. */
  filters?: readonly string[] | undefined;
  /** Comma-separated PII fields. */
  piiFields?: string | undefined;
  piiMethod?: string | undefined;
  startFrom?: string | undefined;
}

export interface PiiConfig {
  logFields: string[];
  method: 'mask' | 'hash';
}

interface CommonSettings {
  name: string;
  filters: string[];
  pii?: PiiConfig;
  /** ISO 8601 instant, normalised to UTC milliseconds. */
  startFrom?: string;
}

/** A new log stream, valid as far as olp can tell before Auth0 sees it. */
export type NewLogStream =
  | (CommonSettings & {
      type: 'http';
      endpoint: string;
      format: HttpContentFormat;
      authorization: string;
    })
  | (CommonSettings & { type: 'eventbridge'; accountId: string; region: string });

const given = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

const list = (values: readonly string[]): string[] => [
  ...new Set(
    values
      .flatMap((value) => value.split(','))
      .map((value) => value.trim())
      .filter((value) => value !== ''),
  ),
];

function validateEndpoint(text: string | undefined): string {
  if (!given(text)) throw new LogStreamValidationError('endpoint', 'the endpoint is required for an http stream');
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new LogStreamValidationError(
      'endpoint',
      'the endpoint must be an https URL, like https://logs.acme.com/auth0',
    );
  }
  // Auth0's own pattern is ^https:// (LogStreamHttpSink.httpEndpoint): it delivers only over TLS.
  if (url.protocol !== 'https:') throw new LogStreamValidationError('endpoint', 'the endpoint must use https');
  if (url.username !== '' || url.password !== '') {
    throw new LogStreamValidationError(
      'endpoint',
      'the endpoint must not hold credentials: put the Authorization value in OLP_HTTP_AUTHORIZATION',
    );
  }
  return text.trim();
}

function validatePii(fieldsText: string | undefined, methodText: string | undefined): PiiConfig | undefined {
  if (!given(fieldsText) && !given(methodText)) return undefined;
  if (!given(fieldsText))
    throw new LogStreamValidationError('piiFields', 'a PII method needs the PII fields it applies to');
  if (!given(methodText)) throw new LogStreamValidationError('piiMethod', 'PII fields need a method: mask or hash');
  const logFields = list([fieldsText]);
  const unknown = logFields.filter((field) => !PII_LOG_FIELDS.includes(field));
  if (logFields.length === 0 || unknown.length > 0) {
    throw new LogStreamValidationError(
      'piiFields',
      `${unknown.length > 0 ? `"${unknown.join('", "')}" is not a field Auth0 can hide; ` : ''}use ${PII_LOG_FIELDS.join(', ')}`,
    );
  }
  const method = methodText.trim();
  if (method !== 'mask' && method !== 'hash') {
    throw new LogStreamValidationError('piiMethod', `the PII method must be mask or hash, got "${method}"`);
  }
  return { logFields, method };
}

/** An ISO 8601 instant with its offset that names a real time: Date.parse alone turns February 30 into March 2. */
function isIsoInstant(text: string): boolean {
  const match = ISO_INSTANT.exec(text);
  if (match === null) return false;
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = match
    .slice(1)
    .map((part) => Number(part ?? '0'));
  const date = new Date(Date.UTC(year ?? 0, (month ?? 0) - 1, day ?? 0));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === (month ?? 0) - 1 &&
    date.getUTCDate() === day &&
    (hour ?? 0) < 24 &&
    (minute ?? 0) < 60 &&
    (second ?? 0) < 60 &&
    (offsetHour ?? 0) < 24 &&
    (offsetMinute ?? 0) < 60
  );
}

function validateCommon(input: NewLogStreamInput): CommonSettings {
  if (!given(input.name)) throw new LogStreamValidationError('name', 'the stream name must not be empty');
  const filters = list(input.filters ?? []);
  const unknown = filters.filter((filter) => !LOG_STREAM_CATEGORIES.includes(filter));
  if (unknown.length > 0) {
    throw new LogStreamValidationError(
      'filters',
      `"${unknown.join('", "')}" is not a category Auth0 filters on; use ${LOG_STREAM_CATEGORIES.join(', ')}`,
    );
  }
  const pii = validatePii(input.piiFields, input.piiMethod);
  let startFrom: string | undefined;
  if (input.startFrom !== undefined) {
    const instant = input.startFrom.trim();
    const ms = Date.parse(instant);
    if (!isIsoInstant(instant) || !Number.isFinite(ms)) {
      throw new LogStreamValidationError(
        'startFrom',
        'the start must be an ISO 8601 instant with its offset, like 2026-11-01T00:00:00Z',
      );
    }
    startFrom = new Date(ms).toISOString();
  }
  return {
    name: input.name.trim(),
    filters,
    ...(pii === undefined ? {} : { pii }),
    ...(startFrom === undefined ? {} : { startFrom }),
  };
}

/** Checks a new stream's fields as Auth0 does, plus olp's own rules, before any request (LogStreamValidationError). */
export function validateNewLogStream(input: NewLogStreamInput): NewLogStream {
  const type = input.type.trim();
  if (type !== 'http' && type !== 'eventbridge') {
    throw new LogStreamValidationError('type', `the type must be http or eventbridge, got "${type}"`);
  }
  const common = validateCommon(input);
  if (type === 'http') {
    const endpoint = validateEndpoint(input.endpoint);
    const formatText = (input.format ?? 'jsonarray').trim().toLowerCase();
    if (!Object.hasOwn(HTTP_CONTENT_FORMATS, formatText)) {
      throw new LogStreamValidationError(
        'format',
        `the format must be ${Object.keys(HTTP_CONTENT_FORMATS).join(', ')}, got "${input.format}"`,
      );
    }
    const authorization = input.authorization?.trim() ?? '';
    // Never quoted: the value is a secret.
    if (authorization === '') {
      throw new LogStreamValidationError(
        'authorization',
        'an http stream needs the Authorization value its sink checks',
      );
    }
    if (!ONE_LINE.test(authorization)) {
      throw new LogStreamValidationError('authorization', 'the Authorization value must be one line of text');
    }
    return { type, ...common, endpoint, format: formatText as HttpContentFormat, authorization };
  }
  const accountId = input.accountId?.trim() ?? '';
  if (!ACCOUNT_ID.test(accountId)) {
    throw new LogStreamValidationError('accountId', 'the AWS account id must be exactly 12 digits');
  }
  const region = input.region?.trim() ?? '';
  if (!AWS_REGION.test(region)) {
    throw new LogStreamValidationError('region', `"${region}" is not an AWS region name like eu-west-1`);
  }
  return { type, ...common, accountId, region };
}

/** The body of POST /api/v2/log-streams for a validated stream. */
export function createRequestBody(stream: NewLogStream): Record<string, unknown> {
  const sink =
    stream.type === 'http'
      ? {
          httpEndpoint: stream.endpoint,
          httpContentType: 'application/json',
          httpContentFormat: HTTP_CONTENT_FORMATS[stream.format],
          httpAuthorization: stream.authorization,
        }
      : { awsAccountId: stream.accountId, awsRegion: stream.region };
  return {
    name: stream.name,
    type: stream.type,
    sink,
    // Omitted filters mean every category; an empty list is left out so the intent reads the same either way.
    ...(stream.filters.length === 0 ? {} : { filters: stream.filters.map((name) => ({ type: 'category', name })) }),
    ...(stream.pii === undefined
      ? {}
      : { pii_config: { log_fields: stream.pii.logFields, method: stream.pii.method, algorithm: 'xxhash' } }),
    ...(stream.startFrom === undefined ? {} : { startFrom: stream.startFrom }),
  };
}

/**
 * An http endpoint as olp shows it: user info and query string (where a sink's key may hide) become `[redacted]`;
 * anything else is shown as Auth0 holds it.
 */
export function displayEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return endpoint;
  }
  if (url.username === '' && url.password === '' && url.search === '') return endpoint;
  const user = url.username === '' && url.password === '' ? '' : '[redacted]@';
  const query = url.search === '' ? '' : '?[redacted]';
  return `${url.protocol}//${user}${url.host}${url.pathname}${query}${url.hash}`;
}

const field = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The summary of one log stream as Auth0 returns it; missing fields are empty strings. */
export function summarize(stream: unknown): Auth0LogStreamSummary {
  const record = (typeof stream === 'object' && stream !== null ? stream : {}) as Record<string, unknown>;
  const sink = (typeof record.sink === 'object' && record.sink !== null ? record.sink : {}) as Record<string, unknown>;
  let shown: string | null = null;
  if (record.type === 'http' && typeof sink.httpEndpoint === 'string') shown = displayEndpoint(sink.httpEndpoint);
  if (record.type === 'eventbridge' && typeof sink.awsPartnerEventSource === 'string') {
    shown = sink.awsPartnerEventSource;
  }
  return {
    id: field(record.id),
    name: field(record.name),
    type: field(record.type),
    status: field(record.status),
    sink: shown,
  };
}

const call = {
  list: 'list log streams (GET /api/v2/log-streams)',
  get: 'get log stream (GET /api/v2/log-streams/{id})',
  create: 'create log stream (POST /api/v2/log-streams)',
  resume: 'update log stream status (PATCH /api/v2/log-streams/{id})',
};

const streamPath = (id: string): string => `/log-streams/${encodeURIComponent(id)}`;

/** Every log stream of the tenant (Auth0 answers with one unpaged array). */
export async function listLogStreams(client: Auth0Client): Promise<Auth0LogStreamSummary[]> {
  const response = await client.request({ call: call.list, method: 'GET', path: '/log-streams' });
  if (!Array.isArray(response.body)) {
    throw new Auth0ApiError(`Auth0 ${call.list} at ${client.origin} failed: the answer is not a JSON array`, {
      domain: client.origin,
      call: call.list,
    });
  }
  return response.body.map(summarize);
}

export async function getLogStream(client: Auth0Client, id: string): Promise<Auth0LogStreamSummary> {
  return summarize((await client.request({ call: call.get, method: 'GET', path: streamPath(id) })).body);
}

/**
 * The stream with that id, or the one stream with that name; undefined when there is none. Several streams with the
 * name: AmbiguousLogStreamNameError.
 */
export async function findLogStream(
  client: Auth0Client,
  wanted: { id: string } | { name: string },
): Promise<Auth0LogStreamSummary | undefined> {
  if ('id' in wanted) {
    try {
      return await getLogStream(client, wanted.id);
    } catch (error) {
      if (error instanceof Auth0ApiError && error.status === 404) return undefined;
      throw error;
    }
  }
  const named = (await listLogStreams(client)).filter((stream) => stream.name === wanted.name);
  if (named.length > 1) throw new AmbiguousLogStreamNameError(named.map((stream) => stream.id));
  return named[0];
}

/**
 * Sets a paused or suspended stream active again (Auth0 suspends a stream whose sink keeps failing) and returns it as
 * it was and as it is. A stream that is already active is left alone.
 */
export async function resumeLogStream(
  client: Auth0Client,
  id: string,
): Promise<{ before: Auth0LogStreamSummary; after: Auth0LogStreamSummary }> {
  const before = await getLogStream(client, id);
  if (before.status === 'active') return { before, after: before };
  const response = await client.request({
    call: call.resume,
    method: 'PATCH',
    path: streamPath(id),
    body: { status: 'active' },
  });
  return { before, after: summarize(response.body) };
}

/** Creates a stream after checking its fields (LogStreamValidationError) and returns it as Auth0 answered. */
export async function createLogStream(client: Auth0Client, input: NewLogStreamInput): Promise<Auth0LogStreamSummary> {
  const stream = validateNewLogStream(input);
  const response = await client.request({
    call: call.create,
    method: 'POST',
    path: '/log-streams',
    body: createRequestBody(stream),
  });
  return summarize(response.body);
}
