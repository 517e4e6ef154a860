import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the parts of the Okta Management API the pipeline uses: the System Log API
 * (`GET /api/v1/logs`) and the Log Streaming API (`/api/v1/logStreams`), behaving like the real one: SSWS auth,
 * `since`/`until`/`limit`/`after`/`sortOrder`, `Link` headers with an opaque `after` cursor, a polling query that
 * always has a next link, rate limit headers and E0000047 on a 429.
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
  stop(): Promise<void>;
}

type LogStreamStatus = 'ACTIVE' | 'INACTIVE';

interface FakeLogStream {
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
  const streams: FakeLogStream[] = [
    {
      id: '0oa1orzg0CHSgPcjZ0g4',
      type: 'aws_eventbridge',
      name: 'acme okta-logs',
      status: 'ACTIVE',
      created: createdAt,
      lastUpdated: createdAt,
      settings: { accountId: '123456789012', eventSourceName: 'okta-logs', region: 'us-east-1' },
    },
  ];
  const requests: FakeOktaRequest[] = [];
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
    const filter = url.searchParams.get('filter');
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
    res.setHeader('Link', `<${baseUrl}${url.pathname}${url.search}>; rel="self"`);
    send(
      res,
      200,
      selected.map((stream) => streamResource(stream, baseUrl)),
    );
  }

  function setStatus(id: string, status: LogStreamStatus, res: ServerResponse): void {
    const stream = findStream(id);
    if (stream.status !== status) {
      stream.status = status;
      stream.lastUpdated = new Date(now()).toISOString();
    }
    send(res, 200, streamResource(stream, baseUrl));
  }

  function requireMethod(actual: string, expected: string): void {
    if (actual !== expected) {
      throw new HttpProblem(405, 'E0000022', 'The endpoint does not support the provided HTTP method');
    }
  }

  function route(req: IncomingMessage, url: URL, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const lifecycle = /^\/api\/v1\/logStreams\/([^/]+)\/lifecycle\/(activate|deactivate)$/.exec(path);
    const single = /^\/api\/v1\/logStreams\/([^/]+)$/.exec(path);
    if (path === '/api/v1/logs') {
      requireMethod(method, 'GET');
      listLogs(url, res);
    } else if (path === '/api/v1/logStreams') {
      requireMethod(method, 'GET');
      listStreams(url, res);
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

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', baseUrl);
    const authorization = req.headers.authorization;
    const record: FakeOktaRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: new URLSearchParams(url.searchParams),
      status: 0,
      ...(authorization === undefined ? {} : { authorization }),
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });

    const authorized = authorization === `SSWS ${token}`;
    if (authorized) {
      requestCount += 1;
    }
    const every = options.rateLimit?.every;
    const tripped = authorized && every !== undefined && every > 0 && requestCount % every === 0;
    rateLimitHeaders(res, tripped);
    try {
      if (!authorized) {
        throw new HttpProblem(401, 'E0000011', 'Invalid token provided');
      }
      if (tripped) {
        throw new HttpProblem(429, 'E0000047', 'API call exceeded rate limit due to too many requests.');
      }
      route(req, url, res);
    } catch (error) {
      const problem = error instanceof HttpProblem ? error : new HttpProblem(500, 'E0000009', 'Internal Server Error');
      send(res, problem.status, errorBody(problem));
    }
  }

  const server = createServer((req, res) => {
    // Drain any body so keep-alive connections stay usable.
    req.resume();
    req.on('end', () => handle(req, res));
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
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
