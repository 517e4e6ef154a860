import type { OktaCredentials } from './credentials.ts';
import { nextLink, OktaApiError, OktaClient, type OktaClientOptions } from './okta-client.ts';

/**
 * Reads Okta System Log events straight from the System Log API (`GET /api/v1/logs`), for the watchdog, `olp audit` and `olp local --okta-org`,
 * through the shared OktaClient (SSWS token or private_key_jwt, rate limits, one-line errors).
 *
 * Pagination is driven here, following each `Link rel="next"` URL as an opaque value, rather than through the SDK's
 * `systemLogApi.listLogEvents()`, because that collection:
 * - rebuilds every event as its `LogEvent` model, which drops fields the model does not know (the top-level `device`,
 *   anything Okta adds later), renames `authenticationContext.interface` to `_interface` and turns `published` into a
 *   Date (sub-millisecond digits lost), while the archive must hold each event exactly as Okta sent it;
 * - yields `null` for an empty page that still has a next link, and a polling query always has one, so a loop over it
 *   never ends;
 * - hides page boundaries and the cursor, so neither per-page progress nor an exact resume after a 429 is possible.
 * Re-issuing the failed page URL after a 429 resumes exactly where reading stopped (its `after` cursor is in the URL),
 * so no event is read twice.
 */

export interface SystemLogReadOptions {
  orgUrl: string;
  /** A client to reuse (its token cache and rate-limit budget); else one is made from the options below. */
  client?: OktaClient;
  /** How to authenticate; `token` is shorthand for SSWS credentials. */
  credentials?: OktaCredentials;
  token?: string;
  since: Date;
  /** Upper bound (exclusive); defaults to `now()` so the query is bounded and the read ends. */
  until?: Date;
  /** Page size, 1..1000; defaults to 1000 to spend as few requests of the per-minute rate limit as possible. */
  limit?: number;
  onProgress?: (progress: { pages: number; events: number; waitingMs?: number }) => void;
  /** Share of the rate limit left to others (see OktaClientOptions.reserveShare). */
  reserveShare?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  fetch?: typeof fetch;
}

const MAX_LIMIT = 1000;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Okta rejects a `since` further back than this. */
const MAX_SINCE_AGE_MS = 180 * DAY_MS;
const CALL = 'System Log request (GET /api/v1/logs)';

function firstPageUrl(since: Date, until: Date, limit: number): string {
  const query = new URLSearchParams({
    since: since.toISOString(),
    until: until.toISOString(),
    limit: String(limit),
    sortOrder: 'ASCENDING',
  });
  return `/api/v1/logs?${query.toString()}`;
}

function credentialsOf(options: SystemLogReadOptions): OktaCredentials {
  if (options.credentials !== undefined) return options.credentials;
  if (options.token !== undefined) return { kind: 'ssws', token: options.token };
  throw new Error('readSystemLog needs credentials or a token');
}

/**
 * Yields the raw System Log events published in [since, until), in published order, each as Okta sent it.
 * Throws OktaApiError when Okta refuses (bad credentials, bad query, too many consecutive 429s) or cannot be reached.
 */
export async function* readSystemLog(options: SystemLogReadOptions): AsyncGenerator<unknown> {
  for await (const page of readSystemLogPages(options)) yield* page;
}

/**
 * The same read, a page at a time (up to `limit` events each), so a caller can act on each page and keep its own
 * cursor: the watchdog checks and refills page by page and remembers how far it got.
 */
