import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AUTH0 } from '../../lambdas/shared/log-sources.ts';
import { ALERT_RULES_FILE } from '../../lambdas/watchdog/bundled-rules.ts';
import { WATCHDOG_PK } from '../../lambdas/watchdog/dynamo-watchdog-store.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from './pipeline-function.ts';
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
  /** Where refilled events a stateful rule's pre-filter matches go. */
  readonly detector: QueuedConsumer;
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
        DETECTOR_QUEUE_URL: props.detector.queue.queueUrl,
        ALERTS_TABLE_NAME: props.claimsTable.tableName,
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        ALERT_DEDUPE_RETENTION_DAYS: String(props.alertDedupeRetentionDays),
      },
    });
    this.lambdaFunction = fn.lambdaFunction;
    this.role = fn.role;
    grantWatchdogAccess(this, this.role, {
      ...props,
      secretId: 'OktaSecret',
      secretName: props.oktaSecretName,
      secretKey: 'oktaSecretName',
    });
  }
}

/**
 * What a watchdog function may do, for one source: read its one secret; read and write its own state item and look
 * staged events up by key in that source's events table; claim and publish its alerts; send to that source's ingest
 * queue and to the alert queue.
 */
const grantWatchdogAccess = (
  scope: Construct,
  role: iam.Role,
  props: {
    readonly secretId: string;
    readonly secretName: string;
    /** The config key that names the secret. */
    readonly secretKey: string;
    readonly eventsTable: dynamodb.ITable;
    readonly claimsTable: dynamodb.ITable;
    readonly alertTopic: sns.ITopic;
    readonly ingest: QueuedConsumer;
    readonly alert: QueuedConsumer;
    readonly detector: QueuedConsumer;
  },
): void => {
  secretsmanager.Secret.fromSecretNameV2(scope, props.secretId, props.secretName).grantRead(role);
  // Its own state item, read and written; staged events, only looked up by key.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resources: [props.eventsTable.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [WATCHDOG_PK] } },
    }),
  );
  props.eventsTable.grant(role, 'dynamodb:BatchGetItem');
  // The alert path's (rule, uuid) claims, so each watchdog alert is published once.
  props.claimsTable.grant(role, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
  props.alertTopic.grantPublish(role);
  Validations.of(role).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        "Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* on the topic's key; the grant names " +
        'that one key.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${props.secretName}-??????]`,
      reason:
        'Secrets Manager appends six random characters to a secret name in its ARN; the pattern matches the one ' +
        `secret named in ${props.secretKey} and no other.`,
    },
  );
  props.ingest.admitSender(role);
  props.alert.admitSender(role);
  props.detector.admitSender(role);
};

/** How long Auth0 may take to show a log in the Management API, on top of the stream's allowed lateness. */
const AUTH0_LOG_DELAY = Duration.minutes(5);
/** The watchdog counts as stuck when it has not checked the tenant's logs this far back. */
const MAX_AUTH0_WATCHDOG_LAG = Duration.hours(1);
/** Runs in a row with logs missing from the stream before it counts as dropping them (not a one-off). */
const MISSING_RUNS = 3;

