import { mkdir } from 'node:fs/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createSnsAlertPublisher } from '../../lambdas/alert/sns-publisher.ts';
import { createDynamoAlertClaims } from '../../lambdas/shared/dynamo-alert-claims.ts';
import { DynamoEventStore } from '../../lambdas/shared/dynamo-event-store.ts';
import { AUTH0, OKTA } from '../../lambdas/shared/log-sources.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { batchesOf, type QueueMessage } from '../../lambdas/shared/sqs-queue-sender.ts';
import { DynamoWatchdogStore } from '../../lambdas/watchdog/dynamo-watchdog-store.ts';
import { ArchiveDirStore, MirroredArchiveStore } from './archive-dir-store.ts';
import { type LocalQueue, RECEIVERS, SQS_BATCH } from './local-queues.ts';
import { laneOf, type PipelineStack, type StackOptions } from './pipeline-stack.ts';
import { createKeyTable, STAND_IN_REGION, standInClientConfig, startDynalite, startFauxqsServer } from './stand-ins.ts';

/** dynalite and fauxqs on 127.0.0.1, with the tables, queues, topic and bucket of the deployed stack. */
export const startStandIns = async (options: StackOptions): Promise<PipelineStack> => {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const dynamoServer = await startDynalite(options.dataDir === undefined ? {} : { path: options.dataDir });
  const fauxqs = await startFauxqsServer();
  const dynamo = new DynamoDBClient(standInClientConfig(dynamoServer.endpoint));
  const sqs = new SQSClient(standInClientConfig(fauxqs.endpoint));
  const sns = new SNSClient(standInClientConfig(fauxqs.endpoint));
  const s3 = new S3Client({ ...standInClientConfig(fauxqs.endpoint), forcePathStyle: true });

  const { TableNames = [] } = await dynamo.send(new ListTablesCommand({}));
  // A persisted --data-dir already has the tables.
  if (!TableNames.includes('events')) await createKeyTable(dynamo, 'events', { sortKey: true });
  if (!TableNames.includes('events-auth0')) await createKeyTable(dynamo, 'events-auth0', { sortKey: true });
  if (!TableNames.includes('alert-claims')) await createKeyTable(dynamo, 'alert-claims', { sortKey: false });
  const queue = async (name: string) =>
    (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } }))).QueueUrl ??
    '';
  const queues = {
    ingest: await queue('ingest'),
    ingestAuth0: await queue('ingest-auth0'),
    alert: await queue('alert'),
    subscriber: await queue('alert-subscriber'),
  };
  const { TopicArn = '' } = await sns.send(new CreateTopicCommand({ Name: 'alerts' }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queues.subscriber, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));
  await s3.send(new CreateBucketCommand({ Bucket: 'archive' }));
  await mkdir(options.archiveDir, { recursive: true });

  const archive = new MirroredArchiveStore(new ArchiveDirStore(options.archiveDir), new S3ArchiveStore(s3, 'archive'));
  const okta = laneOf(OKTA, new StandInQueue(sqs, queues.ingest), new DynamoEventStore(dynamo, 'events'), archive);
  const auth0Events = new DynamoEventStore(dynamo, 'events-auth0');
  return {
    store: 'stand-ins',
    okta,
    lanes: [okta, laneOf(AUTH0, new StandInQueue(sqs, queues.ingestAuth0), auth0Events, archive)],
    alertQueue: new StandInQueue(sqs, queues.alert),
    topic: createSnsAlertPublisher({ client: sns, topicArn: TopicArn }),
    subscriber: new StandInQueue(sqs, queues.subscriber),
    claims: createDynamoAlertClaims({
      client: dynamo,
      tableName: 'alert-claims',
      retentionDays: options.alertDedupeRetentionDays,
      now: Date.now,
    }),
    watchdogState: new DynamoWatchdogStore(dynamo, 'events'),
    archive,
    stop: async () => {
      for (const client of [dynamo, sqs, sns, s3]) client.destroy();
      await fauxqs.stop();
      await dynamoServer.stop();
    },
  };
};

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
