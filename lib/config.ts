import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import type { SourceName } from '../lambdas/shared/log-sources.ts';
import { PiiSettingsError, parsePiiSettings } from '../lambdas/shared/pii.ts';
import { parseTenantDomain } from './auth0/auth0-client.ts';
import { ARCHIVE_LOCK_MODES, LONGEST_LOCK_DAYS } from './constructs/archive-bucket.ts';
import { DEFAULT_SILENCE_MINUTES } from './constructs/pipeline-alarms.ts';
import { PROVISIONED_MIN_UNITS, TABLE_CAPACITY_MODES } from './constructs/pipeline-table.ts';

/**
 * What can be configured, with defaults. Values come from CDK context (cdk.json or `-c key=value`); `-c` values
 * arrive as strings, so numbers are coerced here. bin/app.ts reads the context and calls `parseConfig` once.
 */

/** The retention periods CloudWatch Logs accepts (the CDK's list, without its "never expire" value). */
export const LOG_RETENTION_DAYS: readonly RetentionDays[] = Object.values(RetentionDays).filter(
  (value): value is RetentionDays => typeof value === 'number' && value !== RetentionDays.INFINITE,
);

/** Okta names the partner event source aws.partner/okta.com/<org>/<eventSourceName>. */
export const EVENT_SOURCE_NAME = /^aws\.partner\/okta\.com\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]{1,75}$/;
export const EVENT_SOURCE_RULE =
  "must look like aws.partner/okta.com/<org>/<name>, where <org> is the Okta org (letters, digits, '.', '-', '_') " +
  "and <name> is the log stream's event source name (1-75 letters, digits, '.', '-', '_')";

/**
 * An IAM role's ARN as IAM shows it, path included: `arn:<partition>:iam::<account>:role/[<path>/]<name>`. IAM
 * compares `aws:PrincipalArn` with the full ARN, so the path (e.g. `aws-reserved/sso.amazonaws.com/`) must be there.
 */
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/([\x21-\x7e]+\/)*[\w+=,.@-]{1,64}$/;
const ROLE_ARN_RULE =
  'must be an IAM role ARN, path included, like arn:aws:iam::123456789012:role/okta-pipeline-operator: the one ' +
  'role allowed to send to the ingest and alert queues, to redrive their dead-letter queues';

/**
 * Auth0 names the partner event source of a log stream to EventBridge aws.partner/auth0.com/<tenant>-<id>/auth0.logs
 * (the stream's `awsPartnerEventSource`); the event bus must be named exactly so.
 */
export const AUTH0_EVENT_SOURCE_NAME = /^aws\.partner\/auth0\.com\/[A-Za-z0-9._-]+-[A-Za-z0-9]+\/auth0\.logs$/;
export const AUTH0_EVENT_SOURCE_RULE =
  'must look like aws.partner/auth0.com/<tenant>-<id>/auth0.logs: the awsPartnerEventSource of the Auth0 log stream ' +
  "to EventBridge, as `olp auth0 stream list` shows it (letters, digits, '.', '-', '_' in <tenant>-<id>)";
const AUTH0_SECRET_NAME_RULE =
  "must be the name of a Secrets Manager secret in the stack's account and region (letters, digits and /_+=.@-), " +
  'like olp/auth0-http: it holds the exact Authorization header value the Auth0 HTTP log stream sends; the value ' +
  'never enters the stack';

const AUTH0_DOMAIN_RULE =
  "must be the Auth0 tenant's domain, like acme.us.auth0.com (or its https URL, no path): the tenant whose log " +
  'stream the feed watchdog checks';
const AUTH0_WATCHDOG_SECRET_RULE =
  "must be the name of a Secrets Manager secret in the stack's account and region (letters, digits and /_+=.@-), " +
  "like olp/auth0: it holds the watchdog's Auth0 Management API client credentials; the value never enters the stack";

/** A tenant domain the deployed watchdog can reach over https (lib/auth0 allows http for loopback stand-ins only). */
const isAuth0Domain = (value: string): boolean => {
  try {
    return parseTenantDomain(value).startsWith('https://');
  } catch {
    return false;
  }
};

const PII_SECRET_NAME_RULE =
  "must be the name of a Secrets Manager secret in the stack's account and region (letters, digits and /_+=.@-), " +
  'like olp/pii-hash: it holds the HMAC key PII hashing uses; the value never enters the stack';

/** One source's PII settings (lambdas/shared/pii.ts): an object in cdk.json, JSON text with -c. */
const piiSettings = (source: SourceName) =>
  z.unknown().transform((value, ctx) => {
    try {
      return parsePiiSettings(source, value);
    } catch (error) {
      if (!(error instanceof PiiSettingsError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message });
      return z.NEVER;
    }
  });

