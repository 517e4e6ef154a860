import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateQuery,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { EventStore, LateMarker, SequencerState } from './ports.ts';
import type { StagedEvent } from './staged-event.ts';

/**
 * The events table on DynamoDB (partition key `pk`, sort key `sk`, TTL attribute `expiresAt`). Items are marshalled
 * by hand: the ingest hot path does one PutItem per event and nothing else.
 *
 *   pk = w#<window start>#<shard>   sk = <uuid>#<hash>                 a staged event (and its dedupe record)
 *   pk = late                       sk = <event pk>|<event sk>         a late marker
 *   pk = sequencer                  sk = state                         the sequencer's progress
 */
const LATE = 'late';
const STATE = { pk: { S: 'sequencer' }, sk: { S: 'state' } };

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

const toStaged = (item: Item): StagedEvent => {
  const sk = str(item, 'sk');
  const split = sk.lastIndexOf('#');
  return {
    pk: str(item, 'pk'),
    sk,
    uuid: sk.slice(0, split),
    hash: sk.slice(split + 1),
    windowStart: num(item, 'windowStart'),
    publishedMs: num(item, 'publishedMs'),
    body: str(item, 'body'),
    late: item.late?.BOOL === true,
    expiresAt: num(item, 'expiresAt'),
  };
};

/** The item of a staged event, as written on the ingest hot path. */
export const stagedEventItem = (event: StagedEvent): Item => {
  const item: Item = {
    pk: { S: event.pk },
    sk: { S: event.sk },
    windowStart: { N: String(event.windowStart) },
    publishedMs: { N: String(event.publishedMs) },
    body: { S: event.body },
    expiresAt: { N: String(event.expiresAt) },
  };
  if (event.late) item.late = { BOOL: true };
  return item;
};

const toMarker = (item: Item): LateMarker => ({
  windowStart: num(item, 'windowStart'),
  pk: str(item, 'eventPk'),
  sk: str(item, 'eventSk'),
  token: str(item, 'token'),
  expiresAt: num(item, 'expiresAt'),
});

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

  async putLateMarker(marker: LateMarker): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: { S: LATE },
          sk: { S: `${marker.pk}|${marker.sk}` },
          windowStart: { N: String(marker.windowStart) },
          eventPk: { S: marker.pk },
          eventSk: { S: marker.sk },
          token: { S: marker.token },
          expiresAt: { N: String(marker.expiresAt) },
        },
      }),
    );
  }

  async queryPartition(pk: string): Promise<StagedEvent[]> {
    return (
      await this.query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } } })
    ).map(toStaged);
  }

  async queryVersions(pk: string, uuid: string): Promise<StagedEvent[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :uuid)',
      ExpressionAttributeValues: { ':pk': { S: pk }, ':uuid': { S: `${uuid}#` } },
    });
    return items.map(toStaged);
  }

  async getStaged(pk: string, sk: string): Promise<StagedEvent | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : toStaged(Item);
  }

  async listLateMarkers(): Promise<LateMarker[]> {
    return (
      await this.query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: LATE } } })
    ).map(toMarker);
  }

  async deleteLateMarker(marker: LateMarker): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: LATE }, sk: { S: `${marker.pk}|${marker.sk}` } },
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

  async getSequencerState(): Promise<SequencerState | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: STATE, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : { nextWindow: num(Item, 'nextWindow') };
  }

  async putSequencerState(state: SequencerState): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...STATE, nextWindow: { N: String(state.nextWindow) } },
      }),
    );
  }

  private async query(input: Omit<QueryCommandInput, 'TableName' | 'ConsistentRead'>): Promise<Item[]> {
    const items: Item[] = [];
    const pages = paginateQuery({ client: this.client }, { ...input, TableName: this.tableName, ConsistentRead: true });
    for await (const page of pages) items.push(...(page.Items ?? []));
    return items;
  }
}
