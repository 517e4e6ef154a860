import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { PipelineConfig } from '../config.ts';
import { Alerting } from '../constructs/alerting.ts';
import { grantObjectKeys } from '../constructs/archive-bucket.ts';
import { FeedWatchdog } from '../constructs/feed-watchdog.ts';
import { PartnerEventBus } from '../constructs/partner-event-bus.ts';
import { PipelineAlarms } from '../constructs/pipeline-alarms.ts';
import { QueuedConsumer } from '../constructs/queued-consumer.ts';
import { ScheduledFunction } from '../constructs/scheduled-function.ts';
import { TableStreamFunction } from '../constructs/table-stream-function.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { StatefulResources } from './stateful-resources.ts';

const handlerEntry = (fn: string): string => fileURLToPath(new URL(`../../lambdas/${fn}/handler.ts`, import.meta.url));

const INGEST_TIMEOUT = Duration.seconds(30);
/**
 * How long after a close the sequencer waits before sealing: an ingest invocation that read the close (it caches it
 * for up to 10 s) may still write up to its timeout later.
 */
const SEAL_GUARD = INGEST_TIMEOUT.plus(Duration.seconds(60));
/**
 * How long after `published` the System Log API may take to show an event, on top of the stream's allowed lateness,
 * before the watchdog takes an event that has not arrived for missing.
 */
const SYSTEM_LOG_DELAY = Duration.minutes(5);
/** The partition key of the sequencer's state item, the only item ingest may read. */
const SEQUENCER_STATE_PK = 'sequencer';

export interface OktaLogPipelineStackProps extends StackProps {
  readonly config: PipelineConfig;
  /** Compiled alert rules (lib/rules): one EventBridge rule on the partner bus each. */
  readonly alertRules: readonly CompiledAlertRule[];
}

/**
 * Okta Log Streaming -> partner event bus -> ingest (dedupe and stage) -> sequencer (time windows to the S3
 * archive), and alert rules -> alert function -> SNS, watched by health alarms.
 */
export class OktaLogPipelineStack extends Stack {
  public readonly stateful: StatefulResources;
  public readonly partnerBus: PartnerEventBus;
  public readonly ingest: QueuedConsumer;
  public readonly sequencer: ScheduledFunction;
  public readonly rescue: TableStreamFunction;
  public readonly alerting: Alerting;
  /** Deployed when `oktaOrgUrl` and `oktaSecretName` are configured. */
  public readonly watchdog?: FeedWatchdog;
  public readonly alarms: PipelineAlarms;

