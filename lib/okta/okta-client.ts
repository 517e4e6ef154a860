import { randomUUID, sign } from 'node:crypto';
import { clip, LOOPBACK_HOSTS, networkFailureReason, redactSecrets } from '../http/http-basics.ts';
import type { OktaCredentials, OktaSigningKey } from './credentials.ts';

/**
 * HTTP access to one Okta org for the CLI and the deployed code: authentication (SSWS token or an OAuth 2.0 access
 * token obtained with private_key_jwt and cached until shortly before it expires), Okta's rate limits (429 waits until
 * `X-Rate-Limit-Reset`, and a reserve of each limit left to other integrations) and one-line errors that name the call,
 * the HTTP status and Okta's error, never a credential. No SDK: Node's fetch, so every request, header and wait is ours
 * to control and report.
 */

/** The scopes olp asks for when a caller does not narrow them. */
export const OKTA_SCOPES = ['okta.logs.read', 'okta.logStreams.read', 'okta.logStreams.manage'] as const;

export interface OktaApiErrorDetails {
  orgUrl: string;
  call?: string;
  status?: number;
  errorCode?: string;
  errorSummary?: string;
}

/** A failed Okta API call. The message names the call, the HTTP status, Okta's error code and summary and the org. */
export class OktaApiError extends Error {
  override readonly name: string = 'OktaApiError';
  readonly orgUrl: string;
  readonly call?: string;
  readonly status?: number;
  readonly errorCode?: string;
  readonly errorSummary?: string;

  constructor(message: string, details: OktaApiErrorDetails) {
    super(message);
    this.orgUrl = details.orgUrl;
    if (details.call !== undefined) this.call = details.call;
    if (details.status !== undefined) this.status = details.status;
    if (details.errorCode !== undefined) this.errorCode = details.errorCode;
    if (details.errorSummary !== undefined) this.errorSummary = details.errorSummary;
  }
}

/** The service app requires DPoP-bound tokens, which olp does not send. */
export class OktaDpopRequiredError extends OktaApiError {
  override readonly name = 'OktaDpopRequiredError';
}

/** An org URL that is not one: not a URL, not https (outside loopback), or with a path, query or credentials. */
export class OktaOrgUrlError extends Error {
  override readonly name = 'OktaOrgUrlError';
}

/**
 * The origin of an Okta org URL (`https://acme.okta.com`). Plain http is accepted only for loopback hosts (local
 * stand-ins), since the token or bearer would otherwise cross the network in clear text.
 */
export function parseOrgUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new OktaOrgUrlError(`the Okta org URL must look like https://acme.okta.com, got "${text}"`);
  }
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new OktaOrgUrlError(`the Okta org URL must use https (plain http only for 127.0.0.1, ::1, localhost)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OktaOrgUrlError(`the Okta org URL must use https, got "${url.protocol}"`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') {
    throw new OktaOrgUrlError(`the Okta org URL must be the org's origin only, like https://acme.okta.com`);
  }
  return url.origin;
}

/** One wait the client made for Okta's rate limit: after a 429, or to leave the reserve of a limit untouched. */
export interface RateLimitWait {
  call: string;
  waitMs: number;
  reason: 'rate-limited' | 'reserve';
}

