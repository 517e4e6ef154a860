import { mkdir } from 'node:fs/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AlertClaims, AlertPublisher } from '../../lambdas/alert/process-alert.ts';
import { createSnsAlertPublisher } from '../../lambdas/alert/sns-publisher.ts';
import { withStagingMemory } from '../../lambdas/ingest/staging-memory.ts';
import { createDynamoAlertClaims } from '../../lambdas/shared/dynamo-alert-claims.ts';
import { DynamoEventStore } from '../../lambdas/shared/dynamo-event-store.ts';
import { AUTH0, type LogSource, OKTA } from '../../lambdas/shared/log-sources.ts';
import type { ArchiveStore, EventStager, EventStore } from '../../lambdas/shared/ports.ts';
import { prefixedArchive } from '../../lambdas/shared/prefixed-archive.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { DynamoWatchdogStore } from '../../lambdas/watchdog/dynamo-watchdog-store.ts';
import type { WatchdogStateStore } from '../../lambdas/watchdog/run-watchdog.ts';
import { ArchiveDirStore, MirroredArchiveStore } from './archive-dir-store.ts';
import { createInProcessAlertClaims } from './in-process-alert-claims.ts';
import { InProcessEventStore } from './in-process-event-store.ts';
import { InProcessTopic } from './in-process-topic.ts';
import { InProcessWatchdogStore } from './in-process-watchdog-store.ts';
import { InProcessQueue, type LocalQueue, StandInQueue } from './local-queues.ts';
import { createKeyTable, standInClientConfig, startDynalite, startFauxqsServer } from './stand-ins.ts';

/**
 * What the local pipeline keeps its tables and queues in: `in-process` (maps and arrays in this process, behind the
 * Lambdas' ports) or `stand-ins` (dynalite for DynamoDB, fauxqs for SQS, SNS and S3, through the AWS SDK).
 */
export type LocalStore = 'in-process' | 'stand-ins';

/** Where one log source's events go: its ingest queue, its events table (and ingest's memory of it), its archive. */
export interface Lane {
  readonly source: LogSource;
  readonly queue: LocalQueue;
  readonly events: EventStore;
  readonly stager: EventStager;
  readonly archive: ArchiveStore;
}

/** The deployed stack's tables, queues, topic and bucket, on one of the local stores. */
export interface PipelineStack {
  readonly store: LocalStore;
  readonly okta: Lane;
  readonly lanes: readonly Lane[];
  readonly alertQueue: LocalQueue;
  /** The alert topic, and a queue subscribed to it: what subscribers receive. */
  readonly topic: AlertPublisher;
  readonly subscriber: LocalQueue;
  readonly claims: AlertClaims;
  readonly watchdogState: WatchdogStateStore;
  /** The whole archive (every source's prefix), for quarantined input and alert messages. */
  readonly archive: ArchiveStore;
  stop(): Promise<void>;
}

export interface StackOptions {
  readonly archiveDir: string;
  /** dynalite's files, kept between runs (stand-ins only). */
  readonly dataDir?: string;
  readonly alertDedupeRetentionDays: number;
}

/** One lane per log source, as deployed: its own ingest queue and events table, its part of the archive. */
const laneOf = (source: LogSource, queue: LocalQueue, events: EventStore, archive: ArchiveStore): Lane => ({
  source,
  queue,
  events,
  stager: withStagingMemory(events),
  archive: prefixedArchive(archive, source.archivePrefix),
});

/**
 * Everything in this process. Nothing outlives the run, so the events store forgets an event's body once it is
 * archived (its key stays, as the dedupe record) and memory follows the unsealed windows, not the input.
 */
export const startInProcessStack = async (options: StackOptions): Promise<PipelineStack> => {
  await mkdir(options.archiveDir, { recursive: true });
  const archive = new ArchiveDirStore(options.archiveDir);
  const events = () => new InProcessEventStore({ forgetArchivedBodies: true });
  const okta = laneOf(OKTA, new InProcessQueue('ingest'), events(), archive);
  const subscriber = new InProcessQueue('alert-subscriber');
  return {
    store: 'in-process',
    okta,
    lanes: [okta, laneOf(AUTH0, new InProcessQueue('ingest-auth0'), events(), archive)],
    alertQueue: new InProcessQueue('alert'),
    topic: new InProcessTopic([subscriber]),
    subscriber,
    claims: createInProcessAlertClaims({ retentionDays: options.alertDedupeRetentionDays, now: Date.now }),
    watchdogState: new InProcessWatchdogStore(),
    archive,
    stop: async () => {},
  };
};

/** dynalite and fauxqs on 127.0.0.1, with the tables, queues, topic and bucket of the deployed stack. */
export const startStandInStack = async (options: StackOptions): Promise<PipelineStack> => {
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
