import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_AUTH0_MGMT_TOKEN,
  type FakeAuth0,
  type FakeAuth0Options,
  type FakeAuth0StreamInput,
  startFakeAuth0,
} from '../support/fake-auth0.ts';
import { type CliRun, linesOf, runOlp } from '../support/run-cli.ts';

const TOKEN_ENV = { AUTH0_MGMT_TOKEN: FAKE_AUTH0_MGMT_TOKEN };
const APP = { clientId: 'm2mClientId0123456789', clientSecret: 'm2m-client-secret-that-must-never-show-0123456789' };
const APP_ENV = { AUTH0_CLIENT_ID: APP.clientId, AUTH0_CLIENT_SECRET: APP.clientSecret };
const SINK_AUTHORIZATION = 'Bearer sink-authorization-that-must-never-show-abcdef';

/** An ESC sequence that would clear the screen, and a right-to-left override. */
const HOSTILE = 'evil \u001b[2J\u001b[31mred\u202eoverride';
const HOSTILE_SHOWN = 'evil \\u001b[2J\\u001b[31mred\\u202eoverride';
/** Anything a terminal would act on or reorder (the output's own line breaks aside). */
const RAW_CONTROL = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

const HTTP: FakeAuth0StreamInput = {
  id: 'lst_0000000000000001',
  name: 'okta-log-pipeline http',
  type: 'http',
  sink: {
    httpEndpoint: 'https://logs.acme.com/auth0?key=query-secret-abc',
    httpAuthorization: 'Bearer stored-authorization-secret-xyz',
    httpContentFormat: 'JSONARRAY',
    httpContentType: 'application/json',
  },
};
const EVENTBRIDGE: FakeAuth0StreamInput = {
  id: 'lst_0000000000000002',
  name: 'acme eventbridge',
  type: 'eventbridge',
  sink: {
    awsAccountId: '123456789012',
    awsRegion: 'eu-west-1',
    awsPartnerEventSource: 'aws.partner/auth0.com/acme-7c1e2d3f/auth0.logs',
  },
};
const PAUSED: FakeAuth0StreamInput = {
  id: 'lst_0000000000000003',
  name: 'paused one',
  type: 'eventbridge',
  status: 'paused',
  sink: { awsAccountId: '210987654321', awsRegion: 'us-east-1', awsPartnerEventSource: 'aws.partner/auth0.com/p/x' },
};
const SUSPENDED: FakeAuth0StreamInput = {
  id: 'lst_0000000000000004',
  name: HOSTILE,
  type: 'http',
  status: 'suspended',
  sink: { httpEndpoint: 'https://down.acme.com/logs', httpAuthorization: 'Basic c3VzcGVuZGVk' },
};
const DATADOG: FakeAuth0StreamInput = {
  id: 'lst_0000000000000005',
  name: 'datadog',
  type: 'datadog',
  sink: { datadogRegion: 'eu', datadogApiKey: 'datadog-api-key-secret' },
};

let fakes: FakeAuth0[] = [];

async function fake(options: FakeAuth0Options = {}): Promise<FakeAuth0> {
  const started = await startFakeAuth0({
    streams: [HTTP, EVENTBRIDGE, PAUSED, SUSPENDED, DATADOG],
    apps: [APP],
    ...options,
  });
  fakes.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(fakes.map((started) => started.stop()));
  fakes = [];
});

const output = (run: CliRun): string => `${run.stdout}\n${run.stderr}`;
const apiRequests = (auth0: FakeAuth0) => auth0.requests.filter(({ path }) => path.startsWith('/api/'));
const calls = (auth0: FakeAuth0) => auth0.requests.map(({ method, path }) => `${method} ${path}`);
const rawControlIn = (text: string): boolean => RAW_CONTROL.test(text.replaceAll('\n', ''));
const olpAuth0 = (args: string[], env: NodeJS.ProcessEnv = TOKEN_ENV): Promise<CliRun> =>
  runOlp(['auth0', 'stream', ...args], { env });

