import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import { z } from 'zod';
import { KmsArchiveSigner } from '../shared/digest-kms-signer.ts';
import { DynamoEventStore } from '../shared/dynamo-event-store.ts';
import { readEnv } from '../shared/env.ts';
import { sourceNamed } from '../shared/log-sources.ts';
import { loadPiiRedactions, PiiEnv } from '../shared/pii-secret.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { prefixedArchive } from '../shared/prefixed-archive.ts';
import { S3ArchiveStore } from '../shared/s3-archive-store.ts';
import { StagingEnv, stagingSettings } from '../shared/staging-env.ts';
import { formatWindow } from '../shared/window.ts';
import { runSequencer, type SequencerSettings } from './run-sequencer.ts';

const env = readEnv(
  StagingEnv.extend({
    /** The kind of log this sequencer seals: its archive, digest records included, sit under the source's prefix. */
    LOG_SOURCE: z.enum(['okta', 'auth0']).default('okta'),
    SEAL_GUARD_SECONDS: z.coerce.number().int().nonnegative(),
    MAX_WINDOWS_PER_RUN: z.coerce.number().int().positive().default(500),
    MAX_LATE_MARKERS_PER_RUN: z.coerce.number().int().positive().default(20_000),
    MAX_SUPPLEMENT_WINDOWS_PER_RUN: z.coerce.number().int().positive().default(2_000),
    /** The KMS key (ARN) that signs the archive's digest records; without it the chain is unsigned. */
    ARCHIVE_SIGNING_KEY_ID: z.string().min(1).optional(),
  }),
);
const settings: SequencerSettings = {
  ...stagingSettings(env),
  sealGuardSeconds: env.SEAL_GUARD_SECONDS,
  maxWindowsPerRun: env.MAX_WINDOWS_PER_RUN,
  maxLateMarkersPerRun: env.MAX_LATE_MARKERS_PER_RUN,
  maxSupplementWindowsPerRun: env.MAX_SUPPLEMENT_WINDOWS_PER_RUN,
};
const source = sourceNamed(env.LOG_SOURCE);
/** Archive PII redaction of this source (PII_SETTINGS with `archive: true`); absent, lines are archived as received. */
const pii = readEnv(PiiEnv);
const deps = {
  events: new DynamoEventStore(new DynamoDBClient({}), env.EVENTS_TABLE_NAME),
  archive: prefixedArchive(new S3ArchiveStore(new S3Client({}), env.ARCHIVE_BUCKET_NAME), source.archivePrefix),
  source,
  ...(env.ARCHIVE_SIGNING_KEY_ID === undefined
    ? {}
    : { signer: new KmsArchiveSigner(new KMSClient({}), env.ARCHIVE_SIGNING_KEY_ID) }),
};

/** Scheduled every minute: closes and seals windows, archives late events, reports how far behind sealing is. */
export const handler = middy(async () => {
  // Read per run (the HMAC key is cached for five minutes); a key that cannot be read fails the run before it writes.
  const redact = (await loadPiiRedactions(pii, 'archive'))[source.name];
  const report = await runSequencer({ ...deps, ...(redact === undefined ? {} : { redact }) }, settings, Date.now());
  for (const window of report.sealed) {
    metrics.addMetric(window.kind === 'main' ? 'WindowsSealed' : 'LateSupplements', MetricUnit.Count, 1);
    metrics.addMetric('EventsArchived', MetricUnit.Count, window.eventCount);
    if (window.conflicts.length > 0) logger.warn('conflicting contents for one uuid', { ...window });
  }
  for (const window of report.setAside) logger.error('window set aside', { ...window });
  // The chain's head in the logs too: an auditor can check with `olp archive verify --head` that no record after it
  // was removed, from a place the archive's writers cannot rewrite.
  if (report.digest !== undefined) logger.info('digest record written', { ...report.digest });
  // Emitted on every run: a run that does not happen leaves a gap, which the lag alarm counts as breaching.
  metrics.addMetric(
    'OldestUnsealedWindowAgeSeconds',
    MetricUnit.Seconds,
    Math.round(report.oldestUnsealedAgeMs / 1000),
  );
  metrics.addMetric('SetAsideWindows', MetricUnit.Count, report.setAsideCount);
  logger.info('sequencer run', {
    sealed: report.sealed.length,
    setAside: report.setAsideCount,
    nextWindow: formatWindow(report.nextWindow),
    moreToDo: report.moreToDo,
  });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
