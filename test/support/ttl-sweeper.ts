import { type AttributeValue, DeleteItemCommand, type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';

/** An item as a stream record's image: the record is JSON, so binary values travel as base64 text. */
const streamImage = (item: Record<string, AttributeValue>): NonNullable<DynamoDBRecord['dynamodb']>['OldImage'] =>
  Object.fromEntries(
    Object.entries(item).map(([name, value]) => [
      name,
      value.B === undefined ? value : { B: Buffer.from(value.B).toString('base64') },
    ]),
  ) as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'];

/** How often the stream hands a failing record to its function (the stack's event source: 1 + 10 retries). */
const STREAM_ATTEMPTS = 11;

/**
 * DynamoDB's TTL for the dynalite stand-in, which never expires items: deletes every item whose `expiresAt` has
 * passed at `now` (conditionally, as the service does, so an item whose TTL was moved meanwhile stays), and hands the
 * stream record of each deletion to `onStream`.
 *
 * dynalite has no streams, so this builds the record DynamoDB Streams delivers for a TTL deletion (a REMOVE by the
 * service, with the old image); nothing else can stand in for it. Returns the number of items deleted.
 */
export const sweepExpired = async (
  client: DynamoDBClient,
  tableName: string,
  now: number,
  onStream: (record: DynamoDBRecord) => Promise<void>,
): Promise<number> => {
  const nowSeconds = String(Math.floor(now / 1000));
  let deleted = 0;
  for await (const page of paginateScan({ client }, { TableName: tableName, ConsistentRead: true })) {
    for (const item of page.Items ?? []) {
      const expiresAt = item.expiresAt?.N;
      if (expiresAt === undefined || Number(expiresAt) >= Number(nowSeconds)) continue;
      const { pk, sk } = item;
      if (pk === undefined || sk === undefined) continue;
      try {
        await client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: { pk, sk },
            ConditionExpression: 'expiresAt < :now',
            ExpressionAttributeValues: { ':now': { N: nowSeconds } },
          }),
        );
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') continue;
        throw error;
      }
      deleted++;
      const record: DynamoDBRecord = {
        eventName: 'REMOVE',
        userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
        dynamodb: { OldImage: streamImage(item) },
      };
      // The stream hands a record to its function again until it succeeds (the event source retries it).
      for (let attempt = 1; ; attempt++) {
        try {
          await onStream(record);
          break;
        } catch (error) {
          if (attempt >= STREAM_ATTEMPTS) throw error;
        }
      }
    }
  }
  return deleted;
};