describe('olp auth0 stream list', () => {
  it('prints every stream as a table: the http endpoint, the partner event source, never an authorization', async () => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['list', '--domain', auth0.url]);

    // Assess
    expect(run.code).toBe(0);
    const [header, ...rows] = linesOf(run.stdout);
    expect(header).toMatch(/^ID\s+NAME\s+TYPE\s+STATUS\s+SINK$/);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatch(
      /^lst_0000000000000001\s+okta-log-pipeline http\s+http\s+active\s+https:\/\/logs\.acme\.com\/auth0\?\[redacted\]$/,
    );
    expect(rows[1]).toMatch(
      /^lst_0000000000000002\s+acme eventbridge\s+eventbridge\s+active\s+aws\.partner\/auth0\.com\/acme-7c1e2d3f\/auth0\.logs$/,
    );
    expect(rows[3]).toContain(HOSTILE_SHOWN);
    expect(rows[4]).toMatch(/^lst_0000000000000005\s+datadog\s+datadog\s+active$/);
    expect(rawControlIn(run.stdout)).toBe(false);
    for (const secret of ['stored-authorization-secret-xyz', 'c3VzcGVuZGVk', 'query-secret-abc', 'datadog-api-key']) {
      expect(output(run)).not.toContain(secret);
    }
    expect(calls(auth0)).toEqual(['GET /api/v2/log-streams']);
    expect(auth0.requests[0]?.authorization).toBe(`Bearer ${FAKE_AUTH0_MGMT_TOKEN}`);
  });

  it('--json prints one array of objects with exactly the documented keys, hostile text escaped', async () => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['list', '--domain', auth0.url, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout)).toHaveLength(1);
    expect(rawControlIn(run.stdout)).toBe(false);
    expect(JSON.parse(run.stdout)).toEqual([
      {
        id: HTTP.id,
        name: HTTP.name,
        type: 'http',
        status: 'active',
        sink: 'https://logs.acme.com/auth0?[redacted]',
      },
      {
        id: EVENTBRIDGE.id,
        name: EVENTBRIDGE.name,
        type: 'eventbridge',
        status: 'active',
        sink: 'aws.partner/auth0.com/acme-7c1e2d3f/auth0.logs',
      },
      { id: PAUSED.id, name: 'paused one', type: 'eventbridge', status: 'paused', sink: 'aws.partner/auth0.com/p/x' },
      { id: SUSPENDED.id, name: HOSTILE, type: 'http', status: 'suspended', sink: 'https://down.acme.com/logs' },
      { id: DATADOG.id, name: 'datadog', type: 'datadog', status: 'active', sink: null },
    ]);
    expect(output(run)).not.toContain('stored-authorization-secret-xyz');
  });
});

