import { readFileSync } from 'node:fs';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { AUTH0_HTTP_SOURCE } from '../../lambdas/shared/log-sources.ts';
import { parseConfig } from '../../lib/config.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const AUTH0_SOURCE = 'aws.partner/auth0.com/acme-0123abcd/auth0.logs';
const SECRET = 'olp/auth0-http';
const BUS = { auth0EventSourceName: AUTH0_SOURCE };
const SINK = { auth0HttpSink: 'true', auth0HttpSecretName: SECRET };

/** The app as bin/app.ts builds it (cdk.json context, rules compiled the same way), minus esbuild bundling. */
const synth = (context: Record<string, unknown> = {}) => {
  const app = new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });
  const config = parseConfig({ eventSourceName: SOURCE, ...context });
  const rules = loadRules();
  const auth0 = config.auth0EventSourceName ?? (config.auth0HttpSink ? AUTH0_HTTP_SOURCE : undefined);
  const stack = new OktaLogPipelineStack(app, 'OktaLogPipeline', {
    config,
    alertRules: compileRules(rules, { okta: SOURCE, auth0 }),
    ...(config.auth0HttpSink ? { auth0HttpSinkRules: compileRules(rules, { auth0: AUTH0_HTTP_SOURCE }) } : {}),
  });
  return { stack, template: Template.fromStack(stack) };
};

const idOf = (construct: IConstruct): string => {
  let resource: IConstruct | undefined = construct;
  while (resource !== undefined && !CfnElement.isCfnElement(resource)) resource = resource.node.defaultChild;
  if (resource === undefined) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(resource).getLogicalId(resource as CfnElement);
};

/** The template's resources, with the asset hashes that name code bundles blanked out. */
const resourcesOf = (template: Template) =>
  JSON.parse(JSON.stringify(template.toJSON().Resources).replaceAll(/[0-9a-f]{64}\.zip/g, 'asset.zip'));

/** Every IAM statement attached to the role of one function. */
const statementsOf = (template: Template, functionId: string) => {
  const fn = template.toJSON().Resources[functionId];
  const roleId: string = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
};

const envOf = (template: Template, functionId: string): Record<string, unknown> =>
  template.toJSON().Resources[functionId].Properties.Environment.Variables;

/** The alert rules deployed on the bus with this logical ID, by their detail-type. */
const rulesOnBus = (template: Template, busId: string) =>
  Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventBusName: { Ref: busId } } })).map(
    (rule) => rule.Properties,
  );

