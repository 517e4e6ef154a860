import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type EventStore,
  LATE_MARKER_SHARDS,
  type LateMarker,
  type PendingBucket,
  type SequencerState,
  type SetAsideRecord,
  type StagedKey,
} from './ports.ts';
import { decodeStagedBody, encodeStagedBody } from './staged-body.ts';
import { type StagedEvent, shardOf, splitEventKey } from './staged-event.ts';

/**
 * The events table on DynamoDB (partition key `pk`, sort key `sk`, TTL attribute `expiresAt`). Items are marshalled
 * by hand: the ingest hot path does one PutItem per event and nothing else.
 *
 *   pk = w#<bucket start>#<shard>   sk = <uuid>#<hash>                      a staged event (and its dedupe record)
 *   pk = pending                    sk = <bucket start>#<seconds>#<shards>   a staging bucket with unsealed events
 *   pk = late#<0-15>                sk = <published>#<event pk>|<event sk>   a late marker
 *   pk = sequencer                  sk = state                              the sequencer's progress
 *   pk = set-aside                  sk = <window start>                     a window the sequencer could not seal
 *
 * Times in sort keys are offset and zero-padded so that they sort as numbers, negative years included.
 *
 * A staged event's item is kept within one write unit (1 KB, attribute names included), since each costs a write on
 * the hot path and a read at sealing: its text compressed (staged-body.ts) under one-letter names, and nothing the key
 * already says (the bucket start is in `pk`):
 *
 *   b  binary   the event's text (staged-body.ts)     expiresAt  number  TTL (epoch s), on time or once archived
 *   p  number   published (epoch ms)                  d  number  dedupeUntil, only where it differs from expiresAt
 *   l  bool     staged late (only when true)          a  bool    archived by the sequencer (only when true)
 *   o  string   `backfill`, when refilled
 *
 * Items written before this shape (`body`, `windowStart`, `publishedMs`, `dedupeUntil`, `late`, `archived`, `origin`)
 * stay until their TTL and are read as before; an old item the sequencer flags archived gets `a`.
 */
const PENDING = 'pending';
const SET_ASIDE = 'set-aside';
const STATE = { pk: { S: 'sequencer' }, sk: { S: 'state' } };
const lateMarkerPartition = (shard: number): string => `late#${shard}`;

/** An epoch-ms instant as a fixed-width string that sorts like the number. */
export const sortableTime = (ms: number): string => String(ms + 1e16).padStart(17, '0');

type Item = Record<string, AttributeValue>;

const str = (item: Item, name: string): string => {
  const value = item[name]?.S;
  if (value === undefined) throw new TypeError(`events table item is missing string attribute ${name}`);
  return value;
};
const num = (item: Item, name: string): number => {
  const value = item[name]?.N;
  if (value === undefined) throw new TypeError(`events table item is missing number attribute ${name}`);
  return Number(value);
};
const optionalNum = (item: Item, name: string): number | undefined => {
  const value = item[name]?.N;
  return value === undefined ? undefined : Number(value);
};

/** The bucket start a staged event's partition key names (`w#<bucket start>#<shard>`). */
const bucketStartOf = (pk: string): number => {
  const start = Number(pk.split('#')[1]);
  if (!pk.startsWith('w#') || !Number.isSafeInteger(start)) {
    throw new TypeError(`events table item ${pk} is not in a staging partition (w#<bucket start>#<shard>)`);
  }
  return start;
};

const flag = (item: Item, name: string, legacyName: string): boolean =>
  item[name]?.BOOL === true || item[legacyName]?.BOOL === true;

/** A staged event from its item, in the current shape or the one before it. */
export const toStaged = (item: Item): StagedEvent => {
  const pk = str(item, 'pk');
  const sk = str(item, 'sk');
  const stored = item.b?.B;
  const expiresAt = optionalNum(item, 'expiresAt');
  const origin = item.o?.S ?? item.origin?.S;
  return {
    pk,
    sk,
    ...splitEventKey(sk),
    windowStart: optionalNum(item, 'windowStart') ?? bucketStartOf(pk),
    publishedMs: optionalNum(item, 'p') ?? num(item, 'publishedMs'),
    body: stored === undefined ? str(item, 'body') : decodeStagedBody(stored),
    late: flag(item, 'l', 'late'),
    // Items staged before `dedupeUntil` existed carry only their TTL.
    dedupeUntil: optionalNum(item, 'd') ?? optionalNum(item, 'dedupeUntil') ?? expiresAt ?? 0,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(flag(item, 'a', 'archived') ? { archived: true } : {}),
    ...(origin === 'backfill' ? { origin } : {}),
  };
};

