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
import { credentialsFromSecret } from '../../lib/okta/credentials.ts';
import { OktaClient } from '../../lib/okta/okta-client.ts';
import { createSnsAlertPublisher } from '../alert/sns-publisher.ts';
import { createDynamoAlertClaims } from '../shared/dynamo-alert-claims.ts';
import { DynamoEventStore } from '../shared/dynamo-event-store.ts';
import { readEnv } from '../shared/env.ts';
import { OKTA_SOURCE_PREFIX } from '../shared/okta-event.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { sqsQueueSender } from '../shared/sqs-queue-sender.ts';
import { StagingEnv, stagingSettings } from '../shared/staging-env.ts';
import { readBundledRules } from './bundled-rules.ts';
import { DynamoWatchdogStore } from './dynamo-watchdog-store.ts';
import { oktaFeed } from './okta-feed.ts';
import { runWatchdog, type WatchdogSettings } from './run-watchdog.ts';

const env = readEnv(
  StagingEnv.omit({ ARCHIVE_BUCKET_NAME: true }).extend({
    OKTA_ORG_URL: z.url(),
    /** Name or ARN of the Secrets Manager secret with the Okta credentials; the value is read at run time only. */
    OKTA_SECRET_NAME: z.string().min(1),
    /** Share of each Okta rate limit the watchdog may use; it waits when less than the rest remains. */
    OKTA_API_SHARE: z.coerce.number().gt(0).max(1),
    EVENT_SOURCE_NAME: z.string().startsWith(OKTA_SOURCE_PREFIX, `must start with ${OKTA_SOURCE_PREFIX}`),
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
  }),
);

const rules = readBundledRules(import.meta.url);
const staging = stagingSettings({ ...env, ARCHIVE_BUCKET_NAME: '' });
const DAY_MS = 86_400_000;
const settings: WatchdogSettings = {
  staging,
  envelope: { source: env.EVENT_SOURCE_NAME, account: env.EXPECTED_ACCOUNT, region: env.AWS_REGION },
  checkDelayMs: env.CHECK_DELAY_SECONDS * 1000,
  // A day short of the dedupe retention (and of the 90 days Okta keeps): see WatchdogSettings.maxCheckAgeMs.
  maxCheckAgeMs: Math.min(env.DEDUPE_RETENTION_DAYS - 1, 89) * DAY_MS,
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

let client: { secret: string; client: OktaClient; calls: { api: number; waits: number } } | undefined;

/** One client per secret value: a rotated secret gets a new one (and a new token); the value is never logged. */
const oktaClient = async () => {
  const secret = await getSecret(env.OKTA_SECRET_NAME, { maxAge: 300 });
  if (typeof secret !== 'string') throw new Error(`secret ${env.OKTA_SECRET_NAME} must hold a JSON string`);
  if (client?.secret !== secret) {
    const calls = { api: 0, waits: 0 };
    const counted: typeof fetch = (input, init) => {
      calls.api++;
      return fetch(input, init);
    };
    client = {
      secret,
      calls,
      client: new OktaClient({
        orgUrl: env.OKTA_ORG_URL,
        credentials: credentialsFromSecret(secret, env.OKTA_SECRET_NAME),
        reserveShare: 1 - env.OKTA_API_SHARE,
        fetch: counted,
        onRateLimit: (wait) => {
          calls.waits++;
          logger.info('waiting for the Okta rate limit', { ...wait });
        },
      }),
    };
  }
  return client;
};

/**
 * One watchdog run on its schedule: the log stream's status, its deactivation episodes, and the gap check that refills
 * what the stream did not deliver. Reserved concurrency 1: runs never overlap deployed (and are safe if they did).
 */
export const handler = middy(async (_event: unknown, context: Context) => {
  const okta = await oktaClient();
  const before = { ...okta.calls };
  const report = await runWatchdog(
    {
      okta: oktaFeed(okta.client, env.EVENT_SOURCE_NAME),
      state: new DynamoWatchdogStore(dynamo, env.EVENTS_TABLE_NAME),
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
  metrics.addMetric('LogStreamActive', MetricUnit.Count, report.status === 'ACTIVE' ? 1 : 0);
  metrics.addMetric('WatchdogEventsChecked', MetricUnit.Count, report.checked);
  metrics.addMetric('EventsMissingFromStream', MetricUnit.Count, report.backfilled);
  metrics.addMetric('WatchdogLagSeconds', MetricUnit.Seconds, Math.max(0, (Date.now() - report.checkedBefore) / 1000));
  metrics.addMetric('OktaApiCalls', MetricUnit.Count, okta.calls.api - before.api);
  metrics.addMetric('OktaRateLimitWaits', MetricUnit.Count, okta.calls.waits - before.waits);
  logger.info('watchdog run', { ...report });
  return report;
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
