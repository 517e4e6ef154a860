import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, LOG_RETENTION_DAYS, parseConfig } from '../../lib/config.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';

/** The ConfigError a context raises; fails the test if it raises none. */
const errorOf = (context: Record<string, unknown>): ConfigError => {
  try {
    parseConfig(context);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(context)}`);
};

describe('parseConfig', () => {
  it('fills in every default around the required event source name', () => {
    // Act
    const config = parseConfig({ eventSourceName: SOURCE });

    // Assess
    expect(config).toEqual({
      eventSourceName: SOURCE,
      windowSeconds: 60,
      allowedLatenessSeconds: 120,
      windowShards: 8,
      dedupeRetentionDays: 7,
      alertDedupeRetentionDays: 30,
      archiveRetentionDays: 2557,
      archiveTransitionDays: 30,
      archiveLockMode: 'governance',
      // Half a day: a quiet org sends nothing for a night without paging anyone.
      silenceMinutes: 720,
      ingestBatchSize: 100,
      ingestBatchWindowSeconds: 10,
      // Billed per request unless provisioned capacity is asked for.
      tableCapacity: 'on-demand',
      tableMaxCapacityUnits: 1000,
      logRetentionDays: 90,
      autoReactivate: false,
      watchdogMinutes: 5,
      oktaApiShare: 0.5,
      // No Auth0 source unless one of its ways in is configured.
      auth0HttpSink: false,
    });
  });

  it('coerces the strings that `-c key=value` delivers', () => {
    // Act
    const config = parseConfig({
      eventSourceName: SOURCE,
      windowSeconds: '300',
      allowedLatenessSeconds: '0',
      windowShards: '64',
      dedupeRetentionDays: '2',
      alertDedupeRetentionDays: '365',
      archiveRetentionDays: '0',
      archiveTransitionDays: '0',
      archiveLockMode: 'off',
      notificationEmail: 'secops@example.com',
      silenceMinutes: '1440',
      redriveRoleArn: 'arn:aws:iam::123456789012:role/okta-redrive',
      rulesDir: 'rules',
      ingestBatchSize: '10',
      ingestBatchWindowSeconds: '0',
      logRetentionDays: '3653',
    });

    // Assess
    expect(config).toMatchObject({
      windowSeconds: 300,
      allowedLatenessSeconds: 0,
      windowShards: 64,
      dedupeRetentionDays: 2,
      alertDedupeRetentionDays: 365,
      archiveRetentionDays: 0,
      archiveTransitionDays: 0,
      archiveLockMode: 'off',
      notificationEmail: 'secops@example.com',
      silenceMinutes: 1440,
      redriveRoleArn: 'arn:aws:iam::123456789012:role/okta-redrive',
      rulesDir: 'rules',
      ingestBatchSize: 10,
      ingestBatchWindowSeconds: 0,
      logRetentionDays: 3653,
    });
  });

  it('accepts the longest Okta event source name and any org without a slash', () => {
    const source = `aws.partner/okta.com/dev-12345678.okta_preview/${'a'.repeat(75)}`;
    expect(parseConfig({ eventSourceName: source }).eventSourceName).toBe(source);
  });

  it('treats an empty string as not set, and ignores context keys that are not configuration', () => {
    // Act
    const config = parseConfig({
      eventSourceName: SOURCE,
      notificationEmail: '',
      windowSeconds: '',
      '@aws-cdk/core:checkSecretUsage': true,
      'aws:cdk:bundling-stacks': [],
    });

    // Assess
    expect(config.notificationEmail).toBeUndefined();
    expect(config.windowSeconds).toBe(60);
    expect(Object.keys(config)).not.toContain('aws:cdk:bundling-stacks');
  });

  it('takes the Auth0 partner event source and the HTTP sink with its secret', () => {
    const config = parseConfig({
      eventSourceName: SOURCE,
      auth0EventSourceName: 'aws.partner/auth0.com/acme-0123456789abcdef/auth0.logs',
      auth0HttpSink: 'true',
      auth0HttpSecretName: 'olp/auth0-http',
    });
    expect(config).toMatchObject({
      auth0EventSourceName: 'aws.partner/auth0.com/acme-0123456789abcdef/auth0.logs',
      auth0HttpSink: true,
      auth0HttpSecretName: 'olp/auth0-http',
    });
    expect(parseConfig({ eventSourceName: SOURCE, auth0HttpSink: false }).auth0HttpSink).toBe(false);
  });

  it.each([
    ['aws.partner/okta.com/acme/okta-logs', 'an Okta source'],
    ['aws.partner/auth0.com/acme-0123/other', 'a name other than auth0.logs'],
    ['aws.partner/auth0.com/acme/auth0.logs', 'a tenant without its id'],
    ['auth0.com/acme-0123/auth0.logs', 'no partner prefix'],
  ])('refuses auth0EventSourceName %s (%s), naming key, value and rule', (value) => {
    expect(errorOf({ eventSourceName: SOURCE, auth0EventSourceName: value }).issues).toEqual([
      expect.stringMatching(
        new RegExp(`^auth0EventSourceName "${value.replaceAll('.', '\\.')}" must look like aws\\.partner/auth0\\.com/`),
      ),
    ]);
  });

  it('needs auth0HttpSecretName with auth0HttpSink, and true or false for auth0HttpSink', () => {
    expect(errorOf({ eventSourceName: SOURCE, auth0HttpSink: 'true' }).issues).toEqual([
      expect.stringMatching(/^auth0HttpSecretName is required: .*must be set when auth0HttpSink is true/),
    ]);
    expect(errorOf({ eventSourceName: SOURCE, auth0HttpSink: 'yes' }).issues).toEqual([
      expect.stringMatching(/^auth0HttpSink "yes" must be true or false/),
    ]);
    expect(
      errorOf({ eventSourceName: SOURCE, auth0HttpSink: 'true', auth0HttpSecretName: 'olp auth0' }).issues,
    ).toEqual([expect.stringMatching(/^auth0HttpSecretName "olp auth0" must be the name of a Secrets Manager secret/)]);
  });

  it('names the capacity modes and the bounds of the provisioned maximum', () => {
    expect(errorOf({ eventSourceName: SOURCE, tableCapacity: 'reserved' }).issues).toEqual([
      expect.stringMatching(/^tableCapacity "reserved" must be one of on-demand, provisioned: /),
    ]);
    expect(errorOf({ eventSourceName: SOURCE, tableMaxCapacityUnits: '2' }).issues).toEqual([
      expect.stringMatching(/^tableMaxCapacityUnits 2 must be an integer from 5 to 40000/),
    ]);
    expect(
      parseConfig({ eventSourceName: SOURCE, tableCapacity: 'provisioned', tableMaxCapacityUnits: '40' }),
    ).toMatchObject({ tableCapacity: 'provisioned', tableMaxCapacityUnits: 40 });
  });

  it('lists the keys it reads', () => {
    expect([...CONFIG_KEYS].sort()).toEqual(
      [
        'alertDedupeRetentionDays',
        'allowedLatenessSeconds',
        'archiveLockMode',
        'archiveRetentionDays',
        'archiveTransitionDays',
        'dedupeRetentionDays',
        'eventSourceName',
        'ingestBatchSize',
        'ingestBatchWindowSeconds',
        'logRetentionDays',
        'notificationEmail',
        'redriveRoleArn',
        'rulesDir',
        'silenceMinutes',
        'tableCapacity',
        'tableMaxCapacityUnits',
        'windowSeconds',
        'windowShards',
        'oktaOrgUrl',
        'oktaSecretName',
        'autoReactivate',
        'watchdogMinutes',
        'oktaApiShare',
        'auth0EventSourceName',
        'auth0HttpSink',
        'auth0Domain',
        'auth0SecretName',
        'oktaPii',
        'auth0Pii',
        'piiHashSecretName',
        'auth0HttpSecretName',
      ].sort(),
    );
  });

  it.each([
    ['arn:aws:iam::123456789012:role/okta-redrive', 'a role without a path'],
    [
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Operator_0123abcd',
      'an IAM Identity Center role, with its path',
    ],
    [
      'arn:aws-us-gov:iam::123456789012:role/ops/redrive+team=a,b.c@d-e_f',
      'another partition and every name character',
    ],
  ])('accepts the redrive role %s (%s)', (redriveRoleArn) => {
    expect(parseConfig({ eventSourceName: SOURCE, redriveRoleArn }).redriveRoleArn).toBe(redriveRoleArn);
  });

  it.each([
    ['governance', '2557'],
    ['compliance', '365'],
    ['off', '2557'],
    // Kept forever: governance then locks for the longest retention S3 takes; off locks nothing.
    ['governance', '0'],
    ['off', '0'],
  ])('accepts archiveLockMode %s with archiveRetentionDays %s', (archiveLockMode, archiveRetentionDays) => {
    expect(parseConfig({ eventSourceName: SOURCE, archiveLockMode, archiveRetentionDays })).toMatchObject({
      archiveLockMode,
      archiveRetentionDays: Number(archiveRetentionDays),
    });
  });

  it('knows the CloudWatch Logs retention values', () => {
    expect(LOG_RETENTION_DAYS).toEqual([
      1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ]);
  });
});

describe('parseConfig rejects', () => {
  it('a missing event source name, saying how to set it', () => {
    // Act
    const error = errorOf({});

    // Assess
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(
      /^Invalid config: eventSourceName is required: set it in cdk\.json "context" or with -c/,
    );
    expect(error.message).toContain('aws.partner/okta.com/<org>/<name>');
  });

  it.each([
    ['aws.partner/okta.com/acme', 'no name'],
    ['aws.partner/okta.com//okta-logs', 'an empty org'],
    ['aws.partner/okta.com/ac/me/okta-logs', 'an org with a slash'],
    ['aws.partner/auth0.com/acme/okta-logs', 'another partner'],
    [`aws.partner/okta.com/acme/${'a'.repeat(76)}`, 'a 76-character name'],
    ['aws.partner/okta.com/acme/okta logs', 'a space in the name'],
    ['aws.partner/okta.com/acme/okta:logs', 'a colon in the name'],
  ])('the event source name %s (%s)', (eventSourceName) => {
    expect(errorOf({ eventSourceName }).message).toBe(
      `Invalid config: eventSourceName "${eventSourceName}" must look like aws.partner/okta.com/<org>/<name>, ` +
        "where <org> is the Okta org (letters, digits, '.', '-', '_') and <name> is the log stream's event source " +
        "name (1-75 letters, digits, '.', '-', '_')",
    );
  });

  it.each([
    ['windowSeconds', '61', 'must be an integer from 10 to 3600 that divides 3600'],
    ['windowSeconds', '5', 'must be an integer from 10 to 3600 that divides 3600'],
    ['windowSeconds', '7200', 'must be an integer from 10 to 3600 that divides 3600'],
    ['windowSeconds', '60.5', 'must be an integer from 10 to 3600 that divides 3600'],
    ['windowSeconds', 'sixty', 'must be an integer from 10 to 3600 that divides 3600'],
    ['allowedLatenessSeconds', '-1', 'must be an integer from 0 to 21600'],
    ['allowedLatenessSeconds', '21601', 'must be an integer from 0 to 21600'],
    ['windowShards', '0', 'must be an integer from 1 to 64'],
    ['windowShards', '65', 'must be an integer from 1 to 64'],
    ['dedupeRetentionDays', '1', 'must be an integer from 2 to 365: dedupe must outlast the redeliveries'],
    ['alertDedupeRetentionDays', '0', 'must be an integer from 1 to 365'],
    ['archiveRetentionDays', '-1', 'must be an integer from 0 (keep forever) to 36500'],
    ['archiveTransitionDays', '1.5', 'must be an integer from 0 to 36500'],
    ['archiveLockMode', 'GOVERNANCE', 'must be one of governance, compliance, off: the S3 Object Lock mode'],
    ['archiveLockMode', 'legal-hold', 'must be one of governance, compliance, off'],
    ['archiveLockMode', 'true', 'must be one of governance, compliance, off'],
    ['notificationEmail', 'secops', 'must be an email address'],
    ['silenceMinutes', '4', 'must be an integer from 5 to 1440: CloudWatch evaluates an alarm over at most one day'],
    ['silenceMinutes', '1441', 'must be an integer from 5 to 1440'],
    [
      'silenceMinutes',
      '0',
      "must be an integer from 5 to 1440: CloudWatch evaluates an alarm over at most one day; keep it above the org's " +
        'longest normal quiet spell (default 720, half a day, so a quiet org is not paged at night)',
    ],
    ['redriveRoleArn', 'okta-redrive', 'must be an IAM role ARN, path included, like arn:aws:iam::123456789012:role/'],
    ['redriveRoleArn', 'arn:aws:iam::123456789012:user/okta-redrive', 'must be an IAM role ARN'],
    ['redriveRoleArn', 'arn:aws:iam::12345678901:role/okta-redrive', 'must be an IAM role ARN'],
    ['redriveRoleArn', 'arn:aws:iam::123456789012:role/okta-redrive*', 'must be an IAM role ARN'],
    ['redriveRoleArn', 'arn:aws:iam::123456789012:role/', 'must be an IAM role ARN'],
    ['redriveRoleArn', 'arn:aws:sts::123456789012:assumed-role/okta-redrive/jane', 'must be an IAM role ARN'],
    ['ingestBatchSize', '0', 'must be an integer from 1 to 10000 (the SQS event source limit)'],
    ['ingestBatchSize', '10001', 'must be an integer from 1 to 10000'],
    ['ingestBatchWindowSeconds', '301', 'must be an integer from 0 to 300'],
    ['logRetentionDays', '91', 'must be a retention CloudWatch Logs supports: one of 1, 3, 5, 7, 14, 30, 60, 90,'],
    ['logRetentionDays', '9999', 'must be a retention CloudWatch Logs supports'],
  ])('%s %s, naming the key, the value and the rule', (key, value, rule) => {
    // Act
    const error = errorOf({ eventSourceName: SOURCE, [key]: value });

    // Assess
    expect(error.issues).toHaveLength(1);
    const shown = /^[+-]?\d+(\.\d+)?$/.test(value) ? value : JSON.stringify(value);
    expect(error.message).toContain(`Invalid config: ${key} ${shown} ${rule}`);
  });

  it('numbers of the wrong kind from cdk.json, not only strings from -c', () => {
    expect(errorOf({ eventSourceName: SOURCE, windowShards: 2.5 }).message).toBe(
      'Invalid config: windowShards 2.5 must be an integer from 1 to 64',
    );
    expect(errorOf({ eventSourceName: SOURCE, windowShards: true }).message).toBe(
      'Invalid config: windowShards true must be an integer from 1 to 64',
    );
  });

  it('an archive that would expire before it transitions', () => {
    expect(errorOf({ eventSourceName: SOURCE, archiveRetentionDays: 30, archiveTransitionDays: 30 }).message).toBe(
      'Invalid config: archiveRetentionDays 30 must be 0 (keep forever) or more than archiveTransitionDays (30): ' +
        'S3 lifecycle rules expire objects only after they transition',
    );
  });

  it('a compliance lock on an archive kept forever, which nobody could ever lift', () => {
    expect(errorOf({ eventSourceName: SOURCE, archiveLockMode: 'compliance', archiveRetentionDays: '0' }).message).toBe(
      'Invalid config: archiveRetentionDays 0 must be more than 0 when archiveLockMode is compliance: nobody can ' +
        'shorten a compliance lock, and S3 cannot lock forever (36500 days at most); set the days to keep, e.g. 2557 ' +
        '(7 years), or use archiveLockMode governance (which locks an archive kept forever for 36500 days) or off',
    );
  });

  it('an ingest batch over 10 without a batching window, which Lambda refuses', () => {
    expect(errorOf({ eventSourceName: SOURCE, ingestBatchSize: '11', ingestBatchWindowSeconds: '0' }).message).toBe(
      'Invalid config: ingestBatchWindowSeconds 0 must be at least 1 when ingestBatchSize (11) is over 10, as Lambda ' +
        'requires',
    );
  });

  it('every bad value at once, one line each', () => {
    // Act
    const error = errorOf({ eventSourceName: 'okta', windowShards: '0', silenceMinutes: '1' });

    // Assess
    expect(error.name).toBe('ConfigError');
    expect(error.issues).toHaveLength(3);
    expect(error.message.split('\n').map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual([
      'Invalid config: eventSourceName',
      'Invalid config: windowShards',
      'Invalid config: silenceMinutes',
    ]);
  });
});

describe('the auth0 group', () => {
  const AUTH0_SOURCE = 'aws.partner/auth0.com/acme-1a2b3c/auth0.logs';
  const flat = {
    eventSourceName: SOURCE,
    auth0EventSourceName: AUTH0_SOURCE,
    auth0HttpSink: true,
    auth0HttpSecretName: 'olp/auth0-http',
  };

  it('reads auth0: {eventSourceName, httpSink, httpSecretName} as the flat keys, as an object or as -c JSON text', () => {
    const group = { eventSourceName: AUTH0_SOURCE, httpSink: true, httpSecretName: 'olp/auth0-http' };
    expect(parseConfig({ eventSourceName: SOURCE, auth0: group })).toEqual(parseConfig(flat));
    expect(parseConfig({ eventSourceName: SOURCE, auth0: JSON.stringify(group) })).toEqual(parseConfig(flat));
  });

  it('checks its members as it checks the flat keys, naming the flat key', () => {
    expect(errorOf({ eventSourceName: SOURCE, auth0: { httpSink: true } }).issues.join('\n')).toMatch(
      /auth0HttpSecretName/,
    );
  });

  it('refuses an unknown member, a setting given both ways, and a value that is not an object', () => {
    expect(errorOf({ eventSourceName: SOURCE, auth0: { eventSource: AUTH0_SOURCE } }).issues).toEqual([
      'auth0.eventSource is not a setting; use eventSourceName, httpSink, httpSecretName, domain, secretName, pii',
    ]);
    expect(errorOf({ ...flat, auth0: { httpSink: true } }).issues).toEqual([
      'auth0.httpSink and auth0HttpSink are the same setting; set one of them',
    ]);
    expect(errorOf({ eventSourceName: SOURCE, auth0: '[1]' }).message).toMatch(/auth0 must be an object/);
    expect(errorOf({ eventSourceName: SOURCE, auth0: 'not json' }).message).toMatch(/auth0 must be an object/);
  });
});
