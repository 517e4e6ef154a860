import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { createDynamoAlertClaims } from '../shared/dynamo-alert-claims.ts';
import { readEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { createAlertBatchHandler } from './alert-records.ts';
import { createSnsAlertPublisher } from './sns-publisher.ts';

const AlertEnv = z.object({
  ALERTS_TABLE_NAME: z.string().min(1),
  ALERT_TOPIC_ARN: z.string().startsWith('arn:', 'must be an SNS topic ARN'),
  ALERT_DEDUPE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
});

const env = readEnv(AlertEnv);
const handleBatch = createAlertBatchHandler({
  claims: createDynamoAlertClaims({
    client: new DynamoDBClient({}),
    tableName: env.ALERTS_TABLE_NAME,
    retentionDays: env.ALERT_DEDUPE_RETENTION_DAYS,
    now: Date.now,
  }),
  publisher: createSnsAlertPublisher({ client: new SNSClient({}), topicArn: env.ALERT_TOPIC_ARN }),
  now: Date.now,
  logger,
  metrics,
});

/** Alert-queue batch -> at most one SNS alert per (rule, event); failed records are redelivered, the rest acked. */
export const handler = middy(async (event: SQSEvent, context: Context) => handleBatch(event, context))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
