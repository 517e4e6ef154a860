import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { z } from 'zod';
import type { WatchdogStateStore } from './run-watchdog.ts';
import { WatchdogState } from './watchdog-state.ts';

/** The partition key of the watchdog's item in the events table; its role may read and write this key only. */
export const WATCHDOG_PK = 'watchdog';
const KEY = { pk: { S: WATCHDOG_PK }, sk: { S: 'state' } };

/**
 * The watchdog's state for one source in that source's events table: one item, `state` as JSON (checked against
 * `schema` when read) and a `version` that every write increments, conditionally, so a run that read an older version
 * cannot overwrite a newer state.
 */
export class DynamoStateItem<S> {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly schema: z.ZodType<S>,
  ) {}

  async read(): Promise<{ state: S; version: number } | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    const text = Item.state?.S;
    const version = Number(Item.version?.N);
    if (text === undefined || !Number.isInteger(version)) {
      throw new TypeError('the watchdog state item lacks its state or version attribute');
    }
    return { state: this.schema.parse(JSON.parse(text)), version };
  }

  async write(state: S, expected: number | undefined): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...KEY, state: { S: JSON.stringify(state) }, version: { N: String((expected ?? 0) + 1) } },
          ...(expected === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: 'version = :expected',
                ExpressionAttributeValues: { ':expected': { N: String(expected) } },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/** The Okta watchdog's state, in Okta's events table. */
export class DynamoWatchdogStore extends DynamoStateItem<WatchdogState> implements WatchdogStateStore {
  constructor(client: DynamoDBClient, tableName: string) {
    super(client, tableName, WatchdogState);
  }
}