describe('olp auth0 stream status', () => {
  it.each([
    [['--id', HTTP.id ?? ''], 0, 'active'],
    [['--name', 'acme eventbridge'], 0, 'active'],
    [['--id', PAUSED.id ?? ''], 3, 'paused'],
    [['--name', 'paused one'], 3, 'paused'],
    [['--id', SUSPENDED.id ?? ''], 3, 'suspended'],
    [['--name', HOSTILE], 3, 'suspended'],
  ])('%j exits %i (%s)', async (wanted, code, status) => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['status', '--domain', auth0.url, ...wanted, '--json']);

    // Assess
    expect(run.code).toBe(code);
    const printed = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(printed)).toEqual(['id', 'name', 'type', 'status', 'sink']);
    expect(printed.status).toBe(status);
    expect(rawControlIn(run.stdout)).toBe(false);
  });

  it('says that Auth0 suspended the stream and how to resume it, escaping the name', async () => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['status', '--domain', auth0.url, '--id', SUSPENDED.id ?? '']);

    // Assess
    expect(run.code).toBe(3);
    expect(linesOf(run.stdout)).toEqual([
      `suspended  ${HOSTILE_SHOWN}  id=${SUSPENDED.id}  type=http  sink=https://down.acme.com/logs`,
    ]);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: Auth0 suspended the stream after its sink kept failing; once the sink works again, resume it with: olp auth0 stream resume --domain <domain> --id ${SUSPENDED.id}`,
    ]);
    expect(output(run)).not.toContain('c3VzcGVuZGVk');
  });

  it.each([
    [
      ['--id', 'lst_9999999999999999'],
      'the id "lst_9999999999999999"',
      ['GET /api/v2/log-streams/lst_9999999999999999'],
    ],
    [['--name', `no ${HOSTILE}`], `the name "no ${HOSTILE_SHOWN}"`, ['GET /api/v2/log-streams']],
  ])('exits 4 when no stream matches %j (--json prints null)', async (wanted, shown, expectedCalls) => {
    // Prepare
    const auth0 = await fake();

    // Act
    const text = await olpAuth0(['status', '--domain', auth0.url, ...wanted]);
    const json = await olpAuth0(['status', '--domain', auth0.url, ...wanted, '--json']);

    // Assess
    expect(text.code).toBe(4);
    expect(text.stdout).toBe('');
    expect(linesOf(text.stderr)).toEqual([`olp auth0: no log stream has ${shown}`]);
    expect(json.code).toBe(4);
    expect(json.stdout).toBe('null\n');
    expect(calls(auth0)).toEqual([...expectedCalls, ...expectedCalls]);
  });

  it('asks for --id when several streams share the name', async () => {
    // Prepare
    const auth0 = await fake({ streams: [HTTP, { ...EVENTBRIDGE, name: HTTP.name }] });

    // Act
    const run = await olpAuth0(['status', '--domain', auth0.url, '--name', HTTP.name]);

    // Assess
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: 2 log streams are named "${HTTP.name}"; ask by --id: ${HTTP.id}, ${EVENTBRIDGE.id}`,
    ]);
  });

  it.each([
    [[], 'give either --id or --name'],
    [['--id', 'lst_1', '--name', 'x'], 'give either --id or --name'],
    [['--id', ''], '--id is required'],
  ])('refuses %j before any request (exit 2)', async (wanted, message) => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['status', '--domain', auth0.url, ...wanted]);

    // Assess
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(message);
    expect(auth0.requests).toHaveLength(0);
  });
});

