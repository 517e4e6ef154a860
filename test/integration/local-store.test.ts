import { randomUUID } from 'node:crypto';
import { waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expiredStagedEvent } from '../../lambdas/rescue/stream-record.ts';
import { createDynamoAlertClaims } from '../../lambdas/shared/dynamo-alert-claims.ts';
import { DynamoEventStore } from '../../lambdas/shared/dynamo-event-store.ts';
import {
  type EventStore,
  LATE_MARKER_SHARDS,
  type LateMarker,
  type PendingBucket,
  type SequencerState,
} from '../../lambdas/shared/ports.ts';
import { type StagedEvent, shardOf, windowPartitionKey } from '../../lambdas/shared/staged-event.ts';
import { DynamoWatchdogStore } from '../../lambdas/watchdog/dynamo-watchdog-store.ts';
import { initialState } from '../../lambdas/watchdog/watchdog-state.ts';
import { createInProcessAlertClaims } from '../../lib/local/in-process-alert-claims.ts';
import { InProcessEventStore } from '../../lib/local/in-process-event-store.ts';
import { InProcessWatchdogStore } from '../../lib/local/in-process-watchdog-store.ts';
import { createKeyTable } from '../../lib/local/stand-ins.ts';
import { type DynamoStandIn, startDynamo } from '../support/stand-ins.ts';
import { sweepExpired } from '../support/ttl-sweeper.ts';

/**
 * The in-process stores of `olp local` against the DynamoDB adapters on dynalite: the same operations, in the same
 * order, give the same outcomes. Keys are few, so operations collide (a second stage of one key, a marker rewritten
 * under a stale token, a claim taken twice), and ids reach beyond ASCII, so lists must come in DynamoDB's byte order.
 */
let dynamo: DynamoStandIn;
beforeAll(async () => {
  dynamo = await startDynamo();
});
afterAll(async () => {
  await dynamo.stop();
});

/** A new table on dynalite, once it is ACTIVE: dynalite answers "not found" for a table still being created. */
const freshTable = async (prefix: string, options: { sortKey: boolean }): Promise<string> => {
  const name = `${prefix}-${randomUUID()}`;
  await createKeyTable(dynamo.client, name, options);
  await waitUntilTableExists({ client: dynamo.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: name });
  return name;
};

const DAY_SECONDS = 86_400;
/** Bucket starts either side of 1970 and a minute apart: sort keys offset negative times to sort as numbers. */
const BUCKETS = [-86_400_000, 1_798_000_000_000, 1_798_000_060_000];
/** Ids that sort differently as UTF-16 and as UTF-8: an astral character against U+FF21. */
const UUIDS = ['0a1b', 'zz', 'é9', '😀x', '\uff21b'];
const HASHES = ['Aa', 'b_'];
const BODIES = ['{"uuid":"x"}', '{"msg":"naïve – ✓"}'];

const keyOf = (uuid: string, hash: string, bucket: number, shard: number) => ({
  pk: windowPartitionKey(bucket, shard),
  sk: `${uuid}#${hash}`,
});

/**
 * The keys events are staged under: few, so that operations meet. Three share a partition and differ in how they sort
 * (an astral character, U+FF21, ASCII); two are one uuid with two contents.
 */
const KEYS = [
  { uuid: '😀x', hash: 'Aa', bucket: BUCKETS[1] ?? 0, shard: 0 },
  { uuid: '\uff21b', hash: 'Aa', bucket: BUCKETS[1] ?? 0, shard: 0 },
  { uuid: '0a1b', hash: 'Aa', bucket: BUCKETS[1] ?? 0, shard: 0 },
  { uuid: '0a1b', hash: 'b_', bucket: BUCKETS[1] ?? 0, shard: 0 },
  { uuid: 'zz', hash: 'Aa', bucket: BUCKETS[0] ?? 0, shard: 1 },
  { uuid: 'é9', hash: 'b_', bucket: BUCKETS[2] ?? 0, shard: 1 },
];
const dedupeUntilOf = (uuid: string, bucket: number) =>
  Math.floor(bucket / 1000) + 7 * DAY_SECONDS + UUIDS.indexOf(uuid);

