import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type AlertRecordReport, createAlertBatchHandler } from '../../../lambdas/alert/alert-records.ts';
import type { FormattedAlert } from '../../../lambdas/alert/format-alert.ts';
import {
  AlertClaimReleaseError,
  type AlertClaims,
  type AlertPublisher,
  handleAlertMessage,
  InvalidAlertMessageError,
  parseAlertQueueMessage,
} from '../../../lambdas/alert/process-alert.ts';
import type { AlertQueueMessage } from '../../../lambdas/shared/alert-message.ts';
import type { QuarantineRecord } from '../../../lambdas/shared/archive-layout.ts';
import { OktaEnvelope, type SourcePin } from '../../../lambdas/shared/okta-event.ts';
import type { ArchiveStore } from '../../../lambdas/shared/ports.ts';
import { envelopeWith } from '../../support/events.ts';

const NOW = Date.parse('2026-11-01T09:00:05.000Z');
const UUID = 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b';

/** Claims in memory, keyed like the DynamoDB table; `failRelease` makes giving a claim back fail. */
class MemoryClaims implements AlertClaims {
  readonly keys = new Set<string>();
  failRelease = false;

  async claim(ruleId: string, uuid: string): Promise<boolean> {
    const key = `${ruleId}#${uuid.toLowerCase()}`;
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    return true;
  }

  async release(ruleId: string, uuid: string): Promise<void> {
    if (this.failRelease) throw new Error('table unavailable');
    this.keys.delete(`${ruleId}#${uuid.toLowerCase()}`);
  }
}

/** Keeps what it publishes; fails the next `failures` publishes. */
class MemoryPublisher implements AlertPublisher {
  readonly published: FormattedAlert[] = [];
  failures = 0;

  async publish(alert: FormattedAlert): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('SNS unavailable');
    }
    this.published.push(alert);
  }
}

/** Objects by key, as the quarantine prefix of the archive bucket holds them. */
class MemoryStore implements ArchiveStore {
  readonly objects = new Map<string, string>();

  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.objects.set(key, typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const body = this.objects.get(key);
    return body === undefined ? undefined : Buffer.from(body);
  }

  records(): QuarantineRecord[] {
    return [...this.objects.values()].map((body) => JSON.parse(body) as QuarantineRecord);
  }
}

/** The partner event source and account the fixture envelope comes from. */
const FIXTURE_PIN: SourcePin = {
  source: 'aws.partner/okta.com/evership/evershipsecuritylake',
  account: '999999999999',
};

const message = (detail: Record<string, unknown> = {}): AlertQueueMessage => ({
  rule: {
    id: 'log-stream-deactivated',
    title: 'Okta log stream deactivated',
    severity: 'critical',
    description: 'Okta stopped streaming.',
    runbook: 'Reactivate the stream.',
  },
  event: OktaEnvelope.parse(
    envelopeWith({ uuid: UUID, eventType: 'system.log_stream.lifecycle.deactivate', ...detail }),
  ),
});

const setup = (pin: SourcePin = {}) => {
  const claims = new MemoryClaims();
  const publisher = new MemoryPublisher();
  const quarantine = new MemoryStore();
  return { claims, publisher, quarantine, deps: { claims, publisher, quarantine, pin, now: () => NOW } };
};

/** One alert-queue message through the use case, as the alert Lambda receives it; what became of it. */
const process = async (message: AlertQueueMessage, deps: ReturnType<typeof setup>['deps']) =>
  handleAlertMessage(JSON.stringify(message), 'message-1', deps);
const processed = async (message: AlertQueueMessage, deps: ReturnType<typeof setup>['deps']) =>
  (await process(message, deps)).kind;

