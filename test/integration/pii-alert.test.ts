import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAlertBatchHandler } from '../../lambdas/alert/alert-records.ts';
import { createSnsAlertPublisher } from '../../lambdas/alert/sns-publisher.ts';
import { createDynamoAlertClaims } from '../../lambdas/shared/dynamo-alert-claims.ts';
import { type PiiSources, piiRedactions } from '../../lambdas/shared/pii.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { createKeyTable, standInClientConfig } from '../../lib/local/stand-ins.ts';
import { sqsEvent as recordsOf } from '../support/sqs-event.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * The alert Lambda's code with PII settings, on dynalite (claims) and fauxqs (SNS topic, SQS subscriber, S3
 * quarantine): what a subscriber receives (subject, every copy of the message, attributes) holds none of the
 * event's personal data, for both sources; hashed values are the keyed HMAC of the originals.
 */

const KEY = Buffer.from('0123456789abcdef0123456789abcdef-test-key');
const hmac = (value: string) => `hmac-sha256:${createHmac('sha256', KEY).update(value).digest('hex')}`;
const NOW = Date.parse('2026-11-09T10:00:00.000Z');

type Envelope = Record<string, unknown> & { detail: Record<string, unknown> };

const recorded = (path: string): Envelope =>
  JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')).matches[0].envelope;

/** The alert-queue message a rule target sends: the rule's summary and the matched event. */
const alertBody = (ruleId: string, envelope: Envelope, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    rule: {
      id: ruleId,
      title: 'Admin role granted',
      severity: 'high',
      description: 'Someone was made an administrator.',
      runbook: 'Check who granted it.',
    },
    event: envelope,
    ...extra,
  });

const sqsEvent = (...bodies: string[]): SQSEvent => recordsOf(bodies, NOW);

interface SnsEnvelope {
  Subject: string | null;
  Message: string;
  MessageAttributes: Record<string, { Type: string; Value: string }>;
}

/** The personal data of the two recorded events: none of it may reach a subscriber. */
const OKTA_PII = ['bob.admin@acme.com', 'Bob Admin', 'jane.doe@acme.com', 'Jane Doe', '198.51.100.24', 'Lisbon'];
const AUTH0_PII = ['jane@acme.example', '203.0.113.45'];

