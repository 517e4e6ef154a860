import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { pinOf, RuleConsumerEnv } from '../shared/consumer-env.ts';
import { createDynamoDetectorStore } from '../shared/dynamo-detector-store.ts';
import { readEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { S3ArchiveStore } from '../shared/s3-archive-store.ts';
import { sqsQueueSender } from '../shared/sqs-queue-sender.ts';
import { createDetectorBatchHandler } from './detector-records.ts';

const DetectorEnv = RuleConsumerEnv.extend({
  DETECTOR_TABLE_NAME: z.string().min(1),
  ALERT_QUEUE_URL: z.url(),
  /** How long a window's state outlives it, in seconds: the allowed lateness and a margin. */
  DETECTOR_KEEP_SECONDS: z.coerce.number().int().min(60),
});

const env = readEnv(DetectorEnv);
const handleBatch = createDetectorBatchHandler({
  store: createDynamoDetectorStore(new DynamoDBClient({}), env.DETECTOR_TABLE_NAME),
  alertQueue: sqsQueueSender(new SQSClient({}), env.ALERT_QUEUE_URL),
  quarantine: new S3ArchiveStore(new S3Client({}), env.QUARANTINE_BUCKET_NAME),
  pin: pinOf(env),
  keepSeconds: env.DETECTOR_KEEP_SECONDS,
  now: Date.now,
  logger,
  metrics,
});

/** Detector-queue batch -> state in DynamoDB, detections to the alert queue; failed records are redelivered. */
export const handler = middy(async (event: SQSEvent, context: Context) => handleBatch(event, context))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
