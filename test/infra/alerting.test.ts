import { fileURLToPath } from 'node:url';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { parseAlertQueueMessage } from '../../lambdas/alert/process-alert.ts';
import {
  Alerting,
  alertInputTemplate,
  alertRuleName,
  alertRuleNamePrefix,
  INPUT_TEMPLATE_MAX_CHARS,
  RULE_NAME_MAX_CHARS,
} from '../../lib/constructs/alerting.ts';
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

const buildAlerting = (alertRules: readonly CompiledAlertRule[], redriveRoleArn?: string) => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
  const bus = new events.EventBus(stack, 'Bus', { eventSourceName: SOURCE });
  const quarantineBucket = new s3.Bucket(stack, 'Archive');
  const alerting = new Alerting(stack, 'Alerting', {
    entry: ENTRY,
    eventBus: bus,
    alertRules,
    alertTopic: new sns.Topic(stack, 'Topic'),
    claimsTable: new dynamodb.Table(stack, 'Claims', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    }),
    eventSourceName: SOURCE,
    quarantineBucket,
    redriveRoleArn,
  });
  return { stack, bus, quarantineBucket, alerting, template: Template.fromStack(stack) };
};

/** The statements of the policy of one queue. */
const statementsOfQueue = (template: Template, queue: IConstruct): Record<string, unknown>[] => {
  const policies = Object.values(
    template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: logicalIdOf(queue) }] } }),
  );
  expect(policies).toHaveLength(1);
  return policies[0]?.Properties.PolicyDocument.Statement;
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

describe('alert rule names', () => {
  it('start with the stack name and -alert-, which no CloudFormation-named rule of the stack can', () => {
    expect(alertRuleNamePrefix('OktaLogPipeline')).toBe('OktaLogPipeline-alert-');
    expect(alertRuleName('OktaLogPipeline-alert-', 'admin-role-granted')).toBe(
      'OktaLogPipeline-alert-admin-role-granted',
    );
  });

  it('cut a long stack name, keeping it apart from others by a hash', () => {
    // Act
    const first = alertRuleNamePrefix(`${'Okta'.repeat(10)}Prod`);
    const second = alertRuleNamePrefix(`${'Okta'.repeat(10)}Test`);

    // Assess
    expect(first).toMatch(/^OktaOktaOktaOkt-[0-9a-f]{8}-alert-$/);
    expect(second).not.toBe(first);
  });

  it('fit the 64 characters EventBridge allows, two long ids staying apart', () => {
    // Prepare
    const prefix = alertRuleNamePrefix('OktaLogPipeline');
    const longId = (end: string) => `${'very-long-rule-id-'.repeat(3)}${end}`;

    // Act
    const names = [alertRuleName(prefix, longId('first')), alertRuleName(prefix, longId('second'))];

    // Assess
    for (const name of names) {
      expect(name.length).toBe(RULE_NAME_MAX_CHARS);
      expect(name).toMatch(/^OktaLogPipeline-alert-[a-z-]+-[0-9a-f]{8}$/);
    }
    expect(names[0]).not.toBe(names[1]);
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
        Name: `Test-alert-${rule.id}`,
        EventPattern: { ...rule.pattern, account: [{ Ref: 'AWS::AccountId' }] },
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

  it("admits only this stack's alert rules, by name prefix, with the same statements whatever their number", () => {
    // Act: SQS allows 20 statements and 8,192 bytes per policy; naming each rule would break at a few dozen rules.
    const { alerting, bus, template } = buildAlerting(Array.from({ length: 40 }, (_, i) => alertRule(`rule-${i}`)));

    // Assess
    const rulesOfThisStack = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':events:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':rule/',
          { Ref: logicalIdOf(bus) },
          '/Test-alert-*',
        ],
      ],
    };
    for (const queue of [alerting.consumer.queue, alerting.consumer.targetDeadLetterQueue]) {
      const queueArn = { 'Fn::GetAtt': [logicalIdOf(queue), 'Arn'] };
      const statements = statementsOfQueue(template, queue);
      expect(statements).toHaveLength(3);
      expect(statements).toContainEqual({
        Sid: 'AllowTheAdmittedRules',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnLike: { 'aws:SourceArn': rulesOfThisStack } },
      });
      expect(statements).toContainEqual({
        Sid: 'DenySendersOtherThanTheAdmittedRules',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnNotLike: { 'aws:SourceArn': rulesOfThisStack } },
      });
    }
  });

  it('lets the redrive role past the deny on the alert queue, not on its target dead-letter queue', () => {
    // Prepare
    const role = 'arn:aws:iam::123456789012:role/ops/okta-redrive';

    // Act
    const { alerting, template } = buildAlerting([alertRule('one-rule')], role);

    // Assess
    const denyOf = (queue: IConstruct) =>
      statementsOfQueue(template, queue).find((statement) => statement.Sid === 'DenySendersOtherThanTheAdmittedRules');
    expect(denyOf(alerting.consumer.queue)?.Condition).toMatchObject({ ArnNotEquals: { 'aws:PrincipalArn': role } });
    expect(denyOf(alerting.consumer.targetDeadLetterQueue)?.Condition).not.toHaveProperty('ArnNotEquals');
  });

  it('gives the alert function its source pin and quarantine, with PutObject under quarantine/ only', () => {
    // Act
    const { alerting, quarantineBucket, template } = buildAlerting([alertRule('one-rule')]);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EVENT_SOURCE_NAME: SOURCE,
          EXPECTED_ACCOUNT: { Ref: 'AWS::AccountId' },
          QUARANTINE_BUCKET_NAME: { Ref: logicalIdOf(quarantineBucket) },
        }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalIdOf(alerting.consumer.role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:PutObject',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalIdOf(quarantineBucket), 'Arn'] }, '/quarantine/*']] },
          },
        ]),
      },
    });
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