/** One staged event; everything but `late` and `origin` follows from its key, as ingest makes it. */
const stagedEvent = fc
  .record({ key: fc.constantFrom(...KEYS), late: fc.boolean(), backfill: fc.boolean() })
  .map(({ key: { uuid, hash, bucket, shard }, late, backfill }): StagedEvent => {
    const dedupeUntil = dedupeUntilOf(uuid, bucket);
    return {
      ...keyOf(uuid, hash, bucket, shard),
      uuid,
      hash,
      windowStart: bucket,
      publishedMs: bucket + 1_000 * UUIDS.indexOf(uuid),
      body: BODIES[(UUIDS.indexOf(uuid) + HASHES.indexOf(hash)) % BODIES.length] ?? '',
      late,
      dedupeUntil,
      ...(late ? {} : { expiresAt: dedupeUntil }),
      ...(backfill ? { origin: 'backfill' as const } : {}),
    };
  });

const bucket = fc.record({
  bucketStart: fc.constantFrom(...BUCKETS),
  bucketSeconds: fc.constantFrom(60, 300),
  shards: fc.constantFrom(1, 2),
});

const marker = fc.record({
  event: stagedEvent,
  offsetMs: fc.constantFrom(0, 5_000),
  token: fc.constantFrom('t1', 't2'),
  writtenAt: fc.constantFrom(0, 1_798_000_000_000),
});
const markerOf = (m: { event: StagedEvent; offsetMs: number; token: string; writtenAt: number }): LateMarker => ({
  publishedMs: m.event.publishedMs + m.offsetMs,
  pk: m.event.pk,
  sk: m.event.sk,
  token: m.token,
  writtenAt: m.writtenAt,
});

const sequencerState = fc.record({
  nextWindow: fc.constantFrom(...BUCKETS),
  closedBefore: fc.constantFrom(...BUCKETS),
  setAside: fc.array(fc.constantFrom(...BUCKETS), { maxLength: 2 }),
});
const stateOf = (s: { nextWindow: number; closedBefore: number; setAside: number[] }): SequencerState => ({
  nextWindow: s.nextWindow,
  closedBefore: s.closedBefore,
  closes: [{ before: s.closedBefore, at: s.nextWindow }],
  sealableBefore: s.closedBefore,
  windowSizes: [{ from: -8_640_000_000_000_000, seconds: 60 }],
  setAside: s.setAside,
  atRisk: [],
});

const before = fc.constantFrom(...BUCKETS, (BUCKETS[2] ?? 0) + 60_000, 8_640_000_000_000_000);
const limit = fc.constantFrom(1, 2, 1000);

const operation = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('stage' as const), event: stagedEvent }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('announce' as const), bucket }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('deletePending' as const), bucket }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('listPending' as const), before, limit }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('putLateMarker' as const), marker }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('deleteLateMarker' as const), marker }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constant('listLateMarkers' as const),
      // The marker partitions the keys' uuids fall in, and one none does.
      shard: fc.constantFrom(...KEYS.map(({ uuid }) => shardOf(uuid, LATE_MARKER_SHARDS)), 15),
      before,
      limit,
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('queryPartition' as const), key: fc.constantFrom(...KEYS) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('getStaged' as const),
      events: fc.uniqueArray(stagedEvent, { maxLength: 4, selector: (e) => `${e.pk}|${e.sk}` }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('markArchived' as const), event: stagedEvent }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('putSequencerState' as const), state: sequencerState }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('readState' as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('putSetAside' as const),
      windowStart: fc.constantFrom(...BUCKETS),
      attempts: fc.nat(3),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('setAside' as const), windowStart: fc.constantFrom(...BUCKETS) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('sweep' as const),
      // Exactly at an item's expiry (not yet expired: DynamoDB deletes only what is past it), just after, much later.
      at: fc.constantFrom(
        ...KEYS.flatMap(({ uuid, bucket }) => [
          dedupeUntilOf(uuid, bucket) * 1000,
          dedupeUntilOf(uuid, bucket) * 1000 + 1000,
        ]),
        8_000_000_000_000,
      ),
    }),
    weight: 1,
  },
);
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

const byKey = (events: readonly StagedEvent[]) =>
  [...events].sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));

