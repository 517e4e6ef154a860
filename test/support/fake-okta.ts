import { createPublicKey, type JsonWebKey, KeyObject, randomBytes, randomUUID, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AWS_EVENTBRIDGE_REGIONS } from '../../lib/okta/log-streams.ts';

/**
 * A local stand-in for the parts of the Okta Management API the pipeline uses: the System Log API
 * (`GET /api/v1/logs`) and the Log Streaming API (`/api/v1/logStreams`), behaving like the real one: SSWS auth, or
 * OAuth 2.0 bearer tokens from `/oauth2/v1/token` for a service app with private_key_jwt (scopes checked per call),
 * `since`/`until`/`limit`/`after`/`sortOrder`, `Link` headers with an opaque `after` cursor, a polling query that
 * always has a next link, log stream create/activate/deactivate with Okta's validation, rate limit headers and
 * E0000047 on a 429.
 */

export const FAKE_OKTA_TOKEN = '00fakeOktaTokenForTestsOnly-x1y2z3';

export interface FakeOktaOptions {
  /** System Log events in the order Okta persisted them; a polling query returns them in this order. */
  events: object[];
  /** The largest page the server hands out, whatever `limit` asks for (Okta caps at 1000). */
  pageLimitMax?: number;
  /** Answer 429 on every Nth request. */
  rateLimit?: { every: number };
  token?: string;
  /** The server's clock (epoch ms): drives rate limit resets and the 180-day `since` check. */
  now?: () => number;
  /** Log streams the org starts with; by default one ACTIVE stream `okta-logs` in us-east-1. */
  streams?: FakeLogStreamInput[];
  /** A service app allowed to get access tokens with private_key_jwt. */
  oauth?: FakeOktaServiceApp;
  /** The largest page of log streams the server hands out (default 20), to exercise pagination. */
  streamPageLimit?: number;
  /** The Okta subdomain `/.well-known/okta-organization` names (default `acme`). */
  orgSubdomain?: string;
  /**
   * Where the org's log stream delivers what `log()` writes: EventBridge, as far as the fake is concerned. Okta does
   * not retry a failed delivery; after two failures in a row it deactivates the stream and logs that in the System
   * Log, which the dead stream does not deliver.
   */
  deliver?: (event: object, stream: FakeLogStream) => Promise<void>;
}

export interface FakeLogStreamInput {
  id?: string;
  name: string;
  status?: LogStreamStatus;
  settings: { accountId: string; eventSourceName: string; region: string };
}

export interface FakeOktaServiceApp {
  clientId: string;
  /** The public key registered on the app (a KeyObject or a public JWK). */
  publicKey: KeyObject | JsonWebKey;
  /** Scopes granted to the app; default all three olp uses. */
  grantedScopes?: string[];
  /** Answer every token request with 400 invalid_dpop_proof, as an app that requires DPoP does. */
  requireDpop?: boolean;
  /** Lifetime of issued access tokens (default 3600 s). */
  tokenTtlSeconds?: number;
}

export interface FakeOktaRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization?: string;
  /** The status the fake answered with. */
  status: number;
}

export interface FakeOkta {
  url: string;
  requests: FakeOktaRequest[];
  /** The org's log streams as the fake holds them now. */
  streams: FakeLogStream[];
  /** Access tokens issued by `/oauth2/v1/token`, in order. */
  issuedTokens: string[];
  /**
   * Okta logs events: each is added to the System Log and, while the first stream is ACTIVE, delivered through
   * `deliver`. Two failed deliveries in a row deactivate the stream and log `system.log_stream.lifecycle.deactivate`.
   */
  log(events: readonly object[]): Promise<void>;
  /** What the stream delivered and failed to deliver so far. */
  readonly deliveries: { delivered: number; failed: number };
  /** Every System Log event, in the order Okta persisted it, lifecycle events included. */
  systemLog(): object[];
  stop(): Promise<void>;
}

type LogStreamStatus = 'ACTIVE' | 'INACTIVE';

export interface FakeLogStream {
  id: string;
  type: 'aws_eventbridge';
  name: string;
  status: LogStreamStatus;
  created: string;
  lastUpdated: string;
  settings: { accountId: string; eventSourceName: string; region: string };
}

