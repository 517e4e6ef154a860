import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { batchesOf } from '../../lambdas/shared/sqs-queue-sender.ts';
import { initialState, nextEpisode } from '../../lambdas/watchdog/watchdog-state.ts';
import { ConfigError, parseConfig } from '../../lib/config.ts';
import { credentialsFromSecret, OktaCredentialsError } from '../../lib/okta/credentials.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const WATCHDOG = { eventSourceName: SOURCE, oktaOrgUrl: 'https://acme.okta.com', oktaSecretName: 'olp/okta' };

const configError = (context: Record<string, unknown>): string => {
  try {
    parseConfig(context);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(context)}`);
};

describe('watchdog config', () => {
  it('is off by default, and takes the org, the secret name and its settings', () => {
    const off = parseConfig({ eventSourceName: SOURCE });
    expect(off).toMatchObject({ autoReactivate: false, watchdogMinutes: 5, oktaApiShare: 0.5 });
    expect(off.oktaOrgUrl).toBeUndefined();
    const on = parseConfig({ ...WATCHDOG, oktaOrgUrl: 'https://acme.okta.com/', autoReactivate: 'true' });
    expect(on).toMatchObject({ oktaOrgUrl: 'https://acme.okta.com', oktaSecretName: 'olp/okta', autoReactivate: true });
    expect(parseConfig({ ...WATCHDOG, autoReactivate: false, oktaApiShare: '0.2' })).toMatchObject({
      autoReactivate: false,
      oktaApiShare: 0.2,
    });
  });

  it.each([
    [{ eventSourceName: SOURCE, oktaOrgUrl: 'https://acme.okta.com' }, /oktaSecretName .*must be set together/],
    [{ eventSourceName: SOURCE, oktaSecretName: 'olp/okta' }, /oktaOrgUrl .*must be set together/],
    [
      { ...WATCHDOG, oktaOrgUrl: 'http://acme.okta.com' },
      /oktaOrgUrl "http:\/\/acme\.okta\.com" must be the Okta org's https origin/,
    ],
    [{ ...WATCHDOG, oktaOrgUrl: 'https://acme.okta.com/admin' }, /oktaOrgUrl .* \(no path\)/],
    [
      { ...WATCHDOG, oktaSecretName: 'olp okta' },
      /oktaSecretName "olp okta" must be the name of a Secrets Manager secret/,
    ],
    [{ ...WATCHDOG, autoReactivate: 'yes' }, /autoReactivate "yes" must be true or false/],
    [{ ...WATCHDOG, watchdogMinutes: '0' }, /watchdogMinutes 0 must be an integer from 1 to 60/],
    [{ ...WATCHDOG, oktaApiShare: '1.5' }, /oktaApiShare 1\.5 must be a number from 0\.05 to 1/],
  ])('rejects %j naming the key and the rule', (context, message) => {
    expect(configError(context)).toMatch(message);
  });
});

describe('the watchdog secret', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('holds an SSWS token or a service app with its private key, under the CLI variable names', () => {
    expect(credentialsFromSecret(JSON.stringify({ OKTA_API_TOKEN: ' 00abc ' }), 'olp/okta')).toEqual({
      kind: 'ssws',
      token: '00abc',
    });
    const app = credentialsFromSecret(
      JSON.stringify({ OKTA_CLIENT_ID: '0oa1', OKTA_PRIVATE_KEY: pem, OKTA_PRIVATE_KEY_ID: 'kid-1' }),
      'olp/okta',
    );
    expect(app).toMatchObject({
      kind: 'private_key_jwt',
      clientId: '0oa1',
      privateKey: { alg: 'ES256', kid: 'kid-1' },
    });
  });

  it.each([
    ['not json', /secret olp\/okta is not a JSON object/],
    ['["OKTA_API_TOKEN"]', /secret olp\/okta is not a JSON object/],
    ['{}', /secret olp\/okta: no Okta credentials/],
    ['{"OKTA_API_TOKEN": 42}', /secret olp\/okta: OKTA_API_TOKEN must be a string/],
    ['{"OKTA_CLIENT_ID": "0oa1", "OKTA_PRIVATE_KEY_FILE": "/keys/okta.pem"}', /not a file path/],
    ['{"OKTA_CLIENT_ID": "0oa1", "OKTA_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nsecret-bytes"}', /olp\/okta/],
  ])('refuses %s, naming the secret and never the value', (text, message) => {
    let thrown: unknown;
    try {
      credentialsFromSecret(text, 'olp/okta');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OktaCredentialsError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('secret-bytes');
  });
});

describe('watchdog sends to SQS', () => {
  it('in batches of at most 10 messages and 240 KiB, in order', () => {
    const small = Array.from({ length: 23 }, (_, i) => ({ body: `m${i}` }));
    expect(batchesOf(small).map((batch) => batch.length)).toEqual([10, 10, 3]);
    expect(batchesOf(small).flat()).toEqual(small);
    const big = Array.from({ length: 5 }, (_, i) => ({ body: `${i}`.padEnd(100 * 1024, 'x') }));
    expect(batchesOf(big).map((batch) => batch.length)).toEqual([2, 2, 1]);
    expect(batchesOf([])).toEqual([]);
  });
});

describe('deactivation episodes', () => {
  const state = initialState(0);
  const inactive = { status: 'INACTIVE' as const, id: '0oa1', lastUpdated: '2026-12-01T10:00:00.000Z' };

  it('open when the stream is found down, once, and name when Okta changed it', () => {
    const first = nextEpisode(state, inactive, Date.parse('2026-12-01T10:07:00Z'));
    expect(first).toEqual({
      episode: { key: '0oa1@2026-12-01T10:00:00.000Z', since: '2026-12-01T10:00:00.000Z' },
      opened: true,
    });
    const again = nextEpisode({ ...state, episode: first.episode }, inactive, Date.parse('2026-12-01T10:12:00Z'));
    expect(again).toEqual({ episode: first.episode, opened: false });
  });

  it('close when the stream is active, and open anew when it goes down again', () => {
    const open = { ...state, episode: { key: '0oa1@2026-12-01T10:00:00.000Z', since: '2026-12-01T10:00:00.000Z' } };
    expect(nextEpisode(open, { status: 'ACTIVE', id: '0oa1' }, 0)).toEqual({ episode: undefined, opened: false });
    const later = { ...inactive, lastUpdated: '2026-12-01T11:00:00.000Z' };
    expect(nextEpisode(open, later, 0).opened).toBe(true);
  });

  it('count a missing stream as down since the run that found it', () => {
    const at = Date.parse('2026-12-01T10:07:00Z');
    expect(nextEpisode(state, { status: 'MISSING' }, at)).toEqual({
      episode: { key: 'missing', since: '2026-12-01T10:07:00.000Z' },
      opened: true,
    });
  });
});
