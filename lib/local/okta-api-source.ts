import * as okta from '@okta/okta-sdk-nodejs';

/**
 * Reads Okta System Log events straight from the System Log API (`GET /api/v1/logs`), for backfills and local runs.
 *
 * The SDK client supplies the transport (SSWS auth header, User-Agent, proxy, Okta error parsing), but pagination is
 * driven here, following each `Link rel="next"` URL as an opaque value, rather than through
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

export interface OktaApiSourceOptions {
  orgUrl: string;
  token: string;
  since: Date;
  /** Upper bound (exclusive); defaults to `now()` so the query is bounded and the read ends. */
  until?: Date;
  /** Page size, 1..1000; defaults to 1000 to spend as few requests of the per-minute rate limit as possible. */
  limit?: number;
  onProgress?: (progress: { pages: number; events: number; waitingMs?: number }) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface OktaApiErrorDetails {
  orgUrl: string;
  status?: number;
  errorCode?: string;
  errorSummary?: string;
}

/** A failed Okta API call. The message names the HTTP status, Okta's error code and summary and the org, never the token. */
export class OktaApiError extends Error {
  readonly orgUrl: string;
  readonly status?: number;
  readonly errorCode?: string;
  readonly errorSummary?: string;

  constructor(message: string, details: OktaApiErrorDetails) {
    super(message);
    this.name = 'OktaApiError';
    this.orgUrl = details.orgUrl;
    if (details.status !== undefined) {
      this.status = details.status;
    }
    if (details.errorCode !== undefined) {
      this.errorCode = details.errorCode;
    }
    if (details.errorSummary !== undefined) {
      this.errorSummary = details.errorSummary;
    }
  }
}

const MAX_LIMIT = 1000;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** Okta rejects a `since` further back than this. */
const MAX_SINCE_AGE_MS = 180 * DAY_MS;
/** X-Rate-Limit-Reset has one-second resolution and the two clocks differ slightly. */
const RATE_LIMIT_MARGIN_MS = 1000;
/** Okta's rate limit windows are one minute; a longer wait means the reset header or a clock is wrong. */
const MAX_RATE_LIMIT_WAIT_MS = MINUTE_MS + RATE_LIMIT_MARGIN_MS;
/** Consecutive 429s on one page before giving up: more than that is not a passing limit. */
const MAX_RATE_LIMIT_RETRIES = 10;
const MAX_DETAIL_CHARS = 300;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface HeaderReader {
  get(name: string): string | null;
}

interface SdkFailure {
  status?: number;
  errorCode?: string;
  errorSummary?: string;
  headers?: HeaderReader;
  message: string;
}

function describeFailure(error: unknown): SdkFailure {
  if (typeof error !== 'object' || error === null) {
    return { message: String(error) };
  }
  const record = error as Record<string, unknown>;
  const headers = record.headers as { get?: unknown } | undefined;
  const failure: SdkFailure = { message: typeof record.message === 'string' ? record.message : String(error) };
  if (typeof record.status === 'number') {
    failure.status = record.status;
  }
  if (typeof record.errorCode === 'string' && record.errorCode !== '') {
    failure.errorCode = record.errorCode;
  }
  if (typeof record.errorSummary === 'string' && record.errorSummary !== '') {
    failure.errorSummary = record.errorSummary;
  }
  if (headers && typeof headers.get === 'function') {
    failure.headers = headers as HeaderReader;
  }
  return failure;
}

