import { clip, LOOPBACK_HOSTS, networkFailureReason, redactSecrets } from '../http/http-basics.ts';
import type { Auth0Credentials } from './credentials.ts';

/**
 * HTTP access to one Auth0 tenant's Management API v2 for the CLI: authentication (a Management API token, or client
 * credentials exchanged at `/oauth/token` for a token cached until shortly before it expires), Auth0's rate limits
 * (a 429 waits until `X-RateLimit-Reset`, a bounded number of times) and one-line errors that name the call, the HTTP
 * status and Auth0's error, never a credential. No SDK: Node's fetch, so every request, header and wait is ours to
 * control and report, as in lib/okta.
 */

/** A tenant domain that is not one: not a host, not https (outside loopback), or with a path, query or credentials. */
export class Auth0DomainError extends Error {
  override readonly name = 'Auth0DomainError';
}

export interface Auth0ApiErrorDetails {
  domain: string;
  call?: string;
  status?: number;
  /** Auth0's `error` (e.g. `Not Found`, or an OAuth error such as `access_denied`). */
  error?: string;
  /** Auth0's `message` (Management API) or `error_description` (OAuth). */
  description?: string;
  /** Auth0's `errorCode` (e.g. `inexistent_log_stream`, `insufficient_scope`). */
  errorCode?: string;
}

/** A failed Auth0 call. The message names the call, the tenant, the HTTP status and Auth0's error. */
export class Auth0ApiError extends Error {
  override readonly name = 'Auth0ApiError';
  readonly domain: string;
  readonly call?: string;
  readonly status?: number;
  readonly error?: string;
  readonly description?: string;
  readonly errorCode?: string;

  constructor(message: string, details: Auth0ApiErrorDetails) {
    super(message);
    this.domain = details.domain;
    if (details.call !== undefined) this.call = details.call;
    if (details.status !== undefined) this.status = details.status;
    if (details.error !== undefined) this.error = details.error;
    if (details.description !== undefined) this.description = details.description;
    if (details.errorCode !== undefined) this.errorCode = details.errorCode;
  }
}

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The https origin of a tenant, from its domain (`acme.us.auth0.com`, a custom domain such as `login.acme.com`) or an
 * URL of it (`https://acme.us.auth0.com/`). Plain http is accepted only for loopback hosts (local stand-ins), since the
 * client secret and the bearer token would otherwise cross the network in clear text.
 */