describe('olp auth0 stream resume', () => {
  it('sets a suspended stream active with PATCH status and prints it as it is after', async () => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['resume', '--domain', auth0.url, '--id', SUSPENDED.id ?? '']);

    // Assess
    expect(run.code).toBe(0);
    expect(auth0.streams.find(({ id }) => id === SUSPENDED.id)?.status).toBe('active');
    expect(calls(auth0)).toEqual([
      `GET /api/v2/log-streams/${SUSPENDED.id}`,
      `PATCH /api/v2/log-streams/${SUSPENDED.id}`,
    ]);
    expect(auth0.requests[1]?.body).toEqual({ status: 'active' });
    expect(linesOf(run.stdout)).toEqual([
      `active  ${HOSTILE_SHOWN}  id=${SUSPENDED.id}  type=http  sink=https://down.acme.com/logs`,
    ]);
    expect(linesOf(run.stderr)).toEqual(['olp auth0: resumed the stream (it was suspended)']);
  });

  it('--json prints the resumed stream with exactly the documented keys', async () => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['resume', '--domain', auth0.url, '--id', PAUSED.id ?? '', '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      id: PAUSED.id,
      name: 'paused one',
      type: 'eventbridge',
      status: 'active',
      sink: 'aws.partner/auth0.com/p/x',
    });
  });

  it('leaves an active stream alone', async () => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['resume', '--domain', auth0.url, '--id', HTTP.id ?? '']);

    // Assess
    expect(run.code).toBe(0);
    expect(calls(auth0)).toEqual([`GET /api/v2/log-streams/${HTTP.id}`]);
    expect(run.stderr).toBe('olp auth0: the stream was already active; nothing changed\n');
  });

  it("reports a stream that does not exist as one line with Auth0's 404, exit 1", async () => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['resume', '--domain', auth0.url, '--id', 'lst_9999999999999999']);

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: Auth0 get log stream (GET /api/v2/log-streams/{id}) at ${auth0.url} failed: HTTP 404 Not Found: The log stream does not exist. (inexistent_log_stream)`,
    ]);
  });

  it('waits out a 429 until X-RateLimit-Reset, says so on stderr and carries on', async () => {
    // Prepare: the fake's clock runs behind, so its reset is already due and the wait is just the margin.
    const auth0 = await fake({ rateLimit: { every: 2 }, now: () => Date.now() - 5000 });

    // Act
    const run = await olpAuth0(['resume', '--domain', auth0.url, '--id', PAUSED.id ?? '']);

    // Assess
    expect(run.code).toBe(0);
    expect(apiRequests(auth0).map(({ method, status }) => `${method} ${status}`)).toEqual([
      'GET 200',
      'PATCH 429',
      'PATCH 200',
    ]);
    expect(linesOf(run.stderr)[0]).toBe(
      'olp auth0: update log stream status (PATCH /api/v2/log-streams/{id}): rate limited by Auth0 (HTTP 429), waiting 1 s (retry 1 of 5)',
    );
    expect(auth0.streams.find(({ id }) => id === PAUSED.id)?.status).toBe('active');
  });
});

describe('olp auth0 stream create', () => {
  const HTTP_ARGS = ['--type', 'http', '--name', 'pipeline', '--endpoint', 'https://ingest.acme.com/auth0'];
  const EB_ARGS = ['--type', 'eventbridge', '--name', 'to aws', '--account', '123456789012', '--region', 'eu-west-1'];
  const SINK_ENV = { ...TOKEN_ENV, OLP_HTTP_AUTHORIZATION: SINK_AUTHORIZATION };

  it('creates an http stream with the authorization from the environment, filters, PII and a start', async () => {
    // Prepare
    const auth0 = await fake({ streams: [] });
    const options = [
      ...['--format', 'jsonlines', '--filter', 'auth.login.fail', '--filter', 'auth.signup.fail,management.fail'],
      ...['--pii-fields', 'email, phone', '--pii-method', 'hash', '--start-from', '2026-11-01T01:00:00+01:00'],
    ];

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...HTTP_ARGS, ...options], SINK_ENV);

    // Assess
    expect(run.code).toBe(0);
    expect(auth0.requests.at(-1)?.body).toEqual({
      name: 'pipeline',
      type: 'http',
      sink: {
        httpEndpoint: 'https://ingest.acme.com/auth0',
        httpContentType: 'application/json',
        httpContentFormat: 'JSONLINES',
        httpAuthorization: SINK_AUTHORIZATION,
      },
      filters: [
        { type: 'category', name: 'auth.login.fail' },
        { type: 'category', name: 'auth.signup.fail' },
        { type: 'category', name: 'management.fail' },
      ],
      pii_config: { log_fields: ['email', 'phone'], method: 'hash', algorithm: 'xxhash' },
      startFrom: '2026-11-01T00:00:00.000Z',
    });
    const [created] = auth0.streams;
    expect(created?.sink).toMatchObject({
      httpEndpoint: 'https://ingest.acme.com/auth0',
      httpAuthorization: SINK_AUTHORIZATION,
    });
    expect(linesOf(run.stdout)).toEqual([
      `active  pipeline  id=${created?.id}  type=http  sink=https://ingest.acme.com/auth0`,
    ]);
    expect(output(run)).not.toContain('sink-authorization-that-must-never-show');
  });

  it('sends JSONARRAY and every category unless told otherwise', async () => {
    // Prepare
    const auth0 = await fake({ streams: [] });

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...HTTP_ARGS, '--json'], SINK_ENV);

    // Assess
    expect(run.code).toBe(0);
    expect(auth0.requests.at(-1)?.body).toEqual({
      name: 'pipeline',
      type: 'http',
      sink: {
        httpEndpoint: 'https://ingest.acme.com/auth0',
        httpContentType: 'application/json',
        httpContentFormat: 'JSONARRAY',
        httpAuthorization: SINK_AUTHORIZATION,
      },
    });
    expect(Object.keys(JSON.parse(run.stdout) as object)).toEqual(['id', 'name', 'type', 'status', 'sink']);
  });

  it('creates an eventbridge stream and prints the partner event source to deploy with', async () => {
    // Prepare
    const auth0 = await fake({ streams: [] });

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...EB_ARGS, '--filter', 'auth.login.fail']);

    // Assess
    expect(run.code).toBe(0);
    expect(auth0.requests.at(-1)?.body).toEqual({
      name: 'to aws',
      type: 'eventbridge',
      sink: { awsAccountId: '123456789012', awsRegion: 'eu-west-1' },
      filters: [{ type: 'category', name: 'auth.login.fail' }],
    });
    const source = String(auth0.streams[0]?.sink.awsPartnerEventSource);
    expect(source).toMatch(/^aws\.partner\/auth0\.com\/acme-[0-9a-f-]+\/auth0\.logs$/);
    expect(linesOf(run.stdout)).toEqual([
      `active  to aws  id=${auth0.streams[0]?.id}  type=eventbridge  sink=${source}`,
      `partner event source: ${source}`,
      `deploy with: npx cdk deploy -c auth0EventSourceName=${source}`,
    ]);
  });

  it('--json prints the created eventbridge stream with the partner event source as its sink', async () => {
    // Prepare
    const auth0 = await fake({ streams: [] });

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...EB_ARGS, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      id: auth0.streams[0]?.id,
      name: 'to aws',
      type: 'eventbridge',
      status: 'active',
      sink: auth0.streams[0]?.sink.awsPartnerEventSource,
    });
  });

  it('escapes a hostile name in what Auth0 answers', async () => {
    // Prepare
    const auth0 = await fake({ streams: [] });

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...HTTP_ARGS, '--name', HOSTILE], SINK_ENV);

    // Assess
    expect(run.code).toBe(0);
    expect(auth0.streams[0]?.name).toBe(HOSTILE);
    expect(run.stdout).toContain(HOSTILE_SHOWN);
    expect(rawControlIn(run.stdout)).toBe(false);
  });

  it.each([
    [HTTP_ARGS, ['--endpoint', 'http://ingest.acme.com/auth0'], '--endpoint: the endpoint must use https'],
    [HTTP_ARGS, ['--endpoint', 'not a url'], '--endpoint: the endpoint must be an https URL'],
    [HTTP_ARGS, ['--endpoint', 'https://u:p@ingest.acme.com/'], '--endpoint: the endpoint must not hold credentials'],
    [['--type', 'http', '--name', 'pipeline'], [], '--endpoint: the endpoint is required'],
    [HTTP_ARGS, ['--format', 'xml'], '--format: the format must be jsonarray, jsonlines, jsonobject'],
    [HTTP_ARGS, ['--filter', 'auth.login.failed'], '--filter: "auth.login.failed" is not a category'],
    [HTTP_ARGS, ['--pii-fields', 'email,ssn', '--pii-method', 'mask'], '--pii-fields: "ssn" is not a field'],
    [HTTP_ARGS, ['--pii-fields', 'email'], '--pii-method: PII fields need a method'],
    [HTTP_ARGS, ['--pii-method', 'hash'], '--pii-fields: a PII method needs the PII fields'],
    [HTTP_ARGS, ['--pii-fields', 'email', '--pii-method', 'encrypt'], '--pii-method: the PII method must be'],
    [HTTP_ARGS, ['--start-from', '2026-11-01'], '--start-from: the start must be an ISO 8601 instant'],
    [HTTP_ARGS, ['--account', '123456789012'], '--account applies to --type eventbridge only'],
    [EB_ARGS, ['--account', '12345678901'], '--account: the AWS account id must be exactly 12 digits'],
    [EB_ARGS, ['--account', '12345678901a'], '--account: the AWS account id must be exactly 12 digits'],
    [EB_ARGS, ['--region', 'Europe'], '--region: "Europe" is not an AWS region name'],
    [EB_ARGS, ['--region', 'eu-west'], '--region: "eu-west" is not an AWS region name'],
    [EB_ARGS, ['--endpoint', 'https://x.acme.com'], '--endpoint applies to --type http only'],
    [EB_ARGS, ['--name', ' '], '--name: the stream name must not be empty'],
    [['--type', 'splunk', '--name', 'x'], [], '--type: the type must be http or eventbridge'],
    [['--name', 'x'], [], '--type is required'],
  ])('refuses %j %j before any request, naming the field', async (base, override, message) => {
    // Prepare
    const auth0 = await fake({ streams: [] });

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...base, ...override], SINK_ENV);

    // Assess
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(`olp auth0: ${message}`);
    expect(auth0.requests).toHaveLength(0);
    expect(output(run)).not.toContain('sink-authorization-that-must-never-show');
  });

  it('refuses an http stream without OLP_HTTP_AUTHORIZATION, naming the variable, before any request', async () => {
    // Prepare
    const auth0 = await fake({ streams: [] });

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...HTTP_ARGS], TOKEN_ENV);

    // Assess
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      'olp auth0: OLP_HTTP_AUTHORIZATION: an http stream needs the Authorization value its sink checks',
    ]);
    expect(auth0.requests).toHaveLength(0);
  });

  it("passes Auth0's own refusal on as one line, exit 1: a region of the right form Auth0 does not serve", async () => {
    // Prepare
    const auth0 = await fake({ streams: [] });

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...EB_ARGS, '--region', 'cn-north-1']);

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: Auth0 create log stream (POST /api/v2/log-streams) at ${auth0.url} failed: HTTP 400 Bad Request: Payload validation error: 'No enum match for: "cn-north-1"' on property sink.awsRegion (The region in which the EventBridge event source will be created). (invalid_body)`,
    ]);
    expect(auth0.streams).toHaveLength(0);
  });

  it('reports the stream limit (409) as one line, exit 1', async () => {
    // Prepare
    const auth0 = await fake({ maxStreams: 5 });

    // Act
    const run = await olpAuth0(['create', '--domain', auth0.url, ...EB_ARGS]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'failed: HTTP 409 Conflict: You have reached the maximum number of log streams for your account.',
    );
  });
});

describe('olp auth0 stream credentials and domain', () => {
  it('gets one token with client credentials for the Management API audience and uses it for every call', async () => {
    // Prepare
    const auth0 = await fake({ rateLimit: { every: 2 }, now: () => Date.now() - 5000 });

    // Act
    const run = await olpAuth0(['resume', '--domain', auth0.url, '--id', SUSPENDED.id ?? ''], APP_ENV);

    // Assess
    expect(run.code).toBe(0);
    expect(calls(auth0)).toEqual([
      'POST /oauth/token',
      `GET /api/v2/log-streams/${SUSPENDED.id}`,
      `PATCH /api/v2/log-streams/${SUSPENDED.id}`,
      `PATCH /api/v2/log-streams/${SUSPENDED.id}`,
    ]);
    expect(auth0.requests[0]?.body).toEqual({
      grant_type: 'client_credentials',
      client_id: APP.clientId,
      client_secret: APP.clientSecret,
      audience: `${auth0.url}/api/v2/`,
    });
    expect(auth0.issuedTokens).toHaveLength(1);
    expect(apiRequests(auth0).every(({ authorization }) => authorization === `Bearer ${auth0.issuedTokens[0]}`)).toBe(
      true,
    );
    expect(output(run)).not.toContain(APP.clientSecret);
    expect(output(run)).not.toContain(auth0.issuedTokens[0]);
  });

  it('asks for the token with AUTH0_AUDIENCE, as a tenant behind a custom domain needs', async () => {
    // Prepare
    const audience = 'https://acme.us.auth0.com/api/v2/';
    const auth0 = await fake({ audience });

    // Act
    const without = await olpAuth0(['list', '--domain', auth0.url], APP_ENV);
    const withAudience = await olpAuth0(['list', '--domain', auth0.url, '--json'], {
      ...APP_ENV,
      AUTH0_AUDIENCE: audience,
    });

    // Assess
    expect(without.code).toBe(1);
    expect(linesOf(without.stderr)).toEqual([
      `olp auth0: Auth0 token request (POST /oauth/token) at ${auth0.url} failed: HTTP 403 access_denied: Service not enabled within domain: ${auth0.url}/api/v2/`,
    ]);
    expect(withAudience.code).toBe(0);
    expect((JSON.parse(withAudience.stdout) as unknown[]).length).toBe(5);
  });

  it('reports a wrong client secret as one line with the 401, exit 1, never echoing the secret', async () => {
    // Prepare
    const auth0 = await fake();
    const secret = 'wrong-secret-that-must-never-show-9876543210';

    // Act
    const run = await olpAuth0(['list', '--domain', auth0.url], { ...APP_ENV, AUTH0_CLIENT_SECRET: secret });

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: Auth0 token request (POST /oauth/token) at ${auth0.url} failed: HTTP 401 access_denied: Unauthorized`,
    ]);
    expect(output(run)).not.toContain(secret);
    expect(apiRequests(auth0)).toHaveLength(0);
  });

  it('reports a bad Management API token as one line with the 401, exit 1, never echoing it', async () => {
    // Prepare
    const auth0 = await fake();
    const token = 'eyBadManagementApiTokenThatMustNeverShow.0123456789';

    // Act
    const run = await olpAuth0(['list', '--domain', auth0.url], { AUTH0_MGMT_TOKEN: token });

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: Auth0 list log streams (GET /api/v2/log-streams) at ${auth0.url} failed: HTTP 401 Unauthorized: Invalid token`,
    ]);
    expect(output(run)).not.toContain(token);
  });

  it('reports a missing scope (403) with its errorCode, exit 1', async () => {
    // Prepare
    const auth0 = await fake({ tokenScopes: ['read:log_streams'] });

    // Act
    const run = await olpAuth0(['resume', '--domain', auth0.url, '--id', PAUSED.id ?? '']);

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: Auth0 update log stream status (PATCH /api/v2/log-streams/{id}) at ${auth0.url} failed: HTTP 403 Forbidden: Insufficient scope, expected any of: update:log_streams (insufficient_scope)`,
    ]);
    expect(auth0.streams.find(({ id }) => id === PAUSED.id)?.status).toBe('paused');
  });

  it('reports a 5xx as one line, exit 1', async () => {
    // Prepare
    const auth0 = await fake();
    auth0.failNext(503);

    // Act
    const run = await olpAuth0(['list', '--domain', auth0.url]);

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: Auth0 list log streams (GET /api/v2/log-streams) at ${auth0.url} failed: HTTP 503 Service Unavailable: Service Unavailable (injected)`,
    ]);
  });

  it('reports a tenant that cannot be reached as one line, exit 1', async () => {
    // Prepare
    const auth0 = await fake();
    const url = auth0.url;
    await auth0.stop();
    fakes = [];

    // Act
    const run = await olpAuth0(['list', '--domain', url]);

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp auth0: Auth0 list log streams (GET /api/v2/log-streams) at ${url} failed: ECONNREFUSED`,
    ]);
  });

  it.each([
    [{}, 'no Auth0 credentials: set AUTH0_MGMT_TOKEN, or AUTH0_CLIENT_ID with AUTH0_CLIENT_SECRET'],
    [{ ...TOKEN_ENV, ...APP_ENV }, 'set either AUTH0_MGMT_TOKEN or AUTH0_CLIENT_ID with AUTH0_CLIENT_SECRET, not both'],
    [{ ...TOKEN_ENV, AUTH0_CLIENT_SECRET: APP.clientSecret }, 'not both'],
    [{ AUTH0_CLIENT_ID: APP.clientId }, 'AUTH0_CLIENT_ID is set but AUTH0_CLIENT_SECRET is not'],
    [{ AUTH0_CLIENT_SECRET: APP.clientSecret }, 'AUTH0_CLIENT_SECRET is set but AUTH0_CLIENT_ID is not'],
    [{ ...TOKEN_ENV, AUTH0_AUDIENCE: 'https://acme.us.auth0.com/api/v2/' }, 'AUTH0_AUDIENCE goes with AUTH0_CLIENT_ID'],
    [{ ...APP_ENV, AUTH0_AUDIENCE: 'acme' }, 'AUTH0_AUDIENCE must be the Management API identifier'],
  ])('exits 2 naming the variables for %j, before any request', async (env, message) => {
    // Prepare
    const auth0 = await fake();

    // Act
    const run = await olpAuth0(['list', '--domain', auth0.url], env);

    // Assess
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(message);
    expect(run.stderr.split('AUTH0_CLIENT_SECRET').length).toBeLessThanOrEqual(3);
    expect(output(run)).not.toContain(APP.clientSecret);
    expect(output(run)).not.toContain(FAKE_AUTH0_MGMT_TOKEN);
    expect(auth0.requests).toHaveLength(0);
  });

  it.each([
    [['--domain', 'http://acme.us.auth0.com'], '--domain: the tenant domain must use https'],
    [['--domain', 'https://acme.us.auth0.com/api/v2'], '--domain: give the tenant domain only'],
    [['--domain', 'acme'], '--domain: the tenant domain must be a full host name'],
    [[], '--domain is required'],
  ])('refuses %j (exit 2)', async (domain, message) => {
    // Prepare
    const env = TOKEN_ENV;

    // Act
    const run = await olpAuth0(['list', ...domain], env);

    // Assess
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([expect.stringContaining(`olp auth0: ${message}`)]);
  });

  it('never shows a credential in any output, whatever the outcome', async () => {
    // Prepare
    const auth0 = await fake({ rateLimit: { every: 3 }, now: () => Date.now() - 5000 });
    const sinkEnv = { ...APP_ENV, OLP_HTTP_AUTHORIZATION: SINK_AUTHORIZATION };
    const create = ['create', '--domain', auth0.url, '--type', 'http', '--name', 'n'];

    // Act
    const runs = [
      await olpAuth0(['list', '--domain', auth0.url]),
      await olpAuth0(['list', '--domain', auth0.url, '--json'], APP_ENV),
      await olpAuth0(['status', '--domain', auth0.url, '--id', SUSPENDED.id ?? ''], APP_ENV),
      await olpAuth0(['resume', '--domain', auth0.url, '--id', 'lst_nope'], APP_ENV),
      await olpAuth0([...create, '--endpoint', 'https://sink.acme.com/'], sinkEnv),
      await olpAuth0([...create, '--endpoint', `https://sink.acme.com/?k=${SINK_AUTHORIZATION}`], sinkEnv),
      await olpAuth0([...create, '--endpoint', 'https://sink.acme.com/', '--filter', 'nope'], sinkEnv),
      await olpAuth0(['list', '--domain', auth0.url], { ...APP_ENV, AUTH0_CLIENT_SECRET: `${APP.clientSecret}x` }),
      await olpAuth0(['list', '--domain', 'http://example.com'], APP_ENV),
    ];

    // Assess
    expect(runs.map(({ code }) => code)).toEqual([0, 0, 3, 1, 0, 0, 2, 1, 2]);
    const secrets = [
      FAKE_AUTH0_MGMT_TOKEN,
      APP.clientSecret,
      SINK_AUTHORIZATION,
      'sink-authorization-that-must-never-show',
      'stored-authorization-secret-xyz',
      ...auth0.issuedTokens,
    ];
    expect(auth0.issuedTokens.length).toBeGreaterThan(0);
    for (const run of runs) {
      for (const secret of secrets) {
        expect(output(run)).not.toContain(secret);
      }
    }
  });
});

