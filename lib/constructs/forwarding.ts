import { Duration, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type Destination, type DestinationAuth, isLoopbackEndpoint } from '../rules/destinations.ts';

/**
 * A forwarded event is retried as long as EventBridge allows (a day, 185 attempts), as the pipeline's other targets
 * are: a destination that is down for hours still gets the event, and the flow can judge its age by `published`.
 */
export const FORWARD_RETRY_ATTEMPTS = 185;
export const FORWARD_MAX_EVENT_AGE = Duration.hours(24);

/**
 * What a destination receives: the matched System Log event itself (the EventBridge event's `detail`; for Auth0,
 * `{log_id, data}`), the same object the System Log API and Okta event hooks give, which is what an Okta Workflows
 * API Endpoint flow reads from its `body`. The envelope's own fields (id, account, region) mean nothing to the flow.
 */
export const FORWARDED_EVENT_PATH = '$.detail';

/** A dead-lettered message keeps its original enqueue time, so the queue keeps it as long as SQS allows. */
const DEAD_LETTER_RETENTION = Duration.days(14);

export interface ForwardingProps {
  /** The destinations to deploy: each gets a connection, an API destination, a dead-letter queue and its alarm. */
  readonly destinations: readonly Destination[];
  /** Alert rule id -> the destinations its matched events are forwarded to. */
  readonly routes: ReadonlyMap<string, readonly string[]>;
  /**
   * The EventBridge rule of each deployed alert rule (`Alerting.rules`). A route whose rule is not deployed (its log
   * source is not configured) forwards nothing.
   */
  readonly rules: ReadonlyMap<string, events.Rule>;
  /** What every alert rule's name starts with (`Alerting.ruleNamePrefix`): the dead-letter queues admit those rules. */
  readonly ruleNamePrefix: string;
  /** Receives each dead-letter alarm and its return to OK. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Alert rules the Auth0 HTTP sink matches itself: they have no EventBridge rule to forward from, so a route from
   * one is refused. @default - none
   */
  readonly httpSinkRuleIds?: readonly string[];
}

/** What one destination deploys. */
export interface ForwardedDestination {
  readonly connection: events.Connection;
  readonly apiDestination: events.ApiDestination;
  /** Events EventBridge could not deliver to the destination within the retry policy. */
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterAlarm: cloudwatch.Alarm;
}

/** The connection's authorization; every credential is a dynamic reference to the destination's secret. */
function authorizationOf(auth: DestinationAuth): events.Authorization {
  const field = (jsonField: string) => SecretValue.secretsManager(auth.secretName, { jsonField });
  switch (auth.type) {
    case 'api-key':
      return events.Authorization.apiKey(auth.header, field('apiKey'));
    case 'basic':
      // The CDK takes the user name as a plain string; unwrapped, it is still the `{{resolve:secretsmanager:...}}`
      // reference CloudFormation reads at deploy time, not the value.
      return events.Authorization.basic(field('username').unsafeUnwrap(), field('password'));
    case 'oauth-client-credentials':
      return events.Authorization.oauth({
        authorizationEndpoint: auth.tokenUrl,
        httpMethod: events.HttpMethod[auth.tokenMethod],
        clientId: field('clientId').unsafeUnwrap(),
        clientSecret: field('clientSecret'),
        bodyParameters: {
          grant_type: events.HttpParameter.fromString('client_credentials'),
          ...(auth.scope === undefined ? {} : { scope: events.HttpParameter.fromString(auth.scope) }),
        },
      });
  }
}

/**
 * Alert rules -> HTTP destinations (EventBridge API destinations). Each destination is a connection (its credentials
 * taken from Secrets Manager at deploy time, so no credential is in the template) and an API destination (endpoint,
 * method, rate limit); each forwarding alert rule's EventBridge rule gets one more target per destination, sending
 * the matched event's `detail`, with a retry policy and a dead-letter queue (one per destination, so its alarm names
 * the endpoint that is failing).
 *
 * Default settings: retries for 24 hours / 185 attempts; dead-letter queues SQS-encrypted, TLS only, 14 days, admitting
 * only this stack's alert rules; an alarm on the first dead letter.
 */
export class Forwarding extends Construct {
  /** What each deployed destination consists of, by destination name. */
  public readonly destinations: ReadonlyMap<string, ForwardedDestination>;

