import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { toStaged } from '../shared/dynamo-event-store.ts';
import type { StagedEvent } from '../shared/staged-event.ts';

/**
 * The staged event a stream record reports DynamoDB's TTL deleted, or undefined for any other record: TTL deletions
 * are removals by the service itself (the event source mapping filters on the same, this double-checks it).
 */
export const expiredStagedEvent = (record: DynamoDBRecord): StagedEvent | undefined => {
  const image = record.dynamodb?.OldImage as Record<string, AttributeValue> | undefined;
  const ttlDeletion =
    record.eventName === 'REMOVE' &&
    record.userIdentity?.type === 'Service' &&
    record.userIdentity.principalId === 'dynamodb.amazonaws.com';
  if (!ttlDeletion || image?.pk?.S?.startsWith('w#') !== true) return undefined;
  return toStaged(image);
};
