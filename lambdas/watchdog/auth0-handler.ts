import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { Auth0Client } from '../../lib/auth0/auth0-client.ts';
import { createSnsAlertPublisher } from '../alert/sns-publisher.ts';
import { AUTH0_SOURCE_PREFIX } from '../shared/auth0-log.ts';
import { createDynamoAlertClaims } from '../shared/dynamo-alert-claims.ts';
import { DynamoEventStore } from '../shared/dynamo-event-store.ts';
import { readEnv } from '../shared/env.ts';
import { AUTH0_HTTP_SOURCE } from '../shared/log-sources.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { sqsQueueSender } from '../shared/sqs-queue-sender.ts';
import { StagingEnv, stagingSettings } from '../shared/staging-env.ts';
import { auth0Feed } from './auth0-feed.ts';
import { auth0CredentialsFromSecret } from './auth0-secret.ts';
import { Auth0WatchdogState } from './auth0-watchdog-state.ts';
import { readBundledRules } from './bundled-rules.ts';
import { DynamoStateItem } from './dynamo-watchdog-store.ts';
import { type Auth0WatchdogSettings, runAuth0Watchdog } from './run-auth0-watchdog.ts';

const env = readEnv(
  StagingEnv.omit({ ARCHIVE_BUCKET_NAME: true })
    .extend({
      /** The tenant's domain, e.g. acme.us.auth0.com. */
      AUTH0_DOMAIN: z.string().min(1),
      /** Name or ARN of the Secrets Manager secret with the Management API client credentials; read at run time. */
      AUTH0_SECRET_NAME: z.string().min(1),
      /** The stream is the eventbridge one with this partner event source ... */
      AUTH0_EVENT_SOURCE_NAME: z
        .string()
        .startsWith(AUTH0_SOURCE_PREFIX, `must start with ${AUTH0_SOURCE_PREFIX}`)
        .optional(),
      /** ... or the http one that posts to this URL (the HTTP sink's function URL). */
      AUTH0_HTTP_ENDPOINT: z.url().optional(),
      EXPECTED_ACCOUNT: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
      AWS_REGION: z.string().min(1),
      INGEST_QUEUE_URL: z.url(),
      ALERT_QUEUE_URL: z.url(),
      DETECTOR_QUEUE_URL: z.url(),
      ALERTS_TABLE_NAME: z.string().min(1),
      ALERT_TOPIC_ARN: z.string().startsWith('arn:', 'must be an SNS topic ARN'),
      ALERT_DEDUPE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
      AUTO_REACTIVATE: z.enum(['true', 'false']).transform((value) => value === 'true'),
      CHECK_DELAY_SECONDS: z.coerce.number().int().positive(),
      MAX_PAGES_PER_RUN: z.coerce.number().int().positive().default(50),
    })
    .refine((value) => (value.AUTH0_EVENT_SOURCE_NAME === undefined) !== (value.AUTH0_HTTP_ENDPOINT === undefined), {
      message: 'set exactly one of AUTH0_EVENT_SOURCE_NAME and AUTH0_HTTP_ENDPOINT',
      path: ['AUTH0_EVENT_SOURCE_NAME'],
    }),
);

const rules = readBundledRules(import.meta.url);
const DAY_MS = 86_400_000;
const selector =
  env.AUTH0_EVENT_SOURCE_NAME === undefined
    ? { httpEndpoint: env.AUTH0_HTTP_ENDPOINT ?? '' }
    : { eventSourceName: env.AUTH0_EVENT_SOURCE_NAME };
