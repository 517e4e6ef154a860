import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AUTH0, AUTH0_HTTP_SOURCE, type LogSource, OKTA } from '../../lambdas/shared/log-sources.ts';
import type { PipelineConfig } from '../config.ts';
import { Alerting } from '../constructs/alerting.ts';
import { grantObjectKeys } from '../constructs/archive-bucket.ts';
import { ArchiveSigningKey } from '../constructs/archive-signing-key.ts';
import { Auth0HttpSink } from '../constructs/auth0-http-sink.ts';
import { Detection } from '../constructs/detection.ts';
import { Auth0FeedWatchdog, FeedWatchdog } from '../constructs/feed-watchdog.ts';
import { Forwarding } from '../constructs/forwarding.ts';
import { PartnerEventBus } from '../constructs/partner-event-bus.ts';
import { grantPiiKey, type PiiAccess, piiAccess, piiEnvironment } from '../constructs/pii-key.ts';
import { PipelineAlarms } from '../constructs/pipeline-alarms.ts';
import { PipelineTable, type TableCapacity } from '../constructs/pipeline-table.ts';
import { QueuedConsumer } from '../constructs/queued-consumer.ts';
import { ScheduledFunction } from '../constructs/scheduled-function.ts';
import { TableStreamFunction } from '../constructs/table-stream-function.ts';
import type { ForwardingPlan } from '../rules/destinations.ts';
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

/** The tables' capacity as configured. */
const tableCapacityOf = (config: PipelineConfig): TableCapacity =>
  config.tableCapacity === 'provisioned'
    ? { mode: 'provisioned', maxUnits: config.tableMaxCapacityUnits }
    : { mode: 'on-demand' };

export interface OktaLogPipelineStackProps extends StackProps {
  readonly config: PipelineConfig;
  /**
   * Compiled alert rules (lib/rules): one EventBridge rule each on the partner bus of its source. Auth0 rules are
   * deployed only with an Auth0 partner bus (`auth0EventSourceName`); the HTTP sink matches `auth0HttpSinkRules`.
   */
  readonly alertRules: readonly CompiledAlertRule[];
  /**
   * The Auth0 alert rules compiled for AUTH0_HTTP_SOURCE (`compileRules(rules, { auth0: AUTH0_HTTP_SOURCE })`), which
   * the HTTP sink matches itself. Required with `auth0HttpSink`. @default - none
   */
  readonly auth0HttpSinkRules?: readonly CompiledAlertRule[];
  /**
   * Destinations and the alert rules that forward to them (`forwardingPlan(loadRuleSet(...))`): each forwarding
   * rule's EventBridge rule gets an API destination target. @default - nothing is forwarded
   */
  readonly forwarding?: ForwardingPlan;
}

/** One log source's path from its queue to the archive: ingest, sequencer and rescue over its own events table. */
export interface SourcePipeline {
  readonly ingest: QueuedConsumer;
  readonly sequencer: ScheduledFunction;
  readonly rescue: TableStreamFunction;
}

/** The Auth0 source, deployed when `auth0EventSourceName` or `auth0HttpSink` is configured. */
export interface Auth0Source extends SourcePipeline {
  /** Dedupe records and staged Auth0 logs; its stream feeds the Auth0 rescue function. */
  readonly eventsTable: PipelineTable;
  /** The bus of the Auth0 partner event source, with `auth0EventSourceName`. */
  readonly partnerBus?: PartnerEventBus;
  /** The HTTP sink for an Auth0 HTTP log stream, with `auth0HttpSink`. */
  readonly httpSink?: Auth0HttpSink;
  /** The sources Auth0 logs are accepted from: the partner event source and/or AUTH0_HTTP_SOURCE. */
  readonly sourceNames: readonly string[];
}

