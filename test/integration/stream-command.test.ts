import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_OKTA_TOKEN,
  type FakeLogStreamInput,
  type FakeOkta,
  type FakeOktaOptions,
  startFakeOkta,
} from '../support/fake-okta.ts';
import { type CliRun, linesOf, runOlp, tempDir } from '../support/run-cli.ts';

const TOKEN_ENV = { OKTA_API_TOKEN: FAKE_OKTA_TOKEN };

const ACTIVE: FakeLogStreamInput = {
  id: '0oaActive0000000001',
  name: 'acme okta-logs',
  settings: { accountId: '123456789012', eventSourceName: 'okta-logs', region: 'us-east-1' },
};
const INACTIVE: FakeLogStreamInput = {
  id: '0oaInactive00000002',
  name: 'dr \u001b[31mred\u001b[0m',
  status: 'INACTIVE',
  settings: { accountId: '210987654321', eventSourceName: 'okta-dr', region: 'eu-west-1' },
};

let fakes: FakeOkta[] = [];
let temps: Array<() => void> = [];

async function fake(options: Partial<FakeOktaOptions> = {}): Promise<FakeOkta> {
  const started = await startFakeOkta({ events: [], streams: [ACTIVE, INACTIVE], ...options });
  fakes.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(fakes.map((started) => started.stop()));
  for (const remove of temps) remove();
  fakes = [];
  temps = [];
});

const apiRequests = (okta: FakeOkta) => okta.requests.filter(({ path }) => path.startsWith('/api/'));
const output = (run: CliRun): string => `${run.stdout}\n${run.stderr}`;

function rsaKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

describe('olp stream list', () => {
  it('prints every stream as a table, following Link next across pages, with Okta text escaped', async () => {
    // Prepare
    const okta = await fake({ streamPageLimit: 1 });

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', okta.url], { env: TOKEN_ENV });

    // Assess
    expect(run.code).toBe(0);
    const [header, ...rows] = linesOf(run.stdout);
    expect(header).toMatch(/^ID\s+NAME\s+TYPE\s+STATUS\s+EVENT SOURCE NAME\s+ACCOUNT\s+REGION$/);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(
      /^0oaActive0000000001\s+acme okta-logs\s+aws_eventbridge\s+ACTIVE\s+okta-logs\s+123456789012\s+us-east-1$/,
    );
    expect(rows[1]).toContain('dr \\u001b[31mred\\u001b[0m');
    expect(run.stdout).not.toContain('\u001b');
    const pages = apiRequests(okta);
    expect(pages.map(({ query }) => query.get('after'))).toEqual([null, ACTIVE.id]);
  });

  it('--json prints one array of objects with exactly the documented keys', async () => {
    // Prepare
    const okta = await fake({ streamPageLimit: 1 });

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', okta.url, '--json'], { env: TOKEN_ENV });

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout)).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual([
      {
        id: ACTIVE.id,
        name: ACTIVE.name,
        type: 'aws_eventbridge',
        status: 'ACTIVE',
        eventSourceName: 'okta-logs',
        accountId: '123456789012',
        region: 'us-east-1',
      },
      {
        id: INACTIVE.id,
        name: INACTIVE.name,
        type: 'aws_eventbridge',
        status: 'INACTIVE',
        eventSourceName: 'okta-dr',
        accountId: '210987654321',
        region: 'eu-west-1',
      },
    ]);
  });

  it('waits out a 429 until X-Rate-Limit-Reset, reports the wait and finishes the listing', async () => {
    // Prepare: the fake's clock runs behind, so its reset is already due and the wait is just the margin.
    const okta = await fake({ streamPageLimit: 1, rateLimit: { every: 2 }, now: () => Date.now() - 5000 });

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', okta.url, '--json'], { env: TOKEN_ENV });

    // Assess
    expect(run.code).toBe(0);
    expect(okta.requests.map(({ status }) => status)).toEqual([200, 429, 200]);
    expect(run.stderr).toMatch(/list log streams .*: rate limited by Okta, waiting 1 s/);
    expect((JSON.parse(run.stdout) as unknown[]).length).toBe(2);
  });
});

