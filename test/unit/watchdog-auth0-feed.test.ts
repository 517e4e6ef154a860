import { afterEach, describe, expect, it } from 'vitest';
import { type Auth0StreamSelector, auth0Feed } from '../../lambdas/watchdog/auth0-feed.ts';
import { auth0CredentialsFromSecret } from '../../lambdas/watchdog/auth0-secret.ts';
import { Auth0RateLimitedError } from '../../lambdas/watchdog/run-auth0-watchdog.ts';
import { Auth0Client } from '../../lib/auth0/auth0-client.ts';
import { Auth0CredentialsError } from '../../lib/auth0/credentials.ts';
import {
  FAKE_AUTH0_MGMT_TOKEN,
  type FakeAuth0,
  type FakeAuth0Options,
  LOG_SCOPES,
  LOG_STREAM_SCOPES,
  startFakeAuth0,
} from '../support/fake-auth0.ts';

const SOURCE = 'aws.partner/auth0.com/acme-0123456789abcdef/auth0.logs';
const SINK = 'https://abcdefghij.lambda-url.eu-west-1.on.aws/';
const T0 = Date.parse('2026-11-02T08:00:00.000Z');

const fakes: FakeAuth0[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) await fake.stop();
});

/** A fake tenant and the watchdog's feed over it (a static token: the token grant is lib/auth0's, tested there). */
const feedOn = async (selector: Auth0StreamSelector, options: FakeAuth0Options = {}) => {
  const auth0 = await startFakeAuth0({ tokenScopes: [...LOG_STREAM_SCOPES, ...LOG_SCOPES], ...options });
  fakes.push(auth0);
  const client = new Auth0Client({
    domain: auth0.url,
    credentials: { kind: 'token', token: FAKE_AUTH0_MGMT_TOKEN },
    maxRateLimitRetries: 2,
    sleep: async () => {},
  });
  return { auth0, feed: auth0Feed(client, selector) };
};

const eventbridge = (id: string, source: string, status: 'active' | 'paused' | 'suspended' = 'active') => ({
  id,
  name: `stream ${id}`,
  type: 'eventbridge',
  status,
  sink: { awsAccountId: '123456789012', awsRegion: 'eu-west-1', awsPartnerEventSource: source },
});

const logs = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ date: new Date(T0 + i * 1000).toISOString(), type: 's' }));

const collect = async (pages: AsyncIterable<readonly unknown[]>) => {
  const all: Array<readonly unknown[]> = [];
  for await (const page of pages) all.push(page);
  return all;
};

