import { readFileSync } from 'node:fs';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAlertBatchHandler } from '../../lambdas/alert/alert-records.ts';
import { createSnsAlertPublisher } from '../../lambdas/alert/sns-publisher.ts';
import { alertClaimKey, createDynamoAlertClaims } from '../../lambdas/shared/dynamo-alert-claims.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { createKeyTable, standInClientConfig } from '../../lib/local/stand-ins.ts';
import { compileRules } from '../../lib/rules/compile.ts';
import { loadRules } from '../../lib/rules/load.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
/** The account of the recorded envelopes (test/fixtures/rule-cases). */
const ACCOUNT = '111122223333';
const TABLE = 'alert-claims';
const BUCKET = 'archive';
/** The start of uuids no test claims before the one that uses them. */
const UNCLAIMED = 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a1';
const NOW = Date.parse('2026-11-02T10:00:00.000Z');
const RETENTION_DAYS = 30;

const rules = new Map(compileRules(loadRules(), SOURCE).map((rule) => [rule.id, rule]));

/** The first matching envelope recorded for a default rule (test/fixtures/rule-cases). */
const recordedMatch = (ruleId: string): { detail: { uuid: string; eventType: string } } & Record<string, unknown> => {
  const cases = JSON.parse(readFileSync(new URL(`../fixtures/rule-cases/${ruleId}.json`, import.meta.url), 'utf8'));
  return cases.matches[0].envelope;
};

/** The alert-queue message the rule target would send: the rule (with its subject template) and the envelope. */
const alertQueueBody = (ruleId: string, envelope: Record<string, unknown>): string => {
  const rule = rules.get(ruleId);
  if (rule === undefined) throw new Error(`no rule ${ruleId}`);
  const { pattern: _pattern, ...summary } = rule;
  return JSON.stringify({ rule: summary, event: envelope });
};