describe('olp stream status', () => {
  it.each([
    ['okta-logs', 0, 'ACTIVE'],
    ['aws.partner/okta.com/acme/okta-logs', 0, 'ACTIVE'],
    ['okta-dr', 3, 'INACTIVE'],
    ['aws.partner/okta.com/acme/okta-dr', 3, 'INACTIVE'],
  ])('%s exits %i (%s)', async (name, code, status) => {
    // Prepare
    const okta = await fake();

    // Act
    const run = await runOlp(['stream', 'status', '--okta-org', okta.url, '--event-source-name', name, '--json'], {
      env: TOKEN_ENV,
    });

    // Assess
    expect(run.code).toBe(code);
    expect(JSON.parse(run.stdout)).toMatchObject({ status, eventSourceName: name.split('/').at(-1) });
  });

  it('exits 4 when no stream has the event source name', async () => {
    // Prepare
    const okta = await fake();

    // Act
    const run = await runOlp(
      ['stream', 'status', '--okta-org', okta.url, '--event-source-name', 'aws.partner/okta.com/acme/nope'],
      { env: TOKEN_ENV },
    );

    // Assess
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(linesOf(run.stderr)).toEqual(['olp stream: no log stream has the event source name "nope"']);
  });

  it('prints the stream and how to reactivate it when it is INACTIVE', async () => {
    // Prepare
    const okta = await fake();

    // Act
    const run = await runOlp(['stream', 'status', '--okta-org', okta.url, '--event-source-name', 'okta-dr'], {
      env: TOKEN_ENV,
    });

    // Assess
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^INACTIVE {2}dr \\u001b\[31mred\\u001b\[0m {2}id=0oaInactive00000002/);
    expect(run.stderr).toContain(`olp stream activate --okta-org <url> ${INACTIVE.id}`);
  });
});

describe('olp stream activate and deactivate', () => {
  it('switches a stream off and on again', async () => {
    // Prepare
    const okta = await fake();

    // Act
    const off = await runOlp(['stream', 'deactivate', '--okta-org', okta.url, ACTIVE.id ?? ''], { env: TOKEN_ENV });
    const statusOff = okta.streams.find(({ id }) => id === ACTIVE.id)?.status;
    const on = await runOlp(['stream', 'activate', '--okta-org', okta.url, ACTIVE.id ?? '', '--json'], {
      env: TOKEN_ENV,
    });

    // Assess
    expect(off.code).toBe(0);
    expect(off.stdout).toMatch(/^INACTIVE {2}acme okta-logs {2}id=0oaActive0000000001/);
    expect(statusOff).toBe('INACTIVE');
    expect(on.code).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ id: ACTIVE.id, status: 'ACTIVE' });
    expect(okta.streams.find(({ id }) => id === ACTIVE.id)?.status).toBe('ACTIVE');
    expect(apiRequests(okta).map(({ method, path }) => `${method} ${path}`)).toEqual([
      `POST /api/v1/logStreams/${ACTIVE.id}/lifecycle/deactivate`,
      `POST /api/v1/logStreams/${ACTIVE.id}/lifecycle/activate`,
    ]);
  });

  it('reports a stream that does not exist as one line with the 404 and exits 1', async () => {
    // Prepare
    const okta = await fake();

    // Act
    const run = await runOlp(['stream', 'activate', '--okta-org', okta.url, '0oaNoSuchStream'], { env: TOKEN_ENV });

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^olp stream: Okta activate log stream .* failed: HTTP 404 E0000007 Not found/);
  });
});

