import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import * as okta from '@okta/okta-sdk-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSample } from '../../lib/local/sample-stream.ts';
import { OktaApiError } from '../../lib/okta/okta-client.ts';
import { parseSince, readSystemLog, type SystemLogReadOptions } from '../../lib/okta/system-log.ts';
import { FAKE_OKTA_TOKEN, type FakeOkta, startFakeOkta } from '../support/fake-okta.ts';

interface LogEvent {
  uuid: string;
  published: string;
}

/** A whole second, so the fake's reset (one second ahead) gives an exact expected wait. */
const NOW = Date.parse('2026-11-02T00:00:00Z');
const RATE_LIMIT_MARGIN_MS = 1000;

const sample = generateSample({ count: 300, seed: 11 });
const byPublished = sample.uniqueEvents as LogEvent[];
// The fake holds events in arrival order, so any published order in the answers comes from the query, not the input.
const persisted = [
  ...new Map((sample.deliveries as Array<{ detail: LogEvent }>).map(({ detail }) => [detail.uuid, detail])).values(),
];
const byUuid = new Map(byPublished.map((event) => [event.uuid, event]));

const at = (index: number): Date => new Date((byPublished[index] as LogEvent).published);
const since = at(20);
const until = at(260);
const inRange = byPublished.filter(({ published }) => {
  const ms = Date.parse(published);
  return ms >= since.getTime() && ms < until.getTime();
});

async function readAll(options: SystemLogReadOptions): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  for await (const event of readSystemLog(options)) {
    events.push(event as LogEvent);
  }
  return events;
}

function fakeSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms) => {
      waits.push(ms);
    },
  };
}

async function captureError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('no port');
  }
  return `http://127.0.0.1:${address.port}`;
}