  constructor(scope: Construct, id: string, props: ForwardingProps) {
    super(scope, id);
    const byName = new Map(props.destinations.map((destination) => [destination.name, destination]));
    const sinkOnly = new Set(props.httpSinkRuleIds ?? []);
    const forwarded = new Map<string, events.Rule[]>();
    for (const [ruleId, names] of props.routes) {
      const rule = props.rules.get(ruleId);
      if (rule === undefined) {
        if (sinkOnly.has(ruleId)) {
          throw new Error(
            `alert rule ${ruleId} forwards to ${names.join(', ')}, but its Auth0 logs arrive through the HTTP sink, ` +
              'which matches rules itself: only rules on an event bus can forward. Configure auth0EventSourceName, ' +
              'or remove forward from the rule',
          );
        }
        continue;
      }
      for (const name of names) {
        if (!byName.has(name)) throw new Error(`alert rule ${ruleId} forwards to ${name}, which is not a destination`);
        forwarded.set(name, [...(forwarded.get(name) ?? []), rule]);
      }
    }

    const action = new actions.SnsAction(props.alarmTopic);
    const deployed = new Map<string, ForwardedDestination>();
    for (const [name, rules] of forwarded) {
      const destination = byName.get(name);
      if (destination === undefined) continue;
      const parts = this.destination(destination, rules, props.ruleNamePrefix);
      parts.deadLetterAlarm.addAlarmAction(action);
      parts.deadLetterAlarm.addOkAction(action);
      deployed.set(name, parts);
    }
    this.destinations = deployed;
  }

  private destination(destination: Destination, rules: readonly events.Rule[], ruleNamePrefix: string) {
    const { auth } = destination;
    for (const url of [destination.url, ...(auth.type === 'oauth-client-credentials' ? [auth.tokenUrl] : [])]) {
      if (isLoopbackEndpoint(url) || new URL(url).protocol !== 'https:') {
        throw new Error(
          `destination ${destination.name}: ${url} is for olp local only; EventBridge API destinations reach public ` +
            'https endpoints',
        );
      }
    }
    // The construct id is the destination's name, so its resources follow the name, not its position in the files.
    const scope = new Construct(this, destination.name);
    const connection = new events.Connection(scope, 'Connection', {
      description: `Credentials for forwarding matched events to ${destination.name}, from secret ${destination.auth.secretName}`,
      authorization: authorizationOf(destination.auth),
    });
    const apiDestination = new events.ApiDestination(scope, 'ApiDestination', {
      connection,
      endpoint: destination.url,
      httpMethod: events.HttpMethod[destination.method],
      ...(destination.rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond: destination.rateLimitPerSecond }),
      description: `Matched events forwarded to ${destination.name}`,
    });

    const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the DeadLetterConfig of the forwarding targets (EventBridge API ' +
        'destinations), which cdk-nag does not recognise as one (it only follows SQS redrive policies).',
    });
    // One statement for all the rules (up to 250 could forward): the alert rules' name prefix on each of their buses.
    const busNames = [...new Set(rules.map((rule) => (rule.node.defaultChild as events.CfnRule).eventBusName))];
    deadLetterQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowTheForwardingAlertRules',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [deadLetterQueue.queueArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': busNames.map((bus) =>
              Stack.of(this).formatArn({
                service: 'events',
                resource: 'rule',
                resourceName: `${bus}/${ruleNamePrefix}*`,
              }),
            ),
          },
        },
      }),
    );

    const target = new targets.ApiDestination(apiDestination, {
      event: events.RuleTargetInput.fromEventPath(FORWARDED_EVENT_PATH),
      retryAttempts: FORWARD_RETRY_ATTEMPTS,
      maxEventAge: FORWARD_MAX_EVENT_AGE,
    });
    for (const rule of rules) {
      // The queue policy above admits the rules, so the target names the queue itself rather than have the CDK add
      // one policy statement per rule (SQS policies are capped at 8,192 bytes).
      rule.addTarget({
        bind: (bound, targetId) => ({
          ...target.bind(bound, targetId),
          deadLetterConfig: { arn: deadLetterQueue.queueArn },
        }),
      });
    }

    const host = new URL(destination.url).host;
    const deadLetterAlarm = new cloudwatch.Alarm(scope, 'DeadLetterAlarm', {
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 0,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        `EventBridge gave up forwarding matched events to destination ${destination.name} (${host}) after ` +
        `${FORWARD_RETRY_ATTEMPTS} attempts or ${FORWARD_MAX_EVENT_AGE.toHours()} hours: the endpoint failed, was ` +
        `too slow (over 5 s), or refused the credentials in secret ${destination.auth.secretName} (the connection ` +
        'then shows DEAUTHORIZED). Each message in its dead-letter queue is one undelivered event, with ERROR_CODE ' +
        'and ERROR_MESSAGE attributes saying why; fix the cause, then send them again and delete them.',
    });
    return { connection, apiDestination, deadLetterQueue, deadLetterAlarm };
  }
}
