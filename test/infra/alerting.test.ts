import { fileURLToPath } from 'node:url';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { parseAlertQueueMessage } from '../../lambdas/alert/process-alert.ts';
import { Alerting, alertInputTemplate, INPUT_TEMPLATE_MAX_CHARS } from '../../lib/constructs/alerting.ts';
import type { CompiledAlertRule } from '../../lib/rules/types.ts';
import { fixtureEnvelope } from '../support/events.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const ENTRY = fileURLToPath(new URL('../../lambdas/alert/handler.ts', import.meta.url));

const alertRule = (id: string, overrides: Partial<CompiledAlertRule> = {}): CompiledAlertRule => ({
  id,
  title: `Rule ${id}`,
  severity: 'medium',
  description: `What ${id} means.`,
  runbook: `What to do about ${id}.`,
  pattern: { source: [SOURCE], 'detail-type': ['SystemLog'], detail: { eventType: [`${id}.event`] } },
  ...overrides,
});

/** What EventBridge delivers: the template with the whole event in place of its placeholder. */
const deliver = (template: string, event: unknown): string =>
  template.replace('<aws.events.event.json>', JSON.stringify(event));

const buildAlerting = (alertRules: readonly CompiledAlertRule[]) => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
  const alerting = new Alerting(stack, 'Alerting', {
    entry: ENTRY,
    eventBus: new events.EventBus(stack, 'Bus', { eventSourceName: SOURCE }),
    alertRules,
    alertTopic: new sns.Topic(stack, 'Topic'),
    claimsTable: new dynamodb.Table(stack, 'Claims', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    }),
  });
  return { stack, alerting, template: Template.fromStack(stack) };
};

const logicalIdOf = (construct: IConstruct): string =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

describe('alertInputTemplate', () => {
  it('renders the rule summary and the whole event as an alert-queue message', () => {
    // Prepare
    const rule = alertRule('admin-role-granted', { severity: 'high', subject: '{title} for {target}' });

    // Act
    const template = alertInputTemplate(rule);

    // Assess
    expect(template).toBe(
      '{"rule":{"id":"admin-role-granted","title":"Rule admin-role-granted","severity":"high",' +
        '"description":"What admin-role-granted means.","runbook":"What to do about admin-role-granted.",' +
        '"subject":"{title} for {target}"},"event":<aws.events.event.json>}',
    );
  });

  it('yields a message the alert function accepts, carrying the event unchanged', () => {
    // Prepare
    const envelope = fixtureEnvelope();
    const rule = alertRule('admin-role-granted', { subject: '{title}: {actor}' });

    // Act
    const message = parseAlertQueueMessage(deliver(alertInputTemplate(rule), envelope));

    // Assess
    expect(message.rule).toEqual({
      id: rule.id,
      title: rule.title,
      severity: rule.severity,
      description: rule.description,
      runbook: rule.runbook,
      subject: '{title}: {actor}',
    });
    expect(message.event).toEqual(envelope);
  });

  it('leaves the subject out when the rule has none', () => {
    const message = parseAlertQueueMessage(deliver(alertInputTemplate(alertRule('plain')), fixtureEnvelope()));
    expect(message.rule.subject).toBeUndefined();
  });

  it('hides angle brackets in rule text from EventBridge, and gives them back intact', () => {
    // Prepare
    const description = 'Never <b>ignore</b> this; <aws.events.event.json> is not a placeholder here.';
    const runbook = 'Escalate if count > 3 and "urgent" <= yes.\nSecond line\\path';
    const rule = alertRule('brackets', { description, runbook, title: '<Admin> & "quotes"' });

    // Act
    const template = alertInputTemplate(rule);
    const message = parseAlertQueueMessage(deliver(template, fixtureEnvelope()));

    // Assess
    expect(template.match(/<[^>]*>/g)).toEqual(['<aws.events.event.json>']);
    expect(message.rule).toMatchObject({ title: '<Admin> & "quotes"', description, runbook });
  });
});

describe('Alerting', () => {
  it('creates one rule per alert rule on the bus, all targeting the alert queue with the input transformer', () => {
    // Prepare
    const rules = [alertRule('first-rule'), alertRule('second-rule', { severity: 'critical' })];

    // Act
    const { alerting, template } = buildAlerting(rules);

    // Assess
    template.resourceCountIs('AWS::Events::Rule', 2);
    for (const rule of rules) {
      const resource = template.toJSON().Resources[logicalIdOf(alerting.rules.get(rule.id) as IConstruct)];
      expect(resource.Properties).toMatchObject({
        EventPattern: rule.pattern,
        Description: `Alert rule ${rule.id} (${rule.severity}): ${rule.title}`,
        Targets: [
          {
            Arn: { 'Fn::GetAtt': [logicalIdOf(alerting.consumer.queue), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(alerting.consumer.targetDeadLetterQueue), 'Arn'] } },
            InputTransformer: { InputTemplate: alertInputTemplate(rule) },
          },
        ],
      });
      expect(resource.Properties.Targets[0].InputTransformer.InputPathsMap).toBeUndefined();
    }
  });

  it("derives each rule's logical ID from its alert rule id, not its position", () => {
    // Act
    const alone = buildAlerting([alertRule('kept-rule')]);
    const behindAnother = buildAlerting([alertRule('added-before'), alertRule('kept-rule')]);

    // Assess
    const idOfKept = (built: ReturnType<typeof buildAlerting>) =>
      logicalIdOf(built.alerting.rules.get('kept-rule') as IConstruct);
    expect(idOfKept(behindAnother)).toBe(idOfKept(alone));
    expect(idOfKept(alone)).toMatch(/^AlertingRuleskeptrule[0-9A-F]{8}$/);
  });

  it('admits all rules of the bus with one queue policy statement, whatever the number of rules', () => {
    // Act: SQS allows 20 statements per policy; one per rule would break at 20 rules.
    const { alerting, template } = buildAlerting(Array.from({ length: 40 }, (_, i) => alertRule(`rule-${i}`)));

    // Assess
    for (const queue of [alerting.consumer.queue, alerting.consumer.targetDeadLetterQueue]) {
      const [policy] = Object.values(
        template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: logicalIdOf(queue) }] } }),
      );
      expect(policy?.Properties.PolicyDocument.Statement).toHaveLength(2);
    }
  });

  it('still deploys the alert queue and function with no alert rules', () => {
    const { template } = buildAlerting([]);
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourceCountIs('AWS::Lambda::Function', 1);
  });

  it('refuses two alert rules with one id', () => {
    expect(() => buildAlerting([alertRule('twice'), alertRule('twice')])).toThrow(
      'alert rule id "twice" is used twice',
    );
  });

  it('refuses a rule whose input template would exceed the EventBridge limit, naming it', () => {
    const rule = alertRule('wordy-rule', { runbook: 'x'.repeat(INPUT_TEMPLATE_MAX_CHARS) });
    expect(() => buildAlerting([rule])).toThrow(/alert rule wordy-rule: .* the limit is 8192/);
  });
});