describe('raising an alert', () => {
  it('publishes once per rule and event, whatever the redeliveries and the uuid case', async () => {
    // Prepare
    const { publisher, deps } = setup();

    // Act
    const first = await processed(message(), deps);
    const again = await processed(message(), deps);
    const upper = await processed(message({ uuid: UUID.toUpperCase() }), deps);

    // Assess
    expect([first, again, upper]).toEqual(['published', 'duplicate', 'duplicate']);
    expect(publisher.published).toHaveLength(1);
    expect(publisher.published[0]?.subject).toBe(
      '[CRITICAL] Okta: Okta log stream deactivated: user@evership.biz by user@evership.biz',
    );
    expect(publisher.published[0]?.json.raisedAt).toBe('2026-11-01T09:00:05.000Z');
  });

  it('alerts separately for another rule on the same event', async () => {
    // Prepare
    const { publisher, deps } = setup();
    const other = { ...message(), rule: { ...message().rule, id: 'log-stream-changed', severity: 'low' as const } };

    // Act
    const outcomes = [await processed(message(), deps), await processed(other, deps)];

    // Assess
    expect(outcomes).toEqual(['published', 'published']);
    expect(publisher.published.map((alert) => alert.attributes.ruleId)).toEqual([
      'log-stream-deactivated',
      'log-stream-changed',
    ]);
  });

  it('gives the claim back when publishing fails, so the retry publishes', async () => {
    // Prepare
    const { claims, publisher, deps } = setup();
    publisher.failures = 1;

    // Act
    const failed = processed(message(), deps);
    await expect(failed).rejects.toThrow('SNS unavailable');
    const claimsAfterFailure = claims.keys.size;
    const retry = await processed(message(), deps);

    // Assess
    expect(claimsAfterFailure).toBe(0);
    expect(retry).toBe('published');
    expect(publisher.published).toHaveLength(1);
  });

  it('says so when the claim cannot be given back either', async () => {
    // Prepare
    const { claims, publisher, deps } = setup();
    publisher.failures = 1;
    claims.failRelease = true;

    // Act
    const failed = processed(message(), deps);

    // Assess
    await expect(failed).rejects.toThrow(AlertClaimReleaseError);
    await expect(failed).rejects.toThrow(/was not published and its claim could not be released/);
  });

  it('refuses a detail that is not a System Log event, before claiming anything', async () => {
    // Prepare
    const { claims, deps } = setup();

    // Act
    const invalid = await process(message({ uuid: 'not-a-uuid' }), deps);

    // Assess: refused for good (quarantined, not retried), with the reason naming the field.
    expect(invalid).toMatchObject({
      kind: 'rejected',
      reason: 'invalid System Log event in detail: uuid: must be a UUID',
    });
    expect(claims.keys.size).toBe(0);
  });
});

describe('handleAlertMessage', () => {
  const body = (changes: { envelope?: Record<string, unknown>; detail?: Record<string, unknown> } = {}): string => {
    const envelope = envelopeWith({ uuid: UUID, eventType: 'system.log_stream.lifecycle.deactivate' });
    return JSON.stringify({
      rule: message().rule,
      event: { ...envelope, ...changes.envelope, detail: { ...envelope.detail, ...changes.detail } },
    });
  };

  it('raises the alert of a message from the pinned source and account', async () => {
    // Prepare
    const { publisher, quarantine, deps } = setup(FIXTURE_PIN);

    // Act
    const outcome = await handleAlertMessage(body(), 'm1', deps);

    // Assess
    expect(outcome).toEqual({ kind: 'published', ruleId: 'log-stream-deactivated', uuid: UUID });
    expect(publisher.published).toHaveLength(1);
    expect(quarantine.objects.size).toBe(0);
  });

  it.each([
    {
      name: 'another partner event source',
      raw: () => body({ envelope: { source: 'aws.partner/okta.com/mallory/okta-logs' } }),
      reason: 'not from the pinned source: source: must be aws.partner/okta.com/evership/evershipsecuritylake',
    },
    {
      name: 'another account',
      raw: () => body({ envelope: { account: '111122223333' } }),
      reason: 'not from the pinned source: account: must be 999999999999',
    },
    {
      name: 'another detail-type',
      raw: () => body({ envelope: { 'detail-type': 'SystemLogForged' } }),
      reason: 'not from a known log source: detail-type and source must be those of an Okta or Auth0 log stream',
    },
    {
      name: 'a source that is not Okta',
      raw: () => body({ envelope: { source: 'aws.partner/example.com/x/logs' } }),
      reason: 'not from a known log source: detail-type and source must be those of an Okta or Auth0 log stream',
    },
    {
      name: 'an Auth0 source on a System Log event',
      raw: () => body({ envelope: { source: 'aws.partner/auth0.com/x/auth0.logs' } }),
      reason: 'not from a known log source',
    },
    { name: 'a body that is not JSON', raw: () => '\u001b[2Jnot json', reason: 'alert-queue message body is not JSON' },
    {
      name: 'an invalid core field',
      raw: () => body({ detail: { published: '2026-02-30T10:00:00Z' } }),
      reason: 'invalid System Log event in detail: published: must be a real date and time',
    },
  ])('quarantines, never alerts or claims, $name', async ({ raw, reason }) => {
    // Prepare
    const { claims, publisher, quarantine, deps } = setup(FIXTURE_PIN);
    const text = raw();

    // Act
    const outcome = await handleAlertMessage(text, 'm-7', deps);

    // Assess
    expect(outcome).toMatchObject({ kind: 'rejected', key: 'quarantine/dt=2026-11-01/alert-m-7.json' });
    expect(outcome.kind === 'rejected' && outcome.reason).toContain(reason);
    expect(publisher.published).toHaveLength(0);
    expect(claims.keys.size).toBe(0);
    expect(quarantine.records()).toEqual([
      {
        reason: expect.stringContaining(reason),
        origin: { id: 'alert-m-7', queue: 'alert', messageId: 'm-7' },
        raw: text,
        receivedAt: '2026-11-01T09:00:05.000Z',
      },
    ]);
  });

  it('accepts any Okta source and account when nothing is pinned (olp local without --event-source-name)', async () => {
    // Prepare
    const { publisher, deps } = setup({});

    // Act
    const outcome = await handleAlertMessage(
      body({ envelope: { source: 'aws.partner/okta.com/other/stream', account: '111122223333' } }),
      'm1',
      deps,
    );

    // Assess
    expect(outcome.kind).toBe('published');
    expect(publisher.published).toHaveLength(1);
  });

  it('lets a publishing failure propagate, for the queue to redeliver', async () => {
    // Prepare
    const { publisher, quarantine, deps } = setup(FIXTURE_PIN);
    publisher.failures = 1;

    // Act
    const failed = handleAlertMessage(body(), 'm1', deps);

    // Assess
    await expect(failed).rejects.toThrow('SNS unavailable');
    expect(quarantine.objects.size).toBe(0);
  });
});

