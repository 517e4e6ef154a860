import { z } from 'zod';
import { Auth0ApiError, type Auth0Client, type Auth0Request } from '../../lib/auth0/auth0-client.ts';
import { displayEndpoint, resumeLogStream } from '../../lib/auth0/log-streams.ts';
import { type Auth0Feed, Auth0RateLimitedError, type Auth0WatchedStream } from './run-auth0-watchdog.ts';

/**
 * The Auth0 Management API for the watchdog, over one Auth0Client (one token, Auth0's rate limits waited out as its
 * `x-ratelimit-reset` says): the log streams (`/api/v2/log-streams`, scopes read:log_streams and, to resume,
 * update:log_streams) and the tenant's logs (`/api/v2/logs`, scope read:logs).
 */

/** Which stream feeds this deployment: the eventbridge one with this partner event source, or the http one to this URL. */
export type Auth0StreamSelector = { readonly eventSourceName: string } | { readonly httpEndpoint: string };

/** Auth0 returns at most 100 logs per request. */
const PAGE_SIZE = 100;
/** Search by criteria pages through the first 1,000 results only. */
const SEARCH_PAGES = 10;
const LIST_CALL = 'list log streams (GET /api/v2/log-streams)';
const LOGS_CALL = 'get logs by checkpoint (GET /api/v2/logs?from)';
const SEARCH_CALL = 'search logs (GET /api/v2/logs?sort=date:-1)';

const StreamResource = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  type: z.string(),
  status: z.string(),
  sink: z.record(z.string(), z.unknown()).optional(),
  filters: z.array(z.unknown()).optional(),
  pii_config: z.looseObject({ log_fields: z.array(z.unknown()).optional() }).nullish(),
});
type StreamResource = z.infer<typeof StreamResource>;

/** Auth0's persisting 429 as the watchdog's own error; every other failure as it was. */
const request = async (client: Auth0Client, call: Auth0Request) => {
  try {
    return await client.request(call);
  } catch (error) {
    if (error instanceof Auth0ApiError && error.status === 429) throw new Auth0RateLimitedError(error.message);
    throw error;
  }
};

/** The same URL as far as where Auth0 POSTs: scheme, host and path, a trailing slash aside. */
const sameEndpoint = (a: string, b: string): boolean => {
  if (!URL.canParse(a) || !URL.canParse(b)) return false;
  const [x, y] = [new URL(a), new URL(b)];
  const path = (url: URL) => url.pathname.replace(/\/+$/, '');
  return x.protocol === y.protocol && x.host === y.host && path(x) === path(y);
};

const matches = (stream: StreamResource, selector: Auth0StreamSelector): boolean => {
  if ('eventSourceName' in selector) {
    return stream.type === 'eventbridge' && stream.sink?.awsPartnerEventSource === selector.eventSourceName;
  }
  const endpoint = stream.sink?.httpEndpoint;
  return stream.type === 'http' && typeof endpoint === 'string' && sameEndpoint(endpoint, selector.httpEndpoint);
};

/** What makes the stream's logs differ from the Management API's, in Auth0's terms. */
const differences = (stream: StreamResource): string | undefined => {
  const found = [
    ...((stream.filters?.length ?? 0) > 0 ? ['filters categories (filters)'] : []),
    ...((stream.pii_config?.log_fields?.length ?? 0) > 0 ? ['hides PII fields (pii_config)'] : []),
  ];
  return found.length === 0 ? undefined : found.join(' and ');
};

const watched = (stream: StreamResource): Auth0WatchedStream => {
  const sink = stream.type === 'http' ? stream.sink?.httpEndpoint : stream.sink?.awsPartnerEventSource;
  const differs = differences(stream);
  return {
    id: stream.id,
    name: stream.name ?? '',
    type: stream.type,
    status: stream.status,
    sink: typeof sink !== 'string' ? '' : stream.type === 'http' ? displayEndpoint(sink) : sink,
    ...(differs === undefined ? {} : { differs }),
  };
};

const arrayOf = (client: Auth0Client, call: string, body: unknown): readonly unknown[] => {
  if (!Array.isArray(body)) {
    throw new Auth0ApiError(`Auth0 ${call} at ${client.origin} failed: the answer is not a JSON array`, {
      domain: client.origin,
      call,
    });
  }
  return body;
};

/** The path (below /api/v2) of the Link header's next URL, when it is this tenant's logs endpoint. */
const nextPath = (link: string | null, origin: string): string | undefined => {
  const target = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link ?? '')?.[1];
  if (target === undefined || !URL.canParse(target)) return undefined;
  const url = new URL(target);
  if (url.origin !== origin || url.pathname !== '/api/v2/logs') return undefined;
  return `/logs${url.search}`;
};

const checkpointPath = (from: string): string => `/logs?from=${encodeURIComponent(from)}&take=${PAGE_SIZE}`;

export const auth0Feed = (client: Auth0Client, selector: Auth0StreamSelector): Auth0Feed => ({
  async findStream() {
    const { body } = await request(client, { call: LIST_CALL, method: 'GET', path: '/log-streams' });
    const streams = arrayOf(client, LIST_CALL, body)
      .map((item) => StreamResource.safeParse(item))
      .flatMap((parsed) => (parsed.success && matches(parsed.data, selector) ? [parsed.data] : []));
    // Two streams to one sink: the one delivering is the one that feeds the pipeline.
    const stream = streams.find((candidate) => candidate.status === 'active') ?? streams[0];
    return stream === undefined ? undefined : watched(stream);
  },

  async resume(id) {
    try {
      await resumeLogStream(client, id);
    } catch (error) {
      if (error instanceof Auth0ApiError && error.status === 429) throw new Auth0RateLimitedError(error.message);
      throw error;
    }
  },

  // Auth0 asks that pages after the first follow the Link header's next URL; its `from` is the page's last log_id,
  // which is the fallback when the Link names another host (a custom domain).
  async *readLogs(from) {
    let path = checkpointPath(from);
    for (;;) {
      const response = await request(client, { call: LOGS_CALL, method: 'GET', path });
      const page = arrayOf(client, LOGS_CALL, response.body);
      yield page;
      if (page.length === 0) return;
      const last = page.at(-1);
      const lastId = typeof last === 'object' && last !== null ? (last as { log_id?: unknown }).log_id : undefined;
      const next =
        nextPath(response.headers.get('link'), client.origin) ??
        (typeof lastId === 'string' ? checkpointPath(lastId) : undefined);
      if (next === undefined || next === path) return;
      path = next;
    }
  },

  async *newestLogs() {
    for (let page = 0; page < SEARCH_PAGES; page++) {
      const path = `/logs?sort=${encodeURIComponent('date:-1')}&per_page=${PAGE_SIZE}&page=${page}`;
      const response = await request(client, { call: SEARCH_CALL, method: 'GET', path });
      const logs = arrayOf(client, SEARCH_CALL, response.body);
      yield logs;
      if (logs.length < PAGE_SIZE) return;
    }
  },
});