const OKTA_ORG_RULE = "must be the Okta org's https origin, like https://acme.okta.com (no path)";
const SECRET_NAME_RULE =
  "must be the name of a Secrets Manager secret in the stack's account and region (letters, digits and /_+=.@-), " +
  "like olp/okta: it holds the watchdog's Okta credentials; the value never enters the stack";

/** An https origin with a host, nothing else: the deployed watchdog never talks plain http. */
const isOktaOrgUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return (
      url.protocol === 'https:' &&
      url.username === '' &&
      url.password === '' &&
      url.search === '' &&
      url.hash === '' &&
      url.pathname === '/'
    );
  } catch {
    return false;
  }
};

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

/** `-c windowSeconds=60` arrives as the string "60"; anything that is not a plain number is left for the check. */
const toNumber = (value: unknown): unknown =>
  typeof value === 'string' && /^\s*[+-]?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;

/** An integer that satisfies `ok`; `rule` completes the sentence "<key> <value> must be ...". */
const integer = (rule: string, ok: (value: number) => boolean) =>
  z.preprocess(
    toNumber,
    z.custom<number>((value) => isInteger(value) && ok(value), { error: `must be ${rule}` }),
  );

const between = (min: number, max: number) => (value: number) => value >= min && value <= max;

const ConfigSchema = z
  .object({
    eventSourceName: z.string({ error: EVENT_SOURCE_RULE }).regex(EVENT_SOURCE_NAME, EVENT_SOURCE_RULE),
    windowSeconds: integer(
      'an integer from 10 to 3600 that divides 3600, so windows line up with the hour',
      (value) => between(10, 3600)(value) && 3600 % value === 0,
    ).default(60),
    allowedLatenessSeconds: integer('an integer from 0 to 21600 (6 hours)', between(0, 21_600)).default(120),
    windowShards: integer('an integer from 1 to 64', between(1, 64)).default(8),
    dedupeRetentionDays: integer(
      'an integer from 2 to 365: dedupe must outlast the redeliveries of Okta and EventBridge (24 hours)',
      between(2, 365),
    ).default(7),
    alertDedupeRetentionDays: integer('an integer from 1 to 365', between(1, 365)).default(30),
    archiveRetentionDays: integer('an integer from 0 (keep forever) to 36500', between(0, 36_500)).default(2557),
    archiveTransitionDays: integer('an integer from 0 to 36500', between(0, 36_500)).default(30),
    archiveLockMode: z
      .enum(ARCHIVE_LOCK_MODES, {
        error:
          `must be one of ${ARCHIVE_LOCK_MODES.join(', ')}: the S3 Object Lock mode of archived objects ` +
          '(governance, the default, can be lifted only by a principal allowed s3:BypassGovernanceRetention; ' +
          'compliance by nobody, the root user included; off locks nothing)',
      })
      .default('governance'),
    notificationEmail: z.email({ error: 'must be an email address' }).optional(),
    silenceMinutes: integer(
      "an integer from 5 to 1440: CloudWatch evaluates an alarm over at most one day; keep it above the org's " +
        'longest normal quiet spell (default 720, half a day, so a quiet org is not paged at night)',
      between(5, 1440),
    ).default(DEFAULT_SILENCE_MINUTES),
    redriveRoleArn: z.string({ error: ROLE_ARN_RULE }).regex(ROLE_ARN, ROLE_ARN_RULE).optional(),
    oktaOrgUrl: z
      .string({ error: OKTA_ORG_RULE })
      .refine((value) => isOktaOrgUrl(value), { error: OKTA_ORG_RULE })
      .transform((value) => new URL(value).origin)
      .optional(),
    oktaSecretName: z
      .string({ error: SECRET_NAME_RULE })
      .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, SECRET_NAME_RULE)
      .optional(),
    autoReactivate: z
      .preprocess(
        (value) => (value === 'true' ? true : value === 'false' ? false : value),
        z.boolean({ error: 'must be true or false' }),
      )
      .default(false),
    watchdogMinutes: integer('an integer from 1 to 60: how often the feed watchdog runs', between(1, 60)).default(5),
    oktaApiShare: z
      .preprocess(
        toNumber,
        z.custom<number>((value) => typeof value === 'number' && value >= 0.05 && value <= 1, {
          error:
            "must be a number from 0.05 to 1: the share of each of the Okta org's rate limits the watchdog may use " +
            '(default 0.5); it waits for the next minute rather than use more',
        }),
      )
      .default(0.5),
    auth0EventSourceName: z
      .string({ error: AUTH0_EVENT_SOURCE_RULE })
      .regex(AUTH0_EVENT_SOURCE_NAME, AUTH0_EVENT_SOURCE_RULE)
      .optional(),
    auth0HttpSink: z
      .preprocess(
        (value) => (value === 'true' ? true : value === 'false' ? false : value),
        z.boolean({ error: 'must be true or false: whether to deploy the HTTP sink for an Auth0 HTTP log stream' }),
      )
      .default(false),
    auth0HttpSecretName: z
      .string({ error: AUTH0_SECRET_NAME_RULE })
      .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, AUTH0_SECRET_NAME_RULE)
      .optional(),
    auth0Domain: z
      .string({ error: AUTH0_DOMAIN_RULE })
      .refine((value) => isAuth0Domain(value), { error: AUTH0_DOMAIN_RULE })
      .transform((value) => parseTenantDomain(value))
      .optional(),
    auth0SecretName: z
      .string({ error: AUTH0_WATCHDOG_SECRET_RULE })
      .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, AUTH0_WATCHDOG_SECRET_RULE)
      .optional(),
    oktaPii: piiSettings('okta').optional(),
    auth0Pii: piiSettings('auth0').optional(),
    piiHashSecretName: z
      .string({ error: PII_SECRET_NAME_RULE })
      .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, PII_SECRET_NAME_RULE)
      .optional(),
    rulesDir: z.string({ error: 'must be a directory path' }).min(1, 'must be a directory path').optional(),
    tableCapacity: z
      .enum(TABLE_CAPACITY_MODES, {
        error:
          `must be one of ${TABLE_CAPACITY_MODES.join(', ')}: how the events and detector tables are billed ` +
          '(on-demand, the default, per request; provisioned per capacity-hour, auto scaled, cheaper for a steady ' +
          'stream; see Cost in the README)',
      })
      .default('on-demand'),
    tableMaxCapacityUnits: integer(
      `an integer from ${PROVISIONED_MIN_UNITS} to 40000: the most read and the most write units auto scaling gives ` +
        'each provisioned table (at least the peak events per second it must absorb)',
      between(PROVISIONED_MIN_UNITS, 40_000),
    ).default(1000),
    ingestBatchSize: integer('an integer from 1 to 10000 (the SQS event source limit)', between(1, 10_000)).default(
      100,
    ),
    ingestBatchWindowSeconds: integer('an integer from 0 to 300', between(0, 300)).default(10),
    logRetentionDays: z
      .preprocess(
        toNumber,
        z.custom<RetentionDays>((value) => LOG_RETENTION_DAYS.some((days) => days === value), {
          error: `must be a retention CloudWatch Logs supports: one of ${LOG_RETENTION_DAYS.join(', ')}`,
        }),
      )
      .default(RetentionDays.THREE_MONTHS),
  })
  .superRefine((config, ctx) => {
    if (config.archiveRetentionDays !== 0 && config.archiveRetentionDays <= config.archiveTransitionDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['archiveRetentionDays'],
        message:
          `must be 0 (keep forever) or more than archiveTransitionDays (${config.archiveTransitionDays}): ` +
          'S3 lifecycle rules expire objects only after they transition',
      });
    }
    if (config.archiveLockMode === 'compliance' && config.archiveRetentionDays === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['archiveRetentionDays'],
        message:
          'must be more than 0 when archiveLockMode is compliance: nobody can shorten a compliance lock, and ' +
          `S3 cannot lock forever (${LONGEST_LOCK_DAYS} days at most); set the days to keep, e.g. 2557 (7 years), or ` +
          `use archiveLockMode governance (which locks an archive kept forever for ${LONGEST_LOCK_DAYS} days) or off`,
      });
    }
    if ((config.oktaOrgUrl === undefined) !== (config.oktaSecretName === undefined)) {
      const missing = config.oktaOrgUrl === undefined ? 'oktaOrgUrl' : 'oktaSecretName';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message:
          'must be set together with ' +
          (missing === 'oktaOrgUrl' ? 'oktaSecretName' : 'oktaOrgUrl') +
          ': the feed watchdog needs both the Okta org and the Secrets Manager secret with its credentials',
      });
    }
    const hashing = (['oktaPii', 'auth0Pii'] as const).filter((key) => config[key]?.method === 'hash');
    if (hashing.length > 0 && config.piiHashSecretName === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['piiHashSecretName'],
        message:
          `must be set because ${hashing.join(' and ')} ${hashing.length === 1 ? 'uses' : 'use'} method hash: the ` +
          'Secrets Manager secret holding the HMAC key (at least 32 characters, e.g. from openssl rand -hex 32)',
      });
    }
    if ((config.auth0Domain === undefined) !== (config.auth0SecretName === undefined)) {
      const missing = config.auth0Domain === undefined ? 'auth0Domain' : 'auth0SecretName';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message:
          `must be set together with ${missing === 'auth0Domain' ? 'auth0SecretName' : 'auth0Domain'}: the feed ` +
          "watchdog's Auth0 check needs both the tenant and the Secrets Manager secret with its credentials",
      });
    }
    if (config.auth0Domain !== undefined && config.auth0EventSourceName === undefined && !config.auth0HttpSink) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth0Domain'],
        message:
          'needs the Auth0 source it watches the stream of: set auth0EventSourceName (an EventBridge stream) or ' +
          'auth0HttpSink (an HTTP stream)',
      });
    }
    if (config.auth0HttpSink && config.auth0HttpSecretName === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth0HttpSecretName'],
        message:
          'must be set when auth0HttpSink is true: the sink answers 401 to any request whose Authorization header ' +
          'is not the value in this Secrets Manager secret',
      });
    }
    if (config.ingestBatchSize > 10 && config.ingestBatchWindowSeconds < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['ingestBatchWindowSeconds'],
        message: `must be at least 1 when ingestBatchSize (${config.ingestBatchSize}) is over 10, as Lambda requires`,
      });
    }
  });