export function parseTenantDomain(text: string): string {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(HAS_SCHEME.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch {
    throw new Auth0DomainError(`the tenant domain must look like acme.us.auth0.com, got "${text}"`);
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Auth0DomainError('the tenant domain must use https (plain http only for 127.0.0.1, ::1, localhost)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Auth0DomainError(`the tenant domain must use https, got "${url.protocol}"`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') {
    throw new Auth0DomainError('give the tenant domain only, like acme.us.auth0.com (no path, query or credentials)');
  }
  if (!url.hostname.includes('.') && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new Auth0DomainError(`the tenant domain must be a full host name like acme.us.auth0.com, got "${text}"`);
  }
  return url.origin;
}

/** One wait the client made after a 429. */
export interface RateLimitWait {
  call: string;
  waitMs: number;
  /** This retry's number, from 1, and the most the client makes for one request. */
  retry: number;
  maxRetries: number;
}

export interface Auth0ClientOptions {
  /** The tenant, e.g. `acme.us.auth0.com`; checked with parseTenantDomain. */
  domain: string;
  credentials: Auth0Credentials;
  /** The longest single rate-limit wait; default 61 s. */
  maxRateLimitWaitMs?: number;
  /** 429s in a row on one request before giving up; default 5. */
  maxRateLimitRetries?: number;
  onRateLimit?: (wait: RateLimitWait) => void;
  /** Further values that must never appear in an error (e.g. a sink's authorization being sent in a body). */
  redact?: readonly string[];
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface Auth0Request {
  /** Names the call in errors and progress, e.g. `list log streams (GET /api/v2/log-streams)`. */
  call: string;
  method: 'GET' | 'POST' | 'PATCH';
  /** A path below `/api/v2`, e.g. `/log-streams`. */
  path: string;
  body?: unknown;
}

export interface Auth0Response {
  status: number;
  headers: Headers;
  body: unknown;
}

/** X-RateLimit-Reset has one-second resolution and the two clocks differ slightly. */
export const RATE_LIMIT_MARGIN_MS = 1000;
const DEFAULT_MAX_WAIT_MS = 60_000 + RATE_LIMIT_MARGIN_MS;
const DEFAULT_MAX_RETRIES = 5;
/** Without X-RateLimit-Reset, the first wait; it doubles on each further 429. */
const FALLBACK_WAIT_MS = 1000;
/** Renew a token this long before Auth0 says it expires (or half its life, if shorter). */
const TOKEN_RENEW_EARLY_MS = 60_000;
/** Auth0's default lifetime of a Management API token obtained with client credentials. */
const DEFAULT_TOKEN_LIFETIME_S = 86_400;
const MAX_DETAIL_CHARS = 300;
const USER_AGENT = 'okta-log-pipeline-olp/0.1';
const TOKEN_CALL = 'token request (POST /oauth/token)';

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

/**
 * Auth0's error fields: a Management API error is `{statusCode, error, message, errorCode}`, an Authentication API
 * (OAuth) error `{error, error_description}`.
 */
function auth0Error(body: unknown): { error?: string; description?: string; errorCode?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const error = text(record.error);
  const description = text(record.message) ?? text(record.error_description);
  const errorCode = text(record.errorCode);
  return {
    ...(error === undefined ? {} : { error }),
    ...(description === undefined ? {} : { description: clip(description, MAX_DETAIL_CHARS) }),
    ...(errorCode === undefined ? {} : { errorCode }),
  };
}

/** Milliseconds until `X-RateLimit-Reset` (epoch seconds), if the header says. */
function untilReset(headers: Headers, nowMs: number): number | undefined {
  const seconds = Number((headers.get('x-ratelimit-reset') ?? '').split(',')[0]?.trim() || Number.NaN);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 - nowMs : undefined;
}

interface CachedToken {
  value: string;
  renewAtMs: number;
}

/** A client for one Auth0 tenant. Create one per tenant and credentials, and reuse it: it caches the access token. */
export class Auth0Client {
  /** The tenant's origin, e.g. https://acme.us.auth0.com. */
  readonly origin: string;
  private readonly options: Auth0ClientOptions;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly issuedTokens = new Set<string>();
  private token: CachedToken | undefined;
  private pendingToken: Promise<CachedToken> | undefined;

  constructor(options: Auth0ClientOptions) {
    this.origin = parseTenantDomain(options.domain);
    this.options = options;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** The Management API identifier a client-credentials token is asked for. */
  get audience(): string {
    const credentials = this.options.credentials;
    return (credentials.kind === 'client_credentials' ? credentials.audience : undefined) ?? `${this.origin}/api/v2/`;
  }

  /**
   * Sends one Management API request and returns the parsed JSON answer of a 2xx. Waits out 429s (up to
   * maxRateLimitRetries); throws Auth0ApiError for any other answer, naming the call and Auth0's error.
   */
  async request(request: Auth0Request): Promise<Auth0Response> {
    const url = `${this.origin}/api/v2${request.path}`;
    let renewedAfter401 = false;
    let rateLimited = 0;
    for (;;) {
      const authorization = await this.authorization();
      const response = await this.send(request.call, url, {
        method: request.method,
        headers: {
          Accept: 'application/json',
          Authorization: `Bearer ${authorization.token}`,
          'User-Agent': USER_AGENT,
          ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
      if (response.status === 429 && rateLimited < this.maxRetries) {
        rateLimited += 1;
        await response.body?.cancel();
        await this.waitOut(request.call, response.headers, rateLimited);
        continue;
      }
      // A cached token may have been revoked or rotated early; one fresh token settles whether the app is refused.
      if (response.status === 401 && authorization.cached && !renewedAfter401) {
        renewedAfter401 = true;
        this.token = undefined;
        await response.body?.cancel();
        continue;
      }
      const body = await this.readBody(request.call, response);
      if (!response.ok) throw this.failure(request.call, response.status, body);
      return { status: response.status, headers: response.headers, body };
    }
  }

  private get maxRetries(): number {
    return this.options.maxRateLimitRetries ?? DEFAULT_MAX_RETRIES;
  }

  /** After a 429: until X-RateLimit-Reset plus a margin, or a doubling fallback when Auth0 did not say; capped. */
  private async waitOut(call: string, headers: Headers, retry: number): Promise<void> {
    const max = this.options.maxRateLimitWaitMs ?? DEFAULT_MAX_WAIT_MS;
    const left = untilReset(headers, this.now());
    const waitMs = Math.min(
      left === undefined ? FALLBACK_WAIT_MS * 2 ** (retry - 1) : Math.max(left, 0) + RATE_LIMIT_MARGIN_MS,
      max,
    );
    this.options.onRateLimit?.({ call, waitMs, retry, maxRetries: this.maxRetries });
    await this.sleep(waitMs);
  }

  private async send(call: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetch(url, init);
    } catch (error) {
      const reason = networkFailureReason(error);
      throw new Auth0ApiError(this.redact(`Auth0 ${call} at ${this.origin} failed: ${reason}`), {
        domain: this.origin,
        call,
      });
    }
  }

  private async readBody(call: string, response: Response): Promise<unknown> {
    const body = await response.text();
    if (body === '') return undefined;
    try {
      return JSON.parse(body);
    } catch {
      // A proxy in front of Auth0 may answer an error with HTML; the status still says what happened.
      if (!response.ok) return undefined;
      throw new Auth0ApiError(`Auth0 ${call} at ${this.origin} failed: the answer is not JSON`, {
        domain: this.origin,
        call,
        status: response.status,
      });
    }
  }

  private failure(call: string, status: number, body: unknown): Auth0ApiError {
    const found = auth0Error(body);
    const details: Auth0ApiErrorDetails = { domain: this.origin, call, status };
    if (found.error !== undefined) details.error = this.redact(found.error);
    if (found.description !== undefined) details.description = this.redact(found.description);
    if (found.errorCode !== undefined) details.errorCode = this.redact(found.errorCode);
    const said = [details.error, details.description].filter((part) => part !== undefined).join(': ');
    const code = details.errorCode === undefined ? '' : ` (${details.errorCode})`;
    const message = `Auth0 ${call} at ${this.origin} failed: HTTP ${status}${said === '' ? '' : ` ${said}`}${code}`;
    return new Auth0ApiError(this.redact(message), details);
  }

  /** Belt and braces: no Auth0 message should carry a credential, but an error must never leak one whatever its origin. */
  private redact(message: string): string {
    const credentials = this.options.credentials;
    const secrets = [
      credentials.kind === 'token' ? credentials.token : credentials.clientSecret,
      ...this.issuedTokens,
      ...(this.options.redact ?? []),
    ];
    return redactSecrets(message, secrets, 4);
  }

  private async authorization(): Promise<{ token: string; cached: boolean }> {
    const credentials = this.options.credentials;
    if (credentials.kind === 'token') return { token: credentials.token, cached: false };
    if (this.token !== undefined && this.now() < this.token.renewAtMs) return { token: this.token.value, cached: true };
    // Requests in flight together share one token request.
    this.pendingToken ??= this.requestToken(credentials.clientId, credentials.clientSecret).finally(() => {
      this.pendingToken = undefined;
    });
    this.token = await this.pendingToken;
    return { token: this.token.value, cached: false };
  }

  /** The client credentials grant (Authentication API), for the Management API as audience. */
  private async requestToken(clientId: string, clientSecret: string): Promise<CachedToken> {
    const url = `${this.origin}/oauth/token`;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      audience: this.audience,
    });
    let rateLimited = 0;
    for (;;) {
      const response = await this.send(TOKEN_CALL, url, {
        method: 'POST',
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
          'User-Agent': USER_AGENT,
        },
        body: form.toString(),
      });
      if (response.status === 429 && rateLimited < this.maxRetries) {
        rateLimited += 1;
        await response.body?.cancel();
        await this.waitOut(TOKEN_CALL, response.headers, rateLimited);
        continue;
      }
      const body = await this.readBody(TOKEN_CALL, response);
      if (!response.ok) throw this.failure(TOKEN_CALL, response.status, body);
      const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const tokenType = typeof record.token_type === 'string' ? record.token_type.toLowerCase() : '';
      if (typeof record.access_token !== 'string' || record.access_token === '' || tokenType !== 'bearer') {
        throw new Auth0ApiError(`Auth0 ${TOKEN_CALL} at ${this.origin} failed: no Bearer access token in the answer`, {
          domain: this.origin,
          call: TOKEN_CALL,
          status: response.status,
        });
      }
      this.issuedTokens.add(record.access_token);
      const lifetimeMs =
        (typeof record.expires_in === 'number' && record.expires_in > 0
          ? record.expires_in
          : DEFAULT_TOKEN_LIFETIME_S) * 1000;
      return {
        value: record.access_token,
        renewAtMs: this.now() + lifetimeMs - Math.min(TOKEN_RENEW_EARLY_MS, lifetimeMs / 2),
      };
    }
  }
}