  constructor(scope: Construct, id: string, props: OktaLogPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.stateful = new StatefulResources(this, 'Stateful', {
      archiveRetentionDays: config.archiveRetentionDays,
      archiveTransitionDays: config.archiveTransitionDays,
      archiveLockMode: config.archiveLockMode,
      notificationEmail: config.notificationEmail,
    });
    const eventsTable = this.stateful.eventsTable.table;
    const archiveBucket = this.stateful.archive.bucket;

    const compute = new Construct(this, 'Compute');
    this.partnerBus = new PartnerEventBus(compute, 'PartnerBus', { eventSourceName: config.eventSourceName });

    const staging = {
      EVENTS_TABLE_NAME: eventsTable.tableName,
      ARCHIVE_BUCKET_NAME: archiveBucket.bucketName,
      WINDOW_SECONDS: String(config.windowSeconds),
      ALLOWED_LATENESS_SECONDS: String(config.allowedLatenessSeconds),
      WINDOW_SHARDS: String(config.windowShards),
      DEDUPE_RETENTION_DAYS: String(config.dedupeRetentionDays),
    };

    this.ingest = new QueuedConsumer(compute, 'Ingest', {
      entry: handlerEntry('ingest'),
      eventBus: this.partnerBus.eventBus,
      description: 'Dedupes and stages Okta System Log events',
      timeout: INGEST_TIMEOUT,
      memorySize: 512,
      batchSize: config.ingestBatchSize,
      maxBatchingWindow: Duration.seconds(config.ingestBatchWindowSeconds),
      logRetention: config.logRetentionDays,
      redriveRoleArn: config.redriveRoleArn,
      environment: {
        ...staging,
        // Ingest accepts only envelopes of this source, delivered to this account.
        EVENT_SOURCE_NAME: config.eventSourceName,
        EXPECTED_ACCOUNT: this.account,
      },
    });
    this.ingest.addEventRule(this.partnerBus.allEventsRule);
    eventsTable.grant(this.ingest.lambdaFunction, 'dynamodb:PutItem');
    // Ingest reads the sequencer's progress every few seconds, and no other item.
    this.ingest.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [eventsTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SEQUENCER_STATE_PK] } },
      }),
    );
    grantObjectKeys(
      archiveBucket,
      this.ingest.role,
      'quarantine/*',
      ['s3:PutObject'],
      'Ingest writes each rejected event',
    );

    this.sequencer = new ScheduledFunction(compute, 'Sequencer', {
      entry: handlerEntry('sequencer'),
      description: 'Seals windows of staged events into the archive',
      timeout: Duration.minutes(5),
      memorySize: 1024,
      reservedConcurrentExecutions: 1,
      logRetention: config.logRetentionDays,
      environment: {
        ...staging,
        SEAL_GUARD_SECONDS: String(SEAL_GUARD.toSeconds()),
      },
    });
    eventsTable.grant(
      this.sequencer.lambdaFunction,
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    // Get and put under archive/ only: no deletes, so the archive writer cannot remove archived versions.
    grantObjectKeys(
      archiveBucket,
      this.sequencer.role,
      'archive/*',
      ['s3:GetObject', 's3:PutObject'],
      "The sequencer writes each window's parts and manifest",
    );
    // Without s3:ListBucket, S3 answers a get of a missing object with 403 instead of NoSuchKey.
    iam.Grant.addToPrincipal({
      grantee: this.sequencer.lambdaFunction,
      actions: ['s3:ListBucket'],
      resourceArns: [archiveBucket.bucketArn],
    });

    // DynamoDB TTL may delete a staged event whose window the sequencer has not sealed (a sequencer stopped longer
    // than dedupeRetentionDays). The stream hands each such item to the rescue function, which stages it again, so
    // nothing is lost however long the sequencer is stopped. Only TTL deletions invoke it: the sequencer's own
    // deletes are user deletions.
    this.rescue = new TableStreamFunction(compute, 'Rescue', {
      entry: handlerEntry('rescue'),
      description: 'Stages again the staged events DynamoDB TTL deleted before their window was sealed',
      table: eventsTable,
      timeout: Duration.minutes(1),
      logRetention: config.logRetentionDays,
      environment: staging,
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('REMOVE'),
          userIdentity: {
            type: lambda.FilterRule.isEqual('Service'),
            principalId: lambda.FilterRule.isEqual('dynamodb.amazonaws.com'),
          },
        }),
      ],
    });
    eventsTable.grant(this.rescue.lambdaFunction, 'dynamodb:GetItem', 'dynamodb:PutItem');

    this.alerting = new Alerting(compute, 'Alerting', {
      entry: handlerEntry('alert'),
      eventBus: this.partnerBus.eventBus,
      alertRules: props.alertRules,
      alertTopic: this.stateful.alertTopic.topic,
      claimsTable: this.stateful.alertClaimsTable.table,
      alertDedupeRetentionDays: config.alertDedupeRetentionDays,
      logRetention: config.logRetentionDays,
      eventSourceName: config.eventSourceName,
      quarantineBucket: archiveBucket,
      redriveRoleArn: config.redriveRoleArn,
    });

    if (config.oktaOrgUrl !== undefined && config.oktaSecretName !== undefined) {
      this.watchdog = new FeedWatchdog(compute, 'Watchdog', {
        entry: handlerEntry('watchdog'),
        oktaOrgUrl: config.oktaOrgUrl,
        oktaSecretName: config.oktaSecretName,
        oktaApiShare: config.oktaApiShare,
        autoReactivate: config.autoReactivate,
        schedule: Duration.minutes(config.watchdogMinutes),
        eventSourceName: config.eventSourceName,
        staging: {
          EVENTS_TABLE_NAME: staging.EVENTS_TABLE_NAME,
          WINDOW_SECONDS: staging.WINDOW_SECONDS,
          ALLOWED_LATENESS_SECONDS: staging.ALLOWED_LATENESS_SECONDS,
          WINDOW_SHARDS: staging.WINDOW_SHARDS,
          DEDUPE_RETENTION_DAYS: staging.DEDUPE_RETENTION_DAYS,
        },
        checkDelay: Duration.seconds(config.allowedLatenessSeconds).plus(SYSTEM_LOG_DELAY),
        eventsTable,
        claimsTable: this.stateful.alertClaimsTable.table,
        alertDedupeRetentionDays: config.alertDedupeRetentionDays,
        alertTopic: this.stateful.alertTopic.topic,
        ingest: this.ingest,
        alert: this.alerting.consumer,
        alertRules: props.alertRules,
        logRetention: config.logRetentionDays,
      });
    }

    this.alarms = new PipelineAlarms(this, 'Alarms', {
      alarmTopic: this.stateful.operationsTopic.topic,
      ingestQueue: this.ingest.queue,
      ingestFunction: this.ingest.lambdaFunction,
      sequencerFunction: this.sequencer.lambdaFunction,
      alertFunction: this.alerting.consumer.lambdaFunction,
      rescueFunction: this.rescue.lambdaFunction,
      windowSealDelay: Duration.seconds(config.windowSeconds + config.allowedLatenessSeconds).plus(SEAL_GUARD),
      silenceMinutes: config.silenceMinutes,
      ...(this.watchdog === undefined
        ? {}
        : { watchdog: { fn: this.watchdog.lambdaFunction, schedule: Duration.minutes(config.watchdogMinutes) } }),
      deadLetterQueues: {
        Ingest: this.ingest.deadLetterQueue,
        IngestDelivery: this.ingest.targetDeadLetterQueue,
        Alert: this.alerting.consumer.deadLetterQueue,
        AlertDelivery: this.alerting.consumer.targetDeadLetterQueue,
        Rescue: this.rescue.deadLetterQueue,
      },
    });

    new CfnOutput(this, 'PartnerEventBusName', { value: this.partnerBus.eventBus.eventBusName });
    new CfnOutput(this, 'ArchiveBucketName', { value: archiveBucket.bucketName });
    new CfnOutput(this, 'ArchiveDatabaseName', { value: this.stateful.archiveQuery.database.ref });
    new CfnOutput(this, 'ArchiveTableName', { value: this.stateful.archiveQuery.tableName });
    new CfnOutput(this, 'ArchiveWorkGroupName', { value: this.stateful.archiveQuery.workGroup.ref });
    new CfnOutput(this, 'AlertTopicArn', { value: this.stateful.alertTopic.topic.topicArn });
    new CfnOutput(this, 'OperationsTopicArn', { value: this.stateful.operationsTopic.topic.topicArn });
  }
}
