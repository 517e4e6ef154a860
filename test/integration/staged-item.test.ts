import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type BatchGetItemCommandInput,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rescueExpired } from '../../lambdas/rescue/rescue-expired.ts';
import { expiredStagedEvent } from '../../lambdas/rescue/stream-record.ts';
import { DynamoEventStore, stagedEventItem } from '../../lambdas/shared/dynamo-event-store.ts';
import { type StagedEvent, stageEvent } from '../../lambdas/shared/staged-event.ts';
import { standInClientConfig } from '../../lib/local/stand-ins.ts';
import { makeEvents } from '../support/events.ts';
import { newPipeline, SETTINGS, s3Client } from '../support/pipeline.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * The staged event's item on the events table: compressed under short names, one write unit for an Okta event, and
 * items of the shape before (uncompressed `body`) still read wherever staged items are read: sealing, late
 * supplements, the watchdog's lookup by key, and the rescue of expired items from the table's stream.
 */
let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
const start = Date.parse('2026-11-01T09:00:00.000Z');

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

/** The item as ingest wrote it before bodies were compressed. */
const legacyItem = (event: StagedEvent) => ({
  pk: { S: event.pk },
  sk: { S: event.sk },
  windowStart: { N: String(event.windowStart) },
  publishedMs: { N: String(event.publishedMs) },
  body: { S: event.body },
  dedupeUntil: { N: String(event.dedupeUntil) },
  ...(event.expiresAt === undefined ? {} : { expiresAt: { N: String(event.expiresAt) } }),
  ...(event.late ? { late: { BOOL: true } } : {}),
});

const stagedOf = (envelope: ReturnType<typeof makeEvents>[number], now: number, closedBefore: number) => {
  const detail = envelope.detail as { uuid: string; published: string };
  return stageEvent(detail, JSON.stringify(detail), SETTINGS, now, closedBefore);
};

/** An image as the table's stream hands it to Lambda: JSON, so binary values are base64 text. */
const ttlDeletion = (item: Record<string, AttributeValue>): DynamoDBRecord => ({
  eventName: 'REMOVE',
  userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
  dynamodb: {
    OldImage: Object.fromEntries(
      Object.entries(item).map(([name, value]) => [
        name,
        value.B === undefined ? value : { B: Buffer.from(value.B).toString('base64') },
      ]),
    ) as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'],
  },
});