/** What one operation returns (or, for a write, nothing); `sweep` is DynamoDB's TTL, as each store has it. */
const apply = async (
  store: EventStore,
  op: Operation,
  sweep: (now: number) => Promise<StagedEvent[]>,
): Promise<unknown> => {
  switch (op.op) {
    case 'stage':
      return store.stage(op.event);
    case 'announce':
      return store.announce(op.bucket);
    case 'deletePending':
      return store.deletePending(op.bucket);
    case 'listPending':
      return store.listPending(op.before, op.limit);
    case 'putLateMarker':
      return store.putLateMarker(markerOf(op.marker));
    case 'deleteLateMarker':
      return store.deleteLateMarker(markerOf(op.marker));
    case 'listLateMarkers':
      return store.listLateMarkers(op.shard, op.before, op.limit);
    case 'queryPartition':
      return store.queryPartition(windowPartitionKey(op.key.bucket, op.key.shard));
    case 'getStaged':
      return byKey(await store.getStaged(op.events));
    case 'markArchived':
      return store.markArchived(op.event);
    case 'putSequencerState':
      return store.putSequencerState(stateOf(op.state));
    case 'readState':
      return { close: await store.readClose(), state: await store.getSequencerState() };
    case 'putSetAside':
      return store.putSetAside({
        windowStart: op.windowStart,
        window: String(op.windowStart),
        reason: 'ArchiveCorruptError: manifest.json is not JSON',
        step: 'seal',
        firstSetAsideAt: '2026-12-01T00:00:00.000Z',
        lastTriedAt: '2026-12-02T00:00:00.000Z',
        attempts: op.attempts,
      });
    case 'setAside': {
      const record = await store.getSetAside(op.windowStart);
      await store.deleteSetAside(op.windowStart);
      return record;
    }
    case 'sweep':
      return byKey(await sweep(op.at));
  }
};

describe('the in-process events store', () => {
  it('answers every sequence of operations as the DynamoDB events table on dynalite does', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 10, maxLength: 50 }), async (operations) => {
        // Prepare
        const table = await freshTable('events', { sortKey: true });
        const dynamoStore = new DynamoEventStore(dynamo.client, table);
        const inProcess = new InProcessEventStore();
        const dynamoSweep = async (now: number) => {
          const expired: StagedEvent[] = [];
          await sweepExpired(dynamo.client, table, now, async (record) => {
            const event = expiredStagedEvent(record);
            if (event !== undefined) expired.push(event);
          });
          return expired;
        };
        const inProcessSweep = async (now: number) => inProcess.sweepExpired(now);

        // Act and assess, operation by operation
        for (const [i, op] of operations.entries()) {
          const expected = await apply(dynamoStore, op, dynamoSweep);
          const actual = await apply(inProcess, op, inProcessSweep);
          expect({ i, op: op.op, outcome: actual }).toEqual({ i, op: op.op, outcome: expected });
        }
      }),
      { numRuns: 40, seed: 20261203 },
    );
  });
});

describe('the in-process alert claims', () => {
  it('take and give back claims as the alert-claims table on dynalite does, expiry included', async () => {
    const claimOps = fc.array(
      fc.record({
        op: fc.constantFrom('claim', 'claim', 'release'),
        ruleId: fc.constantFrom('rule-a', 'rule-b'),
        uuid: fc.constantFrom('abc-1', 'ABC-1', 'def-2'),
        advanceSeconds: fc.constantFrom(0, 1, DAY_SECONDS, DAY_SECONDS + 1),
      }),
      { minLength: 1, maxLength: 25 },
    );
    await fc.assert(
      fc.asyncProperty(claimOps, async (operations) => {
        // Prepare
        const table = await freshTable('claims', { sortKey: false });
        const clock = { now: Date.parse('2026-11-01T00:00:00Z') };
        const now = () => clock.now;
        const dynamoClaims = createDynamoAlertClaims({
          client: dynamo.client,
          tableName: table,
          retentionDays: 1,
          now,
        });
        const inProcess = createInProcessAlertClaims({ retentionDays: 1, now });

        // Act and assess
        for (const op of operations) {
          clock.now += op.advanceSeconds * 1000;
          if (op.op === 'claim') {
            expect(await inProcess.claim(op.ruleId, op.uuid)).toBe(await dynamoClaims.claim(op.ruleId, op.uuid));
          } else {
            await dynamoClaims.release(op.ruleId, op.uuid);
            await inProcess.release(op.ruleId, op.uuid);
          }
        }
      }),
      { numRuns: 15, seed: 7 },
    );
  });
});

