import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { batchesOf, type QueueMessage, type QueueSender } from '../../lambdas/shared/sqs-queue-sender.ts';
import { STAND_IN_REGION } from './stand-ins.ts';

/**
 * A queue of the local pipeline: what senders (the bus, the watchdog, the alert topic) put on it, and a drain that
 * hands it to a consumer in SQS batches, as Lambda's event source mapping does.
 */
export interface LocalQueue extends QueueSender {
  /**
   * Receives until the queue is empty, a few batches at once, each as the SQS event a Lambda gets. `handle` returns
   * the ids of the records that failed: they are received again, their receive count one higher.
   */
  drain(handle: (event: SQSEvent) => Promise<string[]>): Promise<void>;
}

/** SQS caps a receive at 10 messages. */
const SQS_BATCH = 10;
/** Batches handled at once, as a few concurrent Lambda invocations would. */
const RECEIVERS = 4;

/** A queue in this process: first in, first out; a failed message goes to the back with its receive count. */
export class InProcessQueue implements LocalQueue {
  private waiting: WaitingMessage[] = [];
  private head = 0;
  private sent = 0;

  constructor(private readonly name: string) {}

  async send(messages: readonly QueueMessage[]): Promise<void> {
    for (const message of messages) {
      this.waiting.push({
        id: `${this.name}-${++this.sent}`,
        body: message.body,
        attributes: { ...message.attributes },
        receives: 0,
      });
    }
  }

  async drain(handle: (event: SQSEvent) => Promise<string[]>): Promise<void> {
    const receiver = async () => {
      for (let batch = this.receive(); batch.length > 0; batch = this.receive()) {
        const failed = new Set(await handle({ Records: batch.map((message) => this.toRecord(message)) }));
        for (const message of batch) if (failed.has(message.id)) this.waiting.push(message);
      }
    };
    await Promise.all(Array.from({ length: RECEIVERS }, receiver));
  }

  private receive(): WaitingMessage[] {
    const batch = this.waiting.slice(this.head, this.head + SQS_BATCH);
    this.head += batch.length;
    if (this.head === this.waiting.length) {
      // Drained: drop what was handled rather than keep every message ever sent.
      this.waiting = [];
      this.head = 0;
    }
    for (const message of batch) message.receives++;
    return batch;
  }

  private toRecord(message: WaitingMessage): SQSRecord {
    return {
      messageId: message.id,
      receiptHandle: message.id,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receives),
        SentTimestamp: '',
        SenderId: '',
        ApproximateFirstReceiveTimestamp: '',
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.attributes).map(([name, value]) => [name, { stringValue: value, dataType: 'String' }]),
      ),
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${STAND_IN_REGION}:000000000000:${this.name}`,
      awsRegion: STAND_IN_REGION,
    };
  }
}

interface WaitingMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  receives: number;
}

/** A queue on fauxqs: sent, received, deleted and made visible again through SQS calls, as deployed. */
export class StandInQueue implements LocalQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: readonly QueueMessage[]): Promise<void> {
    await Promise.all(
      batchesOf(messages).map(async (batch) => {
        const { Failed = [] } = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: batch.map((message, i) => ({
              Id: String(i),
              MessageBody: message.body,
              MessageAttributes: Object.fromEntries(
                Object.entries(message.attributes ?? {}).map(([name, value]) => [
                  name,
                  { DataType: 'String', StringValue: value },
                ]),
              ),
            })),
          }),
        );
        if (Failed.length > 0) throw new Error(`fauxqs refused ${Failed.length} messages: ${Failed[0]?.Code}`);
      }),
    );
  }

  async drain(handle: (event: SQSEvent) => Promise<string[]>): Promise<void> {
    const receiver = async () => {
      for (;;) {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: SQS_BATCH,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        if (Messages.length === 0) return;
        const failed = new Set(await handle({ Records: Messages.map((m) => this.toRecord(m)) }));
        const done = Messages.filter((m) => !failed.has(m.MessageId ?? ''));
        const retry = Messages.filter((m) => failed.has(m.MessageId ?? ''));
        if (done.length > 0) {
          const { Failed = [] } = await this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
          if (Failed.length > 0) throw new Error(`could not delete handled messages: ${Failed[0]?.Message}`);
        }
        if (retry.length > 0) {
          // Redeliver failed records now rather than after the visibility timeout.
          await this.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: retry.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
            }),
          );
        }
      }
    };
    await Promise.all(Array.from({ length: RECEIVERS }, receiver));
  }

  private toRecord(message: Message): SQSRecord {
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: '',
        SenderId: '',
        ApproximateFirstReceiveTimestamp: '',
      },
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          { stringValue: value.StringValue, dataType: value.DataType ?? 'String' },
        ]),
      ),
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.queueUrl,
      awsRegion: STAND_IN_REGION,
    };
  }
}