/** The item of a staged event, as written on the ingest hot path. */
export const stagedEventItem = (event: StagedEvent): Item => {
  const item: Item = {
    pk: { S: event.pk },
    sk: { S: event.sk },
    b: { B: encodeStagedBody(event.body) },
    p: { N: String(event.publishedMs) },
  };
  if (event.expiresAt !== undefined) item.expiresAt = { N: String(event.expiresAt) };
  if (event.dedupeUntil !== event.expiresAt) item.d = { N: String(event.dedupeUntil) };
  if (event.late) item.l = { BOOL: true };
  if (event.archived === true) item.a = { BOOL: true };
  if (event.origin !== undefined) item.o = { S: event.origin };
  return item;
};

const pendingKey = (bucket: PendingBucket) => ({
  pk: { S: PENDING },
  sk: { S: `${sortableTime(bucket.bucketStart)}#${bucket.bucketSeconds}#${bucket.shards}` },
});

/** A marker's partition follows its event's uuid, so a rewrite of the marker lands on the same key. */
const markerKey = (marker: Pick<LateMarker, 'publishedMs' | 'pk' | 'sk'>) => ({
  pk: { S: lateMarkerPartition(shardOf(splitEventKey(marker.sk).uuid, LATE_MARKER_SHARDS)) },
  sk: { S: `${sortableTime(marker.publishedMs)}#${marker.pk}|${marker.sk}` },
});

const setAsideKey = (windowStart: number) => ({ pk: { S: SET_ASIDE }, sk: { S: sortableTime(windowStart) } });

/** BatchGetItem's limit per request. */
const BATCH_GET = 100;

