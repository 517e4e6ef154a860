import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';

/** The issues of the ConfigError a context raises; fails the test if it raises none. */
const issuesOf = (context: Record<string, unknown>): readonly string[] => {
  try {
    parseConfig({ eventSourceName: SOURCE, ...context });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(context)}`);
};

describe('PII settings in the config', () => {
  it('reads oktaPii and auth0Pii as objects (cdk.json) or JSON text (-c), archive false by default', () => {
    const config = parseConfig({
      eventSourceName: SOURCE,
      oktaPii: { fields: ['username', 'target[].displayName'], method: 'mask' },
      auth0Pii: '{"fields":["email","phone"],"method":"hash","archive":true}',
      piiHashSecretName: 'olp/pii-hash',
    });
    expect(config.oktaPii).toEqual({ fields: ['username', 'target[].displayName'], method: 'mask', archive: false });
    expect(config.auth0Pii).toEqual({ fields: ['email', 'phone'], method: 'hash', archive: true });
    expect(config.piiHashSecretName).toBe('olp/pii-hash');
  });

  it('has no PII settings by default, and -c oktaPii= clears them', () => {
    const config = parseConfig({ eventSourceName: SOURCE, oktaPii: '' });
    expect([config.oktaPii, config.auth0Pii, config.piiHashSecretName]).toEqual([undefined, undefined, undefined]);
  });

  it('needs piiHashSecretName when a source hashes, and says which', () => {
    expect(issuesOf({ auth0Pii: { fields: ['email'], method: 'hash' } })).toEqual([
      'piiHashSecretName is required: set it in cdk.json "context" or with -c piiHashSecretName=<value>; it must be ' +
        'set because auth0Pii uses method hash: the Secrets Manager secret holding the HMAC key (at least 32 ' +
        'characters, e.g. from openssl rand -hex 32)',
    ]);
  });

  it('names the key, the value as written and the setting that is wrong', () => {
    expect(issuesOf({ oktaPii: { fields: ['username'], method: 'sha256' } })).toEqual([
      'oktaPii {"fields":["username"],"method":"sha256"} method must be "mask" or "hash"',
    ]);
    expect(issuesOf({ auth0Pii: '{"fields":["data.type"],"method":"mask"}' })[0]).toMatch(
      /^auth0Pii ".*" fields\[0\] "data.type" is the event's identity, time or type/,
    );
    expect(issuesOf({ piiHashSecretName: 'has spaces' })[0]).toMatch(
      /^piiHashSecretName "has spaces" must be the name/,
    );
  });
});
