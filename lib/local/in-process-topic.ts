import type { FormattedAlert } from '../../lambdas/alert/format-alert.ts';
import type { AlertPublisher } from '../../lambdas/alert/process-alert.ts';
import { escapeJsonText } from '../../lambdas/shared/escape-text.ts';
import type { QueueSender } from '../../lambdas/shared/sqs-queue-sender.ts';

/**
 * The alert topic in this process: each alert goes to every subscriber queue as SNS delivers to an SQS subscriber, a
 * notification whose `Message` is the alert's JSON (the message structure's `sqs` entry, unsafe characters escaped).
 * Unlike SNS it has no size limit, so the alert is never cut to fit one message.
 */
export class InProcessTopic implements AlertPublisher {
  constructor(private readonly subscribers: readonly QueueSender[]) {}

  async publish(alert: FormattedAlert): Promise<void> {
    const attribute = (value: string) => ({ Type: 'String', Value: value });
    const body = JSON.stringify({
      Type: 'Notification',
      Subject: alert.subject,
      Message: escapeJsonText(JSON.stringify(alert.json)),
      MessageAttributes: {
        severity: attribute(alert.attributes.severity),
        eventType: attribute(alert.attributes.eventType),
        ruleId: attribute(alert.attributes.ruleId),
      },
    });
    for (const subscriber of this.subscribers) await subscriber.send([{ body }]);
  }
}
