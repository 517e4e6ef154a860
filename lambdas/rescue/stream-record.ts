import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { toStaged } from '../shared/dynamo-event-store.ts';
import type { StagedEvent } from '../shared/staged-event.ts';

type StreamImage = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['OldImage']>;

/**
 * A stream image as the SDK's item. Lambda hands binary attributes over as base64 text (the stream record is JSON),
 * where the SDK has bytes; a staged event keeps its text in one (`b`). Only top-level binaries occur in staged items.
 */
const itemOf = (image: StreamImage): Record<string, AttributeValue> =>
  Object.fromEntries(
    Object.entries(image).map(([name, value]) => {
      const binary: unknown = value.B;
      return [name, typeof binary === 'string' ? { B: Buffer.from(binary, 'base64') } : (value as AttributeValue)];
    }),
  );

/**
 * The staged event a stream record reports DynamoDB's TTL deleted, or undefined for any other record: TTL deletions
 * are removals by the service itself (the event source mapping filters on the same, this double-checks it).
 */
export const expiredStagedEvent = (record: DynamoDBRecord): StagedEvent | undefined => {
  const image = record.dynamodb?.OldImage;
  const ttlDeletion =
    record.eventName === 'REMOVE' &&
    record.userIdentity?.type === 'Service' &&
    record.userIdentity.principalId === 'dynamodb.amazonaws.com';
  if (!ttlDeletion || image?.pk?.S?.startsWith('w#') !== true) return undefined;
  return toStaged(itemOf(image));
};
