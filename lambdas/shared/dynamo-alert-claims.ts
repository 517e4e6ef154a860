import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AlertClaims } from '../alert/process-alert.ts';

const SECONDS_PER_DAY = 86_400;

/** The claim key: one item per (rule id, event uuid). Okta writes some uuids in upper case; they are the same event. */
export const alertClaimKey = (ruleId: string, uuid: string): string => `${ruleId}#${uuid.toLowerCase()}`;

export interface DynamoAlertClaimsOptions {
  readonly client: DynamoDBClient;
  /** Partition key `pk` (S); TTL attribute `expiresAt` (epoch seconds). */
  readonly tableName: string;
  /** How long a claim stops repeats of the same alert. */
  readonly retentionDays: number;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/**
 * Alert claims on DynamoDB: one conditional PutItem per claim. A claim past its `expiresAt` counts as free even while
 * DynamoDB's TTL sweeper (which can lag by days) has not deleted it yet.
 */
export function createDynamoAlertClaims(options: DynamoAlertClaimsOptions): AlertClaims {
  const { client, tableName, retentionDays, now } = options;
  return {
    async claim(ruleId, uuid) {
      const nowSeconds = Math.floor(now() / 1000);
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              pk: { S: alertClaimKey(ruleId, uuid) },
              ruleId: { S: ruleId },
              uuid: { S: uuid },
              claimedAt: { N: String(nowSeconds) },
              expiresAt: { N: String(nowSeconds + retentionDays * SECONDS_PER_DAY) },
            },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    async release(ruleId, uuid) {
      await client.send(
        new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: alertClaimKey(ruleId, uuid) } } }),
      );
    },
  };
}