export interface OktaClientOptions {
  /** The org, e.g. https://acme.okta.com; checked with parseOrgUrl. */
  orgUrl: string;
  credentials: OktaCredentials;
  /** OAuth scopes to request (private_key_jwt only); defaults to OKTA_SCOPES. Ask only for what the caller needs. */
  scopes?: readonly string[];
  /**
   * Share (0..1) of each rate limit left to others: once `X-Rate-Limit-Remaining` falls below this share of
   * `X-Rate-Limit-Limit`, requests to that endpoint wait for its reset. Default 0.1.
   */
  reserveShare?: number;
  /** The longest single rate-limit wait; default 61 s (Okta's windows are a minute). */
  maxRateLimitWaitMs?: number;
  /** Consecutive 429s on one request before giving up; default 10. */
  maxRateLimitRetries?: number;
  onRateLimit?: (wait: RateLimitWait) => void;
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface OktaResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface OktaRequest {
  /** Names the call in errors and progress, e.g. `list log streams`. */
  call: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A path below the org (`/api/v1/logStreams`) or a full URL on the org (a Link next URL). */
  target: string;
  body?: unknown;
}

/** X-Rate-Limit-Reset has one-second resolution and the two clocks differ slightly. */
export const RATE_LIMIT_MARGIN_MS = 1000;
const DEFAULT_MAX_WAIT_MS = 60_000 + RATE_LIMIT_MARGIN_MS;
const DEFAULT_MAX_RETRIES = 10;
const DEFAULT_RESERVE_SHARE = 0.1;
/** Renew an access token this long before Okta says it expires, so no request carries one that just lapsed. */
const TOKEN_RENEW_EARLY_MS = 60_000;
/** Okta rejects client assertions that live longer than an hour; five minutes is plenty for one token request. */
const ASSERTION_LIFETIME_S = 300;
const MAX_DETAIL_CHARS = 300;
const USER_AGENT = 'okta-log-pipeline-olp/0.1';

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const base64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

/** A signed client assertion (RFC 7523) for Okta's token endpoint. */
export function clientAssertion(clientId: string, key: OktaSigningKey, audience: string, nowMs: number): string {
  const header = { alg: key.alg, typ: 'JWT', ...(key.kid === undefined ? {} : { kid: key.kid }) };
  const iat = Math.floor(nowMs / 1000);
  const claims = {
    iss: clientId,
    sub: clientId,
    aud: audience,
    iat,
    exp: iat + ASSERTION_LIFETIME_S,
    jti: randomUUID(),
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const digest = { RS256: 'sha256', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[key.alg];
  // JWS wants the raw r||s form of an ECDSA signature, not Node's default DER.
  const signature = sign(
    digest,
    Buffer.from(input),
    key.alg === 'RS256' ? key.key : { key: key.key, dsaEncoding: 'ieee-p1363' },
  );
  return `${input}.${base64url(signature)}`;
}

/** The URL of the `rel="next"` link, if any. Okta may send several Link headers, which fetch joins with commas. */
export function nextLink(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const match of header.matchAll(/<([^>]*)>\s*;\s*rel="?([^";,]+)"?/g)) {
    if (match[2] === 'next' && match[1]) return match[1];
  }
  return undefined;
}

/** Milliseconds until the latest `X-Rate-Limit-Reset` (Okta has been seen to send the header twice). */
function untilReset(headers: Headers, nowMs: number): number | undefined {
  const resets = (headers.get('x-rate-limit-reset') ?? '')
    .split(',')
    .map((part) => Number(part.trim()))
    .filter((seconds) => Number.isFinite(seconds) && seconds > 0);
  return resets.length === 0 ? undefined : Math.max(...resets) * 1000 - nowMs;
}

const firstNumber = (value: string | null): number | undefined => {
  const number = Number((value ?? '').split(',')[0]?.trim() || Number.NaN);
  return Number.isFinite(number) ? number : undefined;
};

interface Budget {
  remaining: number;
  limit: number;
  resetMs: number;
}

interface CachedToken {
  value: string;
  expiresAtMs: number;
}

/** Okta's error fields, from a Management API error (`errorCode`, `errorSummary`) or an OAuth one (`error`). */
function oktaError(body: unknown): { code?: string; summary?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  const code = text(record.errorCode) ?? text(record.error);
  let summary = text(record.errorSummary) ?? text(record.error_description);
  if (Array.isArray(record.errorCauses)) {
    const causes = record.errorCauses
      .map((cause) => text((cause as { errorSummary?: unknown } | null)?.errorSummary))
      .filter((cause): cause is string => cause !== undefined);
    if (causes.length > 0) summary = [summary, ...causes].filter((part) => part !== undefined).join('; ');
  }
  return { ...(code === undefined ? {} : { code }), ...(summary === undefined ? {} : { summary }) };
}

/** A client for one Okta org. Create one per org and credential set and reuse it: it caches the access token. */
export class OktaClient {
  readonly orgUrl: string;
  private readonly options: OktaClientOptions;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly budgets = new Map<string, Budget>();
  private token: CachedToken | undefined;