export async function* readSystemLogPages(options: SystemLogReadOptions): AsyncGenerator<object[]> {
  const now = options.now ?? Date.now;
  const limit = options.limit ?? MAX_LIMIT;
  const since = options.since;
  const until = options.until ?? new Date(now());
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new Error(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
  }
  if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime())) {
    throw new Error('since and until must be valid dates');
  }
  if (until.getTime() <= since.getTime()) {
    throw new Error(`until (${until.toISOString()}) must be after since (${since.toISOString()})`);
  }

  let pages = 0;
  let events = 0;
  const client = options.client ?? newClient(options, () => ({ pages, events }));

  let url: string | undefined = client.resolve(firstPageUrl(since, until, limit), CALL);
  while (url !== undefined) {
    const response = await client.request({ call: CALL, method: 'GET', target: url });
    const body = response.body;
    if (!Array.isArray(body)) {
      throw new OktaApiError(`Okta ${CALL} at ${client.orgUrl} failed: the response is not a JSON array`, {
        orgUrl: client.orgUrl,
        call: CALL,
      });
    }

    pages += 1;
    // An empty or partial page may carry nulls; they are not events.
    const page = body.filter((event): event is object => typeof event === 'object' && event !== null);
    events += page.length;
    if (page.length > 0) yield page;
    options.onProgress?.({ pages, events });

    const next = nextLink(response.headers.get('link'));
    // Checked before the next request: a next link may only lead back to the org, which gets the credentials.
    const nextUrl = next === undefined ? undefined : client.resolve(next, CALL);
    // An empty page ends a bounded query even if a next link is offered (a polling query always offers one), and a
    // cursor that does not move would repeat the same page forever.
    url = page.length === 0 || nextUrl === url ? undefined : nextUrl;
  }
}

/** A client for this read alone, asking only for the scope it needs and reporting its waits as progress. */
function newClient(options: SystemLogReadOptions, progress: () => { pages: number; events: number }): OktaClient {
  const clientOptions: OktaClientOptions = {
    orgUrl: options.orgUrl.replace(/\/+$/, ''),
    credentials: credentialsOf(options),
    scopes: ['okta.logs.read'],
    now: options.now ?? Date.now,
    // Every wait goes through the injectable sleep and is reported as progress.
    onRateLimit: ({ waitMs }) => options.onProgress?.({ ...progress(), waitingMs: waitMs }),
  };
  if (options.sleep !== undefined) clientOptions.sleep = options.sleep;
  if (options.fetch !== undefined) clientOptions.fetch = options.fetch;
  if (options.reserveShare !== undefined) clientOptions.reserveShare = options.reserveShare;
  return new OktaClient(clientOptions);
}

const RELATIVE = /^(\d+)([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: DAY_MS, w: 7 * DAY_MS };
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Reads a `since` value: an ISO-8601 instant with an offset (`2026-11-01T09:00:00Z`) or a duration back from `now`
 * (`90m`, `24h`, `7d`, `2w`). Rejects anything else, the future, and more than 180 days back, which Okta refuses.
 */
export function parseSince(value: string, now: Date): Date {
  const text = value.trim();
  let since: Date;
  const relative = RELATIVE.exec(text);
  if (relative?.[1] && relative[2]) {
    const backMs = Number(relative[1]) * (UNIT_MS[relative[2]] ?? Number.NaN);
    if (backMs === 0) {
      throw new Error(`since "${value}" must be a duration greater than zero, e.g. 24h`);
    }
    // Checked before building the Date: a huge duration would make an invalid one.
    if (!(backMs <= MAX_SINCE_AGE_MS)) {
      throw new Error(
        `since "${value}" is more than 180 days back; Okta rejects that, and keeps only 90 days of events`,
      );
    }
    since = new Date(now.getTime() - backMs);
  } else if (ISO_INSTANT.test(text) && Number.isFinite(Date.parse(text))) {
    since = new Date(text);
  } else {
    throw new Error(
      `since "${value}" is neither an ISO-8601 instant with an offset (e.g. 2026-11-01T09:00:00Z) nor a duration (e.g. 90m, 24h, 7d)`,
    );
  }
  if (since.getTime() > now.getTime()) {
    throw new Error(`since "${value}" is in the future (${since.toISOString()})`);
  }
  if (!(now.getTime() - since.getTime() <= MAX_SINCE_AGE_MS)) {
    throw new Error(
      `since "${value}" is more than 180 days back (${since.toISOString()}); Okta rejects that, and keeps only 90 days of events`,
    );
  }
  return since;
}