interface IndexedEvent {
  event: object;
  publishedMs: number;
  order: number;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const MAX_SINCE_AGE_MS = 180 * 24 * 60 * 60 * 1000;
const RATE_LIMIT_PER_MINUTE = 120;
const STREAMS_DEFAULT_LIMIT = 20;
const MAX_STREAMS = 2;
const ALL_SCOPES = ['okta.logs.read', 'okta.logStreams.read', 'okta.logStreams.manage'];
// The regions Okta accepts for aws_eventbridge log streams, as the client's own check knows them.
const STREAM_REGIONS = new Set(AWS_EVENTBRIDGE_REGIONS);

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly errorSummary: string,
    readonly errorCauses: Array<{ errorSummary: string }> = [],
  ) {
    super(errorSummary);
  }
}

const oktaId = (prefix: string): string => `${prefix}${randomBytes(8).toString('hex').slice(0, 17)}`;

function errorBody(problem: HttpProblem): object {
  if ('oauth' in problem) return { error: problem.errorCode, error_description: problem.errorSummary };
  return {
    errorCode: problem.errorCode,
    errorSummary: problem.errorSummary,
    errorLink: problem.errorCode,
    errorId: oktaId('oae'),
    errorCauses: problem.errorCauses,
  };
}

function publishedOf(event: object): number {
  const published = (event as { published?: unknown }).published;
  return typeof published === 'string' ? Date.parse(published) : Number.NaN;
}

function parseInstant(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) {
    return undefined;
  }
  const ms = Date.parse(value);
  if (!ISO_INSTANT.test(value) || !Number.isFinite(ms)) {
    throw new HttpProblem(400, 'E0000001', `Api validation failed: ${name}`, [
      { errorSummary: `${name}: The ${name} parameter must be an ISO 8601 timestamp.` },
    ]);
  }
  return ms;
}

function parseLimit(query: URLSearchParams, pageLimitMax: number): number {
  const value = query.get('limit');
  if (value === null) {
    return Math.min(DEFAULT_LIMIT, pageLimitMax);
  }
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 0) {
    throw new HttpProblem(400, 'E0000001', 'Api validation failed: limit', [
      { errorSummary: 'limit: The limit parameter must be an integer between 0 and 1000.' },
    ]);
  }
  return Math.min(limit, pageLimitMax);
}

// The cursor is opaque to clients; here it carries the offset into the query's result list.
const encodeCursor = (offset: number): string => Buffer.from(`o:${offset}`).toString('base64url');

function decodeCursor(value: string | null): number {
  if (value === null) {
    return 0;
  }
  const match = /^o:(\d+)$/.exec(Buffer.from(value, 'base64url').toString('utf8'));
  if (!match?.[1]) {
    throw new HttpProblem(400, 'E0000001', 'Api validation failed: after', [
      { errorSummary: 'after: The after parameter is not a valid cursor.' },
    ]);
  }
  return Number(match[1]);
}

function streamResource(stream: FakeLogStream, baseUrl: string): object {
  const self = `${baseUrl}/api/v1/logStreams/${stream.id}`;
  const lifecycle =
    stream.status === 'ACTIVE'
      ? { deactivate: { href: `${self}/lifecycle/deactivate`, method: 'POST' } }
      : { activate: { href: `${self}/lifecycle/activate`, method: 'POST' } };
  return { ...stream, settings: { ...stream.settings }, _links: { self: { href: self, method: 'GET' }, ...lifecycle } };
}