export class DynamoEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async stage(event: StagedEvent): Promise<'staged' | 'duplicate'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: stagedEventItem(event),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'staged';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw error;
    }
  }

  async announce(bucket: PendingBucket): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...pendingKey(bucket),
          bucketStart: { N: String(bucket.bucketStart) },
          bucketSeconds: { N: String(bucket.bucketSeconds) },
          shards: { N: String(bucket.shards) },
        },
      }),
    );
  }

  async putLateMarker(marker: LateMarker): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...markerKey(marker),
          publishedMs: { N: String(marker.publishedMs) },
          eventPk: { S: marker.pk },
          eventSk: { S: marker.sk },
          token: { S: marker.token },
          writtenAt: { N: String(marker.writtenAt) },
        },
      }),
    );
  }

  async readClose(): Promise<number | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: STATE,
        ConsistentRead: true,
        ProjectionExpression: 'closedBefore',
      }),
    );
    return Item === undefined ? undefined : optionalNum(Item, 'closedBefore');
  }

  async getSequencerState(): Promise<SequencerState | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: STATE, ConsistentRead: true }),
    );
    return Item?.state?.S === undefined ? undefined : (JSON.parse(Item.state.S) as SequencerState);
  }

  async putSequencerState(state: SequencerState): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...STATE,
          // Readable at a glance, and what ingest reads without the rest.
          nextWindow: { N: String(state.nextWindow) },
          closedBefore: { N: String(state.closedBefore) },
          state: { S: JSON.stringify(state) },
        },
      }),
    );
  }

  async listPending(before: number, limit: number): Promise<PendingBucket[]> {
    const items = await this.query(
      {
        KeyConditionExpression: 'pk = :pk AND sk < :before',
        ExpressionAttributeValues: { ':pk': { S: PENDING }, ':before': { S: sortableTime(before) } },
      },
      limit,
    );
    return items.map((item) => ({
      bucketStart: num(item, 'bucketStart'),
      bucketSeconds: num(item, 'bucketSeconds'),
      shards: num(item, 'shards'),
    }));
  }

  async deletePending(bucket: PendingBucket): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: pendingKey(bucket) }));
  }

  async queryPartition(pk: string): Promise<StagedEvent[]> {
    return (
      await this.query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } })
    ).map(toStaged);
  }

  async getStaged(keys: ReadonlyArray<StagedKey>): Promise<StagedEvent[]> {
    return (await this.batchGet(keys, { consistent: true })).map(toStaged);
  }

  async lookupStaged(keys: ReadonlyArray<StagedKey>): Promise<StagedKey[]> {
    return (await this.batchGet(keys, { consistent: false, keysOnly: true })).map((item) => ({
      pk: item.pk?.S ?? '',
      sk: item.sk?.S ?? '',
    }));
  }

  /** The items with these keys that exist, 100 keys a request, unprocessed keys retried with backoff. */
  private async batchGet(
    keys: ReadonlyArray<StagedKey>,
    options: { readonly consistent: boolean; readonly keysOnly?: boolean },
  ): Promise<Item[]> {
    const found: Item[] = [];
    const read = {
      ConsistentRead: options.consistent,
      ...(options.keysOnly === true
        ? { ProjectionExpression: '#pk, #sk', ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' } }
        : {}),
    };
    for (let i = 0; i < keys.length; i += BATCH_GET) {
      let request: BatchGetItemCommandInput['RequestItems'] = {
        [this.tableName]: {
          Keys: keys.slice(i, i + BATCH_GET).map((key) => ({ pk: { S: key.pk }, sk: { S: key.sk } })),
          ...read,
        },
      };
      for (let attempt = 0; request !== undefined; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 2000)));
        const response: BatchGetItemCommandOutput = await this.client.send(
          new BatchGetItemCommand({ RequestItems: request }),
        );
        found.push(...(response.Responses?.[this.tableName] ?? []));
        const unprocessed: { Keys?: Item[] } | undefined = response.UnprocessedKeys?.[this.tableName];
        request =
          unprocessed?.Keys !== undefined && unprocessed.Keys.length > 0
            ? { [this.tableName]: { Keys: unprocessed.Keys, ...read } }
            : undefined;
      }
    }
    return found;
  }

  async markArchived(event: StagedEvent): Promise<void> {
    await this.client
      .send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: event.pk }, sk: { S: event.sk } },
          UpdateExpression: 'SET a = :true, expiresAt = :expires',
          // Never recreate an item that is gone: an update would otherwise write a bodiless item.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':true': { BOOL: true }, ':expires': { N: String(event.dedupeUntil) } },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  async listLateMarkers(shard: number, before: number, limit: number): Promise<LateMarker[]> {
    const items = await this.query(
      {
        KeyConditionExpression: 'pk = :pk AND sk < :before',
        ExpressionAttributeValues: {
          ':pk': { S: lateMarkerPartition(shard) },
          ':before': { S: sortableTime(before) },
        },
      },
      limit,
    );
    return items.map((item) => ({
      publishedMs: num(item, 'publishedMs'),
      pk: str(item, 'eventPk'),
      sk: str(item, 'eventSk'),
      token: str(item, 'token'),
      writtenAt: optionalNum(item, 'writtenAt') ?? 0,
    }));
  }

  async deleteLateMarker(marker: LateMarker): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: markerKey(marker),
          ConditionExpression: '#token = :token',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':token': { S: marker.token } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async putSetAside(record: SetAsideRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...setAsideKey(record.windowStart), record: { S: JSON.stringify(record) } },
      }),
    );
  }

  async getSetAside(windowStart: number): Promise<SetAsideRecord | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: setAsideKey(windowStart), ConsistentRead: true }),
    );
    return Item?.record?.S === undefined ? undefined : (JSON.parse(Item.record.S) as SetAsideRecord);
  }

  async deleteSetAside(windowStart: number): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: setAsideKey(windowStart) }));
  }

  /** Every item of a query, or the first `limit`; strongly consistent, ascending by sort key. */
  private async query(
    input: Omit<QueryCommandInput, 'TableName' | 'ConsistentRead'>,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.tableName,
          ConsistentRead: true,
          // A bounded query asks for no more than it still needs; an unbounded one takes DynamoDB's 1 MB pages.
          ...(Number.isFinite(limit) ? { Limit: Math.min(limit - items.length, 1000) } : {}),
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined && items.length < limit);
    return items;
  }
}