function redact(text: string, token: string): string {
  const clipped = text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS)}...` : text;
  // Belt and braces: no Okta message carries the token, but an error must never leak it whatever its origin.
  return token === '' ? clipped : clipped.split(token).join('[redacted]');
}

function toApiError(error: unknown, orgUrl: string, token: string): OktaApiError {
  const failure = describeFailure(error);
  const where = `Okta System Log request to ${orgUrl} failed`;
  if (failure.status === undefined) {
    return new OktaApiError(redact(`${where}: ${failure.message}`, token), { orgUrl });
  }
  const reported = [failure.errorCode, failure.errorSummary].filter((part) => part !== undefined).join(' ');
  const detail = reported !== '' ? reported : failure.message;
  const details: OktaApiErrorDetails = { orgUrl, status: failure.status };
  if (failure.errorCode !== undefined) {
    details.errorCode = failure.errorCode;
  }
  if (failure.errorSummary !== undefined) {
    details.errorSummary = redact(failure.errorSummary, token);
  }
  return new OktaApiError(redact(`${where}: HTTP ${failure.status} ${detail}`, token), details);
}

/** How long to wait after a 429: until X-Rate-Limit-Reset plus a margin, within one rate limit window. */
function rateLimitWaitMs(headers: HeaderReader | undefined, nowMs: number): number {
  // Okta has been seen to send the header twice (the SDK's OKTA-112507); fetch joins the copies with commas.
  const resets = (headers?.get('x-rate-limit-reset') ?? '')
    .split(',')
    .map((part) => Number(part.trim()))
    .filter((seconds) => Number.isFinite(seconds) && seconds > 0);
  if (resets.length === 0) {
    return MAX_RATE_LIMIT_WAIT_MS;
  }
  const untilReset = Math.max(...resets) * 1000 - nowMs;
  return Math.min(Math.max(untilReset, 0) + RATE_LIMIT_MARGIN_MS, MAX_RATE_LIMIT_WAIT_MS);
}

/** The URL of the `rel="next"` link, if any. Okta may send several Link headers, which fetch joins with commas. */
function nextLink(header: string | null): string | undefined {
  if (header === null) {
    return undefined;
  }
  for (const match of header.matchAll(/<([^>]*)>\s*;\s*rel="?([^";,]+)"?/g)) {
    if (match[2] === 'next' && match[1]) {
      return match[1];
    }
  }
  return undefined;
}

function sameOrigin(url: string, orgUrl: string): boolean {
  try {
    return new URL(url).origin === new URL(orgUrl).origin;
  } catch {
    return false;
  }
}

function firstPageUrl(orgUrl: string, since: Date, until: Date, limit: number): string {
  const url = new URL('/api/v1/logs', `${orgUrl}/`);
  url.searchParams.set('since', since.toISOString());
  url.searchParams.set('until', until.toISOString());
  url.searchParams.set('limit', String(limit));
  url.searchParams.set('sortOrder', 'ASCENDING');
  return url.toString();
}

/**
 * Yields the raw System Log events published in [since, until), in published order, each as Okta sent it.
 * Throws OktaApiError when Okta refuses (bad token, bad query, too many consecutive 429s) or cannot be reached.
 */
export async function* readSystemLog(options: OktaApiSourceOptions): AsyncGenerator<unknown> {
  const orgUrl = options.orgUrl.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
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

  const client = new okta.Client({
    orgUrl,
    token: options.token,
    // 429s come back here at once, so every wait goes through the injectable sleep and is reported.
    requestExecutor: new okta.DefaultRequestExecutor({ maxRetries: 0, requestTimeout: 0 }),
    cacheMiddleware: null,
  });

  // The SDK types its request options on node-fetch's RequestInit, whose declarations are not installed.
  const pageRequest = { method: 'get', headers: { Accept: 'application/json' } } as Parameters<
    okta.Client['http']['http']
  >[1];
  let pages = 0;
  let events = 0;
  let rateLimited = 0;
  let url: string | undefined = firstPageUrl(orgUrl, since, until, limit);
  while (url !== undefined) {
    let page: unknown;
    let link: string | null;
    try {
      const response = await client.http.http(url, { ...pageRequest }, { isCollection: true, resources: [] });
      link = response.headers.get('link');
      page = await response.json();
    } catch (error) {
      const failure = describeFailure(error);
      if (failure.status === 429 && rateLimited < MAX_RATE_LIMIT_RETRIES) {
        rateLimited += 1;
        const waitingMs = rateLimitWaitMs(failure.headers, now());
        options.onProgress?.({ pages, events, waitingMs });
        await sleep(waitingMs);
        continue;
      }
      throw toApiError(error, orgUrl, options.token);
    }
    rateLimited = 0;
    if (!Array.isArray(page)) {
      throw new OktaApiError(`Okta System Log request to ${orgUrl} failed: the response is not a JSON array`, {
        orgUrl,
      });
    }

    pages += 1;
    let yielded = 0;
    for (const event of page) {
      // An empty or partial page may carry nulls; they are not events.
      if (typeof event === 'object' && event !== null) {
        yielded += 1;
        events += 1;
        yield event;
      }
    }
    options.onProgress?.({ pages, events });

    const next = nextLink(link);
    // The SDK sends the token with every request, so a next link may only lead back to the org.
    if (next !== undefined && !sameOrigin(next, orgUrl)) {
      throw new OktaApiError(`Okta System Log at ${orgUrl} offered a next page on another origin; not following it`, {
        orgUrl,
      });
    }
    // An empty page ends a bounded query even if a next link is offered (a polling query always offers one), and a
    // cursor that does not move would repeat the same page forever.
    url = yielded === 0 || next === url ? undefined : next;
  }
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
