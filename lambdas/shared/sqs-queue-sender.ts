import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface QueueMessage {
  readonly body: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A queue the watchdog and the Auth0 HTTP sink send to (SQS deployed and on fauxqs). */
export interface QueueSender {
  send(messages: readonly QueueMessage[]): Promise<void>;
}

/** SQS takes at most 10 messages per batch. */
const MAX_ENTRIES = 10;
/** A batch, like one message, holds at most 256 KiB: keep a margin for the attributes. */
const MAX_BATCH_BYTES = 240 * 1024;

const sizeOf = (message: QueueMessage): number =>
  Buffer.byteLength(message.body) +
  Object.entries(message.attributes ?? {}).reduce((sum, [name, value]) => sum + name.length + value.length + 6, 0);

/** Batches as SQS allows them: at most 10 messages and 240 KiB each, in order. */
export const batchesOf = (messages: readonly QueueMessage[]): QueueMessage[][] => {
  const batches: QueueMessage[][] = [];
  let batch: QueueMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (batch.length === MAX_ENTRIES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(message);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
};

/** Sends to one SQS queue; a message SQS refuses fails the send, so the caller's cursor does not move past it. */
export const sqsQueueSender = (client: SQSClient, queueUrl: string): QueueSender => ({
  async send(messages) {
    for (const batch of batchesOf(messages)) {
      const { Failed = [] } = await client.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((message, i) => ({
            Id: String(i),
            MessageBody: message.body,
            ...(message.attributes === undefined
              ? {}
              : {
                  MessageAttributes: Object.fromEntries(
                    Object.entries(message.attributes).map(([name, value]) => [
                      name,
                      { DataType: 'String', StringValue: value },
                    ]),
                  ),
                }),
          })),
        }),
      );
      if (Failed.length > 0) {
        const first = Failed[0];
        throw new Error(
          `SQS refused ${Failed.length} of ${batch.length} messages for ${queueUrl}: ${first?.Code ?? 'unknown'}`,
        );
      }
    }
  },
});