describe('the staged item', () => {
  it('costs one write unit for an Okta event, as DynamoDB sizes items', async () => {
    // Prepare: a client that asks for the capacity each request consumed (dynalite sizes items as DynamoDB does).
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const client = new DynamoDBClient({ ...standInClientConfig(dynamo.endpoint), maxAttempts: 1 });
    const units: number[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity;
        units.push(consumed?.CapacityUnits ?? Number.NaN);
        return result;
      },
      { step: 'initialize', name: 'consumedCapacity' },
    );
    const store = new DynamoEventStore(client, p.table);
    const events = makeEvents(20, start).map((envelope) => stagedOf(envelope, start, Number.NEGATIVE_INFINITY));

    // Act
    for (const event of events) await store.stage(event);
    const stagingUnits = [...units];
    const legacyUnits = await client.send(
      new PutItemCommand({
        TableName: p.table,
        Item: legacyItem({ ...events[0], sk: 'other#key' } as StagedEvent),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    client.destroy();

    // Assess: one unit each; the same event uncompressed took two.
    expect(stagingUnits).toEqual(events.map(() => 1));
    expect(legacyUnits.ConsumedCapacity?.CapacityUnits).toBe(2);
  });

  it('seals, supplements and flags items of both shapes, each text archived byte for byte', async () => {
    // Prepare: two events staged by ingest, one on-time item of the old shape beside them in the same partitions,
    // and after sealing one late item of the old shape with its marker.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const [a, b, old, oldLate] = makeEvents(4, start + 60_000, 1_000);
    if (a === undefined || b === undefined || old === undefined || oldLate === undefined) throw new Error('4 events');
    await p.ingest(JSON.stringify(a), 'a', start + 62_000);
    await p.ingest(JSON.stringify(b), 'b', start + 62_000);
    const oldEvent = stagedOf(old, start + 62_000, Number.NEGATIVE_INFINITY);
    await dynamo.client.send(new PutItemCommand({ TableName: p.table, Item: legacyItem(oldEvent) }));
    const first = await p.seal(start + 10 * 60_000);
    const lateEvent = stagedOf(oldLate, start + 11 * 60_000, start + 5 * 60_000);
    await p.events.putLateMarker({ ...lateEvent, token: 't', writtenAt: start + 11 * 60_000 });
    await dynamo.client.send(new PutItemCommand({ TableName: p.table, Item: legacyItem(lateEvent) }));

    // Act
    const second = await p.seal(start + 20 * 60_000);
    const archive = await p.read();
    const [lookedUp] = await p.events.getStaged([lateEvent]);

    // Assess: the main part holds the three on-time texts as received, the supplement the late one, and the old late
    // item is flagged archived with its TTL started, like a new one.
    expect(first.sealed.map((window) => [window.kind, window.eventCount])).toEqual([['main', 3]]);
    expect(second.sealed.map((window) => [window.kind, window.eventCount])).toEqual([['late', 1]]);
    expect([...archive.lines].sort()).toEqual([a, b, old, oldLate].map((e) => JSON.stringify(e.detail)).sort());
    expect(lookedUp).toEqual({ ...lateEvent, archived: true, expiresAt: lateEvent.dedupeUntil });
  });

  it("answers the watchdog's lookups by key eventually consistent, keys only: half a read unit a key, found or not", async () => {
    // Arrange: a client on the same dynalite that records what each BatchGetItem asked for and what it cost.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const events = makeEvents(3, start + 60_000, 1_000);
    for (const [i, event] of events.entries()) await p.ingest(JSON.stringify(event), `m${i}`, start + 62_000);
    const client = new DynamoDBClient(standInClientConfig(dynamo.endpoint));
    const asked: Array<{ consistent: unknown; projection: unknown; units: number }> = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as BatchGetItemCommandInput;
        input.ReturnConsumedCapacity = 'TOTAL';
        const result = await next(args);
        const read = Object.values(input.RequestItems ?? {})[0];
        const consumed = (result.output as { ConsumedCapacity?: Array<{ CapacityUnits?: number }> }).ConsumedCapacity;
        asked.push({
          consistent: read?.ConsistentRead,
          projection: read?.ProjectionExpression,
          units: (consumed ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0),
        });
        return result;
      },
      { step: 'initialize', name: 'recordReads' },
    );
    const store = new DynamoEventStore(client, p.table);
    const staged = events.map((event) => {
      const { pk, sk } = stagedOf(event, start + 62_000, Number.NEGATIVE_INFINITY);
      return { pk, sk };
    });
    const absent = { pk: staged[0]?.pk ?? '', sk: 'no-such-event#0' };

    // Act
    const found = await store.lookupStaged([...staged, absent]);
    const full = await store.getStaged(staged);
    client.destroy();

    // Assess
    expect(staged).toHaveLength(3);
    expect(found).toEqual(expect.arrayContaining(staged));
    expect(found).toHaveLength(3);
    expect(full.map(({ pk, sk }) => ({ pk, sk }))).toEqual(expect.arrayContaining(staged));
    expect(asked).toEqual([
      { consistent: false, projection: '#pk, #sk', units: 2 },
      { consistent: true, projection: undefined, units: 3 },
    ]);
  });

  it("rescues expired items of both shapes from the stream's images, and stages them again in the new shape", async () => {
    // Prepare: TTL deletions of an on-time item of each shape, the window never sealed.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const [current, old] = makeEvents(2, start).map((envelope) =>
      stagedOf(envelope, start, Number.NEGATIVE_INFINITY),
    ) as [StagedEvent, StagedEvent];
    const records = [ttlDeletion(stagedEventItem(current)), ttlDeletion(legacyItem(old))];

    // Act
    const expired = records.map(expiredStagedEvent);
    const outcomes = await rescueExpired(expired as StagedEvent[], {
      events: p.events,
      newToken: randomUUID,
      now: () => start + 8 * 86_400_000,
    });
    const { Item } = await dynamo.client.send(
      new GetItemCommand({ TableName: p.table, Key: { pk: { S: old.pk }, sk: { S: old.sk } } }),
    );

    // Assess
    expect(expired).toEqual([current, old]);
    expect(outcomes).toEqual(['rescued', 'rescued']);
    const { expiresAt: _current, ...currentRest } = current;
    const { expiresAt: _old, ...oldRest } = old;
    const bySk = (x: StagedEvent, y: StagedEvent) => (x.sk < y.sk ? -1 : 1);
    expect((await p.events.getStaged([current, old])).sort(bySk)).toEqual(
      [
        { ...currentRest, late: true },
        { ...oldRest, late: true },
      ].sort(bySk),
    );
    expect(Object.keys(Item ?? {}).sort()).toEqual(['b', 'd', 'l', 'p', 'pk', 'sk']);
  });
});