interface SourcePipelineProps {
  readonly source: LogSource;
  readonly config: PipelineConfig;
  readonly eventsTable: dynamodb.Table;
  readonly archiveBucket: s3.Bucket;
  /** The bus whose all-events rule feeds the ingest queue. @default - none: only admitted senders feed it */
  readonly partnerBus?: PartnerEventBus;
  /** The sources ingest accepts (EVENT_SOURCE_NAME). */
  readonly eventSourceNames: readonly string[];
  /** Added to each function's environment. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** What the descriptions call the source's events. */
  readonly eventsCalled: string;
  /** Signs the digest records the source's sequencer appends to its archive's integrity chain. */
  readonly signingKey: ArchiveSigningKey;
  /** PII redaction of the archived lines (the source's PII settings with `archive: true`). @default - none */
  readonly archivePii?: PiiAccess;
}

/** The PII settings configured for each source (`oktaPii`, `auth0Pii`). */
const piiSourcesOf = (config: PipelineConfig) => ({
  ...(config.oktaPii === undefined ? {} : { okta: config.oktaPii }),
  ...(config.auth0Pii === undefined ? {} : { auth0: config.auth0Pii }),
});

/** The staging settings every function of a source reads, over that source's events table. */
const stagingEnvironment = (config: PipelineConfig, eventsTable: dynamodb.ITable, archiveBucket: s3.IBucket) => ({
  EVENTS_TABLE_NAME: eventsTable.tableName,
  ARCHIVE_BUCKET_NAME: archiveBucket.bucketName,
  WINDOW_SECONDS: String(config.windowSeconds),
  ALLOWED_LATENESS_SECONDS: String(config.allowedLatenessSeconds),
  WINDOW_SHARDS: String(config.windowShards),
  DEDUPE_RETENTION_DAYS: String(config.dedupeRetentionDays),
});

/**
 * Ingest, sequencer and rescue of one source, created as `Ingest`, `Sequencer` and `Rescue` directly in `scope`: Okta's
 * in the stack's compute scope, where they always were (their logical IDs must not move: a replaced queue loses its
 * messages), each further source's in a scope of its own. Each function is granted its own table and its source's
 * prefix of the archive bucket (`archivePrefix`) only.
 */