describe('olp stream create', () => {
  const valid = ['--name', 'second', '--account', '123456789012', '--region', 'eu-central-1'];

  it('creates the stream and prints the partner event source name to deploy with', async () => {
    // Prepare
    const okta = await fake({ streams: [ACTIVE] });

    // Act
    const run = await runOlp(
      ['stream', 'create', '--okta-org', okta.url, ...valid, '--event-source-name', 'okta-logs-2'],
      { env: TOKEN_ENV },
    );

    // Assess
    expect(run.code).toBe(0);
    expect(okta.streams.at(-1)).toMatchObject({
      type: 'aws_eventbridge',
      name: 'second',
      status: 'ACTIVE',
      settings: { accountId: '123456789012', eventSourceName: 'okta-logs-2', region: 'eu-central-1' },
    });
    expect(run.stdout).toContain('partner event source: aws.partner/okta.com/acme/okta-logs-2');
    expect(run.stdout).toContain('npx cdk deploy -c eventSourceName=aws.partner/okta.com/acme/okta-logs-2');
  });

  it.each([
    [['--account', '12345678901'], '--account'],
    [['--account', '12345678901a'], '--account'],
    [['--region', 'mars-north-1'], '--region'],
    [['--event-source-name', 'has space'], '--event-source-name'],
    [['--event-source-name', 'x'.repeat(76)], '--event-source-name'],
    [['--event-source-name', 'slash/not-allowed'], '--event-source-name'],
  ])('refuses %j before any request, naming %s', async (override, flag) => {
    // Prepare
    const okta = await fake({ streams: [] });
    const args = [...valid, '--event-source-name', 'okta-logs-2', ...override];

    // Act
    const run = await runOlp(['stream', 'create', '--okta-org', okta.url, ...args], { env: TOKEN_ENV });

    // Assess
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(`olp stream: ${flag}:`);
    expect(okta.requests).toHaveLength(0);
  });

  it("passes Okta's own refusal (a third stream) on as one line, exit 1", async () => {
    // Prepare
    const okta = await fake();

    // Act
    const run = await runOlp(
      ['stream', 'create', '--okta-org', okta.url, ...valid, '--event-source-name', 'okta-logs-3'],
      { env: TOKEN_ENV },
    );

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('HTTP 400 E0000001 Api validation failed: logStream; An org can have at most 2');
  });
});