describe("the watchdog's Auth0 secret", () => {
  it('holds the client credentials of a machine-to-machine application, under the CLI variable names', () => {
    expect(
      auth0CredentialsFromSecret('{"AUTH0_CLIENT_ID":" abc ","AUTH0_CLIENT_SECRET":"s3cr3t"}', 'olp/auth0'),
    ).toEqual({
      kind: 'client_credentials',
      clientId: 'abc',
      clientSecret: 's3cr3t',
    });
    expect(
      auth0CredentialsFromSecret(
        JSON.stringify({
          AUTH0_CLIENT_ID: 'abc',
          AUTH0_CLIENT_SECRET: 's3cr3t',
          AUTH0_AUDIENCE: 'https://acme.us.auth0.com/api/v2/',
        }),
        'olp/auth0',
      ),
    ).toMatchObject({ audience: 'https://acme.us.auth0.com/api/v2/' });
  });

  it.each([
    ['not json s3cr3t', /secret olp\/auth0 is not a JSON object with AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET/],
    ['["s3cr3t"]', /secret olp\/auth0 is not a JSON object/],
    ['{}', /secret olp\/auth0: no Auth0 credentials/],
    ['{"AUTH0_MGMT_TOKEN":"s3cr3t"}', /secret olp\/auth0: AUTH0_MGMT_TOKEN expires and cannot be renewed/],
    ['{"AUTH0_CLIENT_ID":"abc"}', /secret olp\/auth0: AUTH0_CLIENT_ID is set but AUTH0_CLIENT_SECRET is not/],
    ['{"AUTH0_CLIENT_ID":"abc","AUTH0_CLIENT_SECRET":42}', /secret olp\/auth0: AUTH0_CLIENT_SECRET must be a string/],
  ])('refuses %s, naming the secret and never the value', (text, message) => {
    let thrown: unknown;
    try {
      auth0CredentialsFromSecret(text, 'olp/auth0');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Auth0CredentialsError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('s3cr3t');
  });
});

describe("the watchdog's Auth0 feed", () => {
  it('finds the EventBridge stream by its partner event source, preferring the one delivering', async () => {
    const { feed } = await feedOn(
      { eventSourceName: SOURCE },
      {
        streams: [
          eventbridge('lst_other', `${SOURCE.replace('acme', 'other')}`),
          eventbridge('lst_old', SOURCE, 'suspended'),
          eventbridge('lst_new', SOURCE),
        ],
      },
    );
    expect(await feed.findStream()).toEqual({
      id: 'lst_new',
      name: 'stream lst_new',
      type: 'eventbridge',
      status: 'active',
      sink: SOURCE,
    });
  });

  it('finds the HTTP stream by the sink URL, trailing slash aside, and says what makes its logs differ', async () => {
    const { feed } = await feedOn(
      { httpEndpoint: SINK },
      {
        streams: [
          { name: 'elsewhere', type: 'http', sink: { httpEndpoint: `${SINK}other` } },
          {
            id: 'lst_http',
            name: 'acme http',
            type: 'http',
            status: 'paused',
            sink: { httpEndpoint: SINK.slice(0, -1), httpAuthorization: 'Bearer s3cr3t' },
            filters: [{ type: 'category', name: 'auth.login.fail' }],
            pii_config: { log_fields: ['email'], method: 'mask' },
          },
        ],
      },
    );
    const stream = await feed.findStream();
    expect(stream).toMatchObject({ id: 'lst_http', status: 'paused', sink: SINK.slice(0, -1) });
    expect(stream?.differs).toBe('filters categories (filters) and hides PII fields (pii_config)');
    expect(JSON.stringify(stream)).not.toContain('s3cr3t');
  });

  it('finds no stream when none delivers where the deployment listens', async () => {
    const { feed } = await feedOn({ eventSourceName: SOURCE }, { streams: [eventbridge('lst_x', 'aws.partner/x')] });
    expect(await feed.findStream()).toBeUndefined();
  });

  it("reads the tenant's logs after a checkpoint a hundred at a time, following the next link, to the empty page", async () => {
    const { auth0, feed } = await feedOn({ eventSourceName: SOURCE });
    const written = await auth0.log(logs(251));

    const pages = await collect(feed.readLogs(written[0]?.log_id ?? ''));

    expect(pages.map((page) => page.length)).toEqual([100, 100, 50, 0]);
    expect(pages.flat().map((log) => (log as { log_id: string }).log_id)).toEqual(
      written.slice(1).map((log) => log.log_id),
    );
    const paths = auth0.requests.filter((r) => r.path === '/api/v2/logs');
    expect(paths).toHaveLength(4);
  });

  it("reads the tenant's newest logs newest first, as far back as Auth0's search goes (1,000)", async () => {
    const { auth0, feed } = await feedOn({ eventSourceName: SOURCE });
    const written = await auth0.log(logs(1050));

    const pages = await collect(feed.newestLogs());

    expect(pages).toHaveLength(10);
    const dates = pages.flat().map((log) => (log as { date: string }).date);
    expect(dates[0]).toBe(written.at(-1)?.data.date);
    expect(dates).toHaveLength(1000);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('says so when Auth0 keeps answering 429 after the waits it asked for', async () => {
    const { auth0, feed } = await feedOn(
      { eventSourceName: SOURCE },
      { streams: [eventbridge('lst_1', SOURCE)], rateLimit: { every: 1 } },
    );
    await expect(feed.findStream()).rejects.toBeInstanceOf(Auth0RateLimitedError);
    await expect(feed.resume('lst_1')).rejects.toBeInstanceOf(Auth0RateLimitedError);
    await expect(collect(feed.readLogs('900'))).rejects.toBeInstanceOf(Auth0RateLimitedError);
    // Each call: the request and its two retries.
    expect(auth0.requests.filter((r) => r.status === 429)).toHaveLength(9);
  });
});
