import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { type AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoEventStore, toStaged } from '../shared/dynamo-event-store.ts';
import { readEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { StagingEnv } from '../shared/staging-env.ts';
import { rescueExpired } from './rescue-expired.ts';

const env = readEnv(StagingEnv);
const deps = {
  events: new DynamoEventStore(new DynamoDBClient({}), env.EVENTS_TABLE_NAME),
  newToken: randomUUID,
};
const processor = new BatchProcessor(EventType.DynamoDBStreams);

/** A staged event that DynamoDB's TTL deleted; anything else on the stream is not this function's business. */
export const expiredStagedEvent = (record: DynamoDBRecord) => {
  const image = record.dynamodb?.OldImage as Record<string, AttributeValue> | undefined;
  const ttlDeletion = record.eventName === 'REMOVE' && record.userIdentity?.type === 'Service';
  if (!ttlDeletion || image?.pk?.S?.startsWith('w#') !== true) return undefined;
  return toStaged(image);
};

const rescueRecord = async (record: DynamoDBRecord): Promise<void> => {
  const event = expiredStagedEvent(record);
  if (event === undefined) return;
  const [outcome] = await rescueExpired([event], deps);
  metrics.addMetric(outcome === 'rescued' ? 'EventsRescued' : 'ExpiredAfterArchive', MetricUnit.Count, 1);
  if (outcome === 'rescued') logger.warn('staged event expired before it was archived: staged again', { key: event.sk });
};

/** The events table's stream, filtered to TTL deletions: stages again what expired before it was archived. */
export const handler = middy(async (event: DynamoDBStreamEvent, context: Context) =>
  processPartialResponse(event, rescueRecord, processor, { context }),
)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