export async function startFakeOkta(options: FakeOktaOptions): Promise<FakeOkta> {
  const token = options.token ?? FAKE_OKTA_TOKEN;
  const pageLimitMax = Math.min(options.pageLimitMax ?? MAX_LIMIT, MAX_LIMIT);
  const now = options.now ?? Date.now;
  const events: IndexedEvent[] = options.events.map((event, order) => ({
    event,
    publishedMs: publishedOf(event),
    order,
  }));
  const createdAt = new Date(now()).toISOString();
  const initialStreams: FakeLogStreamInput[] = options.streams ?? [
    {
      id: '0oa1orzg0CHSgPcjZ0g4',
      name: 'acme okta-logs',
      settings: { accountId: '123456789012', eventSourceName: 'okta-logs', region: 'us-east-1' },
    },
  ];
  const streams: FakeLogStream[] = initialStreams.map((stream) => ({
    id: stream.id ?? oktaId('0oa'),
    type: 'aws_eventbridge',
    name: stream.name,
    status: stream.status ?? 'ACTIVE',
    created: createdAt,
    lastUpdated: createdAt,
    settings: { ...stream.settings },
  }));
  const app = options.oauth;
  const appKey: KeyObject | undefined =
    app === undefined
      ? undefined
      : app.publicKey instanceof KeyObject
        ? app.publicKey
        : createPublicKey({ key: app.publicKey, format: 'jwk' });
  const tokens = new Map<string, { scopes: string[]; expiresAtMs: number }>();
  const issuedTokens: string[] = [];
  const seenJti = new Set<string>();
  const requests: FakeOktaRequest[] = [];
  const deliveries = { delivered: 0, failed: 0 };
  let consecutiveFailures = 0;
  let requestCount = 0;
  let baseUrl = '';

  function rateLimitHeaders(res: ServerResponse, tripped: boolean): void {
    const nowMs = now();
    // A tripped limit resets one second ahead; otherwise the window is the current minute.
    const reset = tripped ? Math.ceil((nowMs + 1000) / 1000) : Math.floor(nowMs / 60_000) * 60 + 60;
    res.setHeader('X-Rate-Limit-Limit', String(RATE_LIMIT_PER_MINUTE));
    res.setHeader(
      'X-Rate-Limit-Remaining',
      String(tripped ? 0 : Math.max(0, RATE_LIMIT_PER_MINUTE - (requestCount % RATE_LIMIT_PER_MINUTE))),
    );
    res.setHeader('X-Rate-Limit-Reset', String(reset));
  }

  function send(res: ServerResponse, status: number, body: unknown): void {
    res.statusCode = status;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-Okta-Request-Id', oktaId('req'));
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  function listLogs(url: URL, res: ServerResponse): void {
    const query = url.searchParams;
    const since = parseInstant(query, 'since');
    const until = parseInstant(query, 'until');
    const limit = parseLimit(query, pageLimitMax);
    const sortOrder = query.get('sortOrder') ?? 'ASCENDING';
    if (sortOrder !== 'ASCENDING' && sortOrder !== 'DESCENDING') {
      throw new HttpProblem(400, 'E0000001', 'Api validation failed: sortOrder', [
        { errorSummary: 'sortOrder: The sortOrder parameter must be ASCENDING or DESCENDING.' },
      ]);
    }
    if (since !== undefined && now() - since > MAX_SINCE_AGE_MS) {
      throw new HttpProblem(400, 'E0000001', 'Api validation failed: since', [
        { errorSummary: 'since: The since parameter is over 180 days prior to the current day.' },
      ]);
    }
    if (since !== undefined && until !== undefined && until < since) {
      throw new HttpProblem(400, 'E0000001', 'Api validation failed: until', [
        { errorSummary: 'until: The until parameter must be after the since parameter.' },
      ]);
    }

    const bounded = until !== undefined;
    const inRange = events.filter(
      ({ publishedMs }) =>
        (since === undefined || publishedMs >= since) && (until === undefined || publishedMs < until),
    );
    // A bounded query is ordered by published; a polling query comes in the order events were persisted.
    const ordered = bounded ? [...inRange].sort((a, b) => a.publishedMs - b.publishedMs || a.order - b.order) : inRange;
    if (sortOrder === 'DESCENDING') {
      ordered.reverse();
    }

    const offset = Math.min(decodeCursor(query.get('after')), ordered.length);
    const page = ordered.slice(offset, offset + limit);
    const nextOffset = offset + page.length;

    const links = [`<${baseUrl}${url.pathname}${url.search}>; rel="self"`];
    // A polling query always has a next link, even past the last event: the caller polls it for new events.
    if (!bounded || nextOffset < ordered.length) {
      const next = new URLSearchParams(query);
      next.set('after', encodeCursor(nextOffset));
      next.set('limit', String(limit));
      links.push(`<${baseUrl}${url.pathname}?${next.toString()}>; rel="next"`);
    }
    res.setHeader('Link', links);
    send(
      res,
      200,
      page.map(({ event }) => event),
    );
  }

  function findStream(id: string): FakeLogStream {
    const stream = streams.find((candidate) => candidate.id === id);
    if (!stream) {
      throw new HttpProblem(404, 'E0000007', `Not found: Resource not found: ${id} (LogStream)`);
    }
    return stream;
  }

  function listStreams(url: URL, res: ServerResponse): void {
    const query = url.searchParams;
    const filter = query.get('filter');
    let selected = streams;
    if (filter !== null) {
      const match = /^(status|type) eq "([^"]*)"$/.exec(filter.trim());
      if (!match) {
        throw new HttpProblem(400, 'E0000001', 'Api validation failed: filter', [
          { errorSummary: 'filter: Only eq on status or type is supported.' },
        ]);
      }
      const [, field, value] = match;
      selected = streams.filter((stream) => (field === 'status' ? stream.status : stream.type) === value);
    }
    const limitText = query.get('limit');
    const limit = Math.min(
      limitText === null ? STREAMS_DEFAULT_LIMIT : Number(limitText),
      options.streamPageLimit ?? STREAMS_DEFAULT_LIMIT,
    );
    if (!Number.isInteger(limit) || limit < 1) {
      throw new HttpProblem(400, 'E0000001', 'Api validation failed: limit', [
        { errorSummary: 'limit: The limit parameter must be a positive integer.' },
      ]);
    }
    // Okta's `after` for log streams is the id of the last stream of the previous page.
    const after = query.get('after');
    const start = after === null ? 0 : selected.findIndex((stream) => stream.id === after) + 1;
    const page = selected.slice(start, start + limit);
    const links = [`<${baseUrl}${url.pathname}${url.search}>; rel="self"`];
    const last = page.at(-1);
    if (last !== undefined && start + page.length < selected.length) {
      const next = new URLSearchParams(query);
      next.set('after', last.id);
      next.set('limit', String(limit));
      links.push(`<${baseUrl}${url.pathname}?${next.toString()}>; rel="next"`);
    }
    res.setHeader('Link', links);
    send(
      res,
      200,
      page.map((stream) => streamResource(stream, baseUrl)),
    );
  }

  /** Okta's checks on a new aws_eventbridge stream: a 400 E0000001 with one errorCause per bad field. */
  function createStream(body: unknown, res: ServerResponse): void {
    const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const settings = (typeof record.settings === 'object' && record.settings !== null ? record.settings : {}) as Record<
      string,
      unknown
    >;
    const causes: Array<{ errorSummary: string }> = [];
    const name = typeof record.name === 'string' ? record.name : '';
    const accountId = typeof settings.accountId === 'string' ? settings.accountId : '';
    const eventSourceName = typeof settings.eventSourceName === 'string' ? settings.eventSourceName : '';
    const region = typeof settings.region === 'string' ? settings.region : '';
    if (record.type !== 'aws_eventbridge') causes.push({ errorSummary: 'type: The log stream type is not supported.' });
    if (name.trim() === '') causes.push({ errorSummary: 'name: The field cannot be left blank.' });
    if (streams.some((stream) => stream.name === name)) {
      causes.push({ errorSummary: 'name: A log stream with this name already exists.' });
    }
    if (!/^\d{12}$/.test(accountId)) causes.push({ errorSummary: 'accountId: Must be a 12 digit AWS account id.' });
    if (!STREAM_REGIONS.has(region)) causes.push({ errorSummary: 'region: The region is not supported.' });
    if (!/^[A-Za-z0-9._-]{1,75}$/.test(eventSourceName)) {
      causes.push({ errorSummary: 'eventSourceName: Must be 1-75 letters, digits, ".", "-" or "_".' });
    }
    if (streams.some((stream) => stream.settings.eventSourceName === eventSourceName)) {
      causes.push({ errorSummary: 'eventSourceName: An event source with this name already exists.' });
    }
    if (streams.length >= MAX_STREAMS) causes.push({ errorSummary: 'An org can have at most 2 log streams.' });
    if (causes.length > 0) throw new HttpProblem(400, 'E0000001', 'Api validation failed: logStream', causes);
    const at = new Date(now()).toISOString();
    const stream: FakeLogStream = {
      id: oktaId('0oa'),
      type: 'aws_eventbridge',
      name,
      status: 'ACTIVE',
      created: at,
      lastUpdated: at,
      settings: { accountId, eventSourceName, region },
    };
    streams.push(stream);
    send(res, 200, streamResource(stream, baseUrl));
  }

  const oauthProblem = (status: number, error: string, description: string): HttpProblem =>
    Object.assign(new HttpProblem(status, error, description), { oauth: true });

  /** The client credentials grant with private_key_jwt, checking the assertion as Okta does. */
  function issueToken(body: string, res: ServerResponse): void {
    const form = new URLSearchParams(body);
    if (app === undefined || appKey === undefined) {
      throw oauthProblem(401, 'invalid_client', 'No service app is configured.');
    }
    if (form.get('grant_type') !== 'client_credentials') {
      throw oauthProblem(400, 'unsupported_grant_type', 'The grant type is not supported.');
    }
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      throw oauthProblem(401, 'invalid_client', 'The client_assertion_type is invalid.');
    }
    if (app.requireDpop) {
      throw oauthProblem(400, 'invalid_dpop_proof', 'The DPoP proof JWT header is missing.');
    }
    const [header, claims, signature] = (form.get('client_assertion') ?? '').split('.');
    if (header === undefined || claims === undefined || signature === undefined) {
      throw oauthProblem(401, 'invalid_client', 'The client_assertion is not a JWT.');
    }
    const decode = (part: string): Record<string, unknown> => {
      try {
        return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
      } catch {
        throw oauthProblem(401, 'invalid_client', 'The client_assertion is not a JWT.');
      }
    };
    const head = decode(header);
    const payload = decode(claims);
    const digests: Record<string, string> = { RS256: 'sha256', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };
    const digest = typeof head.alg === 'string' ? digests[head.alg] : undefined;
    const valid =
      digest !== undefined &&
      verify(
        digest,
        Buffer.from(`${header}.${claims}`),
        head.alg === 'RS256' ? appKey : { key: appKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      );
    if (!valid) throw oauthProblem(401, 'invalid_client', 'The client_assertion signature is invalid.');
    const nowS = now() / 1000;
    if (payload.iss !== app.clientId || payload.sub !== app.clientId) {
      throw oauthProblem(401, 'invalid_client', 'The client_assertion iss and sub must be the client id.');
    }
    if (payload.aud !== `${baseUrl}/oauth2/v1/token`) {
      throw oauthProblem(401, 'invalid_client', 'The audience of the client_assertion is invalid.');
    }
    if (typeof payload.exp !== 'number' || payload.exp <= nowS || payload.exp - nowS > 3600) {
      throw oauthProblem(401, 'invalid_client', 'The client_assertion is expired or lives too long.');
    }
    if (typeof payload.jti !== 'string' || seenJti.has(payload.jti)) {
      throw oauthProblem(401, 'invalid_client', 'The client_assertion jti is missing or was already used.');
    }
    seenJti.add(payload.jti);
    const granted = app.grantedScopes ?? ALL_SCOPES;
    const scopes = (form.get('scope') ?? '').split(' ').filter((scope) => scope !== '');
    if (scopes.length === 0 || scopes.some((scope) => !granted.includes(scope))) {
      throw oauthProblem(400, 'invalid_scope', 'One or more scopes are not configured for the authorization server.');
    }
    const ttl = app.tokenTtlSeconds ?? 3600;
    const accessToken = `eyFake.${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, { scopes, expiresAtMs: now() + ttl * 1000 });
    issuedTokens.push(accessToken);
    send(res, 200, { token_type: 'Bearer', expires_in: ttl, access_token: accessToken, scope: scopes.join(' ') });
  }

  /** The scope an API call needs, as Okta's Management API checks it for OAuth access tokens. */
  function requiredScope(method: string, path: string): string {
    if (path.startsWith('/api/v1/logs')) return 'okta.logs.read';
    return method === 'GET' ? 'okta.logStreams.read' : 'okta.logStreams.manage';
  }

  /** Whether the Authorization header is the SSWS token or a live bearer token with the scope the call needs. */
  function authorize(authorization: string | undefined, method: string, path: string): boolean {
    if (authorization === `SSWS ${token}`) return true;
    const bearer = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const issued = bearer === undefined ? undefined : tokens.get(bearer);
    if (issued === undefined || issued.expiresAtMs <= now()) return false;
    if (!issued.scopes.includes(requiredScope(method, path))) {
      throw new HttpProblem(403, 'E0000006', 'You do not have permission to perform the requested action');
    }
    return true;
  }

  function setStatus(id: string, status: LogStreamStatus, res: ServerResponse): void {
    const stream = findStream(id);
    if (stream.status !== status)
      changeStatus(stream, status, { type: 'PublicClientApp', id: 'olp', alternateId: 'olp' });
    send(res, 200, streamResource(stream, baseUrl));
  }

  /** A status change, logged as Okta logs it: `system.log_stream.lifecycle.activate` or `.deactivate`. */
  function changeStatus(stream: FakeLogStream, status: LogStreamStatus, actor: Record<string, string>): void {
    stream.status = status;
    stream.lastUpdated = new Date(now()).toISOString();
    consecutiveFailures = 0;
    append({
      uuid: randomUUID(),
      published: stream.lastUpdated,
      eventType: `system.log_stream.lifecycle.${status === 'ACTIVE' ? 'activate' : 'deactivate'}`,
      version: '0',
      severity: 'INFO',
      displayMessage: `${status === 'ACTIVE' ? 'Activate' : 'Deactivate'} log stream`,
      actor: { displayName: actor.alternateId, ...actor },
      outcome: { result: 'SUCCESS' },
      target: [{ id: stream.id, type: 'LogStream', alternateId: stream.name, displayName: stream.name }],
    });
  }

  function append(event: object): void {
    events.push({ event, publishedMs: publishedOf(event), order: events.length });
  }

  async function log(logged: readonly object[]): Promise<void> {
    for (const event of logged) {
      append(event);
      const stream = streams[0];
      if (options.deliver === undefined || stream === undefined || stream.status !== 'ACTIVE') continue;
      try {
        await options.deliver(event, stream);
        deliveries.delivered++;
        consecutiveFailures = 0;
      } catch {
        deliveries.failed++;
        consecutiveFailures++;
        if (consecutiveFailures === 2)
          changeStatus(stream, 'INACTIVE', { type: 'SystemPrincipal', id: 'system', alternateId: 'system@okta.com' });
      }
    }
  }

  function requireMethod(actual: string, expected: string): void {
    if (actual !== expected) {
      throw new HttpProblem(405, 'E0000022', 'The endpoint does not support the provided HTTP method');
    }
  }

  function route(req: IncomingMessage, url: URL, body: string, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const lifecycle = /^\/api\/v1\/logStreams\/([^/]+)\/lifecycle\/(activate|deactivate)$/.exec(path);
    const single = /^\/api\/v1\/logStreams\/([^/]+)$/.exec(path);
    if (path === '/api/v1/logs') {
      requireMethod(method, 'GET');
      listLogs(url, res);
    } else if (path === '/api/v1/logStreams') {
      if (method === 'POST') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          throw new HttpProblem(400, 'E0000003', 'The request body was not well-formed.');
        }
        createStream(parsed, res);
      } else {
        requireMethod(method, 'GET');
        listStreams(url, res);
      }
    } else if (lifecycle?.[1] && lifecycle[2]) {
      requireMethod(method, 'POST');
      setStatus(lifecycle[1], lifecycle[2] === 'activate' ? 'ACTIVE' : 'INACTIVE', res);
    } else if (single?.[1]) {
      requireMethod(method, 'GET');
      send(res, 200, streamResource(findStream(single[1]), baseUrl));
    } else {
      throw new HttpProblem(404, 'E0000022', `The endpoint does not exist: ${method} ${path}`);
    }
  }

  function handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', baseUrl);
    const authorization = req.headers.authorization;
    const method = req.method ?? 'GET';
    const record: FakeOktaRequest = {
      method,
      path: url.pathname,
      query: new URLSearchParams(url.searchParams),
      status: 0,
      ...(authorization === undefined ? {} : { authorization }),
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });

    try {
      // Public and OAuth endpoints: no API credentials, and outside the Management API's rate limit counting.
      if (url.pathname === '/oauth2/v1/token') {
        requireMethod(method, 'POST');
        issueToken(body, res);
        return;
      }
      if (url.pathname === '/.well-known/okta-organization') {
        const subdomain = options.orgSubdomain ?? 'acme';
        send(res, 200, {
          id: '00o1fake',
          pipeline: 'idx',
          _links: { organization: { href: `https://${subdomain}.okta.com` } },
        });
        return;
      }
    } catch (error) {
      const problem = error instanceof HttpProblem ? error : new HttpProblem(500, 'E0000009', 'Internal Server Error');
      send(res, problem.status, errorBody(problem));
      return;
    }

    let authorized = false;
    let forbidden: HttpProblem | undefined;
    try {
      authorized = authorize(authorization, method, url.pathname);
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      forbidden = error;
    }
    if (authorized) {
      requestCount += 1;
    }
    const every = options.rateLimit?.every;
    const tripped = authorized && every !== undefined && every > 0 && requestCount % every === 0;
    rateLimitHeaders(res, tripped);
    try {
      if (forbidden !== undefined) {
        throw forbidden;
      }
      if (!authorized) {
        throw new HttpProblem(401, 'E0000011', 'Invalid token provided');
      }
      if (tripped) {
        throw new HttpProblem(429, 'E0000047', 'API call exceeded rate limit due to too many requests.');
      }
      route(req, url, body, res);
    } catch (error) {
      const problem = error instanceof HttpProblem ? error : new HttpProblem(500, 'E0000009', 'Internal Server Error');
      send(res, problem.status, errorBody(problem));
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
    log,
    deliveries,
    systemLog: () => events.map(({ event }) => event),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
