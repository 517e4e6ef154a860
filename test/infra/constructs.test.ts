import { fileURLToPath } from 'node:url';
import { App, type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ArchiveBucket } from '../../lib/constructs/archive-bucket.ts';
import { EncryptedTopic } from '../../lib/constructs/encrypted-topic.ts';
import { PipelineTable } from '../../lib/constructs/pipeline-table.ts';
import { MAX_RULES_BY_ARN, QueuedConsumer } from '../../lib/constructs/queued-consumer.ts';
import { ScheduledFunction } from '../../lib/constructs/scheduled-function.ts';
import { TableStreamFunction } from '../../lib/constructs/table-stream-function.ts';

const ENTRY = fileURLToPath(new URL('../../lambdas/sequencer/handler.ts', import.meta.url));
const newStack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');
const idOf = (construct: IConstruct) => Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [idOf(construct), 'Arn'] });

/** A consumer on a fresh bus, and `count` rules on that bus. */
const consumerWithRules = (count: number, props: { redriveRoleArn?: string } = {}) => {
  const stack = newStack();
  const eventBus = new events.EventBus(stack, 'Bus');
  const consumer = new QueuedConsumer(stack, 'Consumer', { entry: ENTRY, eventBus, ...props });
  const rules = Array.from(
    { length: count },
    (_, i) => new events.Rule(stack, `Rule${i}`, { eventBus, eventPattern: { source: [`source-${i}`] } }),
  );
  for (const rule of rules) consumer.addEventRule(rule);
  return { stack, consumer, rules };
};

/** The statements of the policy of one queue. */
const statementsOfQueue = (template: Template, queue: IConstruct): Record<string, unknown>[] => {
  const policies = Object.values(
    template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: idOf(queue) }] } }),
  );
  expect(policies).toHaveLength(1);
  return policies[0]?.Properties.PolicyDocument.Statement;
};

