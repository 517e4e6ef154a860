import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertBatchHandler } from '../../lambdas/alert/alert-records.ts';
import { createSnsAlertPublisher } from '../../lambdas/alert/sns-publisher.ts';
import { createDetectorBatchHandler } from '../../lambdas/detector/detector-records.ts';
import { createDynamoAlertClaims } from '../../lambdas/shared/dynamo-alert-claims.ts';
import { createDynamoDetectorStore } from '../../lambdas/shared/dynamo-detector-store.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { sqsQueueSender } from '../../lambdas/shared/sqs-queue-sender.ts';
import { createKeyTable, standInClientConfig } from '../../lib/local/stand-ins.ts';
import { compileRules, loadRules, parseRules } from '../../lib/rules/index.ts';
import { routeEvent } from '../../lib/rules/routing.ts';
import { sqsEvent } from '../support/sqs-event.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * The detector and alert Lambdas' code on dynalite (detector state, alert claims) and fauxqs (alert queue, topic,
 * a subscriber queue): shuffled, duplicated deliveries of a brute force make one SNS alert about the group and
 * window; suppression makes one alert per value and period; hostile group values arrive escaped.
 */

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const ACCOUNT = '111122223333';
const NOW = Date.parse('2026-11-08T12:00:00Z');

const suppressed = parseRules(
  `rules:
  - id: admin-console-once-an-hour
    title: Admin Console opened
    severity: low
    description: An admin opened the Admin Console.
    runbook: Nothing to do.
    match:
      eventType: [user.session.access_admin_app]
    suppress:
      by: actor.alternateId
      for: 1h
`,
  'suppressed.yaml',
);
const rules = compileRules([...loadRules(), ...suppressed], SOURCE);

let serial = 0;
const event = (eventType: string, published: string, user: string, result = 'FAILURE') => ({
  version: '0',
  id: `0f1e2d3c-0000-4000-8000-${String(++serial).padStart(12, '0')}`,
  'detail-type': 'SystemLog',
  source: SOURCE,
  account: ACCOUNT,
  time: published,
  region: 'us-east-1',
  resources: [],
  detail: {
    uuid: `7a6b5c4d-0000-4000-8000-${String(++serial).padStart(12, '0')}`,
    published,
    eventType,
    actor: { id: '00u1', type: 'User', alternateId: user, displayName: 'Someone' },
    client: { ipAddress: '203.0.113.9' },
    outcome: { result },
  },
});

const at = (minute: number, second = 30) => `2026-11-08T09:${String(minute).padStart(2, '0')}:${second}.000Z`;

