import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { withStagingMemory } from '../../lambdas/ingest/staging-memory.ts';
import { DynamoEventStore } from '../../lambdas/shared/dynamo-event-store.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { createKeyTable } from '../../lib/local/stand-ins.ts';
import { makeEvents } from '../support/events.ts';
import { type Fault, FaultPlan, InjectedFault } from '../support/faults.ts';
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

/** A fresh events table on dynalite behind a call-counting (and optionally failing) wrapper. */
const countedStore = async (fault?: Fault) => {
  const table = `events-${randomUUID()}`;
  await createKeyTable(dynamo.client, table, { sortKey: true });
  const plan = new FaultPlan(fault);
  return { plan, store: plan.wrap(new DynamoEventStore(dynamo.client, table), 'events') };
};

const ingestAll = (raws: string[], events: ReturnType<typeof withStagingMemory>) => {
  const deps = {
    events,
    quarantine: new S3ArchiveStore(s3Client(fauxqs), 'unused'),
    now: () => now,
    newToken: randomUUID,
    closedBefore: async () => undefined,
    pin: {},
  };
  return Promise.all(raws.map((raw, i) => ingestEnvelope(raw, { id: `m${i}` }, deps, SETTINGS)));
};

describe('staging memory', () => {
  const [a = '', b = '', c = ''] = makeEvents(3).map((event) => JSON.stringify(event));

  it('sends one conditional write per event for copies in the same batch and in later ones', async () => {
    // Prepare
    const { plan, store } = await countedStore();
    const memory = withStagingMemory(store);

    // Act
    const first = await ingestAll([a, b, a, a, b], memory);
    const later = await ingestAll([a, b], memory);
    const elsewhere = await ingestAll([a], withStagingMemory(store)); // another Lambda, no memory of these

    // Assess
    expect(first.map((outcome) => outcome.kind)).toEqual(['staged', 'staged', 'duplicate', 'duplicate', 'duplicate']);
    expect(later.map((outcome) => outcome.kind)).toEqual(['duplicate', 'duplicate']);
    expect(elsewhere.map((outcome) => outcome.kind)).toEqual(['duplicate']);
    expect(plan.calls.get('events.stage')).toBe(3);
    // One announcement of the events' bucket per process, however many events it stages there.
    expect(plan.calls.get('events.announce')).toBe(2);
  });

  it('forgets a key whose write failed, so the redelivery writes it', async () => {
    // Prepare
    const { plan, store } = await countedStore({ store: 'events', method: 'stage', nth: 1, phase: 'before' });
    const memory = withStagingMemory(store);

    // Act
    const failed = await Promise.allSettled(
      [a, a].map((raw) =>
        ingestEnvelope(
          raw,
          { id: 'm' },
          {
            events: memory,
            quarantine: new S3ArchiveStore(s3Client(fauxqs), 'x'),
            now: () => now,
            newToken: randomUUID,
            closedBefore: async () => undefined,
            pin: {},
          },
          SETTINGS,
        ),
      ),
    );
    const retried = await ingestAll([a], memory);

    // Assess
    expect(failed.map((result) => result.status === 'rejected' && result.reason instanceof InjectedFault)).toEqual([
      true,
      true,
    ]);
    expect(retried.map((outcome) => outcome.kind)).toEqual(['staged']);
    expect(plan.calls.get('events.stage')).toBe(2);
  });

  it('remembers only the most recent keys, and DynamoDB still catches an evicted one', async () => {
    // Prepare
    const { plan, store } = await countedStore();
    const memory = withStagingMemory(store, 2);

    // Act
    await ingestAll([a], memory);
    await ingestAll([b], memory);
    await ingestAll([c], memory);
    const evicted = await ingestAll([a], memory);
    const remembered = await ingestAll([c], memory);

    // Assess
    expect(evicted.map((outcome) => outcome.kind)).toEqual(['duplicate']);
    expect(remembered.map((outcome) => outcome.kind)).toEqual(['duplicate']);
    expect(plan.calls.get('events.stage')).toBe(4);
  });
});