const settings: Auth0WatchdogSettings = {
  staging: stagingSettings({ ...env, ARCHIVE_BUCKET_NAME: '' }),
  // Refilled logs arrive as delivered ones do here: from the partner event source, or as the HTTP sink wraps them.
  envelope: {
    source: env.AUTH0_EVENT_SOURCE_NAME ?? AUTH0_HTTP_SOURCE,
    account: env.EXPECTED_ACCOUNT,
    region: env.AWS_REGION,
  },
  wanted: env.AUTH0_EVENT_SOURCE_NAME ?? env.AUTH0_HTTP_ENDPOINT ?? '',
  checkDelayMs: env.CHECK_DELAY_SECONDS * 1000,
  // A day short of the dedupe retention, as the Okta check: see WatchdogSettings.maxCheckAgeMs.
  maxCheckAgeMs: (env.DEDUPE_RETENTION_DAYS - 1) * DAY_MS,
  autoReactivate: env.AUTO_REACTIVATE,
  maxPagesPerRun: env.MAX_PAGES_PER_RUN,
  stopBeforeDeadlineMs: 60_000,
};
const dynamo = new DynamoDBClient({});
const sqs = new SQSClient({});
const claims = createDynamoAlertClaims({
  client: dynamo,
  tableName: env.ALERTS_TABLE_NAME,
  retentionDays: env.ALERT_DEDUPE_RETENTION_DAYS,
  now: Date.now,
});
const publisher = createSnsAlertPublisher({ client: new SNSClient({}), topicArn: env.ALERT_TOPIC_ARN });

let client: { secret: string; client: Auth0Client; calls: { api: number; waits: number } } | undefined;

/** One client per secret value: a rotated secret gets a new one (and a new token); the value is never logged. */
const auth0Client = async () => {
  const secret = await getSecret(env.AUTH0_SECRET_NAME, { maxAge: 300 });
  if (typeof secret !== 'string') throw new Error(`secret ${env.AUTH0_SECRET_NAME} must hold a JSON string`);
  if (client?.secret !== secret) {
    const calls = { api: 0, waits: 0 };
    const counted: typeof fetch = (input, init) => {
      calls.api++;
      return fetch(input, init);
    };
    client = {
      secret,
      calls,
      client: new Auth0Client({
        domain: env.AUTH0_DOMAIN,
        credentials: auth0CredentialsFromSecret(secret, env.AUTH0_SECRET_NAME),
        fetch: counted,
        // Waits within the run's five minutes; a limit that outlasts them ends the run early, the next resumes.
        maxRateLimitRetries: 3,
        maxRateLimitWaitMs: 20_000,
        onRateLimit: (wait) => {
          calls.waits++;
          logger.info('waiting for the Auth0 rate limit', { ...wait });
        },
      }),
    };
  }
  return client;
};

/**
 * One run of the watchdog for the Auth0 log stream on its schedule: the stream's status and episodes, and the gap
 * check that refills what it did not deliver. Reserved concurrency 1; the state is written conditionally anyway.
 */
export const handler = middy(async (_event: unknown, context: Context) => {
  const auth0 = await auth0Client();
  const before = { ...auth0.calls };
  const report = await runAuth0Watchdog(
    {
      feed: auth0Feed(auth0.client, selector),
      state: new DynamoStateItem(dynamo, env.EVENTS_TABLE_NAME, Auth0WatchdogState),
      staged: new DynamoEventStore(dynamo, env.EVENTS_TABLE_NAME),
      ingestQueue: sqsQueueSender(sqs, env.INGEST_QUEUE_URL),
      alertQueue: sqsQueueSender(sqs, env.ALERT_QUEUE_URL),
      detectorQueue: sqsQueueSender(sqs, env.DETECTOR_QUEUE_URL),
      claims,
      publisher,
      rules,
      now: Date.now,
      remainingMs: () => context.getRemainingTimeInMillis(),
    },
    settings,
  );
  // Not reported when Auth0 could not be asked: no data rather than a guess.
  if (report.status !== 'unknown') {
    metrics.addMetric('Auth0LogStreamActive', MetricUnit.Count, report.status === 'active' ? 1 : 0);
  }
  metrics.addMetric('Auth0WatchdogLogsChecked', MetricUnit.Count, report.checked);
  metrics.addMetric('Auth0LogsMissingFromStream', MetricUnit.Count, report.backfilled);
  if (report.checkedThrough !== undefined) {
    const lag = Math.max(0, (Date.now() - report.checkedThrough) / 1000);
    metrics.addMetric('Auth0WatchdogLagSeconds', MetricUnit.Seconds, lag);
  }
  metrics.addMetric('Auth0ApiCalls', MetricUnit.Count, auth0.calls.api - before.api);
  metrics.addMetric('Auth0RateLimitWaits', MetricUnit.Count, auth0.calls.waits - before.waits);
  logger.info('auth0 watchdog run', { ...report });
  return report;
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