describe('alert Lambda with PII settings, against SNS, SQS and DynamoDB stand-ins', () => {
  let dynamo: DynamoStandIn;
  let messaging: MessagingStandIn;
  let s3: S3Client;
  let topicArn: string;
  let inboxUrl: string;
  let table = 0;

  beforeAll(async () => {
    [dynamo, messaging] = await Promise.all([startDynamo(), startMessaging()]);
    s3 = new S3Client({ ...standInClientConfig(messaging.endpoint), forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
    topicArn = (await messaging.sns.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn ?? '';
    inboxUrl = (await messaging.sqs.send(new CreateQueueCommand({ QueueName: 'inbox' }))).QueueUrl ?? '';
    const { Attributes } = await messaging.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: inboxUrl, AttributeNames: ['QueueArn'] }),
    );
    await messaging.sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }),
    );
  });

  afterAll(async () => {
    s3?.destroy();
    await Promise.all([dynamo?.stop(), messaging?.stop()]);
  });

  beforeEach(() => {
    messaging.server.reset();
  });

  /** The alert batch handler with these PII settings, on a claims table of its own (each test raises anew). */
  const handlerWith = async (sources: PiiSources) => {
    table += 1;
    await createKeyTable(dynamo.client, `claims-${table}`, { sortKey: false });
    return createAlertBatchHandler({
      claims: createDynamoAlertClaims({
        client: dynamo.client,
        tableName: `claims-${table}`,
        retentionDays: 30,
        now: () => NOW,
      }),
      publisher: createSnsAlertPublisher({ client: messaging.sns, topicArn }),
      quarantine: new S3ArchiveStore(s3, 'archive'),
      pin: {},
      now: () => NOW,
      redact: piiRedactions(sources, KEY, 'alerts'),
    });
  };

  /** Every SNS notification the subscriber queue received, as the subscriber sees it. */
  const delivered = async (): Promise<SnsEnvelope[]> => {
    const envelopes: SnsEnvelope[] = [];
    for (;;) {
      const { Messages = [] } = await messaging.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: inboxUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return envelopes;
      envelopes.push(...Messages.map((message) => JSON.parse(message.Body ?? '') as SnsEnvelope));
    }
  };

  /** Everything a subscriber can read of one notification: subject, every copy of the message, attributes. */
  const everything = (sns: SnsEnvelope): string => {
    const structure = JSON.parse(sns.Message) as Record<string, string>;
    return [sns.Subject ?? '', ...Object.values(structure), JSON.stringify(sns.MessageAttributes)].join('\n');
  };

  /** The JSON alert machines receive (fauxqs delivers the whole structure; SNS would deliver its `sqs` entry). */
  const machineCopy = (sns: SnsEnvelope) => JSON.parse(JSON.parse(sns.Message).sqs);

  it('publishes Okta alerts whose subject, text, JSON and event carry hashes, never the values', async () => {
    // Prepare
    const envelope = recorded('rule-cases/admin-role-granted-to-user.json');
    const handle = await handlerWith({
      okta: { fields: ['username', 'name', 'email', 'ip', 'location'], method: 'hash', archive: false },
    });

    // Act
    const response = await handle(sqsEvent(alertBody('admin-role-granted-to-user', envelope)));
    const [sns, ...more] = await delivered();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(more).toEqual([]);
    if (sns === undefined) throw new Error('no alert published');
    const text = everything(sns);
    for (const value of OKTA_PII) expect(text).not.toContain(value);
    // The subject names the target by its hash, cut to SNS's 99 characters.
    const subject = `[HIGH] Okta: Admin role granted: ${hmac('jane.doe@acme.com')}`;
    expect(sns.Subject).toBe(`${subject.slice(0, 96)}...`);
    const alert = machineCopy(sns);
    expect(alert.actor.alternateId).toBe(hmac('bob.admin@acme.com'));
    expect(alert.event.target[0].displayName).toBe(hmac('Jane Doe'));
    expect(alert.event.client.geographicalContext.geolocation).toEqual({ lat: null, lon: null });
    // What rules and analysts need stays: identity, type, the privilege granted.
    expect(alert.uuid).toBe(envelope.detail.uuid);
    expect(sns.MessageAttributes.eventType?.Value).toBe('user.account.privilege.grant');
    expect(alert.event.debugContext.debugData.privilegeGranted).toBe('Super administrator');
  });

  it('carries the raw values without settings, so the checks above can fail', async () => {
    const handle = await handlerWith({});
    await handle(
      sqsEvent(alertBody('admin-role-granted-to-user', recorded('rule-cases/admin-role-granted-to-user.json'))),
    );
    const [sns] = await delivered();
    if (sns === undefined) throw new Error('no alert published');
    const text = everything(sns);
    for (const value of OKTA_PII) expect(text).toContain(value);
  });

  it("publishes Auth0 alerts masked with Auth0's field names, in the view and the log", async () => {
    // Prepare
    const envelope = recorded('auth0/auth0-failed-login.json');
    const handle = await handlerWith({
      auth0: { fields: ['username', 'email', 'data.ip'], method: 'mask', archive: false },
    });

    // Act
    await handle(sqsEvent(alertBody('auth0-failed-login', envelope)));
    const [sns] = await delivered();

    // Assess
    if (sns === undefined) throw new Error('no alert published');
    const text = everything(sns);
    for (const value of AUTH0_PII) expect(text).not.toContain(value);
    expect(sns.Subject).toContain('***@acme.example');
    const alert = machineCopy(sns);
    expect(alert.actor.alternateId).toBe('***@acme.example');
    expect(alert.event.data.user_name).toBe('***@acme.example');
    expect(alert.event.data.ip).toBe('***');
    expect(alert.event.log_id).toBe(envelope.detail.log_id);
  });

  it('redacts the values a distinct-threshold finding lists, as the field they were read from', async () => {
    // Prepare
    const envelope = recorded('rule-cases/admin-role-granted-to-user.json');
    const handle = await handlerWith({ okta: { fields: ['ip'], method: 'hash', archive: false } });
    const detection = {
      key: '7a1f6a52-3c1d-5b7e-9a0b-1c2d3e4f5a6b',
      groupBy: 'actor.alternateId',
      group: 'bob.admin@acme.com',
      windowStart: '2026-11-02T09:00:00.000Z',
      windowEnd: '2026-11-02T09:10:00.000Z',
      finding: 'at least 3 distinct client.ipAddress: 198.51.100.1, 198.51.100.2, 198.51.100.3, ... (2 more)',
    };

    // Act
    await handle(sqsEvent(alertBody('admin-grants-from-ips', envelope, { detection })));
    const [sns] = await delivered();

    // Assess
    if (sns === undefined) throw new Error('no alert published');
    expect(everything(sns)).not.toMatch(/198\.51\.100\./);
    expect(machineCopy(sns).detection).toMatchObject({
      // Not an `ip` field: the group stays.
      group: 'bob.admin@acme.com',
      finding:
        `at least 3 distinct client.ipAddress: ${hmac('198.51.100.1')}, ${hmac('198.51.100.2')}, ` +
        `${hmac('198.51.100.3')}, ... (2 more)`,
    });
  });

  it('redacts what a detection read from events: its group, as the field it was read from', async () => {
    // Prepare
    const envelope = recorded('rule-cases/admin-role-granted-to-user.json');
    const handle = await handlerWith({ okta: { fields: ['username', 'email'], method: 'hash', archive: false } });
    const detection = {
      key: '6f1f6a52-3c1d-5b7e-9a0b-1c2d3e4f5a6b',
      groupBy: 'actor.alternateId',
      group: 'bob.admin@acme.com',
      windowStart: '2026-11-02T09:00:00.000Z',
      windowEnd: '2026-11-02T09:10:00.000Z',
      finding: 'at least 3 of: grants by bob.admin@acme.com',
    };

    // Act
    const response = await handle(sqsEvent(alertBody('admin-grants-burst', envelope, { detection })));
    const [sns] = await delivered();

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    if (sns === undefined) throw new Error('no alert published');
    expect(everything(sns)).not.toContain('bob.admin@acme.com');
    expect(machineCopy(sns).detection).toMatchObject({
      group: hmac('bob.admin@acme.com'),
      finding: `at least 3 of: grants by ${hmac('bob.admin@acme.com')}`,
    });
  });
});
