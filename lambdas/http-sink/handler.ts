import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { z } from 'zod';
import { readEnv } from '../shared/env.ts';
import { AUTH0 } from '../shared/log-sources.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { prefixedArchive } from '../shared/prefixed-archive.ts';
import { S3ArchiveStore } from '../shared/s3-archive-store.ts';
import { sqsQueueSender } from '../shared/sqs-queue-sender.ts';
import { readBundledRules } from '../watchdog/bundled-rules.ts';
import { type HttpSinkDeps, receiveAuth0Post } from './receive-auth0.ts';

/**
 * The largest body accepted, decoded. A constant, not a setting: Lambda refuses a function URL request over 6 MB
 * (the whole event, headers and JSON escaping included) before this code runs, so the only choice left is how far
 * below that to answer with a 413 that says what to do; 4 MiB leaves room for the escaping of a JSON body.
 */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

const env = readEnv(
  z.object({
    /** Name or ARN of the secret holding the exact Authorization value the log stream sends; read at run time only. */
    AUTH0_HTTP_SECRET_NAME: z.string().min(1),
    INGEST_QUEUE_URL: z.url(),
    ALERT_QUEUE_URL: z.url(),
    DETECTOR_QUEUE_URL: z.url(),
    /** Unreadable bodies go under `auth0/quarantine/` in the archive bucket. */
    ARCHIVE_BUCKET_NAME: z.string().min(1),
    EXPECTED_ACCOUNT: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
    AWS_REGION: z.string().min(1),
  }),
);

const sqs = new SQSClient({});
const deps: HttpSinkDeps = {
  // Cached five minutes: a rotated value is picked up within that, without a call per request.
  expectedAuthorization: async () => {
    const secret = await getSecret(env.AUTH0_HTTP_SECRET_NAME, { maxAge: 300 });
    if (typeof secret !== 'string') throw new Error(`secret ${env.AUTH0_HTTP_SECRET_NAME} must hold a string`);
    return secret;
  },
  ingestQueue: sqsQueueSender(sqs, env.INGEST_QUEUE_URL),
  alertQueue: sqsQueueSender(sqs, env.ALERT_QUEUE_URL),
  detectorQueue: sqsQueueSender(sqs, env.DETECTOR_QUEUE_URL),
  quarantine: prefixedArchive(new S3ArchiveStore(new S3Client({}), env.ARCHIVE_BUCKET_NAME), AUTH0.archivePrefix),
  // Compiled for AUTH0_HTTP_SOURCE at synth (lib/constructs/auth0-http-sink.ts): the envelopes this sink builds.
  rules: readBundledRules(import.meta.url),
  now: Date.now,
};
const settings = { account: env.EXPECTED_ACCOUNT, region: env.AWS_REGION, maxBodyBytes: MAX_BODY_BYTES };

/** Named as lib/constructs/pipeline-alarms.ts reads them. */
const METRIC_OF_STATUS: Readonly<Record<number, string>> = {
  401: 'Auth0HttpUnauthorized',
  400: 'Auth0HttpBodyRejected',
  413: 'Auth0HttpBodyRejected',
};

/** One POST from Auth0's HTTP log stream, through the Lambda function URL -> the use case's answer. */
export const handler = middy(async (event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> => {
  const answer = await receiveAuth0Post(
    {
      // Function URLs give header names in lower case.
      headers: event.headers,
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
      requestId: event.requestContext.requestId,
    },
    deps,
    settings,
  );
  const refused = METRIC_OF_STATUS[answer.statusCode];
  if (refused === undefined) {
    metrics.addMetric('Auth0HttpRequestsAccepted', MetricUnit.Count, 1);
  } else {
    metrics.addMetric(refused, MetricUnit.Count, 1);
    logger.warn('request refused', { statusCode: answer.statusCode, requestId: event.requestContext.requestId });
  }
  return { statusCode: answer.statusCode, headers: { 'content-type': 'application/json' }, body: answer.body };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
