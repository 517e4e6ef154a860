import { afterEach, describe, expect, it } from 'vitest';
import {
  Auth0ApiError,
  Auth0Client,
  type Auth0ClientOptions,
  Auth0DomainError,
  parseTenantDomain,
  type RateLimitWait,
} from '../../../lib/auth0/auth0-client.ts';
import { listLogStreams } from '../../../lib/auth0/log-streams.ts';
import { type FakeAuth0, type FakeAuth0Options, startFakeAuth0 } from '../../support/fake-auth0.ts';

/** A whole second, so X-RateLimit-Reset (epoch seconds) lands exactly where the test says. */
const NOW = Date.parse('2026-11-02T00:00:00Z');
const APP = { clientId: 'm2mClient', clientSecret: 'm2m-secret-0123456789' };

/** One clock for the fake tenant and the client; the client's sleeps move it on instead of waiting. */
class Clock {
  ms = NOW;
  readonly now = (): number => this.ms;
  readonly sleep = async (ms: number): Promise<void> => {
    this.ms += ms;
  };
}

let fakes: FakeAuth0[] = [];

async function tenant(options: FakeAuth0Options = {}): Promise<FakeAuth0> {
  const started = await startFakeAuth0({ apps: [APP], ...options });
  fakes.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(fakes.map((started) => started.stop()));
  fakes = [];
});

const clientFor = (auth0: FakeAuth0, clock: Clock, options: Partial<Auth0ClientOptions> = {}): Auth0Client =>
  new Auth0Client({
    domain: auth0.url,
    credentials: { kind: 'client_credentials', ...APP },
    now: clock.now,
    sleep: clock.sleep,
    ...options,
  });

const list = { call: 'list', method: 'GET', path: '/log-streams' } as const;
const calls = (auth0: FakeAuth0): string[] =>
  auth0.requests.map(({ path, authorization, status }) => `${path} ${authorization ?? '-'} ${status}`);

