import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EventForwarder,
  ForwardingSecretsError,
  formatForwardingSummary,
  readDestinationSecrets,
  secretVariable,
} from '../../lib/local/forwarder.ts';
import type { Destination } from '../../lib/rules/destinations.ts';
import { envelopeWith } from '../support/events.ts';

/**
 * The forwarder against an OAuth token endpoint and a resource on 127.0.0.1: the client credentials grant, the bearer
 * token on each request, a new token after a 401, and secrets read without ever quoting them.
 */

const CLIENT_SECRET = 'oauth-client-secret-91c2';
let server: Server;
let origin = '';
let tokensIssued = 0;
/** The token the resource accepts; the test changes it to make the forwarder's token stale. */
let currentToken = '';
const tokenRequests: Array<{ method: string; authorization: string | undefined; body: string }> = [];
const hookRequests: Array<{ authorization: string | undefined; body: string }> = [];

const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const body = await readBody(request);
    if (request.url === '/token') {
      tokenRequests.push({ method: request.method ?? '', authorization: request.headers.authorization, body });
      tokensIssued++;
      currentToken = `token-${tokensIssued}`;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ access_token: currentToken, token_type: 'Bearer', expires_in: 3600 }));
      return;
    }
    hookRequests.push({ authorization: request.headers.authorization, body });
    response.statusCode = request.headers.authorization === `Bearer ${currentToken}` ? 202 : 401;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const soar = (): Destination => ({
  name: 'soar',
  url: `${origin}/hooks/okta`,
  method: 'POST',
  auth: {
    type: 'oauth-client-credentials',
    tokenUrl: `${origin}/token`,
    tokenMethod: 'POST',
    scope: 'hooks.write',
    secretName: 'olp/soar',
  },
});

describe('EventForwarder with OAuth client credentials', () => {
  it('gets a token once, sends it as a bearer, and gets a new one when the endpoint answers 401', async () => {
    // Prepare
    const forwarder = new EventForwarder({
      destinations: [soar()],
      routes: new Map([['threat-detected', ['soar']]]),
      secrets: new Map([['olp/soar', { clientId: 'olp-client', clientSecret: CLIENT_SECRET }]]),
      sleep: async () => {},
      concurrency: 1,
    });
    const events = [1, 2, 3].map((i) => envelopeWith({ uuid: `e${i}` }));

    // Act: two events with the first token; then the server stops accepting it, and a third event follows.
    forwarder.submit('threat-detected', events[0] ?? {});
    forwarder.submit('threat-detected', events[1] ?? {});
    forwarder.submit('not-forwarding', events[1] ?? {});
    await forwarder.settle();
    currentToken = 'rotated-by-the-server';
    forwarder.submit('threat-detected', events[2] ?? {});
    const report = await forwarder.settle();

    // Assess
    expect(report.delivered).toEqual(new Map([['soar', 3]]));
    expect(report.failures).toEqual([]);
    expect(tokenRequests).toHaveLength(2);
    expect(tokenRequests[0]).toEqual({
      method: 'POST',
      authorization: `Basic ${Buffer.from(`olp-client:${CLIENT_SECRET}`).toString('base64')}`,
      body: 'grant_type=client_credentials&scope=hooks.write',
    });
    expect(hookRequests.map((request) => request.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-1',
      'Bearer token-1',
      'Bearer token-2',
    ]);
    expect(hookRequests.map((request) => JSON.parse(request.body).uuid)).toEqual(['e1', 'e2', 'e3', 'e3']);
  });

  it('reports an endpoint that cannot be reached, with its reason, and never throws', async () => {
    // Prepare: a port nothing listens on.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const waits: number[] = [];
    const forwarder = new EventForwarder({
      destinations: [
        {
          name: 'gone',
          url: `http://127.0.0.1:${port}/`,
          method: 'PUT',
          auth: { type: 'api-key', header: 'authorization', secretName: 'olp/gone' },
        },
      ],
      routes: new Map([['rule-a', ['gone']]]),
      secrets: new Map([['olp/gone', { apiKey: 'Bearer gone-key-5d1e' }]]),
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    // Act
    forwarder.submit('rule-a', envelopeWith({ uuid: 'lost-1' }));
    const report = await forwarder.settle();

    // Assess
    expect(report.failures).toEqual([
      { destination: 'gone', ruleId: 'rule-a', eventId: 'lost-1', reason: 'ECONNREFUSED after 3 attempts' },
    ]);
    expect(waits).toEqual([250, 500]);
    expect(formatForwardingSummary(report)).toBe(
      '  forwarded              0\n' +
        '  not forwarded          1\n' +
        '      1 x gone\n' +
        '      gone: lost-1 (rule-a): ECONNREFUSED after 3 attempts\n',
    );
  });
});

describe('readDestinationSecrets', () => {
  const destinations: Destination[] = [soar()];

  it('reads a secret from its environment variable before the secrets file', () => {
    // Act
    const secrets = readDestinationSecrets(destinations, {
      env: { [secretVariable('olp/soar')]: JSON.stringify({ clientId: 'from-env', clientSecret: 's' }) },
      secretsFile: {
        name: 'secrets.json',
        text: JSON.stringify({ 'olp/soar': { clientId: 'from-file', clientSecret: 's' } }),
      },
    });

    // Assess
    expect(secretVariable('olp/soar')).toBe('OLP_SECRET_OLP_SOAR');
    expect(secrets.get('olp/soar')?.clientId).toBe('from-env');
  });

  it.each([
    { name: 'is missing', env: {}, message: 'destination soar needs secret olp/soar: set OLP_SECRET_OLP_SOAR' },
    { name: 'is not JSON', env: { OLP_SECRET_OLP_SOAR: `not json ${CLIENT_SECRET}` }, message: 'is not JSON' },
    {
      name: 'lacks a field',
      env: { OLP_SECRET_OLP_SOAR: JSON.stringify({ clientId: 'x', password: CLIENT_SECRET }) },
      message: 'has no "clientSecret"',
    },
  ])('refuses a secret that $name, never quoting it', ({ env, message }) => {
    // Act
    const read = () => readDestinationSecrets(destinations, { env });

    // Assess
    expect(read).toThrow(ForwardingSecretsError);
    expect(read).toThrow(message);
    const error = (() => {
      try {
        read();
      } catch (thrown) {
        return thrown as Error;
      }
      throw new Error('expected an error');
    })();
    expect(error.message).not.toContain(CLIENT_SECRET);
  });
});