describe('the in-process watchdog state', () => {
  it('is written only over the version the writer read, as the state item on dynalite is', async () => {
    const stateOps = fc.array(
      fc.record({
        write: fc.boolean(),
        expected: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
        checkedBefore: fc.integer({ min: 0, max: 5 }),
      }),
      { minLength: 1, maxLength: 12 },
    );
    await fc.assert(
      fc.asyncProperty(stateOps, async (operations) => {
        // Prepare
        const table = await freshTable('events', { sortKey: true });
        const dynamoState = new DynamoWatchdogStore(dynamo.client, table);
        const inProcess = new InProcessWatchdogStore();

        // Act and assess
        for (const op of operations) {
          if (op.write) {
            const state = initialState(op.checkedBefore);
            expect(await inProcess.write(state, op.expected)).toBe(await dynamoState.write(state, op.expected));
          } else {
            expect(await inProcess.read()).toEqual(await dynamoState.read());
          }
        }
      }),
      { numRuns: 15, seed: 11 },
    );
  });
});

describe('an in-process events store that forgets archived bodies', () => {
  const event = (late: boolean): StagedEvent => {
    const dedupeUntil = 1_798_600_000;
    return {
      ...keyOf('0a1b', 'Aa', BUCKETS[1] ?? 0, 0),
      uuid: '0a1b',
      hash: 'Aa',
      windowStart: BUCKETS[1] ?? 0,
      publishedMs: (BUCKETS[1] ?? 0) + 5,
      body: '{"uuid":"0a1b"}',
      late,
      dedupeUntil,
      ...(late ? {} : { expiresAt: dedupeUntil }),
    };
  };
  const sealedBucket: PendingBucket = { bucketStart: BUCKETS[1] ?? 0, bucketSeconds: 60, shards: 1 };

  it('keeps an on-time event whole until its bucket is done, then only its key, which still dedupes', async () => {
    // Prepare
    const store = new InProcessEventStore({ forgetArchivedBodies: true });
    await store.announce(sealedBucket);
    await store.stage(event(false));

    // Act
    const [before] = await store.queryPartition(event(false).pk);
    await store.deletePending(sealedBucket);
    const [after] = await store.queryPartition(event(false).pk);

    // Assess
    expect(before?.body).toBe('{"uuid":"0a1b"}');
    expect(after).toMatchObject({ sk: '0a1b#Aa', uuid: '0a1b', hash: 'Aa', expiresAt: 1_798_600_000 });
    expect(() => after?.body).toThrow(/no longer held/);
    expect(await store.stage(event(false))).toBe('duplicate');
  });

  it('keeps bodies while another pending bucket covers the same partition', async () => {
    // Prepare: the same start under two window lengths, as a layout change leaves them.
    const store = new InProcessEventStore({ forgetArchivedBodies: true });
    await store.announce(sealedBucket);
    await store.announce({ ...sealedBucket, bucketSeconds: 300 });
    await store.stage(event(false));

    // Act
    await store.deletePending(sealedBucket);

    // Assess
    expect((await store.queryPartition(event(false).pk))[0]?.body).toBe('{"uuid":"0a1b"}');
  });

  it('forgets a late event once it is flagged archived, and refuses to hand expired events to the rescue', async () => {
    // Prepare
    const store = new InProcessEventStore({ forgetArchivedBodies: true });
    await store.stage(event(true));

    // Act
    await store.markArchived(event(true));

    // Assess
    const [archived] = await store.getStaged([event(true)]);
    expect(archived).toMatchObject({ archived: true, late: true, expiresAt: 1_798_600_000 });
    expect(() => archived?.body).toThrow(/no longer held/);
    expect(() => store.sweepExpired(Date.parse('2030-01-01T00:00:00Z'))).toThrow(/cannot hand expired events/);
  });
});
