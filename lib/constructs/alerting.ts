import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ruleSummary } from '../rules/compile.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { QueuedConsumer } from './queued-consumer.ts';

/** EventBridge's limit on the length of an input template. */
export const INPUT_TEMPLATE_MAX_CHARS = 8192;

/**
 * The input template that turns a matched event into an alert-queue message (lambdas/shared/alert-message.ts):
 * `{"rule": {id, title, severity, description, runbook[, subject]}, "event": <the whole EventBridge event>}`.
 *
 * `aws.events.event.json` is the whole event, detail included (`aws.events.event` leaves `detail` out). EventBridge
 * reads `<...>` in a template as a placeholder, so `<` and `>` in the rule's own text are written as JSON escapes.
 */
export function alertInputTemplate(rule: CompiledAlertRule): string {
  const json = JSON.stringify(ruleSummary(rule)).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e');
  return `{"rule":${json},"event":<aws.events.event.json>}`;
}

/** A fixed input template (the CDK's own inputs would pass `<` through and offer no whole-event variable). */
class TemplateInput extends events.RuleTargetInput {
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
  /** The partner event bus the alert rules listen on. */
  readonly eventBus: events.IEventBus;
  /** One EventBridge rule each; ids name the rules, so they must be unique and stay stable. */
  readonly alertRules: readonly CompiledAlertRule[];
  /** Where alerts are published. */
  readonly alertTopic: sns.ITopic;
  /** Alert claims, so an event redelivered by EventBridge or SQS alerts once. */
  readonly claimsTable: dynamodb.ITable;
  /** @default 30 */
  readonly alertDedupeRetentionDays?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Alert rules -> alert queue -> alert Lambda -> alert topic. Each alert rule is an EventBridge rule on the partner bus
 * whose target wraps the matched event with the rule's summary; the Lambda claims each (rule, event) pair once in the
 * claims table and publishes to the topic.
 */
export class Alerting extends Construct {
  public readonly consumer: QueuedConsumer;
  /** The EventBridge rule of each alert rule, by alert rule id. */
  public readonly rules: ReadonlyMap<string, events.Rule>;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    this.consumer = new QueuedConsumer(this, 'Consumer', {
      entry: props.entry,
      eventBus: props.eventBus,
      description: 'Publishes an alert for each event an alert rule matched',
      timeout: Duration.seconds(30),
      batchSize: 10,
      logRetention: props.logRetention,
      environment: {
        ALERTS_TABLE_NAME: props.claimsTable.tableName,
        ALERT_TOPIC_ARN: props.alertTopic.topicArn,
        ALERT_DEDUPE_RETENTION_DAYS: String(props.alertDedupeRetentionDays ?? 30),
      },
    });
    props.claimsTable.grant(this.consumer.lambdaFunction, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    props.alertTopic.grantPublish(this.consumer.lambdaFunction);
    Validations.of(this.consumer.role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        "Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* on the topic's key; the grant names " +
        'that one key.',
    });

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
      // The construct id is the alert rule id, so the rule's logical ID follows the alert rule, not its position.
      const rule = new events.Rule(ruleScope, alertRule.id, {
        eventBus: props.eventBus,
        description: `Alert rule ${alertRule.id} (${alertRule.severity}): ${alertRule.title}`.slice(0, 512),
        eventPattern: alertRule.pattern,
      });
      this.consumer.addEventRule(rule, new TemplateInput(template));
      rules.set(alertRule.id, rule);
    }
    this.rules = rules;
  }
}