describe('parseTenantDomain', () => {
  it.each([
    ['acme.us.auth0.com', 'https://acme.us.auth0.com'],
    [' login.acme.com ', 'https://login.acme.com'],
    ['https://acme.us.auth0.com/', 'https://acme.us.auth0.com'],
    ['HTTPS://Acme.EU.auth0.com', 'https://acme.eu.auth0.com'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['http://[::1]:3000', 'http://[::1]:3000'],
  ])('accepts %s', (text, origin) => {
    // Prepare
    const input = text;

    // Act
    const parsed = parseTenantDomain(input);

    // Assess
    expect(parsed).toBe(origin);
  });

  it.each([
    ['http://acme.us.auth0.com', /must use https/],
    ['http://127.0.0.2', /must use https/],
    ['ftp://acme.us.auth0.com', /must use https/],
    ['https://user:pw@acme.us.auth0.com', /domain only/],
    ['acme.us.auth0.com/api/v2/', /domain only/],
    ['https://acme.us.auth0.com?x=1', /domain only/],
    ['acme', /full host name/],
    ['acme us.auth0.com', /must look like/],
  ])('refuses %s', (text, message) => {
    // Prepare
    const input = text;

    // Act
    const parse = () => parseTenantDomain(input);

    // Assess
    expect(parse).toThrow(Auth0DomainError);
    expect(parse).toThrow(message);
  });
});

describe('Auth0Client tokens', () => {
  it('caches the token until shortly before it expires, then gets a new one', async () => {
    // Prepare: tokens live 120 s, so the client renews 60 s before (half the life, capped at a minute).
    const clock = new Clock();
    const auth0 = await tenant({ apps: [{ ...APP, tokenTtlSeconds: 120 }], now: clock.now });
    const client = clientFor(auth0, clock);

    // Act
    await client.request(list);
    clock.ms += 59_000;
    await client.request(list);
    clock.ms += 2_000;
    await client.request(list);

    // Assess
    const [first, second] = auth0.issuedTokens;
    expect(calls(auth0)).toEqual([
      '/oauth/token - 200',
      `/api/v2/log-streams Bearer ${first} 200`,
      `/api/v2/log-streams Bearer ${first} 200`,
      '/oauth/token - 200',
      `/api/v2/log-streams Bearer ${second} 200`,
    ]);
  });

  it('gets a fresh token once when Auth0 refuses a cached one (revoked, or clocks apart)', async () => {
    // Prepare: the tenant's clock runs two hours ahead, so the token the client still trusts has expired there.
    const clock = new Clock();
    let ahead = 0;
    const auth0 = await tenant({ apps: [{ ...APP, tokenTtlSeconds: 3600 }], now: () => clock.ms + ahead });
    const client = clientFor(auth0, clock);
    await client.request(list);
    ahead = 7_200_000;

    // Act
    await client.request(list);

    // Assess
    const [first, second] = auth0.issuedTokens;
    expect(calls(auth0)).toEqual([
      '/oauth/token - 200',
      `/api/v2/log-streams Bearer ${first} 200`,
      `/api/v2/log-streams Bearer ${first} 401`,
      '/oauth/token - 200',
      `/api/v2/log-streams Bearer ${second} 200`,
    ]);
  });

  it('shares one token request between requests in flight together', async () => {
    // Prepare
    const clock = new Clock();
    const auth0 = await tenant({ now: clock.now });
    const client = clientFor(auth0, clock);

    // Act
    await Promise.all([client.request(list), client.request(list), listLogStreams(client)]);

    // Assess
    expect(auth0.issuedTokens).toHaveLength(1);
    expect(auth0.requests.filter(({ path }) => path === '/oauth/token')).toHaveLength(1);
  });

  it('sends a Management API token as it is, with no token request', async () => {
    // Prepare
    const clock = new Clock();
    const auth0 = await tenant({ token: 'static-mgmt-token', now: clock.now });
    const client = clientFor(auth0, clock, { credentials: { kind: 'token', token: 'static-mgmt-token' } });

    // Act
    await client.request(list);

    // Assess
    expect(calls(auth0)).toEqual(['/api/v2/log-streams Bearer static-mgmt-token 200']);
  });
});

describe('Auth0Client rate limits', () => {
  it('waits until X-RateLimit-Reset plus a margin after a 429, then retries', async () => {
    // Prepare: every second request is refused, with a reset 3 s ahead.
    const clock = new Clock();
    const auth0 = await tenant({ rateLimit: { every: 2, resetAfterSeconds: 3 }, now: clock.now });
    const waits: RateLimitWait[] = [];
    const client = clientFor(auth0, clock, { onRateLimit: (wait) => waits.push(wait) });

    // Act
    await client.request(list);
    await client.request(list);

    // Assess
    expect(auth0.requests.map(({ status }) => status)).toEqual([200, 200, 429, 200]);
    expect(waits).toEqual([{ call: 'list', waitMs: 4000, retry: 1, maxRetries: 5 }]);
    expect(clock.ms).toBe(NOW + 4000);
  });

  it('caps a wait at maxRateLimitWaitMs', async () => {
    // Prepare
    const clock = new Clock();
    const auth0 = await tenant({ rateLimit: { every: 2, resetAfterSeconds: 600 }, now: clock.now });
    const waits: RateLimitWait[] = [];
    const client = clientFor(auth0, clock, { onRateLimit: (wait) => waits.push(wait), maxRateLimitWaitMs: 5000 });

    // Act
    await client.request(list);
    await client.request(list);

    // Assess
    expect(waits.map(({ waitMs }) => waitMs)).toEqual([5000]);
  });

  it("gives up after maxRateLimitRetries 429s in a row with Auth0's error", async () => {
    // Prepare: every request is refused.
    const clock = new Clock();
    const auth0 = await tenant({ rateLimit: { every: 1 }, now: clock.now });
    const client = clientFor(auth0, clock, { maxRateLimitRetries: 2 });

    // Act
    const request = client.request(list);

    // Assess
    await expect(request).rejects.toThrow(
      `Auth0 list at ${auth0.url} failed: HTTP 429 Too Many Requests: Global limit has been reached (too_many_requests)`,
    );
    expect(auth0.requests.map(({ path, status }) => `${path} ${status}`)).toEqual([
      '/oauth/token 200',
      '/api/v2/log-streams 429',
      '/api/v2/log-streams 429',
      '/api/v2/log-streams 429',
    ]);
  });
});

describe('Auth0Client errors', () => {
  it('keeps the fields of an Auth0 error and redacts given secrets even where Auth0 echoes them', async () => {
    // Prepare: the fake echoes a refused endpoint in its validation message.
    const clock = new Clock();
    const auth0 = await tenant({ now: clock.now });
    const client = clientFor(auth0, clock, { redact: ['hidden-part'] });

    // Act
    let error: unknown;
    try {
      await client.request({
        call: 'create',
        method: 'POST',
        path: '/log-streams',
        body: { type: 'http', name: 'x', sink: { httpEndpoint: 'http://hidden-part.acme.com' } },
      });
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(Auth0ApiError);
    expect(error).toMatchObject({
      status: 400,
      error: 'Bad Request',
      errorCode: 'invalid_body',
      description: expect.stringContaining('http://[redacted].acme.com'),
    });
    expect((error as Error).message).not.toContain('hidden-part');
  });

  it('never shows the client secret, even in a message from elsewhere that quotes it', async () => {
    // Prepare: a reverse proxy that quotes the request in its error.
    const clock = new Clock();
    const proxyFetch = (async (_: string | URL | Request, init?: RequestInit) =>
      new Response(JSON.stringify({ error: 'Bad Gateway', message: `upstream refused ${String(init?.body)}` }), {
        status: 502,
      })) as typeof fetch;
    const client = new Auth0Client({
      domain: 'acme.us.auth0.com',
      credentials: { kind: 'client_credentials', ...APP },
      fetch: proxyFetch,
      now: clock.now,
    });

    // Act
    const request = client.request(list);

    // Assess
    await expect(request).rejects.toThrow(/HTTP 502 Bad Gateway: upstream refused .*client_secret=\[redacted\]/);
    await expect(client.request(list)).rejects.not.toThrow(APP.clientSecret);
  });

  it('names the call and the reason when the tenant cannot be reached', async () => {
    // Prepare
    const auth0 = await tenant();
    const url = auth0.url;
    await auth0.stop();
    fakes = [];
    const client = new Auth0Client({ domain: url, credentials: { kind: 'token', token: 't0ken-value' } });

    // Act
    const request = client.request(list);

    // Assess
    await expect(request).rejects.toThrow(`Auth0 list at ${url} failed: ECONNREFUSED`);
  });

  it('refuses a 2xx answer that is not JSON', async () => {
    // Prepare
    const htmlFetch = (async () => new Response('<html>login</html>', { status: 200 })) as typeof fetch;
    const client = new Auth0Client({
      domain: 'acme.us.auth0.com',
      credentials: { kind: 'token', token: 't0ken-value' },
      fetch: htmlFetch,
    });

    // Act
    const request = listLogStreams(client);

    // Assess
    await expect(request).rejects.toThrow('the answer is not JSON');
  });
});
