import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withBatchDedupe } from '../../lambdas/ingest/batch-dedupe.ts';
import { ingestEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { DynamoEventStore } from '../../lambdas/shared/dynamo-event-store.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { createKeyTable } from '../../lib/local/stand-ins.ts';
import { makeEvents } from '../support/events.ts';
import { FaultPlan } from '../support/faults.ts';
import { SETTINGS, s3Client } from '../support/pipeline.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
const now = Date.parse('2026-11-01T09:00:00.000Z');

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

describe('in-batch dedupe', () => {
  it('sends one conditional write for copies of an event in the same batch', async () => {
    // Prepare
    const table = `events-${randomUUID()}`;
    await createKeyTable(dynamo.client, table, { sortKey: true });
    const plan = new FaultPlan();
    const store = plan.wrap(new DynamoEventStore(dynamo.client, table), 'events');
    const [a, b] = makeEvents(2).map((event) => JSON.stringify(event));
    const batch = [a, b, a, a, b].map((raw) => String(raw));
    const deps = {
      events: withBatchDedupe(store),
      quarantine: new S3ArchiveStore(s3Client(fauxqs), 'unused'),
      now: () => now,
      newToken: randomUUID,
    };

    // Act
    const outcomes = await Promise.all(batch.map((raw, i) => ingestEnvelope(raw, { id: `m${i}` }, deps, SETTINGS)));
    const nextBatch = await ingestEnvelope(
      String(a),
      { id: 'm9' },
      { ...deps, events: withBatchDedupe(store) },
      SETTINGS,
    );

    // Assess
    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      'staged',
      'staged',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(plan.calls.get('events.stage')).toBe(3);
    expect(nextBatch.kind).toBe('duplicate');
  });
});