describe('the Auth0 source in the stack', () => {
  it('is absent without its keys, and settings only it reads change nothing in the template', () => {
    const plain = synth();
    const tuned = synth({ auth0HttpSink: 'false', auth0HttpSecretName: SECRET });
    expect(plain.stack.auth0).toBeUndefined();
    expect(tuned.stack.auth0).toBeUndefined();
    expect(resourcesOf(tuned.template)).toEqual(resourcesOf(plain.template));
    expect(tuned.template.toJSON().Outputs).toEqual(plain.template.toJSON().Outputs);
  });

  it.each([
    ['the partner bus', BUS],
    ['the HTTP sink', SINK],
    ['both ways in', { ...BUS, ...SINK }],
  ])('keeps every resource of the Okta-only stack under its logical ID and type, with %s', (_way, context) => {
    const plain = resourcesOf(synth().template);
    const withAuth0 = resourcesOf(synth(context).template);
    for (const [id, resource] of Object.entries<{ Type: string }>(plain)) {
      expect(withAuth0[id]?.Type, id).toBe(resource.Type);
    }
  });

  it("watches the Auth0 functions' own metrics, under their source dimension, apart from Okta's", () => {
    const { template } = synth(BUS);
    for (const metricName of ['OldestUnsealedWindowAgeSeconds', 'SetAsideWindows', 'EventsQuarantined']) {
      const alarms = Object.values(
        template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } }),
      ).map((alarm) => alarm.Properties.Dimensions);
      expect(alarms).toEqual(
        expect.arrayContaining([
          [{ Name: 'service', Value: 'okta-log-pipeline' }],
          [
            { Name: 'service', Value: 'okta-log-pipeline' },
            { Name: 'source', Value: 'auth0' },
          ],
        ]),
      );
    }
  });

  describe('by its partner event bus', () => {
    const { stack, template } = synth(BUS);
    const auth0 = stack.auth0;
    if (auth0?.partnerBus === undefined) throw new Error('no Auth0 partner bus');
    const busId = idOf(auth0.partnerBus.eventBus);

    it('creates a bus named after the Auth0 partner event source, and outputs its name', () => {
      template.hasResourceProperties('AWS::Events::EventBus', { Name: AUTH0_SOURCE, EventSourceName: AUTH0_SOURCE });
      template.hasOutput('Auth0PartnerEventBusName', { Value: { Ref: busId } });
      expect(auth0.httpSink).toBeUndefined();
      template.resourceCountIs('AWS::Lambda::Url', 0);
    });

    it('routes every Auth0 log of the source, delivered to this account, to the Auth0 ingest queue', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: busId },
        EventPattern: { source: [AUTH0_SOURCE], 'detail-type': ['Auth0 log'], account: [{ Ref: 'AWS::AccountId' }] },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [idOf(auth0.ingest.queue), 'Arn'] },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(auth0.ingest.targetDeadLetterQueue), 'Arn'] } },
          }),
        ],
      });
    });

    it('puts Auth0 alert rules on the Auth0 bus and Okta rules on the Okta bus, all to the alert queue', () => {
      const okta = rulesOnBus(template, idOf(stack.partnerBus.eventBus));
      const onAuth0 = rulesOnBus(template, busId);
      const alertQueue = { 'Fn::GetAtt': [idOf(stack.alerting.consumer.queue), 'Arn'] };
      const alertRulesOf = (rules: Array<Record<string, unknown>>) =>
        rules.filter((rule) => JSON.stringify(rule.Targets).includes(JSON.stringify(alertQueue)));
      expect(alertRulesOf(onAuth0).length).toBeGreaterThan(0);
      for (const rule of alertRulesOf(onAuth0)) {
        expect(rule.EventPattern).toMatchObject({ source: [AUTH0_SOURCE], 'detail-type': ['Auth0 log'] });
      }
      expect(alertRulesOf(okta).length).toBeGreaterThan(0);
      for (const rule of alertRulesOf(okta)) expect(rule.EventPattern).toMatchObject({ 'detail-type': ['SystemLog'] });
      expect(alertRulesOf(okta).length + alertRulesOf(onAuth0).length).toBe(stack.alerting.rules.size);
    });

    it('admits to the alert queue and its target DLQ the alert rule name prefix on both buses', () => {
      for (const queue of [stack.alerting.consumer.queue, stack.alerting.consumer.targetDeadLetterQueue]) {
        const [policy] = Object.values(
          template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: idOf(queue) }] } }),
        );
        const allow = policy?.Properties.PolicyDocument.Statement.find(
          (statement: { Sid?: string }) => statement.Sid === 'AllowTheAdmittedRules',
        );
        expect(allow.Condition.ArnLike['aws:SourceArn']).toHaveLength(2);
        expect(JSON.stringify(allow.Condition.ArnLike)).toContain(`"${idOf(stack.partnerBus.eventBus)}"`);
        expect(JSON.stringify(allow.Condition.ArnLike)).toContain(`"${busId}"`);
        expect(JSON.stringify(allow.Condition.ArnLike)).toContain(`/${stack.alerting.ruleNamePrefix}*`);
      }
    });

    it('gives the alert function the Auth0 source, and Auth0 ingest the source and LOG_SOURCE auth0', () => {
      expect(envOf(template, idOf(stack.alerting.consumer.lambdaFunction))).toMatchObject({
        EVENT_SOURCE_NAME: SOURCE,
        AUTH0_SOURCE_NAMES: AUTH0_SOURCE,
      });
      expect(envOf(template, idOf(auth0.ingest.lambdaFunction))).toMatchObject({
        LOG_SOURCE: 'auth0',
        EVENT_SOURCE_NAME: AUTH0_SOURCE,
        EXPECTED_ACCOUNT: { Ref: 'AWS::AccountId' },
        EVENTS_TABLE_NAME: { Ref: idOf(auth0.eventsTable) },
      });
    });
  });

  describe('by its HTTP sink', () => {
    const { stack, template } = synth(SINK);
    const auth0 = stack.auth0;
    const httpSink = auth0?.httpSink;
    if (auth0 === undefined || httpSink === undefined) throw new Error('no Auth0 HTTP sink');
    const sinkId = idOf(httpSink.lambdaFunction);
    const sinkRoleId = idOf(httpSink.role);

    it('creates no Auth0 bus and puts no Auth0 alert rule on any bus: the sink matches them itself', () => {
      expect(auth0.partnerBus).toBeUndefined();
      template.resourceCountIs('AWS::Events::EventBus', 1);
      const auth0Rules = Object.values(template.findResources('AWS::Events::Rule')).filter((rule) =>
        JSON.stringify(rule.Properties.EventPattern ?? {}).includes('Auth0 log'),
      );
      expect(auth0Rules).toEqual([]);
      expect(template.toJSON().Outputs.Auth0PartnerEventBusName).toBeUndefined();
    });

    it('is a public function URL (auth NONE, no CORS) that may only be invoked through the URL, and outputs it', () => {
      template.hasResourceProperties('AWS::Lambda::Url', {
        AuthType: 'NONE',
        TargetFunctionArn: { 'Fn::GetAtt': [sinkId, 'Arn'] },
        Cors: Match.absent(),
      });
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((permission) =>
        JSON.stringify(permission.Properties.FunctionName).includes(`"${sinkId}"`),
      );
      expect(permissions.map((permission) => permission.Properties)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE', Principal: '*' }),
          expect.objectContaining({ Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true, Principal: '*' }),
        ]),
      );
      expect(permissions).toHaveLength(2);
      template.hasOutput('Auth0HttpSinkUrl', {
        Value: { 'Fn::GetAtt': [idOf(httpSink.functionUrl), 'FunctionUrl'] },
      });
    });

    it('throttles by reserved concurrency, and names its secret, queues and bucket in its environment', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        ReservedConcurrentExecutions: 10,
        Environment: {
          Variables: Match.objectLike({
            AUTH0_HTTP_SECRET_NAME: SECRET,
            INGEST_QUEUE_URL: { Ref: idOf(auth0.ingest.queue) },
            ALERT_QUEUE_URL: { Ref: idOf(stack.alerting.consumer.queue) },
            ARCHIVE_BUCKET_NAME: { Ref: idOf(stack.stateful.archive.bucket) },
          }),
        },
      });
      // Only the secret's name: its value never enters the template.
      expect(JSON.stringify(template.toJSON())).not.toMatch(/SecretString/);
    });

    it('may read that one secret, send to the Auth0 ingest, alert and detector queues, and put under auth0/quarantine/', () => {
      const statements = statementsOf(template, sinkId);
      const text = JSON.stringify(statements);
      expect(text).toContain(`:secret:${SECRET}-??????`);
      expect(text.match(/:secret:/g)).toHaveLength(1);
      const sends = statements
        .filter((statement) => JSON.stringify(statement.Action).includes('sqs:SendMessage'))
        .flatMap((statement) => [statement.Resource].flat());
      expect(sends).toEqual(
        expect.arrayContaining([
          { 'Fn::GetAtt': [idOf(auth0.ingest.queue), 'Arn'] },
          { 'Fn::GetAtt': [idOf(stack.alerting.consumer.queue), 'Arn'] },
          { 'Fn::GetAtt': [idOf(stack.detection.consumer.queue), 'Arn'] },
        ]),
      );
      expect(sends).toHaveLength(3);
      const s3 = statements.filter((statement) => JSON.stringify(statement.Action).includes('s3:'));
      expect(JSON.stringify(s3)).toContain('/auth0/quarantine/*');
      expect(JSON.stringify(s3)).not.toMatch(/"\/(quarantine|archive)\/\*"|auth0\/archive/);
      expect(text).not.toMatch(/dynamodb:|sqs:ReceiveMessage|s3:GetObject/);
    });

    it('is excepted from the deny of the Auth0 ingest, alert and detector queues, and only of those', () => {
      const excepting = Object.values(template.findResources('AWS::SQS::QueuePolicy')).filter((policy) =>
        policy.Properties.PolicyDocument.Statement.some(
          (statement: { Effect: string; Condition?: Record<string, unknown> }) =>
            statement.Effect === 'Deny' &&
            JSON.stringify(statement.Condition?.ArnNotEquals ?? {}).includes(`"${sinkRoleId}"`),
        ),
      );
      expect(excepting.map((policy) => policy.Properties.Queues)).toEqual(
        expect.arrayContaining([
          [{ Ref: idOf(auth0.ingest.queue) }],
          [{ Ref: idOf(stack.alerting.consumer.queue) }],
          [{ Ref: idOf(stack.detection.consumer.queue) }],
        ]),
      );
      expect(excepting).toHaveLength(3);
    });

    it('gives Auth0 ingest and the alert function the HTTP sink source', () => {
      expect(envOf(template, idOf(auth0.ingest.lambdaFunction))).toMatchObject({
        LOG_SOURCE: 'auth0',
        EVENT_SOURCE_NAME: AUTH0_HTTP_SOURCE,
      });
      expect(envOf(template, idOf(stack.alerting.consumer.lambdaFunction))).toMatchObject({
        AUTH0_SOURCE_NAMES: AUTH0_HTTP_SOURCE,
      });
    });

    it('alarms on sink errors, throttles, repeated 401s and refused bodies', () => {
      const names = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
      for (const alarm of [
        'Auth0HttpSinkErrors',
        'Auth0HttpSinkThrottles',
        'Auth0HttpSinkUnauthorized',
        'Auth0HttpSinkBodyRejected',
      ]) {
        expect(names).toContainEqual(expect.stringMatching(new RegExp(`^Alarms${alarm}`)));
      }
    });

    it('needs the rules compiled for the sink', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const config = parseConfig({ eventSourceName: SOURCE, ...SINK });
      expect(
        () =>
          new OktaLogPipelineStack(app, 'OktaLogPipeline', {
            config,
            alertRules: compileRules(loadRules(), { okta: SOURCE, auth0: AUTH0_HTTP_SOURCE }),
          }),
      ).toThrow(/auth0HttpSinkRules/);
    });
  });

  describe('by both ways in', () => {
    const { stack, template } = synth({ ...BUS, ...SINK });
    const auth0 = stack.auth0;
    if (auth0 === undefined) throw new Error('no Auth0 source');
    const both = `${AUTH0_SOURCE},${AUTH0_HTTP_SOURCE}`;

    it('accepts both sources in Auth0 ingest and the alert function', () => {
      expect(auth0.partnerBus).toBeDefined();
      expect(auth0.httpSink).toBeDefined();
      expect(envOf(template, idOf(auth0.ingest.lambdaFunction))).toMatchObject({ EVENT_SOURCE_NAME: both });
      expect(envOf(template, idOf(stack.alerting.consumer.lambdaFunction))).toMatchObject({
        AUTH0_SOURCE_NAMES: both,
      });
      template.hasOutput('Auth0PartnerEventBusName', Match.anyValue());
      template.hasOutput('Auth0HttpSinkUrl', Match.anyValue());
    });

    it('stages Auth0 logs in a table of their own, with a stream, TTL, point-in-time recovery, retained', () => {
      const tableId = idOf(auth0.eventsTable);
      expect(tableId).not.toBe(idOf(stack.stateful.eventsTable));
      expect(tableId).toMatch(/^StatefulAuth0EventsTable/);
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: Match.objectLike({
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        }),
        DeletionPolicy: 'Retain',
      });
      // The Auth0 rescue function reads the Auth0 table's stream.
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: idOf(auth0.rescue.lambdaFunction) },
        EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      });
    });

    it('runs the Auth0 sequencer alone, every minute, on the Auth0 table with LOG_SOURCE auth0', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        ReservedConcurrentExecutions: 1,
        Environment: {
          Variables: Match.objectLike({
            LOG_SOURCE: 'auth0',
            EVENTS_TABLE_NAME: { Ref: idOf(auth0.eventsTable) },
            SEAL_GUARD_SECONDS: '90',
          }),
        },
      });
    });

    it('grants each Auth0 function its own table and the auth0/ prefix of the archive only', () => {
      const tableArn = { 'Fn::GetAtt': [idOf(auth0.eventsTable), 'Arn'] };
      const oktaTable = `"${idOf(stack.stateful.eventsTable)}"`;
      const expectPrefixes = (fn: IConstruct, prefixes: string[]) => {
        const statements = statementsOf(template, idOf(fn));
        const text = JSON.stringify(statements);
        expect(text).toContain(JSON.stringify(tableArn));
        expect(text).not.toContain(oktaTable);
        const objectKeys = [...text.matchAll(/"\/([a-z0-9/]*\*)"/g)].map((match) => match[1]);
        expect(objectKeys.sort()).toEqual(prefixes.sort());
      };
      expectPrefixes(auth0.ingest.lambdaFunction, ['auth0/quarantine/*']);
      expectPrefixes(auth0.sequencer.lambdaFunction, ['auth0/archive/*', 'auth0/digests/*']);
      expectPrefixes(auth0.rescue.lambdaFunction, []);
      expect(JSON.stringify(statementsOf(template, idOf(auth0.sequencer.lambdaFunction)))).not.toMatch(
        /s3:DeleteObject/,
      );
    });

    it("alarms on the Auth0 path's errors, dead letters, backlog and a stopped sequencer", () => {
      const names = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
      for (const alarm of [
        'Auth0IngestBacklog',
        'Auth0IngestErrors',
        'Auth0SequencerErrors',
        'Auth0SequencerStopped',
        'Auth0RescueErrors',
        'Auth0RescueIteratorAge',
        'DeadLettersAuth0Ingest',
        'DeadLettersAuth0IngestDelivery',
        'DeadLettersAuth0Rescue',
      ]) {
        expect(names).toContainEqual(expect.stringMatching(new RegExp(`^Alarms${alarm}[0-9A-F]{8}$`)));
      }
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(auth0.sequencer.lambdaFunction) } }],
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    });
  });
});