let sequence = 0;
const sqsEvent = (...bodies: string[]): SQSEvent => ({
  Records: bodies.map((body): SQSRecord => {
    sequence += 1;
    return {
      messageId: `message-${sequence}`,
      receiptHandle: `receipt-${sequence}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(NOW),
        SenderId: 'AROAEXAMPLE:events',
        ApproximateFirstReceiveTimestamp: String(NOW),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:alert-queue',
      awsRegion: 'us-east-1',
    };
  }),
});

interface SnsEnvelope {
  Type: string;
  Subject: string | null;
  Message: string;
  MessageAttributes: Record<string, { Type: string; Value: string }>;
}

describe('alert Lambda against DynamoDB and SNS stand-ins', () => {
  let dynamo: DynamoStandIn;
  let messaging: MessagingStandIn;
  let topicArn: string;
  let inboxUrl: string;
  let s3: S3Client;

  beforeAll(async () => {
    [dynamo, messaging] = await Promise.all([startDynamo(), startMessaging()]);
    s3 = new S3Client({ ...standInClientConfig(messaging.endpoint), forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await createKeyTable(dynamo.client, TABLE, { sortKey: false });
    const topic = await messaging.sns.send(new CreateTopicCommand({ Name: 'okta-alerts' }));
    const queue = await messaging.sqs.send(new CreateQueueCommand({ QueueName: 'alert-inbox' }));
    const attributes = await messaging.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    topicArn = topic.TopicArn ?? '';
    inboxUrl = queue.QueueUrl ?? '';
    // Raw delivery off: the inbox receives SNS envelopes, with Subject and MessageAttributes.
    await messaging.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: attributes.Attributes?.QueueArn,
        Attributes: { RawMessageDelivery: 'false' },
      }),
    );
  });

  afterAll(async () => {
    s3?.destroy();
    await Promise.all([dynamo?.stop(), messaging?.stop()]);
  });

  beforeEach(() => {
    messaging.server.reset();
  });

  const handlerFor = (topic: string, metrics?: Metrics) =>
    createAlertBatchHandler({
      claims: createDynamoAlertClaims({
        client: dynamo.client,
        tableName: TABLE,
        retentionDays: RETENTION_DAYS,
        now: () => NOW,
      }),
      publisher: createSnsAlertPublisher({ client: messaging.sns, topicArn: topic }),
      quarantine: new S3ArchiveStore(s3, BUCKET),
      pin: { source: SOURCE, account: ACCOUNT },
      now: () => NOW,
      ...(metrics === undefined ? {} : { metrics }),
    });

  /** Every quarantine record in the stand-in bucket, by key. */
  const quarantined = async (): Promise<Map<string, { reason: string; raw: string; origin: unknown }>> => {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'quarantine/' }));
    const records = new Map<string, { reason: string; raw: string; origin: unknown }>();
    for (const { Key } of Contents) {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
      records.set(Key ?? '', JSON.parse((await object.Body?.transformToString()) ?? '{}'));
    }
    return records;
  };

  /** Every SNS envelope that reached the inbox so far. */
  const delivered = async (): Promise<SnsEnvelope[]> => {
    const envelopes: SnsEnvelope[] = [];
    for (;;) {
      const { Messages = [] } = await messaging.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: inboxUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return envelopes;
      envelopes.push(...Messages.map((m) => JSON.parse(m.Body ?? '') as SnsEnvelope));
    }
  };

  /**
   * What an SQS subscriber of a MessageStructure 'json' message receives. Real SNS delivers only the `sqs` entry;
   * fauxqs 1.9 delivers the whole structure, so the entry is picked out here.
   */
  const sqsPayload = (envelope: SnsEnvelope): Record<string, unknown> => {
    const message = JSON.parse(envelope.Message);
    return typeof message.sqs === 'string' ? JSON.parse(message.sqs) : message;
  };

  it('publishes one alert for an event delivered three times in a batch and again in later invocations', async () => {
    // Prepare
    const envelope = recordedMatch('admin-role-granted-to-user');
    const body = alertQueueBody('admin-role-granted-to-user', envelope);
    const handle = handlerFor(topicArn);

    // Act
    const first = await handle(sqsEvent(body, body, body));
    const second = await handle(sqsEvent(body));
    const third = await handle(sqsEvent(body, body));
    const envelopes = await delivered();

    // Assess
    expect([first, second, third]).toEqual([
      { batchItemFailures: [] },
      { batchItemFailures: [] },
      { batchItemFailures: [] },
    ]);
    expect(envelopes).toHaveLength(1);
    const [sns] = envelopes;
    expect(sns?.Type).toBe('Notification');
    expect(sns?.Subject).toBe('[HIGH] Okta: Admin role granted to jane.doe@acme.com by bob.admin@acme.com');
    expect(sns?.MessageAttributes).toEqual({
      severity: { Type: 'String', Value: 'high' },
      eventType: { Type: 'String', Value: 'user.account.privilege.grant' },
      ruleId: { Type: 'String', Value: 'admin-role-granted-to-user' },
    });
    const structure = JSON.parse(sns?.Message ?? '{}');
    expect(structure.default).toContain('Who:      Bob Admin <bob.admin@acme.com> (User)');
    expect(structure.default).toContain('To whom:  Jane Doe <jane.doe@acme.com> (User)');
    expect(structure.default).toContain('"privilegeGranted": "Super administrator"');
    expect(sqsPayload(sns as SnsEnvelope)).toMatchObject({
      ruleId: 'admin-role-granted-to-user',
      severity: 'high',
      uuid: envelope.detail.uuid,
      event: envelope.detail,
    });
  });

  it('raises a critical alert with the runbook when the log stream is deactivated, and keeps the claim', async () => {
    // Prepare
    const envelope = recordedMatch('log-stream-deactivated');
    const handle = handlerFor(topicArn);

    // Act
    const response = await handle(sqsEvent(alertQueueBody('log-stream-deactivated', envelope)));
    const envelopes = await delivered();
    const claim = await dynamo.client.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: alertClaimKey('log-stream-deactivated', envelope.detail.uuid) } },
      }),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(envelopes).toHaveLength(1);
    const [sns] = envelopes;
    expect(sns?.Subject).toBe('[CRITICAL] Okta: Log stream aws-eventbridge-acme deactivated by system@okta.com');
    expect(sns?.MessageAttributes.severity).toEqual({ Type: 'String', Value: 'critical' });
    const text: string = JSON.parse(sns?.Message ?? '{}').default;
    expect(text).toContain('CRITICAL: Okta log stream deactivated');
    expect(text).toContain('Reports > Log Streaming > the stream > Activate');
    expect(text).toContain('POST /api/v1/logStreams/{logStreamId}/lifecycle/activate');
    expect(text).toContain('okta.logStreams.manage');
    expect(sqsPayload(sns as SnsEnvelope).runbook).toContain('describe-event-source');
    expect(claim.Item?.expiresAt?.N).toBe(String(NOW / 1000 + RETENTION_DAYS * 86_400));
  });

  it('reports the record as failed when publishing fails, releases the claim, and publishes once on retry', async () => {
    // Prepare
    const envelope = recordedMatch('api-token-created');
    const body = alertQueueBody('api-token-created', envelope);
    const broken = handlerFor(topicArn.replace(/okta-alerts$/, 'no-such-topic'));
    const healthy = handlerFor(topicArn);

    // Act
    const failed = await broken(sqsEvent(body));
    const claimAfterFailure = await dynamo.client.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: alertClaimKey('api-token-created', envelope.detail.uuid) } },
      }),
    );
    const retried = await healthy(sqsEvent(body));
    const again = await healthy(sqsEvent(body));
    const envelopes = await delivered();

    // Assess
    expect(failed.batchItemFailures).toHaveLength(1);
    expect(claimAfterFailure.Item).toBeUndefined();
    expect(retried.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    expect(envelopes.map((e) => e.Subject)).toEqual([
      '[HIGH] Okta: API token terraform-ci created by bob.admin@acme.com',
    ]);
  });

  it('claims an uppercase uuid and its lowercase twin as one alert', async () => {
    // Prepare
    const envelope = recordedMatch('mfa-factors-reset');
    const upper = { ...envelope, detail: { ...envelope.detail, uuid: envelope.detail.uuid.toUpperCase() } };
    const handle = handlerFor(topicArn);

    // Act
    await handle(sqsEvent(alertQueueBody('mfa-factors-reset', envelope)));
    await handle(sqsEvent(alertQueueBody('mfa-factors-reset', upper)));
    const envelopes = await delivered();

    // Assess
    expect(envelopes).toHaveLength(1);
  });

  it('quarantines messages from a forged source, another account or another detail-type, and publishes none', async () => {
    // Prepare: an event no earlier test claimed, so a missing claim means nothing was attempted.
    const recorded = recordedMatch('admin-role-granted-to-user');
    const envelope = { ...recorded, detail: { ...recorded.detail, uuid: 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a01' } };
    const forged = [
      { ...envelope, source: 'aws.partner/okta.com/mallory/okta-logs' },
      { ...envelope, account: '999999999999' },
      { ...envelope, 'detail-type': 'SystemLogs' },
    ].map((changed) => alertQueueBody('admin-role-granted-to-user', changed));
    const handle = handlerFor(topicArn);

    // Act
    const event = sqsEvent(...forged);
    const response = await handle(event);
    const envelopes = await delivered();
    const records = await quarantined();
    const claim = await dynamo.client.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: alertClaimKey('admin-role-granted-to-user', envelope.detail.uuid) } },
      }),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(envelopes).toEqual([]);
    expect(claim.Item).toBeUndefined();
    const ids = event.Records.map((record) => record.messageId);
    expect([...records.keys()].sort()).toEqual(ids.map((id) => `quarantine/dt=2026-11-02/alert-${id}.json`).sort());
    expect(ids.map((id) => records.get(`quarantine/dt=2026-11-02/alert-${id}.json`))).toEqual([
      {
        reason: `not from the pinned source: source: must be ${SOURCE}`,
        origin: { id: `alert-${ids[0]}`, queue: 'alert', messageId: ids[0] },
        raw: forged[0],
        receivedAt: '2026-11-02T10:00:00.000Z',
      },
      expect.objectContaining({ reason: `not from the pinned source: account: must be ${ACCOUNT}`, raw: forged[1] }),
      expect.objectContaining({
        reason: expect.stringContaining('not from a known log source: detail-type and source'),
        raw: forged[2],
      }),
    ]);
  });

  it('reports every record of a batch whose publishes all fail, and counts them in AlertRecordsFailed', async () => {
    // Prepare
    const bodies = ['mfa-factors-reset', 'api-token-created', 'log-stream-deactivated'].map((ruleId, i) => {
      const envelope = recordedMatch(ruleId);
      // Events no earlier test claimed: a claimed one would be a duplicate, not a publish.
      return alertQueueBody(ruleId, { ...envelope, detail: { ...envelope.detail, uuid: `${UNCLAIMED}${i}` } });
    });
    const metrics = new Metrics({ namespace: 'AlertTest', serviceName: 'alert-test' });
    const broken = handlerFor(topicArn.replace(/okta-alerts$/, 'no-such-topic'), metrics);

    // Act
    const event = sqsEvent(...bodies);
    const response = await broken(event);
    const envelopes = await delivered();

    // Assess
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      event.Records.map((record) => record.messageId).sort(),
    );
    expect(envelopes).toEqual([]);
    expect(metrics.serializeMetrics()).toMatchObject({ AlertRecordsFailed: [1, 1, 1] });
    expect(await quarantined()).toEqual(new Map());
  });

  it('publishes, within the SNS limit, an alert for an event whose fields have unexpected shapes', async () => {
    // Prepare
    const envelope = recordedMatch('admin-role-granted-to-user');
    const detail = {
      ...envelope.detail,
      uuid: 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a99',
      actor: { id: 1, alternateId: 'bob@acme.com\nOutcome:  FAILURE', displayName: 42 },
      target: { id: '00u2', type: 'User', alternateId: 'jane@acme.com', displayName: 'Jane\u202e' },
      client: { geographicalContext: { geolocation: { lat: '41.1', lon: null } } },
      outcome: { result: 'SUCCESS', reason: { code: 7 } },
      debugContext: { debugData: { filler: '张😀\u001b'.repeat(30_000) } },
    };
    const body = alertQueueBody('admin-role-granted-to-user', { ...envelope, detail });
    const handle = handlerFor(topicArn);

    // Act
    const response = await handle(sqsEvent(body));
    const envelopes = await delivered();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(envelopes).toHaveLength(1);
    const [sns] = envelopes;
    expect(sns?.Subject).toBe('[HIGH] Okta: Admin role granted to jane@acme.com by bob@acme.com\\nOutcome: FAILURE');
    const text: string = JSON.parse(sns?.Message ?? '{}').default;
    expect(text).toContain('Who:      42 <bob@acme.com\\nOutcome:  FAILURE>\n');
    expect(text).toContain('To whom:  Jane\\u202e <jane@acme.com> (User)\n');
    expect(text).toMatch(/the archive holds the whole event, uuid c6ed294a-fef4-11ed-a5b1-bbb7c1de1a99\)$/);
    expect(sqsPayload(sns as SnsEnvelope)).toMatchObject({ uuid: detail.uuid, event: null, eventLeftOut: true });
  });
});