  constructor(options: OktaClientOptions) {
    this.orgUrl = parseOrgUrl(options.orgUrl);
    const share = options.reserveShare ?? DEFAULT_RESERVE_SHARE;
    if (!(share >= 0 && share < 1)) {
      throw new RangeError(`reserveShare must be at least 0 and below 1, got ${share}`);
    }
    this.options = options;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** The org's absolute URL for a path, or the URL itself if it is one on the org; never another origin. */
  resolve(target: string, call: string): string {
    const url = new URL(target, `${this.orgUrl}/`);
    // Credentials go with every request, so a URL from a response (a next link) may only lead back to the org.
    if (url.origin !== this.orgUrl) {
      throw new OktaApiError(`Okta ${call} at ${this.orgUrl}: refusing to follow a URL on another origin`, {
        orgUrl: this.orgUrl,
        call,
      });
    }
    return url.toString();
  }

  /**
   * Sends one request and returns the parsed JSON answer of a 2xx. Waits out 429s (up to maxRateLimitRetries) and
   * the reserve; throws OktaApiError for any other answer, naming the call and Okta's error.
   */
  async request(request: OktaRequest): Promise<OktaResponse> {
    const url = this.resolve(request.target, request.call);
    let renewedAfter401 = false;
    let rateLimited = 0;
    for (;;) {
      await this.respectReserve(url, request.call);
      const authorization = await this.authorization();
      const response = await this.send(request.call, url, {
        method: request.method,
        headers: {
          Accept: 'application/json',
          Authorization: authorization.header,
          'User-Agent': USER_AGENT,
          ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      });
      if (response.status === 429 && rateLimited < (this.options.maxRateLimitRetries ?? DEFAULT_MAX_RETRIES)) {
        rateLimited += 1;
        await response.body?.cancel();
        await this.wait(request.call, this.rateLimitWaitMs(response.headers), 'rate-limited');
        continue;
      }
      // A cached access token may have been revoked early; one fresh token settles whether the app is refused.
      if (response.status === 401 && authorization.cached && !renewedAfter401) {
        renewedAfter401 = true;
        this.token = undefined;
        await response.body?.cancel();
        continue;
      }
      this.noteBudget(url, response.headers);
      const body = await this.readBody(request.call, response);
      if (response.status < 200 || response.status > 299) {
        throw this.failure(request.call, response.status, body);
      }
      return { status: response.status, headers: response.headers, body };
    }
  }

  /** How long to wait after a 429: until X-Rate-Limit-Reset plus a margin, within one rate limit window. */
  private rateLimitWaitMs(headers: Headers): number {
    const max = this.options.maxRateLimitWaitMs ?? DEFAULT_MAX_WAIT_MS;
    const left = untilReset(headers, this.now());
    return left === undefined ? max : Math.min(Math.max(left, 0) + RATE_LIMIT_MARGIN_MS, max);
  }

  private async wait(call: string, waitMs: number, reason: RateLimitWait['reason']): Promise<void> {
    this.options.onRateLimit?.({ call, waitMs, reason });
    await this.sleep(waitMs);
  }

  /** Okta counts limits per endpoint family (`/api/v1/logs`, `/api/v1/logStreams`, ...), so budgets are kept per family. */
  private static family(url: string): string {
    return new URL(url).pathname.split('/').slice(0, 4).join('/');
  }

  private noteBudget(url: string, headers: Headers): void {
    const remaining = firstNumber(headers.get('x-rate-limit-remaining'));
    const limit = firstNumber(headers.get('x-rate-limit-limit'));
    const left = untilReset(headers, this.now());
    if (remaining === undefined || limit === undefined || left === undefined) return;
    this.budgets.set(OktaClient.family(url), { remaining, limit, resetMs: this.now() + left });
  }

  private async respectReserve(url: string, call: string): Promise<void> {
    const family = OktaClient.family(url);
    const budget = this.budgets.get(family);
    if (budget === undefined) return;
    const share = this.options.reserveShare ?? DEFAULT_RESERVE_SHARE;
    const left = budget.resetMs - this.now();
    if (budget.remaining < share * budget.limit && left > 0) {
      const max = this.options.maxRateLimitWaitMs ?? DEFAULT_MAX_WAIT_MS;
      await this.wait(call, Math.min(left + RATE_LIMIT_MARGIN_MS, max), 'reserve');
    }
    this.budgets.delete(family);
  }

  private async send(call: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetch(url, init);
    } catch (error) {
      const reason = networkFailureReason(error);
      throw new OktaApiError(this.redact(`Okta ${call} at ${this.orgUrl} failed: ${reason}`), {
        orgUrl: this.orgUrl,
        call,
      });
    }
  }

  private async readBody(call: string, response: Response): Promise<unknown> {
    const text = await response.text();
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      if (response.ok) {
        throw new OktaApiError(`Okta ${call} at ${this.orgUrl} failed: the answer is not JSON`, {
          orgUrl: this.orgUrl,
          call,
          status: response.status,
        });
      }
      return undefined;
    }
  }