export interface Auth0FeedWatchdogProps {
  /** The TypeScript handler file. */
  readonly entry: string;
  /** The tenant's https origin, e.g. https://acme.us.auth0.com. */
  readonly domain: string;
  /**
   * The Secrets Manager secret with the Management API client credentials (AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET), by
   * name; the function may read that secret only.
   */
  readonly secretName: string;
  readonly autoReactivate: boolean;
  readonly schedule: Duration;
  /**
   * The stream that feeds the deployment: the eventbridge one whose partner event source is the Auth0 bus's, or the
   * http one that posts to the HTTP sink's URL.
   */
  readonly stream: { readonly eventSourceName: string } | { readonly httpEndpoint: string };
  /** The Auth0 source's staging environment (its events table, window size, shards), to compute staging keys. */
  readonly staging: Readonly<Record<string, string>>;
  /** The stream's allowed lateness: a log is checked this long after its date, plus Auth0's own delay. */
  readonly allowedLateness: Duration;
  /** The Auth0 events table. */
  readonly eventsTable: dynamodb.ITable;
  readonly claimsTable: dynamodb.ITable;
  readonly alertDedupeRetentionDays: number;
  readonly alertTopic: sns.ITopic;
  /** Where refilled logs go: the Auth0 ingest queue, with origin `backfill`. */
  readonly ingest: QueuedConsumer;
  /** Where refilled logs that match an Auth0 alert rule go. */
  readonly alert: QueuedConsumer;
  /** Where refilled logs a stateful Auth0 rule's pre-filter matches go. */
  readonly detector: QueuedConsumer;
  /**
   * The Auth0 alert rules compiled for the source refilled logs arrive with: the partner event source, or the HTTP
   * sink's (AUTH0_HTTP_SOURCE) without one.
   */
  readonly alertRules: readonly CompiledAlertRule[];
  /** Where its alarms notify (the operations topic). */
  readonly alarmTopic: sns.ITopic;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The feed watchdog's Auth0 check: a scheduled function of its own (its own role, state item, errors and alarms, so
 * either source's check failing leaves the other running) that reads the Auth0 Management API, alerts once per episode
 * of the log stream being paused or suspended (and resumes it with autoReactivate), and refills what the stream did
 * not deliver through the Auth0 ingest and the alert queue. Deployed only when the Auth0 tenant and secret are
 * configured.
 */
export class Auth0FeedWatchdog extends Construct {
  public readonly lambdaFunction: lambda.IFunction;
  public readonly role: iam.Role;
  public readonly alarms: {
    /** The tenant logged what the stream did not deliver, run after run (the watchdog refills it). */
    readonly streamDroppingLogs: cloudwatch.Alarm;
    /** The stream is paused, suspended or gone (the watchdog also alerts on the alert topic). */
    readonly logStreamInactive: cloudwatch.Alarm;
    readonly errors: cloudwatch.Alarm;
    /** The check is far behind the tenant's logs, or the function is not reporting. */
    readonly lag: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: Auth0FeedWatchdogProps) {
    super(scope, id);
    const fn = new ScheduledFunction(this, 'Function', {
      entry: props.entry,
      description: 'Watches the Auth0 log stream and refills what it did not deliver from the Management API',
      timeout: Duration.minutes(5),
      memorySize: 512,
      reservedConcurrentExecutions: 1,
      logRetention: props.logRetention,
      schedule: events.Schedule.rate(props.schedule),
      bundledFiles: { [ALERT_RULES_FILE]: JSON.stringify(props.alertRules) },
      environment: {
        ...props.staging,
        // Its metrics under the `source: auth0` dimension, as the other Auth0 functions'.
        LOG_SOURCE: AUTH0.name,
        AUTH0_DOMAIN: props.domain,
        AUTH0_SECRET_NAME: props.secretName,
        ...('eventSourceName' in props.stream
          ? { AUTH0_EVENT_SOURCE_NAME: props.stream.eventSourceName }
          : { AUTH0_HTTP_ENDPOINT: props.stream.httpEndpoint }),
        AUTO_REACTIVATE: String(props.autoReactivate),
        CHECK_DELAY_SECONDS: String(props.allowedLateness.plus(AUTH0_LOG_DELAY).toSeconds()),
        EXPECTED_ACCOUNT: props.ingest.queue.env.account,
        INGEST_QUEUE_URL: props.ingest.queue.queueUrl,
        ALERT_QUEUE_URL: props.alert.queue.queueUrl,
        DETECTOR_QUEUE_URL: props.detector.queue.queueUrl,
        ALERTS_TABLE_NAME: props.claimsTable.tableName,
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        ALERT_DEDUPE_RETENTION_DAYS: String(props.alertDedupeRetentionDays),
      },
    });
    this.lambdaFunction = fn.lambdaFunction;
    this.role = fn.role;
    grantWatchdogAccess(this, this.role, { ...props, secretId: 'Auth0Secret', secretKey: 'auth0SecretName' });

    const action = new actions.SnsAction(props.alarmTopic);
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...alarmProps,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      return created;
    };
    // It reports once per run, under `source: auth0`, so its metrics are read per schedule period.
    const metric = (metricName: string, statistic: 'Sum' | 'Maximum' | 'Minimum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME, source: AUTH0.name },
        period: props.schedule,
        statistic,
      });
    this.alarms = {
      streamDroppingLogs: alarm('Auth0StreamDroppingLogs', {
        metric: metric('Auth0LogsMissingFromStream', 'Sum'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: MISSING_RUNS,
        datapointsToAlarm: MISSING_RUNS,
        alarmDescription:
          `For ${MISSING_RUNS} watchdog runs in a row, the Auth0 tenant logged what its log stream did not deliver ` +
          'within the allowed lateness. The watchdog refills it from the Management API, so nothing is lost, but the ' +
          'stream is not doing its job: check it (olp auth0 stream status) and its sink.',
      }),
      logStreamInactive: alarm('Auth0LogStreamInactive', {
        metric: metric('Auth0LogStreamActive', 'Minimum'),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        alarmDescription:
          'The Auth0 log stream that feeds the pipeline is paused, suspended or gone. The watchdog raised a critical ' +
          'alert on the alert topic and refills the gap from the Management API; resume the stream (olp auth0 stream ' +
          'resume) once its sink is checked, or let autoReactivate do it.',
      }),
      errors: alarm('Auth0WatchdogErrors', {
        metric: fn.lambdaFunction.metricErrors({ period: props.schedule, statistic: 'Sum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        alarmDescription:
          "The feed watchdog's Auth0 check failed two runs in a row (Management API errors, missing scopes, bad " +
          'credentials in its secret): see its logs. It resumes where it stopped once it runs again.',
      }),
      lag: alarm('Auth0WatchdogLag', {
        metric: metric('Auth0WatchdogLagSeconds', 'Maximum'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: MAX_AUTH0_WATCHDOG_LAG.toSeconds(),
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription:
          `The feed watchdog has not checked the Auth0 tenant's logs for over ${MAX_AUTH0_WATCHDOG_LAG.toHours()} ` +
          'hour, or has not reported for three of its periods (Auth0 rate limits included): gaps in the stream are ' +
          'not being found. Check its errors, schedule and reserved concurrency (1, not 0).',
      }),
    };
  }
}
