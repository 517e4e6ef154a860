import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueMessage, QueueSender } from '../../lambdas/shared/sqs-queue-sender.ts';

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
export const SQS_BATCH = 10;
/** Batches handled at once, as a few concurrent Lambda invocations would. */
export const RECEIVERS = 4;
/** The region records name; the stand-ins' (stand-ins.ts), not imported from there so as not to load them. */
const REGION = 'us-east-1';

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
      eventSourceARN: `arn:aws:sqs:${REGION}:000000000000:${this.name}`,
      awsRegion: REGION,
    };
  }
}

interface WaitingMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  receives: number;
}
