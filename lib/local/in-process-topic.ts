import type { FormattedAlert } from '../../lambdas/alert/format-alert.ts';
import { snsMessage } from '../../lambdas/alert/format-alert.ts';
import type { AlertPublisher } from '../../lambdas/alert/process-alert.ts';
import type { QueueSender } from '../../lambdas/shared/sqs-queue-sender.ts';

/**
 * The alert topic in this process: each alert is built into the SNS message the deployed publisher sends (size limits
 * included) and handed to every subscriber queue as SNS delivers to SQS: a notification whose `Message` is the
 * message structure's `sqs` entry.
 */
export class InProcessTopic implements AlertPublisher {
  constructor(private readonly subscribers: readonly QueueSender[]) {}

  async publish(alert: FormattedAlert): Promise<void> {
    const message = snsMessage(alert);
    const structure = JSON.parse(message.Message) as Partial<Record<'sqs' | 'default', string>>;
    const body = JSON.stringify({
      Type: 'Notification',
      Subject: message.Subject,
      Message: structure.sqs ?? structure.default ?? '',
      MessageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes).map(([name, value]) => [
          name,
          { Type: value.DataType, Value: value.StringValue },
        ]),
      ),
    });
    for (const subscriber of this.subscribers) await subscriber.send([{ body }]);
  }
}
