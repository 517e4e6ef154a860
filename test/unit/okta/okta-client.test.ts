import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialsFromVariables, OktaCredentialsError } from '../../../lib/okta/credentials.ts';
import { eventSourceNameOf, validateNewStream } from '../../../lib/okta/log-streams.ts';
import {
  clientAssertion,
  OktaClient,
  OktaOrgUrlError,
  parseOrgUrl,
  type RateLimitWait,
} from '../../../lib/okta/okta-client.ts';

const NOW = Date.parse('2026-11-02T00:00:00Z');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const decode = (part: string | undefined): Record<string, unknown> =>
  JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

describe('parseOrgUrl', () => {
  it.each([
    ['https://acme.okta.com', 'https://acme.okta.com'],
    ['https://acme.okta.com/', 'https://acme.okta.com'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['http://[::1]:3000', 'http://[::1]:3000'],
  ])('accepts %s', (text, origin) => {
    // Prepare
    const input = text;

    // Act
    const parsed = parseOrgUrl(input);

    // Assess
    expect(parsed).toBe(origin);
  });

  it.each([
    ['http://acme.okta.com', /must use https/],
    ['http://127.0.0.2', /must use https/],
    ['ftp://acme.okta.com', /must use https/],
    ['acme.okta.com', /must look like/],
    ['https://user:pw@acme.okta.com', /origin only/],
    ['https://acme.okta.com/api/v1', /origin only/],
  ])('refuses %s', (text, message) => {
    // Prepare
    const input = text;

    // Act
    const parse = () => parseOrgUrl(input);

    // Assess
    expect(parse).toThrow(OktaOrgUrlError);
    expect(parse).toThrow(message);
  });
});

describe('credentialsFromVariables', () => {
  it('takes an SSWS token', () => {
    // Prepare
    const variables = { OKTA_API_TOKEN: ' 00abc ' };

    // Act
    const credentials = credentialsFromVariables(variables);

    // Assess
    expect(credentials).toEqual({ kind: 'ssws', token: '00abc' });
  });

  it('takes a client id with a PEM whose line breaks arrive as literal \\n', () => {
    // Prepare
    const variables = { OKTA_CLIENT_ID: '0oaApp', OKTA_PRIVATE_KEY: rsaPem.replace(/\n/g, '\\n') };

    // Act
    const credentials = credentialsFromVariables(variables);

    // Assess
    expect(credentials).toMatchObject({ kind: 'private_key_jwt', clientId: '0oaApp', privateKey: { alg: 'RS256' } });
  });

  it('reads a key file through the given reader and keeps the kid of a JWK', () => {
    // Prepare
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const jwk = JSON.stringify({ keys: [{ ...ec.privateKey.export({ format: 'jwk' }), kid: 'k-384' }] });
    const variables = { OKTA_CLIENT_ID: '0oaApp', OKTA_PRIVATE_KEY_FILE: '/keys/okta.json' };

    // Act
    const credentials = credentialsFromVariables(variables, (path) => (path === '/keys/okta.json' ? jwk : ''));

    // Assess
    expect(credentials).toMatchObject({ privateKey: { alg: 'ES384', kid: 'k-384' } });
  });

  it.each([
    [{}, /no Okta credentials: set OKTA_API_TOKEN, or OKTA_CLIENT_ID with OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE/],
    [{ OKTA_API_TOKEN: 't', OKTA_CLIENT_ID: 'c' }, /not both/],
    [{ OKTA_CLIENT_ID: 'c' }, /needs OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE/],
    [{ OKTA_PRIVATE_KEY: rsaPem }, /OKTA_CLIENT_ID is not/],
    [{ OKTA_CLIENT_ID: 'c', OKTA_PRIVATE_KEY: rsaPem, OKTA_PRIVATE_KEY_FILE: '/k' }, /not both/],
    [{ OKTA_CLIENT_ID: 'c', OKTA_PRIVATE_KEY: 'secret-not-a-key' }, /OKTA_PRIVATE_KEY is not a usable private key/],
    [{ OKTA_CLIENT_ID: 'c', OKTA_PRIVATE_KEY: '{"kty":"oct","k":"c2VjcmV0"}' }, /not a usable private key/],
  ])('refuses %j', (variables, message) => {
    // Prepare
    const read = () => credentialsFromVariables(variables);

    // Act
    let error: unknown;
    try {
      read();
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(OktaCredentialsError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('secret');
  });

  it('refuses a public key', () => {
    // Prepare
    const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

    // Act
    const read = () => credentialsFromVariables({ OKTA_CLIENT_ID: 'c', OKTA_PRIVATE_KEY: publicPem });

    // Assess
    expect(read).toThrow(/not a usable private key|holds a public key/);
  });
});

describe('clientAssertion', () => {
  it.each([
    ['RS256', rsa.privateKey, rsa.publicKey],
    ['ES256', ec256.privateKey, ec256.publicKey],
  ] as const)(
    'signs %s with iss = sub = client id, the token URL as audience and a five-minute life',
    (alg, priv, pub) => {
      // Prepare
      const key = { key: priv, alg, kid: 'kid-1' } as const;

      // Act
      const jwt = clientAssertion('0oaApp', key, 'https://acme.okta.com/oauth2/v1/token', NOW);

      // Assess
      const [header, claims, signature] = jwt.split('.');
      expect(decode(header)).toEqual({ alg, typ: 'JWT', kid: 'kid-1' });
      const payload = decode(claims);
      expect(payload).toMatchObject({
        iss: '0oaApp',
        sub: '0oaApp',
        aud: 'https://acme.okta.com/oauth2/v1/token',
        iat: NOW / 1000,
        exp: NOW / 1000 + 300,
      });
      expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
      const ok = verify(
        'sha256',
        Buffer.from(`${header}.${claims}`),
        alg === 'RS256' ? pub : { key: pub, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature ?? '', 'base64url'),
      );
      expect(ok).toBe(true);
    },
  );
});

interface StubCall {
  url: string;
  authorization: string | null;
}

/** A fetch that answers from a script and records what it was asked. */
function stubFetch(answer: (url: string, index: number) => Response): { fetch: typeof fetch; calls: StubCall[] } {
  const calls: StubCall[] = [];
  const fetchStub = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    calls.push({ url, authorization: new Headers(init?.headers).get('authorization') });
    return answer(url, calls.length - 1);
  };
  return { fetch: fetchStub as typeof fetch, calls };
}

const json = (body: unknown, headers: Record<string, string> = {}, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('OktaClient', () => {
  it('leaves the reserve of a rate limit to others: waits for the reset once Remaining falls below the share', async () => {
    // Prepare
    let now = NOW;
    const waits: RateLimitWait[] = [];
    const resetS = String(NOW / 1000 + 20);
    const { fetch } = stubFetch((_, i) =>
      json([], {
        'x-rate-limit-limit': '100',
        'x-rate-limit-remaining': i === 0 ? '49' : '80',
        'x-rate-limit-reset': resetS,
      }),
    );
    const client = new OktaClient({
      orgUrl: 'https://acme.okta.com',
      credentials: { kind: 'ssws', token: 't' },
      reserveShare: 0.5,
      fetch,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      onRateLimit: (wait) => waits.push(wait),
    });

    // Act
    await client.request({ call: 'first', method: 'GET', target: '/api/v1/logs' });
    await client.request({ call: 'second', method: 'GET', target: '/api/v1/logs?after=x' });
    await client.request({ call: 'third', method: 'GET', target: '/api/v1/logs?after=y' });

    // Assess
    expect(waits).toEqual([{ call: 'second', waitMs: 21_000, reason: 'reserve' }]);
  });

  it('caches the access token until shortly before it expires, then fetches a new one', async () => {
    // Prepare
    let now = NOW;
    let issued = 0;
    const { fetch, calls } = stubFetch((url) => {
      if (url.endsWith('/oauth2/v1/token')) {
        issued += 1;
        return json({ token_type: 'Bearer', access_token: `at-${issued}`, expires_in: 300 });
      }
      return json([]);
    });
    const client = new OktaClient({
      orgUrl: 'https://acme.okta.com',
      credentials: { kind: 'private_key_jwt', clientId: '0oaApp', privateKey: { key: rsa.privateKey, alg: 'RS256' } },
      fetch,
      now: () => now,
    });
    const get = () => client.request({ call: 'list', method: 'GET', target: '/api/v1/logStreams' });

    // Act
    await get();
    now += 200_000;
    await get();
    now += 50_000;
    await get();

    // Assess
    expect(
      calls.map(({ url, authorization }) => `${url.replace('https://acme.okta.com', '')} ${authorization}`),
    ).toEqual([
      '/oauth2/v1/token null',
      '/api/v1/logStreams Bearer at-1',
      '/api/v1/logStreams Bearer at-1',
      '/oauth2/v1/token null',
      '/api/v1/logStreams Bearer at-2',
    ]);
  });

  it('refuses to follow a URL on another origin with the credentials', async () => {
    // Prepare
    const { fetch, calls } = stubFetch(() => json([]));
    const client = new OktaClient({
      orgUrl: 'https://acme.okta.com',
      credentials: { kind: 'ssws', token: 't' },
      fetch,
    });

    // Act
    const request = client.request({ call: 'list', method: 'GET', target: 'https://evil.example/api/v1/logs' });

    // Assess
    await expect(request).rejects.toThrow(/refusing to follow a URL on another origin/);
    expect(calls).toHaveLength(0);
  });
});

describe('log stream fields', () => {
  it.each([
    ['okta-logs', 'okta-logs'],
    ['aws.partner/okta.com/acme/okta-logs', 'okta-logs'],
    [' aws.partner/okta.com/acme-admin/a.b_c-d ', 'a.b_c-d'],
  ])('reads the event source name of %s', (input, expected) => {
    // Prepare
    const text = input;

    // Act
    const name = eventSourceNameOf(text);

    // Assess
    expect(name).toBe(expected);
  });

  it.each([
    [{ accountId: '123456789012', region: 'us-east-1', eventSourceName: 'x'.repeat(75) }, undefined],
    [{ accountId: '1234567890123', region: 'us-east-1', eventSourceName: 'ok' }, 'accountId'],
    [{ accountId: '123456789012', region: 'us-east-1 ', eventSourceName: 'ok' }, 'region'],
    [{ accountId: '123456789012', region: 'cn-north-1', eventSourceName: 'ok' }, 'region'],
    [{ accountId: '123456789012', region: 'us-east-1', eventSourceName: '' }, 'eventSourceName'],
    [{ accountId: '123456789012', region: 'us-east-1', eventSourceName: 'é' }, 'eventSourceName'],
  ])('validates %j as Okta does', (settings, field) => {
    // Prepare
    const name = 'stream';

    // Act
    let error: unknown;
    try {
      validateNewStream(name, settings);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect((error as { field?: string } | undefined)?.field).toBe(field);
  });
});
