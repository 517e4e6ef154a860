import { type AttributeValue, type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { DetectorStore, StoredMember } from '../detector/detect.ts';

/**
 * Detector state on DynamoDB: partition key `pk` (S) = the set, sort key `sk` (S) = the member, TTL attribute
 * `expiresAt` (epoch seconds). Reads are strongly consistent: a detector must see the member it has just written and
 * those written before it, or a window could reach its count unseen.
 */
export function createDynamoDetectorStore(client: DynamoDBClient, tableName: string): DetectorStore {
  return {
    async put(set, member, fields, expiresAt) {
      const item: Record<string, AttributeValue> = {
        pk: { S: set },
        sk: { S: member },
        expiresAt: { N: String(expiresAt) },
      };
      for (const [name, value] of Object.entries(fields)) {
        item[`f_${name}`] = typeof value === 'number' ? { N: String(value) } : { S: value };
      }
      await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    },
    async members(set, range, limit) {
      const byPrefix = 'prefix' in range;
      const members: StoredMember[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            ConsistentRead: true,
            KeyConditionExpression: byPrefix
              ? 'pk = :set AND begins_with(sk, :prefix)'
              : 'pk = :set AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: byPrefix
              ? { ':set': { S: set }, ':prefix': { S: range.prefix } }
              : { ':set': { S: set }, ':from': { S: range.from }, ':to': { S: range.to } },
            Limit: limit - members.length,
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        );
        for (const item of page.Items ?? []) members.push(memberOf(item));
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined && members.length < limit);
      return members;
    },
  };
}

function memberOf(item: Record<string, AttributeValue>): StoredMember {
  const fields: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith('f_')) continue;
    if (value.S !== undefined) fields[name.slice(2)] = value.S;
    else if (value.N !== undefined) fields[name.slice(2)] = Number(value.N);
  }
  return { member: item.sk?.S ?? '', fields };
}
