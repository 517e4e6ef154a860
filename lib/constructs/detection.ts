import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ruleSummary } from '../rules/compile.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import {
  alertRuleName,
  alertRuleNamePrefix,
  INPUT_TEMPLATE_MAX_CHARS,
  TemplateInput,
  wholeEventTemplate,
} from './alerting.ts';
import { grantObjectKeys } from './archive-bucket.ts';
import { QueuedConsumer } from './queued-consumer.ts';

/** How long a detector keeps a window's state after the window: long enough for any event within the lateness. */
const KEEP_MARGIN = Duration.days(1);

export interface DetectionProps {
  /** The detector Lambda's TypeScript handler file. */
  readonly entry: string;
  /** The Okta partner event bus. */
  readonly eventBus: events.IEventBus;
  /** The Auth0 partner event bus, for `source: auth0` stateful rules. @default - none */
  readonly auth0EventBus?: events.IEventBus;
  /** The stateful rules (`detect` set): one pre-filter EventBridge rule each, on the bus of the rule's source. */
  readonly rules: readonly CompiledAlertRule[];
  /** Detector state: `pk` (S) and `sk` (S), TTL `expiresAt`. */
  readonly table: dynamodb.ITable;
  /** Where detections go: the alert path claims, formats and publishes them. */
  readonly alert: QueuedConsumer;
  /** The lateness the pipeline allows, which detector state must outlive. */
  readonly allowedLateness: Duration;
  readonly eventSourceName: string;
  /** @default - none */
  readonly auth0SourceNames?: readonly string[];
  readonly quarantineBucket: s3.Bucket;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default - none */
  readonly redriveRoleArn?: string;
}

/**
 * Stateful rules: pre-filter rule -> detector queue (+DLQ) -> detector Lambda -> alert queue. Each stateful rule is an
 * EventBridge rule on its source's bus whose target sends the event with the rule and its detector spec; the
 * detector keeps each group's window in DynamoDB (TTL) and sends what it detects to the alert queue, whose function
 * claims and publishes it like any alert.
 */
export class Detection extends Construct {
  public readonly consumer: QueuedConsumer;
  /** The pre-filter EventBridge rule of each stateful rule, by rule id. */
  public readonly rules: ReadonlyMap<string, events.Rule>;

  constructor(scope: Construct, id: string, props: DetectionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const ruleNamePrefix = alertRuleNamePrefix(stack.stackName, 'detect');
    this.consumer = new QueuedConsumer(this, 'Consumer', {
      entry: props.entry,
      eventBus: props.eventBus,
      description: 'Counts the events of stateful alert rules and sends what they detect to the alert queue',
      timeout: Duration.seconds(30),
      batchSize: 10,
      logRetention: props.logRetention,
      ruleNamePrefix,
      redriveRoleArn: props.redriveRoleArn,
      environment: {
        DETECTOR_TABLE_NAME: props.table.tableName,
        ALERT_QUEUE_URL: props.alert.queue.queueUrl,
        DETECTOR_KEEP_SECONDS: String(props.allowedLateness.plus(KEEP_MARGIN).toSeconds()),
        EVENT_SOURCE_NAME: props.eventSourceName,
        ...(props.auth0SourceNames === undefined || props.auth0SourceNames.length === 0
          ? {}
          : { AUTH0_SOURCE_NAMES: props.auth0SourceNames.join(',') }),
        EXPECTED_ACCOUNT: stack.account,
        QUARANTINE_BUCKET_NAME: props.quarantineBucket.bucketName,
      },
    });
    if (props.auth0EventBus !== undefined) this.consumer.admitRulesNamedOn(props.auth0EventBus);
    props.table.grant(this.consumer.lambdaFunction, 'dynamodb:PutItem', 'dynamodb:Query');
    props.alert.admitSender(this.consumer.role);
    grantObjectKeys(
      props.quarantineBucket,
      this.consumer.role,
      'quarantine/*',
      ['s3:PutObject'],
      'The detector writes each queue message it cannot accept',
    );

    const ruleScope = new Construct(this, 'Rules');
    const rules = new Map<string, events.Rule>();
    for (const rule of props.rules) {
      if (rule.detect === undefined) throw new Error(`rule ${rule.id} is not stateful: it belongs to Alerting`);
      if (rules.has(rule.id)) throw new Error(`alert rule id "${rule.id}" is used twice`);
      const template = wholeEventTemplate({ ...ruleSummary(rule), detect: rule.detect });
      if (template.length > INPUT_TEMPLATE_MAX_CHARS) {
        throw new Error(
          `alert rule ${rule.id}: its text and detector make a ${template.length}-character EventBridge input ` +
            `template; the limit is ${INPUT_TEMPLATE_MAX_CHARS}. Shorten its description and runbook.`,
        );
      }
      const eventBus = rule.source === 'auth0' ? props.auth0EventBus : props.eventBus;
      if (eventBus === undefined) {
        throw new Error(`alert rule ${rule.id} is an Auth0 rule, and there is no Auth0 event bus to put it on`);
      }
      const eventRule = new events.Rule(ruleScope, rule.id, {
        eventBus,
        ruleName: alertRuleName(ruleNamePrefix, rule.id),
        description: `Stateful alert rule ${rule.id} (${rule.severity}): ${rule.title}`.slice(0, 512),
        eventPattern: { ...rule.pattern, account: [stack.account] },
      });
      this.consumer.addEventRule(eventRule, new TemplateInput(template));
      rules.set(rule.id, eventRule);
    }
    this.rules = rules;
  }
}
