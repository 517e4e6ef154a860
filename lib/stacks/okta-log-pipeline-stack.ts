import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { PipelineConfig } from '../config.ts';
import { Alerting } from '../constructs/alerting.ts';
import { PartnerEventBus } from '../constructs/partner-event-bus.ts';
import { PipelineAlarms } from '../constructs/pipeline-alarms.ts';
import { QueuedConsumer } from '../constructs/queued-consumer.ts';
import { ScheduledFunction } from '../constructs/scheduled-function.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { StatefulResources } from './stateful-resources.ts';

/**
 * A grant on the objects under a key prefix is a wildcard resource by nature; cdk-nag names the finding after the
 * bucket's logical ID.
 */
function acknowledgeObjectKeys(role: iam.IRole, bucket: s3.Bucket, keyPattern: string, why: string): void {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${keyPattern}]`,
    reason: `${why} under ${keyPattern}, with generated keys; the grant is limited to that prefix and to the actions named.`,
  });
}

const handlerEntry = (fn: string): string => fileURLToPath(new URL(`../../lambdas/${fn}/handler.ts`, import.meta.url));

const INGEST_TIMEOUT = Duration.seconds(30);
/** How far back the sequencer looks for windows it has not sealed yet. */
const BACKFILL = Duration.days(1);

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
  public readonly alerting: Alerting;
  public readonly alarms: PipelineAlarms;

  constructor(scope: Construct, id: string, props: OktaLogPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.stateful = new StatefulResources(this, 'Stateful', {
      archiveRetentionDays: config.archiveRetentionDays,
      archiveTransitionDays: config.archiveTransitionDays,
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
      environment: staging,
    });
    this.ingest.addEventRule(this.partnerBus.allEventsRule);
    eventsTable.grant(this.ingest.lambdaFunction, 'dynamodb:PutItem');
    archiveBucket.grants.actionsOnObjectKeys(this.ingest.lambdaFunction, 'quarantine/*', 's3:PutObject');
    acknowledgeObjectKeys(this.ingest.role, archiveBucket, 'quarantine/*', 'Ingest writes each rejected event');

    this.sequencer = new ScheduledFunction(compute, 'Sequencer', {
      entry: handlerEntry('sequencer'),
      description: 'Seals windows of staged events into the archive',
      timeout: Duration.minutes(5),
      memorySize: 1024,
      reservedConcurrentExecutions: 1,
      logRetention: config.logRetentionDays,
      environment: {
        ...staging,
        // An ingest invocation that read the clock may still write up to its timeout later.
        SEAL_GUARD_SECONDS: String(INGEST_TIMEOUT.toSeconds() + 60),
        BACKFILL_SECONDS: String(BACKFILL.toSeconds()),
      },
    });
    eventsTable.grant(
      this.sequencer.lambdaFunction,
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    // Get and put under archive/ only: no deletes, so the archive writer cannot remove archived versions.
    archiveBucket.grants.actionsOnObjectKeys(
      this.sequencer.lambdaFunction,
      'archive/*',
      's3:GetObject',
      's3:PutObject',
    );
    // Without s3:ListBucket, S3 answers a get of a missing object with 403 instead of NoSuchKey.
    iam.Grant.addToPrincipal({
      grantee: this.sequencer.lambdaFunction,
      actions: ['s3:ListBucket'],
      resourceArns: [archiveBucket.bucketArn],
    });
    acknowledgeObjectKeys(
      this.sequencer.role,
      archiveBucket,
      'archive/*',
      "The sequencer writes each window's parts and manifest",
    );

    this.alerting = new Alerting(compute, 'Alerting', {
      entry: handlerEntry('alert'),
      eventBus: this.partnerBus.eventBus,
      alertRules: props.alertRules,
      alertTopic: this.stateful.alertTopic.topic,
      claimsTable: this.stateful.alertClaimsTable.table,
      alertDedupeRetentionDays: config.alertDedupeRetentionDays,
      logRetention: config.logRetentionDays,
    });

    this.alarms = new PipelineAlarms(this, 'Alarms', {
      alarmTopic: this.stateful.operationsTopic.topic,
      ingestQueue: this.ingest.queue,
      ingestFunction: this.ingest.lambdaFunction,
      sequencerFunction: this.sequencer.lambdaFunction,
      alertFunction: this.alerting.consumer.lambdaFunction,
      silenceMinutes: config.silenceMinutes,
      deadLetterQueues: {
        Ingest: this.ingest.deadLetterQueue,
        IngestDelivery: this.ingest.targetDeadLetterQueue,
        Alert: this.alerting.consumer.deadLetterQueue,
        AlertDelivery: this.alerting.consumer.targetDeadLetterQueue,
      },
    });

    new CfnOutput(this, 'PartnerEventBusName', { value: this.partnerBus.eventBus.eventBusName });
    new CfnOutput(this, 'ArchiveBucketName', { value: archiveBucket.bucketName });
    new CfnOutput(this, 'AlertTopicArn', { value: this.stateful.alertTopic.topic.topicArn });
    new CfnOutput(this, 'OperationsTopicArn', { value: this.stateful.operationsTopic.topic.topicArn });
  }
}
