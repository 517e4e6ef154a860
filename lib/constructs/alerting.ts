import { createHash } from 'node:crypto';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ruleSummary } from '../rules/compile.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { grantObjectKeys } from './archive-bucket.ts';
import { grantPiiKey, type PiiAccess, piiEnvironment } from './pii-key.ts';
import { QueuedConsumer } from './queued-consumer.ts';

/** EventBridge's limit on the length of an input template. */
export const INPUT_TEMPLATE_MAX_CHARS = 8192;

/** EventBridge rule names are 1-64 letters, digits, '.', '-' and '_'. */
export const RULE_NAME_MAX_CHARS = 64;
const STACK_PART_MAX_CHARS = 24;

const shortHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8);

/**
 * The prefix of every alert rule's name: `<stack name>-alert-` (a long stack name is cut and given a hash). The alert
 * queue admits the rules of the partner bus whose names start with it. No other rule of this stack can: CloudFormation
 * names an unnamed rule `<stack name>-<logical ID>-<suffix>`, and logical IDs hold no hyphen.
 */
export function alertRuleNamePrefix(stackName: string, kind: 'alert' | 'detect' = 'alert'): string {
  const stackPart =
    stackName.length <= STACK_PART_MAX_CHARS
      ? stackName
      : `${stackName.slice(0, STACK_PART_MAX_CHARS - 9)}-${shortHash(stackName)}`;
  return `${stackPart}-${kind}-`;
}

/** `<prefix><alert rule id>`, cut to the 64 characters EventBridge allows with a hash of the id to keep it unique. */
export function alertRuleName(prefix: string, alertRuleId: string): string {
  const name = `${prefix}${alertRuleId}`;
  if (name.length <= RULE_NAME_MAX_CHARS) return name;
  return `${name.slice(0, RULE_NAME_MAX_CHARS - 9)}-${shortHash(alertRuleId)}`;
}

/**
 * The input template that turns a matched event into an alert-queue message (lambdas/shared/alert-message.ts):
 * `{"rule": {id, title, severity, description, runbook[, subject]}, "event": <the whole EventBridge event>}`.
 *
 * `aws.events.event.json` is the whole event, detail included (`aws.events.event` leaves `detail` out). EventBridge
 * reads `<...>` in a template as a placeholder, so `<` and `>` in the rule's own text are written as JSON escapes.
 */
export function alertInputTemplate(rule: CompiledAlertRule): string {
  return wholeEventTemplate(ruleSummary(rule));
}

/** `{"rule": <rule>, "event": <the whole EventBridge event>}`, the rule's `<` and `>` written as JSON escapes. */
export function wholeEventTemplate(rule: object): string {
  const json = JSON.stringify(rule).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e');
  return `{"rule":${json},"event":<aws.events.event.json>}`;
}

/** A fixed input template (the CDK's own inputs would pass `<` through and offer no whole-event variable). */
export class TemplateInput extends events.RuleTargetInput {
  constructor(private readonly template: string) {
    super();
  }

  public bind(): events.RuleTargetInputProperties {
    return { inputTemplate: this.template };
  }
}

export interface AlertingProps {
  /** The alert Lambda's TypeScript handler file. */
  readonly entry: string;
  /** The partner event bus the Okta alert rules listen on. */
  readonly eventBus: events.IEventBus;
  /**
   * One EventBridge rule each, on the bus of the rule's source; ids name the rules, so they must be unique (across
   * both sources) and stay stable.
   */
  readonly alertRules: readonly CompiledAlertRule[];
  /**
   * The Auth0 partner event bus, which the Auth0 alert rules (`source: 'auth0'`) listen on; the alert queue admits
   * the alert rules of both buses. @default - none: `alertRules` must hold no Auth0 rule
   */
  readonly auth0EventBus?: events.IEventBus;
  /**
   * The Auth0 sources the alert function accepts besides `eventSourceName` (`AUTH0_SOURCE_NAMES`): the Auth0 partner
   * event source and/or the HTTP sink's. @default - none: Okta's only
   */
  readonly auth0SourceNames?: readonly string[];
  /** Where alerts are published. */
  readonly alertTopic: sns.ITopic;
  /** Alert claims, so an event redelivered by EventBridge or SQS alerts once. */
  readonly claimsTable: dynamodb.ITable;
  /** @default 30 */
  readonly alertDedupeRetentionDays?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** The only event source the alert function accepts (`EVENT_SOURCE_NAME`). */
  readonly eventSourceName: string;
  /** Where the alert function quarantines what it cannot accept, under `quarantine/`. */
  readonly quarantineBucket: s3.Bucket;
  /** The role that may redrive dead letters into the alert queue. @default - none */
  readonly redriveRoleArn?: string;
  /**
   * PII controls of the alerts (`oktaPii`, `auth0Pii`): each source's events are redacted before an alert is formatted;
   * with method hash the function may read the one secret holding the HMAC key. @default - none: events as received
   */
  readonly pii?: PiiAccess;
}