describe('olp auth0 help', () => {
  it('prints the usage for --help (exit 0) and for a command cut short (exit 2)', async () => {
    // Prepare
    const env = {};

    // Act
    const help = await runOlp(['auth0', 'stream', '--help'], { env });
    const subHelp = await runOlp(['auth0', 'stream', 'create', '--help'], { env });
    const bare = await runOlp(['auth0', 'stream'], { env });
    const top = await runOlp(['--help'], { env });

    // Assess
    expect(help.code).toBe(0);
    for (const sub of ['list', 'status', 'resume', 'create']) expect(help.stdout).toContain(`olp auth0 stream ${sub}`);
    expect(help.stdout).toContain('OLP_HTTP_AUTHORIZATION');
    expect(help.stdout).toContain('Exit codes: 0 done (status: active)');
    expect(subHelp).toEqual({ ...help, code: 0 });
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe(help.stdout);
    expect(top.stdout).toContain('olp auth0 stream list --domain <tenant domain>');
  });

  it.each([
    [['auth0', 'streams'], 'unknown subcommand "streams" (stream)'],
    [['auth0', 'stream', 'delete'], 'unknown subcommand "stream delete" (list, status, resume, create)'],
    [['auth0', 'stream', 'list', '--domian', 'x'], "Unknown option '--domian'"],
  ])('refuses %j (exit 2)', async (argv, message) => {
    // Prepare
    const env = TOKEN_ENV;

    // Act
    const run = await runOlp(argv, { env });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