describe('readSystemLog against a fake Okta', () => {
  let fake: FakeOkta;
  let limited: FakeOkta;
  let alwaysLimited: FakeOkta;

  beforeAll(async () => {
    fake = await startFakeOkta({ events: persisted, now: () => NOW });
    limited = await startFakeOkta({ events: persisted, rateLimit: { every: 3 }, now: () => NOW });
    alwaysLimited = await startFakeOkta({ events: persisted, rateLimit: { every: 1 }, now: () => NOW });
  });

  afterAll(async () => {
    await Promise.all([fake.stop(), limited.stop(), alwaysLimited.stop()]);
  });

  it('reads a bounded range across pages: every event once, in published order, exactly as Okta sent it', async () => {
    // Prepare
    fake.requests.length = 0;
    const progress: Array<{ pages: number; events: number; waitingMs?: number }> = [];

    // Act
    const events = await readAll({
      orgUrl: fake.url,
      token: FAKE_OKTA_TOKEN,
      since,
      until,
      limit: 25,
      onProgress: (p) => progress.push(p),
    });

    // Assess
    const uuids = events.map(({ uuid }) => uuid);
    const times = events.map(({ published }) => Date.parse(published));
    expect(events).toHaveLength(inRange.length);
    expect(new Set(uuids)).toEqual(new Set(inRange.map(({ uuid }) => uuid)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const event of events) {
      // Unknown and renamed fields survive (the SDK's LogEvent model would drop `device`, rename `interface`).
      expect(event).toEqual(byUuid.get(event.uuid));
    }
    const pages = Math.ceil(inRange.length / 25);
    expect(fake.requests).toHaveLength(pages);
    expect(progress).toHaveLength(pages);
    expect(progress.at(-1)).toEqual({ pages, events: inRange.length });
    const [first, ...rest] = fake.requests;
    expect(first?.authorization).toBe(`SSWS ${FAKE_OKTA_TOKEN}`);
    expect(Object.fromEntries(first?.query ?? [])).toEqual({
      since: since.toISOString(),
      until: until.toISOString(),
      limit: '25',
      sortOrder: 'ASCENDING',
    });
    expect(rest.every(({ query }) => query.has('after') && query.get('until') === until.toISOString())).toBe(true);
  });

  it('bounds the query at now() when no until is given, so reading ends', async () => {
    // Prepare
    fake.requests.length = 0;
    const now = at(100).getTime();

    // Act
    const events = await readAll({ orgUrl: fake.url, token: FAKE_OKTA_TOKEN, since, limit: 50, now: () => now });

    // Assess
    expect(fake.requests[0]?.query.get('until')).toBe(new Date(now).toISOString());
    expect(events.length).toBeGreaterThan(0);
    expect(events.every(({ published }) => Date.parse(published) < now)).toBe(true);
  });

  it('waits out a 429 until X-Rate-Limit-Reset and resumes at the same page', async () => {
    // Prepare
    limited.requests.length = 0;
    const { sleep, waits } = fakeSleep();
    const progress: Array<{ pages: number; events: number; waitingMs?: number }> = [];

    // Act
    const events = await readAll({
      orgUrl: limited.url,
      token: FAKE_OKTA_TOKEN,
      since,
      until,
      limit: 25,
      sleep,
      now: () => NOW,
      onProgress: (p) => progress.push(p),
    });

    // Assess
    const tooMany = limited.requests.flatMap((request, i) => (request.status === 429 ? [i] : []));
    expect(tooMany.length).toBeGreaterThan(0);
    // The fake resets one second after NOW; the reader adds its margin.
    expect(waits).toEqual(tooMany.map(() => 1000 + RATE_LIMIT_MARGIN_MS));
    expect(progress.filter((p) => p.waitingMs !== undefined)).toHaveLength(tooMany.length);
    for (const i of tooMany) {
      expect(limited.requests[i + 1]?.query.toString()).toBe(limited.requests[i]?.query.toString());
    }
    expect(events.map(({ uuid }) => uuid).sort()).toEqual(inRange.map(({ uuid }) => uuid).sort());
  });

  it('gives up with an OktaApiError when Okta keeps answering 429', async () => {
    // Prepare
    const { sleep, waits } = fakeSleep();

    // Act
    const error = await captureError(
      readAll({ orgUrl: alwaysLimited.url, token: FAKE_OKTA_TOKEN, since, until, sleep, now: () => NOW }),
    );

    // Assess
    expect(error).toBeInstanceOf(OktaApiError);
    expect(error).toMatchObject({ status: 429, errorCode: 'E0000047' });
    expect(waits.length).toBeGreaterThan(0);
  });

  it('reports a bad token as OktaApiError with status and code, never the token', async () => {
    // Prepare
    const token = '00wrongTokenThatMustNeverBeShown-0123456789';

    // Act
    const error = await captureError(readAll({ orgUrl: fake.url, token, since, until }));

    // Assess
    expect(error).toBeInstanceOf(OktaApiError);
    const apiError = error as OktaApiError;
    expect(apiError).toMatchObject({ status: 401, errorCode: 'E0000011', orgUrl: fake.url });
    expect(apiError.message).toContain('401');
    expect(apiError.message).toContain('E0000011');
    expect(apiError.message).toContain(fake.url);
    expect(`${apiError.message} ${apiError.stack} ${JSON.stringify(apiError)}`).not.toContain(token);
  });

  it('reports an unreachable org as OktaApiError naming the org', async () => {
    // Prepare
    const orgUrl = await closedPortUrl();

    // Act
    const error = await captureError(readAll({ orgUrl, token: FAKE_OKTA_TOKEN, since, until }));

    // Assess
    expect(error).toBeInstanceOf(OktaApiError);
    expect((error as OktaApiError).message).toContain(orgUrl);
    expect((error as OktaApiError).message).not.toContain(FAKE_OKTA_TOKEN);
  });

  it('reads with private_key_jwt credentials, asking only for okta.logs.read', async () => {
    // Prepare
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyed = await startFakeOkta({
      events: persisted,
      now: () => NOW,
      oauth: { clientId: '0oaReader', publicKey, grantedScopes: ['okta.logs.read'] },
    });

    // Act
    const events = await readAll({
      orgUrl: keyed.url,
      credentials: { kind: 'private_key_jwt', clientId: '0oaReader', privateKey: { key: privateKey, alg: 'ES256' } },
      since,
      until,
      limit: 100,
      now: () => NOW,
    }).finally(() => keyed.stop());

    // Assess
    expect(events.map(({ uuid }) => uuid).sort()).toEqual(inRange.map(({ uuid }) => uuid).sort());
    const [token, ...pages] = keyed.requests;
    expect(token).toMatchObject({ method: 'POST', path: '/oauth2/v1/token', status: 200 });
    expect(pages.length).toBe(Math.ceil(inRange.length / 100));
    expect(pages.every(({ authorization }) => authorization === `Bearer ${keyed.issuedTokens[0]}`)).toBe(true);
  });

  it('rejects an until that is not after since before any request', async () => {
    // Prepare
    fake.requests.length = 0;

    // Act
    const error = await captureError(readAll({ orgUrl: fake.url, token: FAKE_OKTA_TOKEN, since, until: since }));

    // Assess
    expect((error as Error).message).toMatch(/until .* must be after since/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('fake Okta', () => {
  let fake: FakeOkta;

  beforeAll(async () => {
    fake = await startFakeOkta({ events: persisted, now: () => NOW });
  });

  afterAll(async () => {
    await fake.stop();
  });

  it('always offers a next link to a polling query, even past the last event', async () => {
    // Prepare
    const url = `${fake.url}/api/v1/logs?since=${encodeURIComponent(at(290).toISOString())}&limit=100`;
    const headers = { Authorization: `SSWS ${FAKE_OKTA_TOKEN}` };

    // Act
    const first = await fetch(url, { headers });
    const next = /<([^>]*)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] ?? '';
    const second = await fetch(next, { headers });

    // Assess
    expect(((await first.json()) as unknown[]).length).toBeGreaterThan(0);
    expect(await second.json()).toEqual([]);
    expect(second.headers.get('link')).toContain('rel="next"');
    expect(Number(second.headers.get('x-rate-limit-reset'))).toBeGreaterThan(NOW / 1000);
    expect(second.headers.get('x-rate-limit-limit')).not.toBeNull();
    expect(second.headers.get('x-rate-limit-remaining')).not.toBeNull();
  });

  it('serves log streams that the Okta SDK can list, read, deactivate and activate', async () => {
    // Prepare
    const client = new okta.Client({ orgUrl: fake.url, token: FAKE_OKTA_TOKEN, cacheMiddleware: null });

    // Act
    const listed: Array<{ id?: string; status?: string; type?: string }> = [];
    for await (const stream of await client.logStreamApi.listLogStreams()) {
      if (stream) {
        listed.push(stream);
      }
    }
    const id = listed[0]?.id ?? '';
    // The SDK's activate/deactivate resolve to undefined and drop the stream Okta returns, so read it back.
    await client.logStreamApi.deactivateLogStream({ logStreamId: id });
    const deactivated = await client.logStreamApi.getLogStream({ logStreamId: id });
    await client.logStreamApi.activateLogStream({ logStreamId: id });
    const activated = await client.logStreamApi.getLogStream({ logStreamId: id });

    // Assess
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ type: 'aws_eventbridge', status: 'ACTIVE' });
    expect(deactivated).toMatchObject({
      status: 'INACTIVE',
      settings: { accountId: '123456789012', eventSourceName: 'okta-logs', region: 'us-east-1' },
    });
    expect(activated.status).toBe('ACTIVE');
    expect(
      fake.requests.filter(({ path }) => path.startsWith('/api/v1/logStreams')).map(({ method }) => method),
    ).toEqual(['GET', 'POST', 'GET', 'POST', 'GET']);
  });

  it('answers 401 with E0000011 without a valid SSWS token', async () => {
    // Prepare
    const url = `${fake.url}/api/v1/logStreams`;

    // Act
    const response = await fetch(url, { headers: { Authorization: 'SSWS nope' } });

    // Assess
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ errorCode: 'E0000011' });
  });
});

describe('parseSince', () => {
  const now = new Date('2026-11-22T12:00:00Z');

  it.each([
    ['2026-11-01T09:00:00Z', '2026-11-01T09:00:00.000Z'],
    ['2026-11-01T09:00:00.125+01:00', '2026-11-01T08:00:00.125Z'],
    ['90m', '2026-11-22T10:30:00.000Z'],
    ['24h', '2026-11-21T12:00:00.000Z'],
    ['7d', '2026-11-15T12:00:00.000Z'],
    ['180d', '2026-05-26T12:00:00.000Z'],
  ])('reads %s', (value, expected) => {
    // Prepare
    const input = value;

    // Act
    const since = parseSince(input, now);

    // Assess
    expect(since.toISOString()).toBe(expected);
  });

  it.each([
    ['yesterday', /"yesterday" is neither an ISO-8601 instant/],
    ['2026-11-01', /"2026-11-01" is neither an ISO-8601 instant/],
    ['24x', /"24x" is neither/],
    ['0h', /"0h" must be a duration greater than zero/],
    ['181d', /"181d" is more than 180 days back/],
    ['99999999999999d', /more than 180 days back/],
    ['2026-01-01T00:00:00Z', /more than 180 days back/],
    ['2026-12-01T00:00:00Z', /in the future/],
  ])('rejects %s', (value, message) => {
    // Prepare
    const input = value;

    // Act
    const parse = () => parseSince(input, now);

    // Assess
    expect(parse).toThrow(message);
  });
});
