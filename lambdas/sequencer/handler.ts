import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { z } from 'zod';
import { DynamoEventStore } from '../shared/dynamo-event-store.ts';
import { readEnv } from '../shared/env.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { S3ArchiveStore } from '../shared/s3-archive-store.ts';
import { StagingEnv, stagingSettings } from '../shared/staging-env.ts';
import { formatWindow } from '../shared/window.ts';
import { runSequencer, type SequencerSettings } from './run-sequencer.ts';

const env = readEnv(
  StagingEnv.extend({
    SEAL_GUARD_SECONDS: z.coerce.number().int().nonnegative(),
    BACKFILL_SECONDS: z.coerce.number().int().nonnegative().default(86_400),
    MAX_WINDOWS_PER_RUN: z.coerce.number().int().positive().default(500),
  }),
);
const settings: SequencerSettings = {
  ...stagingSettings(env),
  sealGuardSeconds: env.SEAL_GUARD_SECONDS,
  backfillSeconds: env.BACKFILL_SECONDS,
  maxWindowsPerRun: env.MAX_WINDOWS_PER_RUN,
};
const deps = {
  events: new DynamoEventStore(new DynamoDBClient({}), env.EVENTS_TABLE_NAME),
  archive: new S3ArchiveStore(new S3Client({}), env.ARCHIVE_BUCKET_NAME),
};

/** Scheduled every minute: seals the windows the watermark has passed and archives late events. */
export const handler = middy(async () => {
  const report = await runSequencer(deps, settings, Date.now());
  for (const window of report.sealed) {
    metrics.addMetric(window.kind === 'main' ? 'WindowsSealed' : 'LateSupplements', MetricUnit.Count, 1);
    metrics.addMetric('EventsArchived', MetricUnit.Count, window.eventCount);
    if (window.conflicts.length > 0) logger.warn('conflicting contents for one uuid', { ...window });
  }
  logger.info('sequencer run', { sealed: report.sealed.length, nextWindow: formatWindow(report.nextWindow) });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
