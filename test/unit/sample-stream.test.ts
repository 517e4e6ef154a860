import { describe, expect, it } from 'vitest';
import { describeIssues, OktaEnvelope, OktaEventCore } from '../../lambdas/shared/okta-event.ts';
import {
  generateSample,
  LOG_STREAM_DEACTIVATE,
  SAMPLE_ADMIN_EVENT_TYPES,
  type SampleStream,
} from '../../lib/local/sample-stream.ts';

interface Delivery {
  id: string;
  time: string;
  detail: { uuid: string; published: string; eventType: string };
}

const deliveriesOf = (sample: SampleStream): Delivery[] => sample.deliveries as Delivery[];
const uniqueOf = (sample: SampleStream) => sample.uniqueEvents as Array<Delivery['detail']>;
const sample2000 = generateSample({ count: 2000, seed: 7 });

describe('generateSample', () => {
  it('gives the same output for the same seed and another for a different seed', () => {
    // Prepare
    const options = { count: 300, seed: 42 };

    // Act
    const first = generateSample(options);
    const second = generateSample(options);
    const other = generateSample({ ...options, seed: 43 });

    // Assess
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(first));
  });

  it('delivers EventBridge envelopes whose detail validates as a System Log event', () => {
    // Prepare
    const problems: string[] = [];

    // Act
    for (const delivery of sample2000.deliveries) {
      const envelope = OktaEnvelope.safeParse(delivery);
      const event = OktaEventCore.safeParse((delivery as Delivery).detail);
      if (!envelope.success) {
        problems.push(`envelope: ${describeIssues(envelope.error)}`);
      }
      if (!event.success) {
        problems.push(`detail: ${describeIssues(event.error)}`);
      }
    }

    // Assess
    expect(problems).toEqual([]);
    const first = sample2000.deliveries[0];
    expect(first).toMatchObject({
      version: '0',
      'detail-type': 'SystemLog',
      source: 'aws.partner/okta.com/acme/okta-logs',
      account: '123456789012',
      region: 'us-east-1',
      resources: [],
    });
  });

  it('stamps each envelope with published truncated to seconds and a fresh id', () => {
    // Prepare
    const deliveries = deliveriesOf(sample2000);

    // Act
    const mismatched = deliveries.filter(({ time, detail }) => time !== `${detail.published.slice(0, 19)}Z`);
    const ids = new Set(deliveries.map(({ id }) => id));

    // Assess
    expect(mismatched).toEqual([]);
    expect(ids.size).toBe(deliveries.length);
  });

  it('holds exactly count unique events, in non-decreasing published order with some ties', () => {
    // Prepare
    const events = uniqueOf(sample2000);

    // Act
    const uuids = new Set(events.map(({ uuid }) => uuid));
    const times = events.map(({ published }) => Date.parse(published));
    const decreasing = times.filter((time, i) => i > 0 && time < (times[i - 1] ?? time));
    const ties = times.filter((time, i) => i > 0 && time === times[i - 1]);
    const seconds = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;

    // Assess
    expect(events).toHaveLength(2000);
    expect(uuids.size).toBe(2000);
    expect(decreasing).toEqual([]);
    expect(ties.length).toBeGreaterThan(0);
    expect(2000 / seconds).toBeGreaterThan(1);
    expect(2000 / seconds).toBeLessThan(20);
  });

  it('delivers every event, some twice or three times with identical detail, none more', () => {
    // Prepare
    const byUuid = new Map<string, string[]>();

    // Act
    for (const { detail } of deliveriesOf(sample2000)) {
      byUuid.set(detail.uuid, [...(byUuid.get(detail.uuid) ?? []), JSON.stringify(detail)]);
    }
    const counts = [...byUuid.values()].map((copies) => copies.length);
    const differing = [...byUuid.values()].filter((copies) => new Set(copies).size !== 1);

    // Assess
    expect(byUuid.size).toBe(2000);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
    expect(counts.filter((n) => n === 2).length).toBeGreaterThan(50);
    expect(counts.filter((n) => n === 3).length).toBeGreaterThan(5);
    expect(differing).toEqual([]);
  });

  it('has exactly one log stream deactivation, near the end', () => {
    // Prepare
    const events = uniqueOf(sample2000);

    // Act
    const positions = events.flatMap(({ eventType }, i) => (eventType === LOG_STREAM_DEACTIVATE ? [i] : []));
    const delivered = deliveriesOf(sample2000).filter(({ detail }) => detail.eventType === LOG_STREAM_DEACTIVATE);

    // Assess
    expect(positions).toHaveLength(1);
    expect(positions[0]).toBeGreaterThan(1900);
    expect(delivered).toHaveLength(1);
  });

  it('delivers out of published order, each delivery displaced by a bounded distance', () => {
    // Prepare
    const events = uniqueOf(sample2000);
    const indexOf = new Map(events.map(({ uuid }, i) => [uuid, i]));

    // Act
    const times = deliveriesOf(sample2000).map(({ detail }) => Date.parse(detail.published));
    const outOfOrder = times.filter((time, i) => i > 0 && time < (times[i - 1] ?? time)).length;
    // Arrival order of first copies, so that redeliveries do not shift the positions.
    const arrival = [...new Set(deliveriesOf(sample2000).map(({ detail }) => detail.uuid))];
    const displacement = arrival.map((uuid, position) => Math.abs(position - (indexOf.get(uuid) ?? 0)));

    // Assess
    expect(outOfOrder).toBeGreaterThan(100);
    expect(Math.max(...displacement)).toBeLessThanOrEqual(30);
  });

  it('spreads about one admin action per 50 events, every listed type at least once', () => {
    // Prepare
    const events = uniqueOf(sample2000);
    const adminTypes = new Set<string>(SAMPLE_ADMIN_EVENT_TYPES);

    // Act
    const adminPositions = events.flatMap(({ eventType }, i) => (adminTypes.has(eventType) ? [i] : []));
    const seen = new Set(events.map(({ eventType }) => eventType));
    const quarters = [0, 1, 2, 3].map((q) => adminPositions.filter((i) => Math.floor(i / 500) === q).length);

    // Assess
    for (const eventType of SAMPLE_ADMIN_EVENT_TYPES) {
      expect(seen.has(eventType), eventType).toBe(true);
    }
    expect(adminPositions.length).toBeGreaterThanOrEqual(30);
    expect(adminPositions.length).toBeLessThanOrEqual(50);
    expect(Math.min(...quarters)).toBeGreaterThan(0);
  });

  it('includes ordinary sign-in activity with both outcomes', () => {
    // Prepare
    const events = sample2000.uniqueEvents as Array<{ eventType: string; outcome: { result: string } }>;

    // Act
    const seen = new Set(events.map(({ eventType }) => eventType));
    const sessionStarts = new Set(
      events.filter(({ eventType }) => eventType === 'user.session.start').map(({ outcome }) => outcome.result),
    );

    // Assess
    for (const eventType of [
      'user.session.start',
      'user.authentication.auth_via_mfa',
      'user.mfa.factor.activate',
      'policy.evaluate_sign_on',
      'user.session.end',
      'user.authentication.sso',
    ]) {
      expect(seen.has(eventType), eventType).toBe(true);
    }
    expect([...sessionStarts].sort()).toEqual(['FAILURE', 'SUCCESS']);
  });

  it('keeps the messiness of real Okta events', () => {
    // Prepare
    const events = sample2000.uniqueEvents as Array<{
      uuid: string;
      client: { zone: unknown; id: unknown };
      debugContext: object;
      debugData?: unknown;
    }>;

    // Act
    const uppercase = events.filter(({ uuid }) => uuid !== uuid.toLowerCase());
    const emptyDebug = events.filter(({ debugContext }) => Object.keys(debugContext).length === 0);
    const stringNull = events.filter(({ client }) => client.zone === 'null' && client.id === null);

    // Assess
    expect(uppercase.length).toBeGreaterThan(0);
    expect(emptyDebug.length).toBeGreaterThan(0);
    expect(stringNull.length).toBe(events.length);
  });

  it('handles tiny counts', () => {
    // Prepare
    const sizes = [0, 1, 2, 10];

    // Act
    const samples = sizes.map((count) => generateSample({ count, seed: 1 }));

    // Assess
    expect(samples.map(({ uniqueEvents }) => uniqueEvents.length)).toEqual(sizes);
    expect(uniqueOf(samples[1] ?? { deliveries: [], uniqueEvents: [] })[0]?.eventType).toBe(LOG_STREAM_DEACTIVATE);
  });
});