describe('construct defaults', () => {
  it('QueuedConsumer: batches of 10 at once, visibility of 6 timeouts, 5 receives, partial failures', () => {
    // Prepare
    const stack = newStack();

    // Act
    new QueuedConsumer(stack, 'Consumer', { entry: ENTRY, eventBus: new events.EventBus(stack, 'Bus') });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: Match.absent(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 30, MemorySize: 256 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('QueuedConsumer: admits each rule by its ARN and denies sending to everyone else', () => {
    // Act
    const { stack, consumer, rules } = consumerWithRules(2);

    // Assess
    const template = Template.fromStack(stack);
    const ruleArns = rules.map(arnOf);
    for (const queue of [consumer.queue, consumer.targetDeadLetterQueue]) {
      expect(statementsOfQueue(template, queue)).toEqual([
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*' }),
        {
          Sid: 'DenySendersOtherThanTheAdmittedRules',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: arnOf(queue),
          Condition: { ArnNotEquals: { 'aws:SourceArn': ruleArns } },
        },
        {
          Sid: 'AllowTheAdmittedRules',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: arnOf(queue),
          Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } },
        },
      ]);
    }
    // SQS itself moves failed messages to the consumer's dead-letter queue: only TLS is enforced there.
    expect(statementsOfQueue(template, consumer.deadLetterQueue)).toHaveLength(1);
  });

  it('QueuedConsumer: with no rule, no one may send; the redrive role only to the queue itself', () => {
    // Prepare
    const role = 'arn:aws:iam::123456789012:role/okta-redrive';

    // Act
    const { stack, consumer } = consumerWithRules(0, { redriveRoleArn: role });

    // Assess
    const template = Template.fromStack(stack);
    const denyOf = (queue: IConstruct) =>
      statementsOfQueue(template, queue).filter((statement) => statement.Sid !== undefined);
    expect(denyOf(consumer.queue)).toEqual([
      expect.objectContaining({
        Sid: 'DenySendersOtherThanTheAdmittedRules',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': role } },
      }),
    ]);
    const [targetDeny, ...others] = denyOf(consumer.targetDeadLetterQueue);
    expect(others).toEqual([]);
    expect(targetDeny).toMatchObject({ Sid: 'DenySendersOtherThanTheAdmittedRules', Effect: 'Deny' });
    expect(targetDeny).not.toHaveProperty('Condition');
  });

  it(`QueuedConsumer: refuses rule ${MAX_RULES_BY_ARN + 1} by ARN, which would overrun the SQS policy size`, () => {
    expect(() => consumerWithRules(MAX_RULES_BY_ARN)).not.toThrow();
    expect(() => consumerWithRules(MAX_RULES_BY_ARN + 1)).toThrow(
      `Consumer: a queue admits at most ${MAX_RULES_BY_ARN} rules by ARN`,
    );
  });

  it('QueuedConsumer: with a rule name prefix, refuses a rule not named with it', () => {
    // Prepare
    const stack = newStack();
    const eventBus = new events.EventBus(stack, 'Bus');
    const consumer = new QueuedConsumer(stack, 'Consumer', { entry: ENTRY, eventBus, ruleNamePrefix: 'mine-' });

    // Act and assess
    expect(() =>
      consumer.addEventRule(new events.Rule(stack, 'Named', { eventBus, ruleName: 'mine-1' })),
    ).not.toThrow();
    expect(() => consumer.addEventRule(new events.Rule(stack, 'Other', { eventBus, ruleName: 'other-1' }))).toThrow(
      'Test/Other: its name must start with "mine-"',
    );
    expect(() => consumer.addEventRule(new events.Rule(stack, 'Unnamed', { eventBus }))).toThrow(
      'Test/Unnamed: its name must start with "mine-"',
    );
  });

  it('TableStreamFunction: from the oldest record, batches of 100 halved on error, 10 retries, DLQ', () => {
    // Prepare
    const stack = newStack();
    const table = new PipelineTable(stack, 'Table', { stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES });

    // Act
    const streamFunction = new TableStreamFunction(stack, 'Stream', {
      entry: ENTRY,
      table: table.table,
      filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('REMOVE') })],
    });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [idOf(table.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: arnOf(streamFunction.deadLetterQueue) } },
      FilterCriteria: { Filters: [{ Pattern: '{"eventName":["REMOVE"]}' }] },
    });
    expect(template.toJSON().Resources[idOf(streamFunction.deadLetterQueue)].Properties).toMatchObject({
      MessageRetentionPeriod: 14 * 86_400,
      SqsManagedSseEnabled: true,
    });
  });

  it('ScheduledFunction: every minute by default, or on the schedule given', () => {
    // Prepare
    const stack = newStack();

    // Act
    new ScheduledFunction(stack, 'Every', { entry: ENTRY });
    new ScheduledFunction(stack, 'Hourly', { entry: ENTRY, schedule: events.Schedule.rate(Duration.hours(1)) });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });

  it('PipelineTable: partition key pk alone unless a sort key is given; retained and protected', () => {
    // Prepare
    const stack = newStack();

    // Act
    new PipelineTable(stack, 'Table');

    // Assess
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
        StreamSpecification: Match.absent(),
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('PipelineTable: a stream with the images asked for', () => {
    // Prepare
    const stack = newStack();

    // Act
    new PipelineTable(stack, 'Table', { stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES });

    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('ArchiveBucket: encrypts with a given KMS key and a bucket key', () => {
    // Prepare
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });

    // Act
    const archive = new ArchiveBucket(stack, 'Archive', { encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
            },
          },
        ],
      },
    });
    expect(archive.accessLogsBucket.encryptionKey).toBeUndefined();
  });

  it('EncryptedTopic: no CloudWatch access and no subscription unless asked', () => {
    // Prepare
    const stack = newStack();

    // Act
    new EncryptedTopic(stack, 'Topic', { displayName: 'Quiet' });

    // Assess
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('cloudwatch.amazonaws.com');
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: 'Encrypts the Quiet topic',
    });
  });
});
