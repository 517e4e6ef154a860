import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ALERT_RULES_FILE } from '../../lambdas/watchdog/bundled-rules.ts';
import { WATCHDOG_PK } from '../../lambdas/watchdog/dynamo-watchdog-store.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import type { QueuedConsumer } from './queued-consumer.ts';
import { ScheduledFunction } from './scheduled-function.ts';

export interface FeedWatchdogProps {
  /** The TypeScript handler file. */
  readonly entry: string;
  readonly oktaOrgUrl: string;
  /** The Secrets Manager secret with the Okta credentials, by name; the function may read that secret only. */
  readonly oktaSecretName: string;
  readonly oktaApiShare: number;
  readonly autoReactivate: boolean;
  readonly schedule: Duration;
  /** The partner event source: the stream to watch, and the source of the envelopes of refilled events. */
  readonly eventSourceName: string;
  /** The staging environment the ingest function has (table, window size, shards), to compute staging keys. */
  readonly staging: Readonly<Record<string, string>>;
  /** How long after `published` an event is checked: the allowed lateness plus the System Log API's delay. */
  readonly checkDelay: Duration;
  readonly eventsTable: dynamodb.ITable;
  readonly claimsTable: dynamodb.ITable;
  readonly alertDedupeRetentionDays: number;
  readonly alertTopic: sns.ITopic;
  /** Where refilled events go: the ingest queue, with origin `backfill`. */
  readonly ingest: QueuedConsumer;
  /** Where refilled events that match an alert rule go, as the rule's EventBridge target would send them. */
  readonly alert: QueuedConsumer;
  readonly alertRules: readonly CompiledAlertRule[];
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The feed watchdog: a scheduled function that reads Okta's Log Streaming and System Log APIs, alerts once per
 * deactivation episode of the log stream (and reactivates it with autoReactivate), and refills what the stream did not
 * deliver through the ingest and alert queues. Deployed only when the Okta org and secret are configured.
 */
export class FeedWatchdog extends Construct {
  public readonly lambdaFunction: lambda.IFunction;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FeedWatchdogProps) {
    super(scope, id);
    const fn = new ScheduledFunction(this, 'Function', {
      entry: props.entry,
      description: 'Watches the Okta log stream and refills what it did not deliver from the System Log API',
      timeout: Duration.minutes(5),
      memorySize: 512,
      // One run at a time: the state is written conditionally anyway, but overlapping runs would only waste calls.
      reservedConcurrentExecutions: 1,
      logRetention: props.logRetention,
      schedule: events.Schedule.rate(props.schedule),
      bundledFiles: { [ALERT_RULES_FILE]: JSON.stringify(props.alertRules) },
      environment: {
        ...props.staging,
        OKTA_ORG_URL: props.oktaOrgUrl,
        OKTA_SECRET_NAME: props.oktaSecretName,
        OKTA_API_SHARE: String(props.oktaApiShare),
        AUTO_REACTIVATE: String(props.autoReactivate),
        CHECK_DELAY_SECONDS: String(props.checkDelay.toSeconds()),
        EVENT_SOURCE_NAME: props.eventSourceName,
        EXPECTED_ACCOUNT: props.ingest.queue.env.account,
        INGEST_QUEUE_URL: props.ingest.queue.queueUrl,
        ALERT_QUEUE_URL: props.alert.queue.queueUrl,
        ALERTS_TABLE_NAME: props.claimsTable.tableName,
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        ALERT_DEDUPE_RETENTION_DAYS: String(props.alertDedupeRetentionDays),
      },
    });
    this.lambdaFunction = fn.lambdaFunction;
    this.role = fn.role;

    secretsmanager.Secret.fromSecretNameV2(this, 'OktaSecret', props.oktaSecretName).grantRead(this.role);
    // Its own state item, read and written; staged events, only looked up by key.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [props.eventsTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [WATCHDOG_PK] } },
      }),
    );
    props.eventsTable.grant(this.role, 'dynamodb:BatchGetItem');
    // The alert path's (rule, uuid) claims, so each watchdog alert is published once.
    props.claimsTable.grant(this.role, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    props.alertTopic.grantPublish(this.role);
    Validations.of(this.role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason:
          "Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* on the topic's key; the grant names " +
          'that one key.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${props.oktaSecretName}-??????]`,
        reason:
          'Secrets Manager appends six random characters to a secret name in its ARN; the pattern matches the one ' +
          'secret named in oktaSecretName and no other.',
      },
    );
    props.ingest.admitSender(this.role);
    props.alert.admitSender(this.role);
  }
}
