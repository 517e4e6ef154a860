import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { pinOf, RuleConsumerEnv } from '../shared/consumer-env.ts';
import { createDynamoAlertClaims } from '../shared/dynamo-alert-claims.ts';
import { readEnv } from '../shared/env.ts';
import { loadPiiRedactions, PiiEnv } from '../shared/pii-secret.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { S3ArchiveStore } from '../shared/s3-archive-store.ts';
import { createAlertBatchHandler } from './alert-records.ts';
import { createSnsAlertPublisher } from './sns-publisher.ts';

const AlertEnv = RuleConsumerEnv.extend({
  ALERTS_TABLE_NAME: z.string().min(1),
  ALERT_TOPIC_ARN: z.string().startsWith('arn:', 'must be an SNS topic ARN'),
  ALERT_DEDUPE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
});

const env = readEnv(AlertEnv);
/** PII controls (PII_SETTINGS, PII_HASH_SECRET_NAME); without them alerts show events as received. */
const pii = readEnv(PiiEnv);
const deps = {
  claims: createDynamoAlertClaims({
    client: new DynamoDBClient({}),
    tableName: env.ALERTS_TABLE_NAME,
    retentionDays: env.ALERT_DEDUPE_RETENTION_DAYS,
    now: Date.now,
  }),
  publisher: createSnsAlertPublisher({ client: new SNSClient({}), topicArn: env.ALERT_TOPIC_ARN }),
  quarantine: new S3ArchiveStore(new S3Client({}), env.QUARANTINE_BUCKET_NAME),
  pin: pinOf(env),
  now: Date.now,
  logger,
  metrics,
};

/**
 * Alert-queue batch -> at most one SNS alert per (rule, event); messages retrying cannot fix are quarantined; failed
 * records are redelivered (and counted in AlertRecordsFailed), the rest acked.
 */
export const handler = middy(async (event: SQSEvent, context: Context) => {
  // Read per batch (the HMAC key is cached for five minutes), so a rotated key is picked up without a cold start; a
  // key that cannot be read fails the batch, which is retried: no alert goes out unredacted.
  const redact = await loadPiiRedactions(pii, 'alerts');
  return createAlertBatchHandler({ ...deps, redact })(event, context);
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