/**
 * Alert rules -> alert queue -> alert Lambda -> alert topic. Each alert rule is an EventBridge rule on its source's
 * partner bus (Okta's, or Auth0's) whose target wraps the matched event with the rule's summary; the Lambda claims each (rule, event) pair once in the
 * claims table and publishes to the topic.
 */
export class Alerting extends Construct {
  public readonly consumer: QueuedConsumer;
  /** The EventBridge rule of each alert rule, by alert rule id. */
  public readonly rules: ReadonlyMap<string, events.Rule>;

  /** What every alert rule's name starts with; the alert queue admits only rules named so. */
  public readonly ruleNamePrefix: string;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.stackName)) {
      throw new Error(`${this.node.path}: the stack name must be known at synth: alert rule names start with it`);
    }
    // One rule per alert rule (up to 250): too many ARNs for one SQS policy, so the queue admits a name prefix.
    this.ruleNamePrefix = alertRuleNamePrefix(stack.stackName);
    this.consumer = new QueuedConsumer(this, 'Consumer', {
      entry: props.entry,
      eventBus: props.eventBus,
      description: 'Publishes an alert for each event an alert rule matched',
      timeout: Duration.seconds(30),
      batchSize: 10,
      logRetention: props.logRetention,
      ruleNamePrefix: this.ruleNamePrefix,
      redriveRoleArn: props.redriveRoleArn,
      environment: {
        ALERTS_TABLE_NAME: props.claimsTable.tableName,
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        ALERT_DEDUPE_RETENTION_DAYS: String(props.alertDedupeRetentionDays ?? 30),
        EVENT_SOURCE_NAME: props.eventSourceName,
        ...(props.auth0SourceNames === undefined || props.auth0SourceNames.length === 0
          ? {}
          : { AUTH0_SOURCE_NAMES: props.auth0SourceNames.join(',') }),
        EXPECTED_ACCOUNT: stack.account,
        QUARANTINE_BUCKET_NAME: props.quarantineBucket.bucketName,
        ...piiEnvironment(props.pii),
      },
    });
    if (props.auth0EventBus !== undefined) this.consumer.admitRulesNamedOn(props.auth0EventBus);
    props.claimsTable.grant(this.consumer.lambdaFunction, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    props.alertTopic.grantPublish(this.consumer.lambdaFunction);
    grantPiiKey(this, this.consumer.role, props.pii);
    Validations.of(this.consumer.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        "Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* on the topic's key; the grant names " +
        'that one key.',
    });
    grantObjectKeys(
      props.quarantineBucket,
      this.consumer.role,
      'quarantine/*',
      ['s3:PutObject'],
      'The alert function writes each queue message it cannot accept',
    );

    const ruleScope = new Construct(this, 'Rules');
    const rules = new Map<string, events.Rule>();
    for (const alertRule of props.alertRules) {
      if (rules.has(alertRule.id)) throw new Error(`alert rule id "${alertRule.id}" is used twice`);
      const template = alertInputTemplate(alertRule);
      if (template.length > INPUT_TEMPLATE_MAX_CHARS) {
        throw new Error(
          `alert rule ${alertRule.id}: its title, description and runbook make a ${template.length}-character ` +
            `EventBridge input template; the limit is ${INPUT_TEMPLATE_MAX_CHARS}. Shorten them.`,
        );
      }
      const eventBus = alertRule.source === 'auth0' ? props.auth0EventBus : props.eventBus;
      if (eventBus === undefined) {
        throw new Error(`alert rule ${alertRule.id} is an Auth0 rule, and there is no Auth0 event bus to put it on`);
      }
      // The construct id is the alert rule id, so the rule's logical ID follows the alert rule, not its position.
      const rule = new events.Rule(ruleScope, alertRule.id, {
        eventBus,
        ruleName: alertRuleName(this.ruleNamePrefix, alertRule.id),
        description: `Alert rule ${alertRule.id} (${alertRule.severity}): ${alertRule.title}`.slice(0, 512),
        // Pinned to this account here, not in lib/rules: the compiled pattern also runs locally, where there is none.
        eventPattern: { ...alertRule.pattern, account: [stack.account] },
      });
      this.consumer.addEventRule(rule, new TemplateInput(template));
      rules.set(alertRule.id, rule);
    }
    this.rules = rules;
  }
}