describe('parseAlertQueueMessage', () => {
  it('keeps the rule subject template that the shared schema does not know', () => {
    // Prepare
    const body = JSON.stringify({ ...message(), rule: { ...message().rule, subject: 'Stream {target} off' } });

    // Act
    const parsed = parseAlertQueueMessage(body);

    // Assess
    expect(parsed.rule.subject).toBe('Stream {target} off');
  });

  it.each([
    { name: 'a body that is not JSON', body: 'not json', reason: 'alert-queue message body is not JSON' },
    { name: 'a body without a rule', body: JSON.stringify({ event: message().event }), reason: 'rule: ' },
    {
      name: 'an event without a source',
      body: JSON.stringify({ ...message(), event: { ...message().event, source: undefined } }),
      reason: 'event.source: ',
    },
  ])('refuses $name', ({ body, reason }) => {
    expect(() => parseAlertQueueMessage(body)).toThrow(InvalidAlertMessageError);
    expect(() => parseAlertQueueMessage(body)).toThrow(reason);
  });
});

describe('createAlertBatchHandler', () => {
  const record = (messageId: string, body: string): SQSRecord => ({
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(NOW),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(NOW),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:alerts',
    awsRegion: 'us-east-1',
  });

  it('reports only the records that failed, and counts published, deduplicated and rejected alerts', async () => {
    // Prepare
    const { publisher, quarantine, deps } = setup();
    const metrics = new Metrics({ namespace: 'AlertTest', serviceName: 'alert-test' });
    const reports: AlertRecordReport[] = [];
    const handle = createAlertBatchHandler({ ...deps, metrics, onReport: (report) => reports.push(report) });
    const body = JSON.stringify(message());
    const other = JSON.stringify(message({ uuid: 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4c' }));

    // Act
    const first = await handle({ Records: [record('m1', body), record('m2', 'garbage'), record('m3', body)] });
    publisher.failures = 1;
    const second = await handle({ Records: [record('m4', other), record('m5', body)] });

    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([{ itemIdentifier: 'm4' }]);
    expect(publisher.published).toHaveLength(1);
    expect(quarantine.objects.size).toBe(1);
    expect(metrics.serializeMetrics()).toMatchObject({
      AlertsPublished: 1,
      AlertsDeduplicated: [1, 1],
      AlertsRejected: 1,
      AlertRecordsFailed: 1,
    });
    // Records of a batch are processed concurrently: reports come in any order.
    expect(reports.sort((a, b) => a.messageId.localeCompare(b.messageId))).toEqual([
      { kind: 'published', messageId: 'm1', ruleId: 'log-stream-deactivated', uuid: UUID },
      { kind: 'rejected', messageId: 'm2', reason: 'alert-queue message body is not JSON', key: expect.any(String) },
      { kind: 'duplicate', messageId: 'm3', ruleId: 'log-stream-deactivated', uuid: UUID },
      { kind: 'failed', messageId: 'm4', reason: 'Error: SNS unavailable' },
      { kind: 'duplicate', messageId: 'm5', ruleId: 'log-stream-deactivated', uuid: UUID },
    ]);
  });

  it('counts every failed record when the whole batch fails, so the alarm fires while Lambda Errors stays 0', async () => {
    // Prepare
    const { publisher, deps } = setup();
    const metrics = new Metrics({ namespace: 'AlertTest', serviceName: 'alert-test' });
    const handle = createAlertBatchHandler({ ...deps, metrics });
    publisher.failures = 3;
    const bodies = ['c6ed294a-fef4-11ed-a5b1-bbb7c1de1a41', 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a42', UUID].map((uuid) =>
      JSON.stringify(message({ uuid })),
    );

    // Act
    const response = await handle({ Records: bodies.map((body, i) => record(`m${i}`, body)) });

    // Assess
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'm0' },
      { itemIdentifier: 'm1' },
      { itemIdentifier: 'm2' },
    ]);
    expect(metrics.serializeMetrics()).toMatchObject({ AlertRecordsFailed: [1, 1, 1] });
  });
});
