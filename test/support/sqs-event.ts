import type { SQSEvent } from 'aws-lambda';

let sequence = 0;

/** An SQS event as Lambda's event source mapping hands it over: one record per body, each received once. */
export const sqsEvent = (bodies: readonly string[], sentAt = Date.parse('2026-11-08T12:00:00Z')): SQSEvent => ({
  Records: bodies.map((body) => {
    sequence += 1;
    return {
      messageId: `message-${sequence}`,
      receiptHandle: `receipt-${sequence}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(sentAt),
        SenderId: 'AROAEXAMPLE:events',
        ApproximateFirstReceiveTimestamp: String(sentAt),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:queue',
      awsRegion: 'us-east-1',
    };
  }),
});
