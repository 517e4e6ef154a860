import { readFileSync } from 'node:fs';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PipelineConfig, parseConfig } from '../../lib/config.ts';
import type { CompiledAlertRule } from '../../lib/rules/types.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const REDRIVE_ROLE = 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Operator_0123abcd';
const THIS_ACCOUNT = { Ref: 'AWS::AccountId' };

/** The app as `cdk synth` builds it (cdk.json context), minus esbuild bundling. */
const newApp = () =>
  new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });

const ALERT_RULES: CompiledAlertRule[] = [
  {
    id: 'admin-role-granted',
    title: 'Admin role granted',
    severity: 'high',
    description: 'A user received an administrator role.',
    runbook: 'Confirm the grant with the approver.',
    subject: '{title}: {target}',
    pattern: {
      source: [SOURCE],
      'detail-type': ['SystemLog'],
      detail: { eventType: ['user.account.privilege.grant'] },
    },
  },
  {
    id: 'log-stream-deactivated',
    title: 'Log stream deactivated',
    severity: 'critical',
    description: 'The log stream feeding this pipeline was switched off.',
    runbook: 'Reactivate it in the Okta admin console.',
    pattern: {
      source: [SOURCE],
      'detail-type': ['SystemLog'],
      detail: { eventType: [{ prefix: 'system.log_stream.lifecycle.' }], outcome: { result: ['SUCCESS'] } },
    },
  },
];

const build = (context: Record<string, unknown> = {}, alertRules = ALERT_RULES) => {
  const config: PipelineConfig = parseConfig({ eventSourceName: SOURCE, ...context });
  const stack = new OktaLogPipelineStack(newApp(), 'OktaLogPipeline', { config, alertRules });
  return { stack, template: Template.fromStack(stack) };
};

/** The logical ID of the CloudFormation resource a construct stands for, following default children down. */
const idOf = (construct: IConstruct): string => {
  let resource: IConstruct | undefined = construct;
  while (resource !== undefined && !CfnElement.isCfnElement(resource)) resource = resource.node.defaultChild;
  if (resource === undefined) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(resource).getLogicalId(resource as CfnElement);
};
const ref = (construct: IConstruct) => ({ Ref: idOf(construct) });
const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [idOf(construct), 'Arn'] });

