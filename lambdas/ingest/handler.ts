import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { DynamoEventStore } from '../shared/dynamo-event-store.ts';
import { readEnv } from '../shared/env.ts';
import { sourceNamed } from '../shared/log-sources.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { prefixedArchive } from '../shared/prefixed-archive.ts';
import { S3ArchiveStore } from '../shared/s3-archive-store.ts';
import { type EventOrigin, ORIGIN_ATTRIBUTE } from '../shared/staged-event.ts';
import { StagingEnv, stagingSettings } from '../shared/staging-env.ts';
import { cachedClose } from './close-reader.ts';
import { type IngestDeps, type IngestOutcome, ingestEnvelope } from './ingest-envelope.ts';
import { withStagingMemory } from './staging-memory.ts';

const env = readEnv(
  StagingEnv.extend({
    /** The kind of log this function ingests; each source has its own queue, function and events table. */
    LOG_SOURCE: z.enum(['okta', 'auth0']).default('okta'),
    /** The sources accepted, comma-separated: the partner event source, and for Auth0 the HTTP sink's. */
    EVENT_SOURCE_NAME: z
      .string()
      .min(1)
      .transform((value) => value.split(',')),
    EXPECTED_ACCOUNT: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  }),
);
const source = sourceNamed(env.LOG_SOURCE);
const settings = stagingSettings(env);
const store = new DynamoEventStore(new DynamoDBClient({}), env.EVENTS_TABLE_NAME);
const deps: IngestDeps = {
  // Lives as long as the warm Lambda: copies of an event in this batch or a later one cost no request.
  events: withStagingMemory(store),
  closedBefore: cachedClose(() => store.readClose(), Date.now),
  quarantine: prefixedArchive(new S3ArchiveStore(new S3Client({}), env.ARCHIVE_BUCKET_NAME), source.archivePrefix),
  now: Date.now,
  newToken: randomUUID,
  pin: { source: env.EVENT_SOURCE_NAME, account: env.EXPECTED_ACCOUNT },
  source,
};
const processor = new BatchProcessor(EventType.SQS);

/**
 * The watchdog marks the events it refills from the System Log API with the message attribute `origin=backfill`.
 * Only the stack's rules, the watchdog and the redrive role may send to the queue (its policy), so the mark is theirs.
 */
const deliveryOf = (record: SQSRecord): EventOrigin =>
  record.messageAttributes[ORIGIN_ATTRIBUTE]?.stringValue === 'backfill' ? 'backfill' : 'stream';

const METRIC_OF: Record<IngestOutcome['kind'], string> = {
  staged: 'EventsStaged',
  duplicate: 'DuplicatesDropped',
  quarantined: 'EventsQuarantined',
};

const ingestRecord = async (record: SQSRecord): Promise<void> => {
  const delivery = deliveryOf(record);
  const outcome = await ingestEnvelope(record.body, { id: record.messageId }, deps, settings, delivery);
  metrics.addMetric('EventsReceived', MetricUnit.Count, 1);
  metrics.addMetric(METRIC_OF[outcome.kind], MetricUnit.Count, 1);
  if (delivery === 'backfill' && outcome.kind === 'staged') metrics.addMetric('EventsBackfilled', MetricUnit.Count, 1);
  if (outcome.kind === 'quarantined') {
    logger.warn('event quarantined', { messageId: record.messageId, reason: outcome.reason, key: outcome.key });
  } else if (outcome.event.late && outcome.kind === 'staged') {
    metrics.addMetric('LateEvents', MetricUnit.Count, 1);
  }
};

/** SQS batch of Okta EventBridge events -> staged (deduped) events; failed records are retried, the rest acked. */
export const handler = middy(async (event: SQSEvent, context: Context) => {
  const response = await processPartialResponse(event, ingestRecord, processor, {
    context,
    throwOnFullBatchFailure: false,
  });
  // Partial failures leave Lambda's Errors at 0: this metric is what the failed-records alarm watches.
  if (response.batchItemFailures.length > 0) {
    metrics.addMetric('IngestRecordsFailed', MetricUnit.Count, response.batchItemFailures.length);
    for (const error of processor.errors) logger.error('ingest record failed', { error });
  }
  return response;
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
