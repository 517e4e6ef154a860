import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoEventStore } from '../shared/dynamo-event-store.ts';
import { readEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { StagingEnv } from '../shared/staging-env.ts';
import { type RescueDeps, rescueExpired } from './rescue-expired.ts';
import { expiredStagedEvent } from './stream-record.ts';

const env = readEnv(StagingEnv);
const store = new DynamoEventStore(new DynamoDBClient({}), env.EVENTS_TABLE_NAME);
const processor = new BatchProcessor(EventType.DynamoDBStreams);

const rescueRecord = async (record: DynamoDBRecord, deps: RescueDeps): Promise<void> => {
  const event = expiredStagedEvent(record);
  if (event === undefined) return;
  const [outcome] = await rescueExpired([event], deps);
  metrics.addMetric(outcome === 'rescued' ? 'EventsRescued' : 'ExpiredAfterArchive', MetricUnit.Count, 1);
  if (outcome === 'rescued')
    logger.warn('staged event expired before it was archived: staged again', { key: event.sk });
};

/** The events table's stream, filtered to TTL deletions: stages again what expired before it was archived. */
export const handler = middy(async (event: DynamoDBStreamEvent, context: Context) => {
  // One read of the sequencer's state per batch, not per record. A state read earlier in the batch is safe: windows
  // only become sealed, and one taken for unsealed is at worst staged again and found archived.
  const state = store.getSequencerState();
  const deps: RescueDeps = {
    events: {
      getSequencerState: () => state,
      stage: (staged) => store.stage(staged),
      putLateMarker: (marker) => store.putLateMarker(marker),
    },
    newToken: randomUUID,
    now: Date.now,
  };
  return processPartialResponse(event, (record: DynamoDBRecord) => rescueRecord(record, deps), processor, { context });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
