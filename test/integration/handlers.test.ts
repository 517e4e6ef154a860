import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoEventStore, stagedEventItem } from '../../lambdas/shared/dynamo-event-store.ts';
import { type StagedEvent, stageEvent } from '../../lambdas/shared/staged-event.ts';
import { createKeyTable, standInClientConfig } from '../../lib/local/stand-ins.ts';
import { compileRules, loadRules, ruleSummary } from '../../lib/rules/index.ts';
import { envelopeWith, makeEvents } from '../support/events.ts';
import { partsAreSorted, readArchive } from '../support/pipeline.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * The deployed handlers themselves (Middy, Powertools, env read at cold start, SDK clients built with no options),
 * pointed at the stand-ins through the SDK's standard endpoint variables, as the stack configures them through env.
 */
let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
let s3: S3Client;
/** The source and account of the recorded envelope the generated events copy: the stack's pinned ones here. */
const FIXTURE_SOURCE = 'aws.partner/okta.com/evership/evershipsecuritylake';
const FIXTURE_ACCOUNT = '999999999999';
const table = `events-${randomUUID()}`;
const bucket = `archive-${randomUUID()}`;
const context = {
  functionName: 'ingest',
  functionVersion: '1',
  memoryLimitInMB: '512',
  awsRequestId: 'request-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ingest',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
  s3 = new S3Client({ ...standInClientConfig(fauxqs.endpoint), forcePathStyle: true });
  await createKeyTable(dynamo.client, table, { sortKey: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_S3', fauxqs.endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'stand-in');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'stand-in');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('EVENTS_TABLE_NAME', table);
  vi.stubEnv('ARCHIVE_BUCKET_NAME', bucket);
  vi.stubEnv('WINDOW_SECONDS', '60');
  vi.stubEnv('ALLOWED_LATENESS_SECONDS', '120');
  vi.stubEnv('WINDOW_SHARDS', '4');
  vi.stubEnv('DEDUPE_RETENTION_DAYS', '7');
  // Each sequencer run here follows ingest with no writes in flight, so it may seal what it closes.
  vi.stubEnv('SEAL_GUARD_SECONDS', '0');
  vi.stubEnv('EVENT_SOURCE_NAME', FIXTURE_SOURCE);
  vi.stubEnv('EXPECTED_ACCOUNT', FIXTURE_ACCOUNT);
  vi.stubEnv('QUARANTINE_BUCKET_NAME', bucket);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  s3.destroy();
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

const sqsEvent = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `message-${i}`,
    receiptHandle: `handle-${i}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'events.amazonaws.com',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:ingest',
    awsRegion: 'us-east-1',
  })),
});

/** What the handler printed on stdout: Powertools writes its CloudWatch metrics there, in embedded metric format. */
const capturingStdout = async <T>(run: () => Promise<T>): Promise<{ result: T; stdout: string }> => {
  const chunks: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    return { result: await run(), stdout: chunks.join('') };
  } finally {
    write.mockRestore();
  }
};

describe('deployed handlers on the stand-ins', () => {
  it('ingest stages, dedupes and quarantines a batch; the sequencer archives it', async () => {
    // Prepare: events from ten minutes ago (late, since the sequencer has closed their windows), one duplicate, one
    // invalid event and forged ones: another org, another account, another detail-type, a second `detail` key.
    const events = makeEvents(5, Date.now() - 10 * 60_000, 5_000).map((event) => JSON.stringify(event));
    const invalid = JSON.stringify(envelopeWith({ uuid: 'not-a-uuid' }));
    const forged = [
      envelopeWith({}, { source: 'aws.partner/okta.com/evil/evershipsecuritylake' }),
      envelopeWith({}, { account: '111111111111' }),
      envelopeWith({}, { 'detail-type': 'SystemLogs' }),
    ].map((envelope) => JSON.stringify(envelope));
    const twoDetails = JSON.stringify(envelopeWith({})).replace('{', '{"detail":{"uuid":"forged"},');
    const { handler: ingest } = await import('../../lambdas/ingest/handler.ts');
    const { handler: sequencer } = await import('../../lambdas/sequencer/handler.ts');

    // Act
    await capturingStdout(() => sequencer({}, { ...context, functionName: 'sequencer' }));
    const { result, stdout } = await capturingStdout(() =>
      ingest(sqsEvent([...events, String(events[0]), invalid, ...forged, twoDetails]), context),
    );
    const sealed = await capturingStdout(() => sequencer({}, { ...context, functionName: 'sequencer' }));
    const archive = await readArchive(s3, bucket);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const metrics = stdout
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line));
    // A metric added several times in one flush is written as a list of values.
    const total = (name: string) =>
      metrics.reduce((sum, m) => sum + [m[name] ?? []].flat().reduce((a: number, b: number) => a + b, 0), 0);
    expect(total('EventsReceived')).toBe(11);
    expect(total('EventsStaged')).toBe(5);
    expect(total('DuplicatesDropped')).toBe(1);
    expect(total('EventsQuarantined')).toBe(5);
    expect(total('LateEvents')).toBe(5);
    expect(sealed.stdout).toMatch(/"OldestUnsealedWindowAgeSeconds":\d+/);
    expect(sealed.stdout).toContain('"SetAsideWindows":0');
    expect(metrics[0]?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'OktaLogPipeline',
      Dimensions: [['service']],
    });
    expect(metrics[0]?.service).toBe('okta-log-pipeline');
    expect(archive.lines.map((line) => JSON.parse(line).uuid).sort()).toEqual(
      events.map((event) => JSON.parse(event).detail.uuid).sort(),
    );
    expect(partsAreSorted(archive)).toBe(true);
    const reasons = archive.quarantine.map((q) => String(q.record.reason));
    expect(reasons).toHaveLength(5);
    for (const reason of [
      'uuid: must be a UUID',
      `source: must be ${FIXTURE_SOURCE}`,
      `account: must be ${FIXTURE_ACCOUNT}`,
      'detail-type',
      'key detail appears twice',
    ]) {
      expect(
        reasons.filter((r) => r.includes(reason)),
        reason,
      ).toHaveLength(1);
    }
  });

  it('alert publishes once to SNS for an event its rule matched, however often the message comes', async () => {
    // Prepare: the alert topic with an SQS subscriber, the claims table, and the message the rule target builds.
    const claims = `claims-${randomUUID()}`;
    await createKeyTable(dynamo.client, claims, { sortKey: false });
    const { TopicArn } = await fauxqs.sns.send(new CreateTopicCommand({ Name: `alerts-${randomUUID()}` }));
    const { QueueUrl } = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: `inbox-${randomUUID()}` }));
    const { Attributes } = await fauxqs.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await fauxqs.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', fauxqs.endpoint);
    vi.stubEnv('ALERTS_TABLE_NAME', claims);
    vi.stubEnv('ALERT_TOPIC_ARN', TopicArn ?? '');
    const [rule] = compileRules(loadRules(), FIXTURE_SOURCE).filter((r) => r.id === 'log-stream-deactivated');
    const event = envelopeWith(
      { eventType: 'system.log_stream.lifecycle.deactivate', displayMessage: 'Deactivate log stream' },
      { source: FIXTURE_SOURCE },
    );
    const body = JSON.stringify({ rule: rule && ruleSummary(rule), event });
    const { handler: alert } = await import('../../lambdas/alert/handler.ts');

    // Act
    const first = await capturingStdout(() => alert(sqsEvent([body, body]), context));
    const again = await capturingStdout(() => alert(sqsEvent([body]), context));
    const { Messages = [] } = await fauxqs.sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );

    // Assess
    expect(first.result).toEqual({ batchItemFailures: [] });
    expect(again.result).toEqual({ batchItemFailures: [] });
    expect(Messages).toHaveLength(1);
    const notification = JSON.parse(Messages[0]?.Body ?? '{}');
    expect(notification.Subject).toMatch(/^\[CRITICAL\] Okta: /);
    expect(notification.MessageAttributes.ruleId.Value).toBe('log-stream-deactivated');
    expect(notification.Message).toContain('lifecycle/activate');
  });

  it('rescue stages again a TTL-deleted event of an unsealed window, and lets archived ones and user deletes go', async () => {
    // Prepare: stream records as DynamoDB writes them for the events table (dynalite has no streams, so they are
    // built here): a TTL deletion of an on-time event whose window is not sealed, one of an archived event, and a
    // deletion by a user.
    const settings = { windowSeconds: 60, allowedLatenessSeconds: 120, windowShards: 4, dedupeRetentionDays: 7 };
    const [unsealed, archived, deletedByUser] = makeEvents(3, Date.now() + 30 * 60_000, 1_000).map((envelope) => {
      const detail = envelope.detail as { uuid: string; published: string };
      return stageEvent(detail, JSON.stringify(detail), settings, Date.now(), Number.NEGATIVE_INFINITY);
    }) as [StagedEvent, StagedEvent, StagedEvent];
    const record = (item: Record<string, unknown>, userIdentity?: DynamoDBRecord['userIdentity']): DynamoDBRecord => ({
      eventName: 'REMOVE',
      ...(userIdentity === undefined ? {} : { userIdentity }),
      dynamodb: { OldImage: item as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'], SequenceNumber: randomUUID() },
    });
    const ttl = { type: 'Service', principalId: 'dynamodb.amazonaws.com' };
    const stream: DynamoDBStreamEvent = {
      Records: [
        record(stagedEventItem(unsealed), ttl),
        record(stagedEventItem({ ...archived, archived: true }), ttl),
        record(stagedEventItem(deletedByUser)),
      ],
    };
    const { handler: rescue } = await import('../../lambdas/rescue/handler.ts');
    const store = new DynamoEventStore(dynamo.client, table);

    // Act
    const { result, stdout } = await capturingStdout(() => rescue(stream, { ...context, functionName: 'rescue' }));

    // Assess: only the first is staged again, late, without TTL.
    expect(result).toEqual({ batchItemFailures: [] });
    const staged = await store.getStaged([unsealed, archived, deletedByUser]);
    expect(staged.map((event) => [event.sk, event.late, event.expiresAt])).toEqual([[unsealed.sk, true, undefined]]);
    expect(stdout).toMatch(/"EventsRescued":1/);
    expect(stdout).toMatch(/"ExpiredAfterArchive":1/);
  });

  it('ingest counts the records it could not stage, since partial batch failures leave Lambda Errors at 0', async () => {
    // Prepare: the events table is gone (a real failure of the stand-in, not a mock), so every write fails.
    await dynamo.client.send(new DeleteTableCommand({ TableName: table }));
    const events = makeEvents(3, Date.now() - 60_000).map((event) => JSON.stringify(event));
    const { handler: ingest } = await import('../../lambdas/ingest/handler.ts');

    // Act
    const { result, stdout } = await capturingStdout(() => ingest(sqsEvent(events), context));

    // Assess
    expect(result).toEqual({ batchItemFailures: events.map((_, i) => ({ itemIdentifier: `message-${i}` })) });
    expect(stdout).toMatch(/"IngestRecordsFailed":3/);
  });
});
