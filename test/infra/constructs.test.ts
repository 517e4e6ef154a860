import { fileURLToPath } from 'node:url';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { ArchiveBucket } from '../../lib/constructs/archive-bucket.ts';
import { EncryptedTopic } from '../../lib/constructs/encrypted-topic.ts';
import { PipelineTable } from '../../lib/constructs/pipeline-table.ts';
import { QueuedConsumer } from '../../lib/constructs/queued-consumer.ts';
import { ScheduledFunction } from '../../lib/constructs/scheduled-function.ts';

const ENTRY = fileURLToPath(new URL('../../lambdas/sequencer/handler.ts', import.meta.url));
const newStack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test');

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
      },
      DeletionPolicy: 'Retain',
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