describe('OktaLogPipelineStack', () => {
  let stack: OktaLogPipelineStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = build());
  });

  describe('partner event bus and ingest path', () => {
    it('creates the bus for the Okta partner event source, named after it', () => {
      template.hasResourceProperties('AWS::Events::EventBus', { Name: SOURCE, EventSourceName: SOURCE });
    });

    it('routes every System Log event of the source to the ingest queue, with a DLQ on the target', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: ref(stack.partnerBus.eventBus),
        EventPattern: { source: [SOURCE], 'detail-type': ['SystemLog'], account: [THIS_ACCOUNT] },
        Targets: [
          {
            Arn: arnOf(stack.ingest.queue),
            Id: 'Target0',
            DeadLetterConfig: { Arn: arnOf(stack.ingest.targetDeadLetterQueue) },
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
          },
        ],
      });
    });

    it('gives the ingest queue a DLQ after 5 receives and a visibility timeout of 6 function timeouts', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { deadLetterTargetArn: arnOf(stack.ingest.deadLetterQueue), maxReceiveCount: 5 },
        // 6 x 30 s timeout + 10 s batching window
        VisibilityTimeout: 190,
        MessageRetentionPeriod: 4 * 86_400,
        SqsManagedSseEnabled: true,
      });
    });

    it('keeps dead letters for 14 days, longer than any source queue', () => {
      for (const dlq of [
        stack.ingest.deadLetterQueue,
        stack.ingest.targetDeadLetterQueue,
        stack.alerting.consumer.deadLetterQueue,
        stack.alerting.consumer.targetDeadLetterQueue,
        stack.rescue.deadLetterQueue,
      ]) {
        expect(template.toJSON().Resources[idOf(dlq)].Properties.MessageRetentionPeriod).toBe(14 * 86_400);
      }
    });

    it('encrypts every queue with SQS-managed keys, which EventBridge can deliver to', () => {
      const queues = Object.values(template.findResources('AWS::SQS::Queue'));
      expect(queues).toHaveLength(10);
      for (const queue of queues) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    });

    it('denies non-TLS access to every queue', () => {
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
      expect(policies).toHaveLength(10);
      for (const policy of policies) {
        expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      }
    });

    it('admits to the ingest queue and its target DLQ only the ingest rule, and denies every other sender', () => {
      const ingestRule = arnOf(stack.partnerBus.allEventsRule);
      for (const queue of [stack.ingest.queue, stack.ingest.targetDeadLetterQueue]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [ref(queue)],
          PolicyDocument: {
            Statement: [
              Match.objectLike({ Action: 'sqs:*' }),
              {
                Sid: 'DenySendersOtherThanTheAdmittedRules',
                Effect: 'Deny',
                Principal: '*',
                Action: 'sqs:SendMessage',
                Resource: arnOf(queue),
                Condition: { ArnNotEquals: { 'aws:SourceArn': ingestRule } },
              },
              {
                Sid: 'AllowTheAdmittedRules',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: arnOf(queue),
                Condition: { ArnEquals: { 'aws:SourceArn': ingestRule } },
              },
            ],
          },
        });
      }
    });

    it("admits to the alert queue and its target DLQ only rules named with this stack's alert prefix", () => {
      for (const queue of [stack.alerting.consumer.queue, stack.alerting.consumer.targetDeadLetterQueue]) {
        const statements =
          template.toJSON().Resources[idOf(queue.node.findChild('Policy'))].Properties.PolicyDocument.Statement;
        const rulesOfThisStack = {
          'Fn::Join': ['', Match.arrayWith([':rule/', ref(stack.partnerBus.eventBus), '/OktaLogPipeline-alert-*'])],
        };
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [ref(queue)],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Principal: '*',
                Action: 'sqs:SendMessage',
                Condition: { ArnNotLike: { 'aws:SourceArn': rulesOfThisStack } },
              }),
              Match.objectLike({
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Condition: { ArnLike: { 'aws:SourceArn': rulesOfThisStack } },
              }),
            ]),
          },
        });
        expect(statements).toHaveLength(3);
      }
    });

    it('lets the configured redrive role past the deny on the ingest and alert queues only', () => {
      const { stack: withRole, template: withRoleTemplate } = build({ redriveRoleArn: REDRIVE_ROLE });
      const denyOf = (queue: IConstruct) =>
        withRoleTemplate
          .toJSON()
          .Resources[idOf(queue.node.findChild('Policy'))].Properties.PolicyDocument.Statement.find(
            (statement: { Sid?: string }) => statement.Sid === 'DenySendersOtherThanTheAdmittedRules',
          );
      expect(denyOf(withRole.ingest.queue).Condition.ArnNotEquals['aws:PrincipalArn']).toBe(REDRIVE_ROLE);
      // The alert queue also lets the detector send what it detects.
      expect(denyOf(withRole.alerting.consumer.queue).Condition.ArnNotEquals['aws:PrincipalArn']).toEqual([
        REDRIVE_ROLE,
        { 'Fn::GetAtt': [idOf(withRole.detection.consumer.role), 'Arn'] },
      ]);
      for (const queue of [withRole.ingest.targetDeadLetterQueue, withRole.alerting.consumer.targetDeadLetterQueue]) {
        expect(JSON.stringify(denyOf(queue))).not.toContain('aws:PrincipalArn');
      }
      // Without the key, nobody is excepted but the detector, on the alert queue.
      const policies = template.findResources('AWS::SQS::QueuePolicy');
      const alertPolicy = idOf(stack.alerting.consumer.queue.node.findChild('Policy'));
      expect(JSON.stringify({ ...policies, [alertPolicy]: undefined })).not.toContain('aws:PrincipalArn');
      expect(JSON.stringify(policies[alertPolicy])).toContain(idOf(stack.detection.consumer.role));
    });

    it('invokes the ingest function in batches from config and reports partial batch failures', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(stack.ingest.queue),
        FunctionName: ref(stack.ingest.lambdaFunction),
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('takes batch size and window from config', () => {
      const { stack: tuned, template: tunedTemplate } = build({
        ingestBatchSize: '500',
        ingestBatchWindowSeconds: '30',
      });
      tunedTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(tuned.ingest.queue),
        BatchSize: 500,
        MaximumBatchingWindowInSeconds: 30,
      });
      tunedTemplate.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: Match.objectLike({ deadLetterTargetArn: arnOf(tuned.ingest.deadLetterQueue) }),
        VisibilityTimeout: 6 * 30 + 30,
      });
    });
  });

  describe('functions', () => {
    it('runs every function on Node.js 24, ARM, with its own log group', () => {
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(5);
      for (const fn of functions) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        });
        expect(fn.Properties.Environment.Variables).toMatchObject({
          POWERTOOLS_SERVICE_NAME: 'okta-log-pipeline',
          POWERTOOLS_METRICS_NAMESPACE: 'OktaLogPipeline',
        });
      }
      const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
      expect(logGroups).toHaveLength(5);
      for (const group of logGroups) expect(group.Properties.RetentionInDays).toBe(90);
    });

    it('uses no AWS managed policy', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('configures the ingest function: 30 s, 512 MB, staging settings from config', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Dedupes and stages Okta System Log events',
        Timeout: 30,
        MemorySize: 512,
        Environment: {
          Variables: Match.objectLike({
            EVENTS_TABLE_NAME: ref(stack.stateful.eventsTable),
            ARCHIVE_BUCKET_NAME: ref(stack.stateful.archive),
            WINDOW_SECONDS: '60',
            ALLOWED_LATENESS_SECONDS: '120',
            WINDOW_SHARDS: '8',
            DEDUPE_RETENTION_DAYS: '7',
            EVENT_SOURCE_NAME: SOURCE,
            EXPECTED_ACCOUNT: THIS_ACCOUNT,
          }),
        },
      });
    });

    it('configures the sequencer: single writer, 5 minutes, seal guard of ingest timeout + 60 s', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Seals windows of staged events into the archive',
        Timeout: 300,
        ReservedConcurrentExecutions: 1,
        Environment: {
          Variables: Match.objectLike({
            EVENTS_TABLE_NAME: ref(stack.stateful.eventsTable),
            ARCHIVE_BUCKET_NAME: ref(stack.stateful.archive),
            WINDOW_SECONDS: '60',
            ALLOWED_LATENESS_SECONDS: '120',
            WINDOW_SHARDS: '8',
            DEDUPE_RETENTION_DAYS: '7',
            SEAL_GUARD_SECONDS: '90',
            ARCHIVE_SIGNING_KEY_ID: arnOf(stack.archiveSigningKey.key),
          }),
        },
      });
    });

    it('runs the sequencer every minute and drops ticks that are not delivered at once', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 minute)',
        EventBusName: Match.absent(),
        Targets: [Match.objectLike({ Arn: arnOf(stack.sequencer.lambdaFunction) })],
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: ref(stack.sequencer.lambdaFunction),
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 60,
      });
    });

    it('configures the alert function with the claims table, topic and dedupe retention', () => {
      const { template: tuned } = build({ alertDedupeRetentionDays: '45' });
      tuned.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Publishes an alert for each event an alert rule matched',
        Environment: {
          Variables: Match.objectLike({
            ALERTS_TABLE_NAME: ref(stack.stateful.alertClaimsTable),
            ALERT_TOPIC_ARN: ref(stack.stateful.alertTopic),
            ALERT_DEDUPE_RETENTION_DAYS: '45',
            EVENT_SOURCE_NAME: SOURCE,
            EXPECTED_ACCOUNT: THIS_ACCOUNT,
            QUARANTINE_BUCKET_NAME: ref(stack.stateful.archive),
          }),
        },
      });
    });

    it('runs the rescue function on TTL deletions from the events table stream only, with the staging settings', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Stages again the staged events DynamoDB TTL deleted before their window was sealed',
        Timeout: 60,
        ReservedConcurrentExecutions: Match.absent(),
        Environment: {
          Variables: Match.objectLike({
            EVENTS_TABLE_NAME: ref(stack.stateful.eventsTable),
            ARCHIVE_BUCKET_NAME: ref(stack.stateful.archive),
            WINDOW_SECONDS: '60',
            ALLOWED_LATENESS_SECONDS: '120',
            WINDOW_SHARDS: '8',
            DEDUPE_RETENTION_DAYS: '7',
          }),
        },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [idOf(stack.stateful.eventsTable), 'StreamArn'] },
        FunctionName: ref(stack.rescue.lambdaFunction),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: arnOf(stack.rescue.deadLetterQueue) } },
        FilterCriteria: {
          Filters: [
            {
              Pattern: JSON.stringify({
                eventName: ['REMOVE'],
                userIdentity: { type: ['Service'], principalId: ['dynamodb.amazonaws.com'] },
              }),
            },
          ],
        },
      });
    });

    it('passes non-default staging settings through', () => {
      const { template: tuned } = build({ windowSeconds: '300', allowedLatenessSeconds: '600', windowShards: '16' });
      tuned.hasResourceProperties('AWS::Lambda::Function', {
        Description: 'Seals windows of staged events into the archive',
        Environment: {
          Variables: Match.objectLike({ WINDOW_SECONDS: '300', ALLOWED_LATENESS_SECONDS: '600', WINDOW_SHARDS: '16' }),
        },
      });
    });
  });

  describe('least privilege', () => {
    const logStatement = (construct: IConstruct) => ({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Effect: 'Allow',
      Resource: arnOf(construct),
    });
    const queueConsumerStatement = (construct: IConstruct) => ({
      Action: [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ],
      Effect: 'Allow',
      Resource: arnOf(construct),
    });
    const objectsUnder = (prefix: string) => ({
      'Fn::Join': ['', [arnOf(stack.stateful.archive.bucket), `/${prefix}`]],
    });
    /** The single policy attached to a role: its statements, exactly. */
    const statementsOf = (role: IConstruct) => {
      const policies = Object.values(
        template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(role)] } }),
      );
      expect(policies).toHaveLength(1);
      return policies[0]?.Properties.PolicyDocument.Statement;
    };

    it("lets ingest only PutItem on the events table, GetItem the sequencer's state, PutObject in quarantine/", () => {
      expect(statementsOf(stack.ingest.role)).toEqual([
        logStatement(stack.ingest.pipelineFunction.logGroup),
        queueConsumerStatement(stack.ingest.queue),
        { Action: 'dynamodb:PutItem', Effect: 'Allow', Resource: arnOf(stack.stateful.eventsTable) },
        {
          Action: 'dynamodb:GetItem',
          Effect: 'Allow',
          Resource: arnOf(stack.stateful.eventsTable),
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['sequencer'] } },
        },
        { Action: 's3:PutObject', Effect: 'Allow', Resource: objectsUnder('quarantine/*') },
      ]);
    });

    it('lets the sequencer read and write staged items, archive objects and digest records, never delete an object, and sign digests only', () => {
      expect(statementsOf(stack.sequencer.role)).toEqual([
        logStatement(stack.sequencer.pipelineFunction.logGroup),
        {
          Action: [
            'dynamodb:BatchGetItem',
            'dynamodb:DeleteItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:Query',
            'dynamodb:UpdateItem',
          ],
          Effect: 'Allow',
          Resource: arnOf(stack.stateful.eventsTable),
        },
        {
          Action: ['s3:GetObject', 's3:PutObject'],
          Effect: 'Allow',
          Resource: [objectsUnder('archive/*'), objectsUnder('digests/*')],
        },
        {
          Action: 'kms:Sign',
          Effect: 'Allow',
          Resource: arnOf(stack.archiveSigningKey.key),
          Condition: { StringEquals: { 'kms:MessageType': 'DIGEST', 'kms:SigningAlgorithm': 'ECDSA_SHA_256' } },
        },
        { Action: 's3:ListBucket', Effect: 'Allow', Resource: arnOf(stack.stateful.archive.bucket) },
      ]);
    });

    it('lets the alert function claim and release alerts and publish to the alert topic only', () => {
      expect(statementsOf(stack.alerting.consumer.role)).toEqual([
        logStatement(stack.alerting.consumer.pipelineFunction.logGroup),
        queueConsumerStatement(stack.alerting.consumer.queue),
        {
          Action: ['dynamodb:DeleteItem', 'dynamodb:PutItem'],
          Effect: 'Allow',
          Resource: arnOf(stack.stateful.alertClaimsTable),
        },
        { Action: 'sns:Publish', Effect: 'Allow', Resource: ref(stack.stateful.alertTopic) },
        {
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Effect: 'Allow',
          Resource: arnOf(stack.stateful.alertTopic.key),
        },
        { Action: 's3:PutObject', Effect: 'Allow', Resource: objectsUnder('quarantine/*') },
      ]);
    });

    it('lets the rescue function read its stream, get and put events table items, and report failed batches', () => {
      const stream = { 'Fn::GetAtt': [idOf(stack.stateful.eventsTable), 'StreamArn'] };
      expect(statementsOf(stack.rescue.role)).toEqual([
        logStatement(stack.rescue.pipelineFunction.logGroup),
        {
          Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          Effect: 'Allow',
          Resource: arnOf(stack.rescue.deadLetterQueue),
        },
        // ListStreams has no resource-level permissions.
        { Action: 'dynamodb:ListStreams', Effect: 'Allow', Resource: '*' },
        {
          Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
          Effect: 'Allow',
          Resource: stream,
        },
        {
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          Effect: 'Allow',
          Resource: arnOf(stack.stateful.eventsTable),
        },
      ]);
    });
  });

  describe('tables', () => {
    it('keys the events table by pk and sk, expires items by TTL, encrypts and backs it up', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          SSESpecification: { SSEEnabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
          // The rescue function reads TTL deletions from it.
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('bills the events and detector tables per request by default, or provisioned and auto scaled at 70%', () => {
      const tables = (built: typeof template) => Object.values(built.findResources('AWS::DynamoDB::Table'));
      const modes = (built: typeof template) =>
        tables(built)
          .map((table) => (table as { Properties: { BillingMode?: string } }).Properties.BillingMode ?? 'PROVISIONED')
          .sort();
      expect(modes(template)).toEqual(['PAY_PER_REQUEST', 'PAY_PER_REQUEST', 'PAY_PER_REQUEST']);

      const provisioned = build({ tableCapacity: 'provisioned', tableMaxCapacityUnits: '2000' }).template;
      // The events and detector tables; the alert claims table stays on demand.
      expect(modes(provisioned)).toEqual(['PAY_PER_REQUEST', 'PROVISIONED', 'PROVISIONED']);
      for (const table of tables(provisioned)) {
        const properties = (table as { Properties: Record<string, unknown> }).Properties;
        if (properties.BillingMode === 'PAY_PER_REQUEST') continue;
        expect(properties.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
      }
      const targets = Object.values(provisioned.findResources('AWS::ApplicationAutoScaling::ScalableTarget')).map(
        (target) =>
          (target as { Properties: { ScalableDimension: string; MinCapacity: number; MaxCapacity: number } })
            .Properties,
      );
      expect(targets.map((target) => target.ScalableDimension).sort()).toEqual([
        'dynamodb:table:ReadCapacityUnits',
        'dynamodb:table:ReadCapacityUnits',
        'dynamodb:table:WriteCapacityUnits',
        'dynamodb:table:WriteCapacityUnits',
      ]);
      expect(targets.every((target) => target.MinCapacity === 5 && target.MaxCapacity === 2000)).toBe(true);
      provisioned.resourcePropertiesCountIs(
        'AWS::ApplicationAutoScaling::ScalingPolicy',
        { TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 70 }) },
        4,
      );
    });

    it('keys the alert claims table by pk alone, with the same protections and no stream', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          SSESpecification: { SSEEnabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          StreamSpecification: Match.absent(),
        },
        DeletionPolicy: 'Retain',
      });
    });
  });

  describe('archive bucket', () => {
    it('is encrypted, versioned, private, logged and retained', () => {
      template.hasResource('AWS::S3::Bucket', {
        Properties: {
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
          },
          VersioningConfiguration: { Status: 'Enabled' },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          LoggingConfiguration: { DestinationBucketName: ref(stack.stateful.archive.accessLogsBucket) },
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('moves objects to Glacier Instant Retrieval, then expires them and old versions', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Status: 'Enabled',
              Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
              ExpirationInDays: 2557,
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            }),
          ]),
        },
      });
    });

    it('keeps objects forever when archiveRetentionDays is 0', () => {
      const { stack: forever, template: foreverTemplate } = build({
        archiveRetentionDays: '0',
        archiveTransitionDays: '90',
      });
      const bucket = foreverTemplate.toJSON().Resources[idOf(forever.stateful.archive.bucket)];
      expect(bucket.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
      });
      expect(bucket.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBeUndefined();
    });

    it('denies requests without TLS on both buckets', () => {
      for (const bucket of [stack.stateful.archive.bucket, stack.stateful.archive.accessLogsBucket]) {
        template.hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: ref(bucket),
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 's3:*',
                Principal: { AWS: '*' },
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });

    it('keeps access logs private and encrypted with SSE-S3, the only encryption log delivery accepts', () => {
      expect(template.toJSON().Resources[idOf(stack.stateful.archive.accessLogsBucket)]).toMatchObject({
        Properties: {
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
          },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
        },
        DeletionPolicy: 'Retain',
      });
    });
  });

  describe('topics', () => {
    it('encrypts both topics with their own rotating customer-managed keys and refuses non-TLS publishers', () => {
      for (const topic of [stack.stateful.alertTopic, stack.stateful.operationsTopic]) {
        template.hasResourceProperties('AWS::SNS::Topic', {
          KmsMasterKeyId: arnOf(topic.key),
        });
        expect(template.toJSON().Resources[idOf(topic.key)]).toMatchObject({
          Properties: { EnableKeyRotation: true },
          DeletionPolicy: 'Retain',
        });
        template.hasResourceProperties('AWS::SNS::TopicPolicy', {
          Topics: [ref(topic)],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sns:Publish',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });

    it('lets only CloudWatch alarms of this account use the operations topic and its key', () => {
      const fromAlarmsOfThisAccount = {
        ArnLike: {
          'aws:SourceArn': {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':cloudwatch:',
                { Ref: 'AWS::Region' },
                ':',
                THIS_ACCOUNT,
                ':alarm:*',
              ],
            ],
          },
        },
        StringEquals: { 'aws:SourceAccount': THIS_ACCOUNT },
      };
      const key = template.toJSON().Resources[idOf(stack.stateful.operationsTopic.key)];
      expect(key.Properties.KeyPolicy.Statement).toContainEqual({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: fromAlarmsOfThisAccount,
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [ref(stack.stateful.operationsTopic)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Condition: fromAlarmsOfThisAccount,
            }),
          ]),
        },
      });
    });

    it('conditions every service principal in a key policy on the source account and ARN', () => {
      for (const key of Object.values(template.findResources('AWS::KMS::Key'))) {
        for (const statement of key.Properties.KeyPolicy.Statement) {
          if (statement.Principal.Service === undefined) continue;
          expect(statement.Condition).toMatchObject({
            ArnLike: { 'aws:SourceArn': expect.anything() },
            StringEquals: { 'aws:SourceAccount': THIS_ACCOUNT },
          });
        }
      }
    });

    it('does not let CloudWatch use the alert key', () => {
      const key = template.toJSON().Resources[idOf(stack.stateful.alertTopic.key)];
      expect(JSON.stringify(key.Properties.KeyPolicy)).not.toContain('cloudwatch.amazonaws.com');
    });

    it('subscribes the notification email to both topics only when configured', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 0);
      const { stack: subscribed, template: withEmail } = build({ notificationEmail: 'secops@example.com' });
      for (const topic of [subscribed.stateful.alertTopic, subscribed.stateful.operationsTopic]) {
        withEmail.hasResourceProperties('AWS::SNS::Subscription', {
          Protocol: 'email',
          Endpoint: 'secops@example.com',
          TopicArn: ref(topic),
        });
      }
    });
  });

  describe('alert rules', () => {
    it('creates one rule per alert rule on the partner bus, named with the prefix, pinned to this account', () => {
      // ingest + sequencer schedule + one per alert rule
      template.resourceCountIs('AWS::Events::Rule', 2 + ALERT_RULES.length);
      for (const alertRule of ALERT_RULES) {
        expect(
          template.toJSON().Resources[idOf(stack.alerting.rules.get(alertRule.id) as IConstruct)].Properties
            .EventPattern,
        ).toEqual({
          ...alertRule.pattern,
          account: [THIS_ACCOUNT],
        });
        template.hasResourceProperties('AWS::Events::Rule', {
          Name: `OktaLogPipeline-alert-${alertRule.id}`,
          EventBusName: ref(stack.partnerBus.eventBus),
          EventPattern: alertRule.pattern,
          Targets: [
            Match.objectLike({
              Arn: arnOf(stack.alerting.consumer.queue),
              DeadLetterConfig: { Arn: arnOf(stack.alerting.consumer.targetDeadLetterQueue) },
              RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
            }),
          ],
        });
      }
    });

    it('wraps each matched event with its rule summary in an input transformer', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        Description: 'Alert rule admin-role-granted (high): Admin role granted',
        Targets: [
          Match.objectLike({
            InputTransformer: {
              InputTemplate:
                '{"rule":{"id":"admin-role-granted","title":"Admin role granted","severity":"high",' +
                '"description":"A user received an administrator role.",' +
                '"runbook":"Confirm the grant with the approver.","subject":"{title}: {target}"},' +
                '"event":<aws.events.event.json>}',
            },
          }),
        ],
      });
    });

    it('feeds the alert queue to the alert function with partial batch failures and a DLQ', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arnOf(stack.alerting.consumer.queue),
        FunctionName: ref(stack.alerting.consumer.lambdaFunction),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { deadLetterTargetArn: arnOf(stack.alerting.consumer.deadLetterQueue), maxReceiveCount: 5 },
      });
    });
  });

  describe('alarms', () => {
    const defined = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error('expected a value');
      return value;
    };
    const alarmOf = (construct: IConstruct) => template.toJSON().Resources[idOf(construct)].Properties;
    const toOperations = () => ({
      AlarmActions: [ref(stack.stateful.operationsTopic)],
      OKActions: [ref(stack.stateful.operationsTopic)],
    });

    it('raises feed silence after silenceMinutes without a message sent to the ingest queue, missing data included', () => {
      expect(alarmOf(defined(stack.alarms.feedSilence))).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'NumberOfMessagesSent',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack.ingest.queue), 'QueueName'] } }],
        Statistic: 'Sum',
        Period: 60,
        // Half a day by default, so a quiet org is not paged at night.
        EvaluationPeriods: 720,
        DatapointsToAlarm: 720,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
        ...toOperations(),
      });
    });

    it('takes the silence period from config', () => {
      const { stack: tuned, template: tunedTemplate } = build({ silenceMinutes: '90' });
      expect(tunedTemplate.toJSON().Resources[idOf(defined(tuned.alarms.feedSilence))].Properties).toMatchObject({
        EvaluationPeriods: 90,
        DatapointsToAlarm: 90,
      });
    });

    it('raises an alarm for any message in each of the seven dead-letter queues', () => {
      expect([...stack.alarms.deadLetters.keys()]).toEqual([
        'Ingest',
        'IngestDelivery',
        'Alert',
        'AlertDelivery',
        'Detector',
        'DetectorDelivery',
        'Rescue',
      ]);
      const dlqs = [
        stack.ingest.deadLetterQueue,
        stack.ingest.targetDeadLetterQueue,
        stack.alerting.consumer.deadLetterQueue,
        stack.alerting.consumer.targetDeadLetterQueue,
        stack.detection.consumer.deadLetterQueue,
        stack.detection.consumer.targetDeadLetterQueue,
        stack.rescue.deadLetterQueue,
      ];
      for (const [index, alarm] of [...stack.alarms.deadLetters.values()].entries()) {
        const dlq = dlqs[index];
        if (dlq === undefined) throw new Error('one dead-letter queue per alarm');
        expect(alarmOf(alarm)).toMatchObject({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(dlq), 'QueueName'] } }],
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          EvaluationPeriods: 1,
          TreatMissingData: 'notBreaching',
          ...toOperations(),
        });
      }
    });

    it('raises an alarm for quarantined events from the Powertools metric', () => {
      expect(alarmOf(stack.alarms.eventsQuarantined)).toMatchObject({
        Namespace: 'OktaLogPipeline',
        MetricName: 'EventsQuarantined',
        Dimensions: [{ Name: 'service', Value: 'okta-log-pipeline' }],
        Statistic: 'Sum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        ...toOperations(),
      });
    });

    it('raises an alarm for any ingest, sequencer, alert or rescue function error', () => {
      for (const [alarm, fn] of [
        [stack.alarms.ingestErrors, stack.ingest.lambdaFunction],
        [stack.alarms.sequencerErrors, stack.sequencer.lambdaFunction],
        [stack.alarms.alertErrors, stack.alerting.consumer.lambdaFunction],
        [stack.alarms.rescueErrors, stack.rescue.lambdaFunction],
      ] as const) {
        expect(alarmOf(alarm)).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: ref(fn) }],
          Statistic: 'Sum',
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          ...toOperations(),
        });
      }
    });

    it('raises an alarm when the oldest ingest message is over 15 minutes old', () => {
      expect(alarmOf(stack.alarms.ingestBacklog)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack.ingest.queue), 'QueueName'] } }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 900,
        ...toOperations(),
      });
    });

    it('raises sequencer lag when the oldest unsealed window is overdue, or when the sequencer stops reporting', () => {
      expect(alarmOf(stack.alarms.sequencerLag)).toMatchObject({
        Namespace: 'OktaLogPipeline',
        MetricName: 'OldestUnsealedWindowAgeSeconds',
        Dimensions: [{ Name: 'service', Value: 'okta-log-pipeline' }],
        Statistic: 'Maximum',
        Period: 60,
        ComparisonOperator: 'GreaterThanThreshold',
        // window 60 s + lateness 120 s + seal guard 90 s + 10 minutes
        Threshold: 60 + 120 + 90 + 600,
        EvaluationPeriods: 10,
        DatapointsToAlarm: 10,
        TreatMissingData: 'breaching',
        ...toOperations(),
      });
      expect(alarmOf(stack.alarms.sequencerLag).AlarmDescription).toMatch(/schedule rule.*reserved concurrency/);
    });

    it('moves the sequencer lag threshold with the window layout', () => {
      const { stack: tuned, template: tunedTemplate } = build({ windowSeconds: '300', allowedLatenessSeconds: '900' });
      expect(tunedTemplate.toJSON().Resources[idOf(tuned.alarms.sequencerLag)].Properties.Threshold).toBe(
        300 + 900 + 90 + 600,
      );
    });

    it('raises an alarm while any window is set aside, saying where to read why', () => {
      expect(alarmOf(stack.alarms.windowsSetAside)).toMatchObject({
        Namespace: 'OktaLogPipeline',
        MetricName: 'SetAsideWindows',
        Dimensions: [{ Name: 'service', Value: 'okta-log-pipeline' }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
        ...toOperations(),
      });
      expect(alarmOf(stack.alarms.windowsSetAside).AlarmDescription).toContain("pk 'set-aside'");
    });

    it('raises an alarm for any record ingest or the alert function reports as failed', () => {
      for (const [alarm, metricName] of [
        [stack.alarms.ingestRecordsFailed, 'IngestRecordsFailed'],
        [stack.alarms.alertRecordsFailed, 'AlertRecordsFailed'],
      ] as const) {
        expect(alarmOf(alarm)).toMatchObject({
          Namespace: 'OktaLogPipeline',
          MetricName: metricName,
          Dimensions: [{ Name: 'service', Value: 'okta-log-pipeline' }],
          Statistic: 'Sum',
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          ...toOperations(),
        });
      }
    });

    it('raises an alarm when the rescue function is 6 hours behind a stream that keeps records for 24', () => {
      expect(alarmOf(stack.alarms.rescueIteratorAge)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: ref(stack.rescue.lambdaFunction) }],
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 6 * 3_600_000,
        ...toOperations(),
      });
    });

    it('has exactly these alarms', () => {
      template.resourceCountIs('AWS::CloudWatch::Alarm', 21);
    });
  });

  it('outputs the bus name, bucket name and topic ARNs', () => {
    template.hasOutput('PartnerEventBusName', { Value: ref(stack.partnerBus.eventBus) });
    template.hasOutput('ArchiveBucketName', { Value: ref(stack.stateful.archive.bucket) });
    template.hasOutput('ArchiveSigningKeyArn', { Value: arnOf(stack.archiveSigningKey.key) });
    template.hasOutput('AlertTopicArn', { Value: ref(stack.stateful.alertTopic) });
    template.hasOutput('OperationsTopicArn', { Value: ref(stack.stateful.operationsTopic) });
    template.hasOutput('ArchiveDatabaseName', { Value: ref(stack.stateful.archiveQuery.database) });
    template.hasOutput('ArchiveWorkGroupName', { Value: ref(stack.stateful.archiveQuery.workGroup) });
  });

  it('takes archiveLockMode from config', () => {
    const lockOf = (mode: string) => {
      const { stack: tuned, template: tunedTemplate } = build({ archiveLockMode: mode });
      return tunedTemplate.toJSON().Resources[idOf(tuned.stateful.archive.bucket)].Properties.ObjectLockConfiguration;
    };
    expect(lockOf('off')).toBeUndefined();
    expect(lockOf('compliance').Rule.DefaultRetention).toEqual({ Mode: 'COMPLIANCE', Days: 2557 });
    expect(lockOf('governance').Rule.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 2557 });
  });

  it('keeps the logical IDs of stateful resources, so an update never replaces them', () => {
    // A changed logical ID makes CloudFormation create a new table, bucket, topic or key and orphan the old one
    // (they are retained), losing dedupe state, archive continuity, subscriptions or the ability to decrypt.
    expect({
      eventsTable: idOf(stack.stateful.eventsTable),
      alertClaimsTable: idOf(stack.stateful.alertClaimsTable),
      archiveBucket: idOf(stack.stateful.archive.bucket),
      accessLogsBucket: idOf(stack.stateful.archive.accessLogsBucket),
      alertTopic: idOf(stack.stateful.alertTopic),
      alertTopicKey: idOf(stack.stateful.alertTopic.key),
      operationsTopic: idOf(stack.stateful.operationsTopic),
      operationsTopicKey: idOf(stack.stateful.operationsTopic.key),
      // A new key would sign the chain with a key whose public half verifiers do not have.
      archiveSigningKey: idOf(stack.archiveSigningKey.key),
      // The bus name is fixed by the source, so a replacement would collide with the bus it replaces.
      partnerBus: idOf(stack.partnerBus.eventBus),
    }).toEqual({
      eventsTable: 'StatefulEventsTable7092A288',
      alertClaimsTable: 'StatefulAlertClaimsTable68138031',
      archiveBucket: 'StatefulArchive7D3A05C0',
      accessLogsBucket: 'StatefulArchiveAccessLogsFBA5D61D',
      alertTopic: 'StatefulAlertTopic5EA94CD3',
      alertTopicKey: 'StatefulAlertTopicKey42EC2AAA',
      operationsTopic: 'StatefulOperationsTopicA759F4A5',
      operationsTopicKey: 'StatefulOperationsTopicKey7237343E',
      archiveSigningKey: 'ArchiveSigningKey14630905',
      partnerBus: 'ComputePartnerBusF0CDA2CA',
    });
  });
});