  private failure(call: string, status: number, body: unknown): OktaApiError {
    const { code, summary } = oktaError(body);
    const reported = [code, summary === undefined ? undefined : this.redact(clip(summary, MAX_DETAIL_CHARS))]
      .filter((part) => part !== undefined)
      .join(' ');
    const message = `Okta ${call} at ${this.orgUrl} failed: HTTP ${status}${reported === '' ? '' : ` ${reported}`}`;
    const details: OktaApiErrorDetails = { orgUrl: this.orgUrl, call, status };
    if (code !== undefined) details.errorCode = code;
    if (summary !== undefined) details.errorSummary = this.redact(clip(summary, MAX_DETAIL_CHARS));
    return new OktaApiError(this.redact(message), details);
  }

  /** Belt and braces: no Okta message carries a credential, but an error must never leak one whatever its origin. */
  private redact(text: string): string {
    const secrets: string[] = [];
    if (this.options.credentials.kind === 'ssws') secrets.push(this.options.credentials.token);
    if (this.token !== undefined) secrets.push(this.token.value);
    return redactSecrets(text, secrets);
  }

  private async authorization(): Promise<{ header: string; cached: boolean }> {
    const credentials = this.options.credentials;
    if (credentials.kind === 'ssws') return { header: `SSWS ${credentials.token}`, cached: false };
    if (this.token !== undefined && this.now() < this.token.expiresAtMs) {
      return { header: `Bearer ${this.token.value}`, cached: true };
    }
    this.token = await this.requestAccessToken(credentials.clientId, credentials.privateKey);
    return { header: `Bearer ${this.token.value}`, cached: false };
  }

  private async requestAccessToken(clientId: string, key: OktaSigningKey): Promise<CachedToken> {
    const call = 'token request (POST /oauth2/v1/token)';
    const tokenUrl = `${this.orgUrl}/oauth2/v1/token`;
    let rateLimited = 0;
    for (;;) {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        scope: (this.options.scopes ?? OKTA_SCOPES).join(' '),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        // A fresh assertion per attempt: Okta refuses a jti it has seen.
        client_assertion: clientAssertion(clientId, key, tokenUrl, this.now()),
      });
      const response = await this.send(call, tokenUrl, {
        method: 'POST',
        headers: {
          Accept: 'application/json',
          'Content-Type': 'application/x-www-form-urlencoded',
          'User-Agent': USER_AGENT,
        },
        body: form.toString(),
      });
      if (response.status === 429 && rateLimited < (this.options.maxRateLimitRetries ?? DEFAULT_MAX_RETRIES)) {
        rateLimited += 1;
        await response.body?.cancel();
        await this.wait(call, this.rateLimitWaitMs(response.headers), 'rate-limited');
        continue;
      }
      const body = await this.readBody(call, response);
      const { code } = oktaError(body);
      if (code === 'invalid_dpop_proof' || code === 'use_dpop_nonce') {
        throw new OktaDpopRequiredError(
          `Okta ${call} at ${this.orgUrl} failed: the service app requires DPoP, which olp does not send; turn off ` +
            `"Require Demonstrating Proof of Possession (DPoP) header in token requests" in the app's General settings`,
          { orgUrl: this.orgUrl, call, status: response.status, errorCode: code },
        );
      }
      if (!response.ok) throw this.failure(call, response.status, body);
      const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const tokenType = typeof record.token_type === 'string' ? record.token_type : '';
      if (
        typeof record.access_token !== 'string' ||
        record.access_token === '' ||
        tokenType.toLowerCase() !== 'bearer'
      ) {
        // A DPoP token type here means the app binds tokens to proofs; a Bearer header would be refused.
        const hint = tokenType.toLowerCase() === 'dpop' ? ' (a DPoP token: turn off DPoP on the service app)' : '';
        throw new OktaApiError(`Okta ${call} at ${this.orgUrl} failed: no Bearer access token in the answer${hint}`, {
          orgUrl: this.orgUrl,
          call,
          status: response.status,
        });
      }
      const expiresInS = typeof record.expires_in === 'number' && record.expires_in > 0 ? record.expires_in : 3600;
      return {
        value: record.access_token,
        expiresAtMs: this.now() + Math.max(expiresInS * 1000 - TOKEN_RENEW_EARLY_MS, 0),
      };
    }
  }
}