describe('stateful rules and suppression on the stand-ins', () => {
  let dynamo: DynamoStandIn;
  let messaging: MessagingStandIn;
  let s3: S3Client;
  const queues: Record<string, string> = {};
  let topicArn = '';

  beforeAll(async () => {
    [dynamo, messaging] = await Promise.all([startDynamo(), startMessaging()]);
    s3 = new S3Client({ ...standInClientConfig(messaging.endpoint), forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
    await createKeyTable(dynamo.client, 'detector', { sortKey: true });
    await createKeyTable(dynamo.client, 'alert-claims', { sortKey: false });
    for (const name of ['alert', 'inbox']) {
      queues[name] = (await messaging.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
    }
    topicArn = (await messaging.sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn ?? '';
    const { Attributes } = await messaging.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queues.inbox, AttributeNames: ['QueueArn'] }),
    );
    await messaging.sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: Attributes?.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
  });

  afterAll(async () => {
    s3?.destroy();
    await Promise.all([dynamo?.stop(), messaging?.stop()]);
  });

  const drain = async (url: string | undefined): Promise<string[]> => {
    const bodies: string[] = [];
    for (;;) {
      const { Messages = [] } = await messaging.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }),
      );
      if (Messages.length === 0) return bodies;
      bodies.push(...Messages.map((message) => message.Body ?? ''));
    }
  };

  const pin = { source: SOURCE, account: ACCOUNT };
  const quarantine = () => new S3ArchiveStore(s3, 'archive');
  const detector = () =>
    createDetectorBatchHandler({
      store: createDynamoDetectorStore(dynamo.client, 'detector'),
      alertQueue: sqsQueueSender(messaging.sqs, queues.alert ?? ''),
      quarantine: quarantine(),
      pin,
      keepSeconds: 3600,
      now: () => NOW,
    });
  const alerter = () =>
    createAlertBatchHandler({
      claims: createDynamoAlertClaims({
        client: dynamo.client,
        tableName: 'alert-claims',
        retentionDays: 30,
        now: () => NOW,
      }),
      publisher: createSnsAlertPublisher({ client: messaging.sns, topicArn }),
      quarantine: quarantine(),
      pin,
      now: () => NOW,
    });

  /** Routes envelopes as the bus would, runs both Lambdas in batches of 10, and returns what the topic delivered. */
  const run = async (envelopes: readonly object[]) => {
    const routed = envelopes.map((envelope) => routeEvent(rules, envelope as Record<string, unknown>));
    const detections = routed.flatMap((r) => r.detections);
    for (let i = 0; i < detections.length; i += 10) {
      expect((await detector()(sqsEvent(detections.slice(i, i + 10)))).batchItemFailures).toEqual([]);
    }
    const alertBodies = [...routed.flatMap((r) => r.alerts), ...(await drain(queues.alert))];
    for (let i = 0; i < alertBodies.length; i += 10) {
      expect((await alerter()(sqsEvent(alertBodies.slice(i, i + 10)))).batchItemFailures).toEqual([]);
    }
    // A raw SQS subscriber of a MessageStructure json publish gets the structure; its `sqs` member is the JSON alert.
    const delivered = (await drain(queues.inbox)).map((body) => {
      const message = JSON.parse(body);
      return typeof message.sqs === 'string' ? JSON.parse(message.sqs) : message;
    });
    return { alertBodies, delivered };
  };

  it('makes one SNS alert about the group and window from shuffled, twice-delivered failures', async () => {
    const failures = Array.from({ length: 10 }, (_, i) => event('user.session.start', at(i), 'jane@acme.com'));
    const deliveries = [...failures, ...failures].reverse();
    const first = await run(deliveries);
    const alerts = first.delivered.filter((alert) => alert.ruleId === 'brute-force-by-user');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      published: '2026-11-08T09:00:00.000Z',
      detection: { groupBy: 'actor.alternateId', group: 'jane@acme.com', windowEnd: '2026-11-08T09:10:00.000Z' },
      subject: expect.stringContaining('jane@acme.com'),
    });
    // The detector sent each detection it saw (one per event past the count); the claim kept them to one alert.
    expect(first.alertBodies.length).toBeGreaterThanOrEqual(1);
    const again = await run(deliveries);
    expect(again.delivered.filter((alert) => alert.ruleId === 'brute-force-by-user')).toEqual([]);
  });

  it('suppresses repeats of a rule for one value of its field within one period', async () => {
    const { delivered } = await run([
      event('user.session.access_admin_app', at(1), 'admin@acme.com', 'SUCCESS'),
      event('user.session.access_admin_app', at(20), 'admin@acme.com', 'SUCCESS'),
      event('user.session.access_admin_app', at(21), 'other@acme.com', 'SUCCESS'),
      event('user.session.access_admin_app', '2026-11-08T10:05:00.000Z', 'admin@acme.com', 'SUCCESS'),
    ]);
    const alerts = delivered.filter((alert) => alert.ruleId === 'admin-console-once-an-hour');
    expect(alerts.map((alert) => alert.actor.alternateId).sort()).toEqual([
      'admin@acme.com',
      'admin@acme.com',
      'other@acme.com',
    ]);
  });

  it('shows a hostile group value escaped, in one subject line', async () => {
    const user = 'evil\u001b[31m\nuser@acme.com';
    const { delivered } = await run(
      Array.from({ length: 10 }, (_, i) => event('user.session.start', at(30 + i), user)),
    );
    const [alert] = delivered.filter((a) => a.ruleId === 'brute-force-by-user');
    expect([...(alert?.subject ?? '')].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    expect(alert?.subject).toContain('\\u001b');
  });
});
