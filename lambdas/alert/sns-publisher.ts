import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { snsMessage } from './format-alert.ts';
import type { AlertPublisher } from './process-alert.ts';

export interface SnsAlertPublisherOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
}

/** Publishes each alert as one SNS message (JSON message structure, severity/eventType/ruleId attributes). */
export function createSnsAlertPublisher(options: SnsAlertPublisherOptions): AlertPublisher {
  return {
    async publish(alert) {
      await options.client.send(new PublishCommand({ TopicArn: options.topicArn, ...snsMessage(alert) }));
    },
  };
}