export type PipelineConfig = Readonly<z.output<typeof ConfigSchema>>;

/** The context keys the pipeline reads; every other context key belongs to the CDK. */
export const CONFIG_KEYS = Object.keys(ConfigSchema.shape) as readonly (keyof PipelineConfig)[];

/** The context key that holds the Auth0 settings as one object; each member stands for a flat key. */
export const AUTH0_GROUP_KEY = 'auth0';

const AUTH0_GROUP_MEMBERS = {
  eventSourceName: 'auth0EventSourceName',
  httpSink: 'auth0HttpSink',
  httpSecretName: 'auth0HttpSecretName',
  domain: 'auth0Domain',
  secretName: 'auth0SecretName',
  pii: 'auth0Pii',
} as const satisfies Record<string, keyof PipelineConfig>;

/**
 * `auth0: {eventSourceName, httpSink: true, httpSecretName, domain, secretName, pii}` (an object in cdk.json, JSON
 * text with -c) as the flat keys it stands for (`auth0EventSourceName`, ...), which the rest of the config reads.
 * Either form, not both: a key set twice would leave one of them silently unused.
 */
function auth0Group(group: unknown, context: Record<string, unknown>): Record<string, unknown> {
  if (group === undefined || group === '') return {};
  let value = group;
  if (typeof group === 'string') {
    try {
      value = JSON.parse(group);
    } catch {
      throw new ConfigError([`${AUTH0_GROUP_KEY} must be an object (JSON text with -c), got ${show(group)}`]);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError([`${AUTH0_GROUP_KEY} must be an object, like {"eventSourceName": "...", "httpSink": true}`]);
  }
  const issues: string[] = [];
  const flat: Record<string, unknown> = {};
  for (const [member, setting] of Object.entries(value)) {
    const key = (AUTH0_GROUP_MEMBERS as Record<string, string>)[member];
    if (key === undefined) {
      issues.push(`${AUTH0_GROUP_KEY}.${member} is not a setting; use ${Object.keys(AUTH0_GROUP_MEMBERS).join(', ')}`);
    } else if (context[key] !== undefined && context[key] !== '') {
      issues.push(`${AUTH0_GROUP_KEY}.${member} and ${key} are the same setting; set one of them`);
    } else {
      flat[key] = setting;
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return flat;
}

/** A configuration that cannot be deployed; each issue names the key, the value and the rule it broke. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(issues.map((issue) => `Invalid config: ${issue}`).join('\n'));
    this.issues = issues;
  }
}

/** Shows a value as the user wrote it: `-c windowSeconds=61` reads 61, a string reads "quoted". */
const show = (value: unknown): string => {
  const coerced = toNumber(value);
  // Strings quoted; objects (PII settings in cdk.json) as the JSON they were written as.
  return typeof coerced === 'string' || (typeof coerced === 'object' && coerced !== null)
    ? JSON.stringify(coerced)
    : String(coerced);
};

/**
 * Validates the pipeline's context values and fills in defaults. An empty string counts as not set, so
 * `-c notificationEmail=` clears a value from cdk.json.
 */
export function parseConfig(context: Record<string, unknown>): PipelineConfig {
  const input = Object.fromEntries(
    Object.entries({ ...context, ...auth0Group(context[AUTH0_GROUP_KEY], context) }).filter(
      ([key, value]) => CONFIG_KEYS.some((k) => k === key) && value !== '',
    ),
  );
  const parsed = ConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '(config)');
      const value = input[key];
      if (value === undefined) {
        return `${key} is required: set it in cdk.json "context" or with -c ${key}=<value>; it ${issue.message}`;
      }
      return `${key} ${show(value)} ${issue.message}`;
    }),
  );
}