function sourcePipeline(scope: Construct, props: SourcePipelineProps): SourcePipeline {
  const { config, eventsTable, archiveBucket, source } = props;
  const stack = Stack.of(scope);
  const prefix = source.archivePrefix;
  const extra = props.environment ?? {};
  const staging = stagingEnvironment(config, eventsTable, archiveBucket);

  const ingest = new QueuedConsumer(scope, 'Ingest', {
    entry: handlerEntry('ingest'),
    eventBus: props.partnerBus?.eventBus,
    description: `Dedupes and stages ${props.eventsCalled}`,
    timeout: INGEST_TIMEOUT,
    memorySize: 512,
    batchSize: config.ingestBatchSize,
    maxBatchingWindow: Duration.seconds(config.ingestBatchWindowSeconds),
    logRetention: config.logRetentionDays,
    redriveRoleArn: config.redriveRoleArn,
    environment: {
      ...staging,
      ...extra,
      // Ingest accepts only envelopes of these sources, delivered to this account.
      EVENT_SOURCE_NAME: props.eventSourceNames.join(','),
      EXPECTED_ACCOUNT: stack.account,
    },
  });
  if (props.partnerBus !== undefined) ingest.addEventRule(props.partnerBus.allEventsRule);
  eventsTable.grant(ingest.lambdaFunction, 'dynamodb:PutItem');
  // Ingest reads the sequencer's progress every few seconds, and no other item.
  ingest.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem'],
      resources: [eventsTable.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SEQUENCER_STATE_PK] } },
    }),
  );
  grantObjectKeys(
    archiveBucket,
    ingest.role,
    `${prefix}quarantine/*`,
    ['s3:PutObject'],
    'Ingest writes each rejected event',
  );

  const sequencer = new ScheduledFunction(scope, 'Sequencer', {
    entry: handlerEntry('sequencer'),
    description: 'Seals windows of staged events into the archive',
    timeout: Duration.minutes(5),
    memorySize: 1024,
    reservedConcurrentExecutions: 1,
    logRetention: config.logRetentionDays,
    environment: {
      ...staging,
      ...extra,
      SEAL_GUARD_SECONDS: String(SEAL_GUARD.toSeconds()),
      ARCHIVE_SIGNING_KEY_ID: props.signingKey.key.keyArn,
      ...piiEnvironment(props.archivePii),
    },
  });
  grantPiiKey(sequencer, sequencer.role, props.archivePii);
  eventsTable.grant(
    sequencer.lambdaFunction,
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
    sequencer.role,
    `${prefix}archive/*`,
    ['s3:GetObject', 's3:PutObject'],
    "The sequencer writes each window's parts and manifest",
  );
  // The integrity chain: the sequencer reads the record after its head before appending one, and never deletes.
  grantObjectKeys(
    archiveBucket,
    sequencer.role,
    `${prefix}digests/*`,
    ['s3:GetObject', 's3:PutObject'],
    "The sequencer appends the archive's digest records",
  );
  props.signingKey.grantSignDigest(sequencer.lambdaFunction);
  // Without s3:ListBucket, S3 answers a get of a missing object with 403 instead of NoSuchKey.
  iam.Grant.addToPrincipal({
    grantee: sequencer.lambdaFunction,
    actions: ['s3:ListBucket'],
    resourceArns: [archiveBucket.bucketArn],
  });

  // DynamoDB TTL may delete a staged event whose window the sequencer has not sealed (a sequencer stopped longer
  // than dedupeRetentionDays). The stream hands each such item to the rescue function, which stages it again, so
  // nothing is lost however long the sequencer is stopped. Only TTL deletions invoke it: the sequencer's own
  // deletes are user deletions.
  const rescue = new TableStreamFunction(scope, 'Rescue', {
    entry: handlerEntry('rescue'),
    description: 'Stages again the staged events DynamoDB TTL deleted before their window was sealed',
    table: eventsTable,
    timeout: Duration.minutes(1),
    logRetention: config.logRetentionDays,
    environment: { ...staging, ...extra },
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
  eventsTable.grant(rescue.lambdaFunction, 'dynamodb:GetItem', 'dynamodb:PutItem');
  return { ingest, sequencer, rescue };
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
  /** Stateful alert rules (threshold, distinct, sequence): pre-filter rules, detector queue and function. */
  public readonly detection: Detection;
  /** Deployed when `oktaOrgUrl` and `oktaSecretName` are configured. */
  public readonly watchdog?: FeedWatchdog;
  public readonly alarms: PipelineAlarms;
  /** Signs the digest records of every source's archive; its public half verifies them offline (olp archive verify). */
  public readonly archiveSigningKey: ArchiveSigningKey;
  /** Deployed when `auth0EventSourceName` or `auth0HttpSink` is configured. */
  public readonly auth0?: Auth0Source;
  /** The feed watchdog's Auth0 check; deployed with the Auth0 source when `auth0Domain` and `auth0SecretName` are set. */
  public readonly auth0Watchdog?: Auth0FeedWatchdog;
  /** Deployed when an alert rule forwards to a destination. */
  public readonly forwarding?: Forwarding;

  constructor(scope: Construct, id: string, props: OktaLogPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.stateful = new StatefulResources(this, 'Stateful', {
      archiveRetentionDays: config.archiveRetentionDays,
      archiveTransitionDays: config.archiveTransitionDays,
      archiveLockMode: config.archiveLockMode,
      notificationEmail: config.notificationEmail,
      tableCapacity: tableCapacityOf(config),
    });
    const eventsTable = this.stateful.eventsTable.table;
    const archiveBucket = this.stateful.archive.bucket;
    // Stateful too (every record of the integrity chain is signed with it), kept apart from compute.
    this.archiveSigningKey = new ArchiveSigningKey(this, 'ArchiveSigningKey');

    const compute = new Construct(this, 'Compute');
    const pii = piiSourcesOf(config);
    this.partnerBus = new PartnerEventBus(compute, 'PartnerBus', { eventSourceName: config.eventSourceName });

    const oktaPipeline = sourcePipeline(compute, {
      source: OKTA,
      config,
      eventsTable,
      archiveBucket,
      partnerBus: this.partnerBus,
      eventSourceNames: [config.eventSourceName],
      eventsCalled: 'Okta System Log events',
      signingKey: this.archiveSigningKey,
      archivePii: piiAccess(pii, config.piiHashSecretName, 'okta'),
    });
    this.ingest = oktaPipeline.ingest;
    this.sequencer = oktaPipeline.sequencer;
    this.rescue = oktaPipeline.rescue;
    const staging = stagingEnvironment(config, eventsTable, archiveBucket);

    const auth0Bus =
      config.auth0EventSourceName === undefined
        ? undefined
        : new PartnerEventBus(compute, 'Auth0PartnerBus', {
            eventSourceName: config.auth0EventSourceName,
            detailType: AUTH0.detailType,
            eventName: 'Auth0 log',
          });
    const auth0SourceNames = [
      ...(config.auth0EventSourceName === undefined ? [] : [config.auth0EventSourceName]),
      ...(config.auth0HttpSink ? [AUTH0_HTTP_SOURCE] : []),
    ];
    const oktaRules = props.alertRules.filter((rule) => rule.source !== 'auth0');
    // Without an Auth0 bus there is nothing to put Auth0 rules on: the HTTP sink matches its own copy of them.
    const auth0BusRules = auth0Bus === undefined ? [] : props.alertRules.filter((rule) => rule.source === 'auth0');
    const busRules = [...oktaRules, ...auth0BusRules];

    this.alerting = new Alerting(compute, 'Alerting', {
      entry: handlerEntry('alert'),
      eventBus: this.partnerBus.eventBus,
      alertRules: busRules.filter((rule) => rule.detect === undefined),
      ...(auth0Bus === undefined ? {} : { auth0EventBus: auth0Bus.eventBus }),
      auth0SourceNames,
      alertTopic: this.stateful.alertTopic.topic,
      claimsTable: this.stateful.alertClaimsTable.table,
      alertDedupeRetentionDays: config.alertDedupeRetentionDays,
      logRetention: config.logRetentionDays,
      eventSourceName: config.eventSourceName,
      quarantineBucket: archiveBucket,
      redriveRoleArn: config.redriveRoleArn,
      pii: piiAccess(pii, config.piiHashSecretName, 'alerts'),
    });

    this.detection = new Detection(compute, 'Detection', {
      entry: handlerEntry('detector'),
      eventBus: this.partnerBus.eventBus,
      ...(auth0Bus === undefined ? {} : { auth0EventBus: auth0Bus.eventBus }),
      rules: busRules.filter((rule) => rule.detect !== undefined),
      table: this.stateful.detectorTable.table,
      alert: this.alerting.consumer,
      allowedLateness: Duration.seconds(config.allowedLatenessSeconds),
      eventSourceName: config.eventSourceName,
      auth0SourceNames,
      quarantineBucket: archiveBucket,
      logRetention: config.logRetentionDays,
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
        detector: this.detection.consumer,
        // The watchdog refills Okta events only.
        alertRules: oktaRules,
        logRetention: config.logRetentionDays,
      });
    }

    if (auth0SourceNames.length > 0) {
      this.auth0 = this.auth0Source(compute, props, auth0Bus, auth0SourceNames);
    }
    const auth0 = this.auth0;
    if (auth0 !== undefined && config.auth0Domain !== undefined && config.auth0SecretName !== undefined) {
      this.auth0Watchdog = this.auth0FeedWatchdog(compute, props, auth0, auth0BusRules);
    }

    if (props.forwarding !== undefined && props.forwarding.routes.size > 0) {
      this.forwarding = new Forwarding(compute, 'Forwarding', {
        ...props.forwarding,
        rules: this.alerting.rules,
        ruleNamePrefix: this.alerting.ruleNamePrefix,
        alarmTopic: this.stateful.operationsTopic.topic,
        httpSinkRuleIds: (props.auth0HttpSinkRules ?? []).map((rule) => rule.id),
      });
    }

    this.alarms = new PipelineAlarms(this, 'Alarms', {
      alarmTopic: this.stateful.operationsTopic.topic,
      ingestQueue: this.ingest.queue,
      ingestFunction: this.ingest.lambdaFunction,
      sequencerFunction: this.sequencer.lambdaFunction,
      alertFunction: this.alerting.consumer.lambdaFunction,
      detectorFunction: this.detection.consumer.lambdaFunction,
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
        Detector: this.detection.consumer.deadLetterQueue,
        DetectorDelivery: this.detection.consumer.targetDeadLetterQueue,
        Rescue: this.rescue.deadLetterQueue,
        ...(auth0 === undefined
          ? {}
          : {
              Auth0Ingest: auth0.ingest.deadLetterQueue,
              Auth0IngestDelivery: auth0.ingest.targetDeadLetterQueue,
              Auth0Rescue: auth0.rescue.deadLetterQueue,
            }),
      },
      ...(auth0 === undefined
        ? {}
        : {
            auth0: {
              ingestQueue: auth0.ingest.queue,
              ingestFunction: auth0.ingest.lambdaFunction,
              sequencerFunction: auth0.sequencer.lambdaFunction,
              rescueFunction: auth0.rescue.lambdaFunction,
              httpSinkFunction: auth0.httpSink?.lambdaFunction,
            },
          }),
    });

    new CfnOutput(this, 'PartnerEventBusName', { value: this.partnerBus.eventBus.eventBusName });
    new CfnOutput(this, 'ArchiveBucketName', { value: archiveBucket.bucketName });
    new CfnOutput(this, 'ArchiveSigningKeyArn', {
      value: this.archiveSigningKey.key.keyArn,
      description: 'aws kms get-public-key --key-id <this> gives the public key for olp archive verify --public-key',
    });
    new CfnOutput(this, 'ArchiveDatabaseName', { value: this.stateful.archiveQuery.database.ref });
    new CfnOutput(this, 'ArchiveTableName', { value: this.stateful.archiveQuery.tableName });
    new CfnOutput(this, 'ArchiveWorkGroupName', { value: this.stateful.archiveQuery.workGroup.ref });
    new CfnOutput(this, 'AlertTopicArn', { value: this.stateful.alertTopic.topic.topicArn });
    new CfnOutput(this, 'OperationsTopicArn', { value: this.stateful.operationsTopic.topic.topicArn });
    if (auth0?.partnerBus !== undefined) {
      new CfnOutput(this, 'Auth0PartnerEventBusName', { value: auth0.partnerBus.eventBus.eventBusName });
    }
    if (auth0?.httpSink !== undefined) {
      new CfnOutput(this, 'Auth0HttpSinkUrl', {
        description: "The Auth0 HTTP log stream's httpEndpoint (olp auth0 stream create --type http --endpoint)",
        value: auth0.httpSink.functionUrl.url,
      });
    }
  }

  /**
   * The feed watchdog's Auth0 check. It watches the stream that feeds the deployment: the EventBridge stream of the
   * Auth0 bus's partner event source when there is one, else the HTTP stream posting to the HTTP sink's URL; refilled
   * logs arrive in the envelope that stream's logs have here, matched against the rules compiled for it.
   */
  private auth0FeedWatchdog(
    compute: Construct,
    props: OktaLogPipelineStackProps,
    auth0: Auth0Source,
    busRules: readonly CompiledAlertRule[],
  ): Auth0FeedWatchdog {
    const { config } = props;
    const eventSourceName = config.auth0EventSourceName;
    const sinkUrl = auth0.httpSink?.functionUrl.url;
    if (config.auth0Domain === undefined || config.auth0SecretName === undefined) {
      throw new Error('the Auth0 watchdog needs auth0Domain and auth0SecretName in the config');
    }
    if (eventSourceName === undefined && sinkUrl === undefined) {
      throw new Error('the Auth0 watchdog needs the Auth0 source: auth0EventSourceName or auth0HttpSink');
    }
    const { ARCHIVE_BUCKET_NAME: _unused, ...staging } = stagingEnvironment(
      config,
      auth0.eventsTable.table,
      this.stateful.archive.bucket,
    );
    return new Auth0FeedWatchdog(compute, 'Auth0Watchdog', {
      entry: fileURLToPath(new URL('../../lambdas/watchdog/auth0-handler.ts', import.meta.url)),
      domain: config.auth0Domain,
      secretName: config.auth0SecretName,
      autoReactivate: config.autoReactivate,
      schedule: Duration.minutes(config.watchdogMinutes),
      stream: eventSourceName !== undefined ? { eventSourceName } : { httpEndpoint: sinkUrl ?? '' },
      staging,
      allowedLateness: Duration.seconds(config.allowedLatenessSeconds),
      eventsTable: auth0.eventsTable.table,
      claimsTable: this.stateful.alertClaimsTable.table,
      alertDedupeRetentionDays: config.alertDedupeRetentionDays,
      alertTopic: this.stateful.alertTopic.topic,
      ingest: auth0.ingest,
      alert: this.alerting.consumer,
      detector: this.detection.consumer,
      // Rules that alert on each log: a stateful rule's logs go to the detector, which refilled logs do not reach.
      alertRules: (eventSourceName !== undefined
        ? busRules
        : (props.auth0HttpSinkRules ?? []).filter((rule) => rule.source === 'auth0')
      ).filter((rule) => rule.detect === undefined),
      alarmTopic: this.stateful.operationsTopic.topic,
      logRetention: config.logRetentionDays,
    });
  }

  /**
   * The Auth0 source: its own events table, ingest, sequencer and rescue (built as Okta's, with LOG_SOURCE=auth0 and
   * the `auth0/` prefix of the archive), fed by the Auth0 partner bus and/or the HTTP sink.
   */
  private auth0Source(
    compute: Construct,
    props: OktaLogPipelineStackProps,
    partnerBus: PartnerEventBus | undefined,
    sourceNames: readonly string[],
  ): Auth0Source {
    const { config } = props;
    // Beside Okta's tables, so it is grouped with the stateful resources; its own table, so Okta's never moves.
    const eventsTable = new PipelineTable(this.stateful, 'Auth0EventsTable', {
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      capacity: tableCapacityOf(config),
    });
    const archiveBucket = this.stateful.archive.bucket;
    const scope = new Construct(compute, 'Auth0');
    const pipeline = sourcePipeline(scope, {
      source: AUTH0,
      config,
      eventsTable: eventsTable.table,
      archiveBucket,
      partnerBus,
      eventSourceNames: sourceNames,
      environment: { LOG_SOURCE: AUTH0.name },
      eventsCalled: 'Auth0 logs',
      signingKey: this.archiveSigningKey,
      archivePii: piiAccess(piiSourcesOf(config), config.piiHashSecretName, 'auth0'),
    });
    let httpSink: Auth0HttpSink | undefined;
    if (config.auth0HttpSink) {
      if (config.auth0HttpSecretName === undefined || props.auth0HttpSinkRules === undefined) {
        throw new Error(
          'auth0HttpSink needs auth0HttpSecretName in the config and the Auth0 alert rules compiled for ' +
            `${AUTH0_HTTP_SOURCE} in auth0HttpSinkRules`,
        );
      }
      httpSink = new Auth0HttpSink(scope, 'HttpSink', {
        entry: handlerEntry('http-sink'),
        secretName: config.auth0HttpSecretName,
        ingest: pipeline.ingest,
        alert: this.alerting.consumer,
        detector: this.detection.consumer,
        quarantineBucket: archiveBucket,
        alertRules: props.auth0HttpSinkRules.filter((rule) => rule.source === 'auth0'),
        logRetention: config.logRetentionDays,
      });
    }
    return {
      ...pipeline,
      eventsTable,
      sourceNames,
      ...(partnerBus === undefined ? {} : { partnerBus }),
      ...(httpSink === undefined ? {} : { httpSink }),
    };
  }
}