describe('olp stream credentials and org URL', () => {
  it('reports a bad token as one line with the 401 and exits 1, never echoing the token', async () => {
    // Prepare
    const okta = await fake();
    const token = '00wrongTokenThatMustNeverBeShown-0123456789';

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', okta.url], { env: { OKTA_API_TOKEN: token } });

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp stream: Okta list log streams (GET /api/v1/logStreams) at ${okta.url} failed: HTTP 401 E0000011 Invalid token provided`,
    ]);
    expect(output(run)).not.toContain(token);
  });

  it('exits 2 naming the variables when no credentials are set', async () => {
    // Prepare
    const okta = await fake();

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', okta.url], { env: {} });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('OKTA_API_TOKEN');
    expect(run.stderr).toContain('OKTA_CLIENT_ID');
    expect(run.stderr).toContain('OKTA_PRIVATE_KEY_FILE');
    expect(okta.requests).toHaveLength(0);
  });

  it.each([
    ['http://acme.okta.com', 2, /must use https/],
    ['http://10.0.0.5:8080', 2, /must use https/],
    ['https://acme.okta.com/oauth2/default', 2, /origin only/],
  ])('refuses %s as an org URL', async (orgUrl, code, message) => {
    // Prepare
    const env = TOKEN_ENV;

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', orgUrl], { env });

    // Assess
    expect(run.code).toBe(code);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });

  it('authenticates with private_key_jwt and an RSA PEM key: one token for several calls, Bearer on each', async () => {
    // Prepare
    const { pem, publicKey } = rsaKeys();
    const okta = await fake({ streamPageLimit: 1, oauth: { clientId: '0oaServiceApp', publicKey } });
    const env = { OKTA_CLIENT_ID: '0oaServiceApp', OKTA_PRIVATE_KEY: pem };

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', okta.url, '--json'], { env });

    // Assess
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as unknown[]).length).toBe(2);
    expect(okta.requests.map(({ method, path }) => `${method} ${path}`)).toEqual([
      'POST /oauth2/v1/token',
      'GET /api/v1/logStreams',
      'GET /api/v1/logStreams',
    ]);
    expect(okta.issuedTokens).toHaveLength(1);
    expect(apiRequests(okta).every(({ authorization }) => authorization === `Bearer ${okta.issuedTokens[0]}`)).toBe(
      true,
    );
    const secretLine = linesOf(pem)[1] ?? '';
    expect(output(run)).not.toContain(secretLine);
    expect(output(run)).not.toContain(okta.issuedTokens[0]);
  });

  it('authenticates with private_key_jwt and an EC JWK read from OKTA_PRIVATE_KEY_FILE', async () => {
    // Prepare
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'key-1' };
    const { dir, remove } = tempDir('stream-jwk');
    temps.push(remove);
    const file = join(dir, 'okta-key.json');
    writeFileSync(file, JSON.stringify(jwk));
    const okta = await fake({
      oauth: { clientId: '0oaServiceApp', publicKey: publicKey.export({ format: 'jwk' }) },
    });
    const env = { OKTA_CLIENT_ID: '0oaServiceApp', OKTA_PRIVATE_KEY_FILE: file };

    // Act
    const run = await runOlp(['stream', 'deactivate', '--okta-org', okta.url, ACTIVE.id ?? ''], { env });

    // Assess
    expect(run.code).toBe(0);
    expect(okta.streams.find(({ id }) => id === ACTIVE.id)?.status).toBe('INACTIVE');
    expect(okta.requests[0]).toMatchObject({ path: '/oauth2/v1/token', status: 200 });
    expect(output(run)).not.toContain(jwk.d ?? 'no d');
  });

  it('reports a key the app does not know as one line with 401 invalid_client, exit 1', async () => {
    // Prepare
    const registered = rsaKeys();
    const other = rsaKeys();
    const okta = await fake({ oauth: { clientId: '0oaServiceApp', publicKey: registered.publicKey } });

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', okta.url], {
      env: { OKTA_CLIENT_ID: '0oaServiceApp', OKTA_PRIVATE_KEY: other.pem },
    });

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      `olp stream: Okta token request (POST /oauth2/v1/token) at ${okta.url} failed: HTTP 401 invalid_client The client_assertion signature is invalid.`,
    ]);
    expect(apiRequests(okta)).toHaveLength(0);
  });

  it('says to turn off DPoP when the service app requires it', async () => {
    // Prepare
    const { pem, publicKey } = rsaKeys();
    const okta = await fake({ oauth: { clientId: '0oaServiceApp', publicKey, requireDpop: true } });

    // Act
    const run = await runOlp(['stream', 'list', '--okta-org', okta.url], {
      env: { OKTA_CLIENT_ID: '0oaServiceApp', OKTA_PRIVATE_KEY: pem },
    });

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(
      'turn off "Require Demonstrating Proof of Possession (DPoP) header in token requests"',
    );
  });

  it('never shows a credential in any output, whatever the outcome', async () => {
    // Prepare
    const { pem, publicKey } = rsaKeys();
    const okta = await fake({
      streamPageLimit: 1,
      rateLimit: { every: 3 },
      now: () => Date.now() - 5000,
      oauth: { clientId: '0oaServiceApp', publicKey, grantedScopes: ['okta.logStreams.read'] },
    });
    const keyEnv = { OKTA_CLIENT_ID: '0oaServiceApp', OKTA_PRIVATE_KEY: pem };

    // Act
    const runs = [
      await runOlp(['stream', 'list', '--okta-org', okta.url], { env: TOKEN_ENV }),
      await runOlp(['stream', 'activate', '--okta-org', okta.url, 'nope'], { env: TOKEN_ENV }),
      await runOlp(['stream', 'list', '--okta-org', okta.url, '--json'], { env: keyEnv }),
      // The app lacks okta.logStreams.manage: Okta refuses the token request.
      await runOlp(['stream', 'deactivate', '--okta-org', okta.url, ACTIVE.id ?? ''], { env: keyEnv }),
      await runOlp(['stream', 'list', '--okta-org', 'http://example.com'], { env: keyEnv }),
      await runOlp(['stream', 'list', '--okta-org', okta.url], {
        env: {
          OKTA_CLIENT_ID: '0oaServiceApp',
          OKTA_PRIVATE_KEY: pem.replace('PRIVATE KEY-----\n', 'PRIVATE KEY-----\nxx'),
        },
      }),
    ];

    // Assess
    expect(runs.map(({ code }) => code)).toEqual([0, 1, 0, 1, 2, 2]);
    const secrets = [FAKE_OKTA_TOKEN, ...linesOf(pem).slice(1, -1), ...okta.issuedTokens];
    expect(okta.issuedTokens.length).toBeGreaterThan(0);
    for (const run of runs) {
      for (const secret of secrets) {
        expect(output(run)).not.toContain(secret);
      }
    }
  });
});
