import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createAlertBatchHandler } from '../../../lambdas/alert/alert-records.ts';
import type { FormattedAlert } from '../../../lambdas/alert/format-alert.ts';
import {
  AlertClaimReleaseError,
  type AlertClaims,
  type AlertPublisher,
  InvalidAlertMessageError,
  parseAlertQueueMessage,
  processAlert,
} from '../../../lambdas/alert/process-alert.ts';
import type { AlertQueueMessage } from '../../../lambdas/shared/alert-message.ts';
import { OktaEnvelope } from '../../../lambdas/shared/okta-event.ts';
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

const setup = () => {
  const claims = new MemoryClaims();
  const publisher = new MemoryPublisher();
  return { claims, publisher, deps: { claims, publisher, now: () => NOW } };
};

describe('processAlert', () => {
  it('publishes once per rule and event, whatever the redeliveries and the uuid case', async () => {
    // Prepare
    const { publisher, deps } = setup();

    // Act
    const first = await processAlert(message(), deps);
    const again = await processAlert(message(), deps);
    const upper = await processAlert(message({ uuid: UUID.toUpperCase() }), deps);

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
    const outcomes = [await processAlert(message(), deps), await processAlert(other, deps)];

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
    const failed = processAlert(message(), deps);
    await expect(failed).rejects.toThrow('SNS unavailable');
    const claimsAfterFailure = claims.keys.size;
    const retry = await processAlert(message(), deps);

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
    const failed = processAlert(message(), deps);

    // Assess
    await expect(failed).rejects.toThrow(AlertClaimReleaseError);
    await expect(failed).rejects.toThrow(/was not published and its claim could not be released/);
  });

  it('refuses a detail that is not a System Log event, before claiming anything', async () => {
    // Prepare
    const { claims, deps } = setup();

    // Act
    const invalid = processAlert(message({ uuid: 'not-a-uuid' }), deps);

    // Assess
    await expect(invalid).rejects.toThrow(InvalidAlertMessageError);
    await expect(invalid).rejects.toThrow(
      'alert for rule log-stream-deactivated: detail is not an Okta System Log event: uuid: must be a UUID',
    );
    expect(claims.keys.size).toBe(0);
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
      name: 'an event from another source',
      body: JSON.stringify({
        ...message(),
        event: { ...message().event, source: 'aws.partner/auth0.com/x/auth0.logs' },
      }),
      reason: 'event.source: must start with aws.partner/okta.com/',
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

  it('reports only the records that failed, and counts published and deduplicated alerts', async () => {
    // Prepare
    const { publisher, deps } = setup();
    const metrics = new Metrics({ namespace: 'AlertTest', serviceName: 'alert-test' });
    const handle = createAlertBatchHandler({ ...deps, metrics });
    const body = JSON.stringify(message());

    // Act
    const response = await handle({
      Records: [record('m1', body), record('m2', 'garbage'), record('m3', body), record('m4', body)],
    });

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
    expect(publisher.published).toHaveLength(1);
    expect(metrics.serializeMetrics()).toMatchObject({ AlertsPublished: 1, AlertsDeduplicated: [1, 1] });
  });
});
