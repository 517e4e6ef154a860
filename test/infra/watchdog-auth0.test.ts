import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { AUTH0_HTTP_SOURCE } from '../../lambdas/shared/log-sources.ts';
import { ConfigError, parseConfig } from '../../lib/config.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const AUTH0_SOURCE = 'aws.partner/auth0.com/acme-0123456789abcdef/auth0.logs';
const EVENTBRIDGE = { auth0EventSourceName: AUTH0_SOURCE };
const HTTP = { auth0HttpSink: 'true', auth0HttpSecretName: 'olp/auth0-http' };
const WATCHDOG = { auth0Domain: 'acme.us.auth0.com', auth0SecretName: 'olp/auth0' };

/** The app as `cdk synth` builds it (cdk.json context), minus esbuild bundling; with the AwsSolutions pack if asked. */
const build = (context: Record<string, unknown>, options: { nag?: boolean } = {}) => {
  const app = new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });
  if (options.nag === true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const config = parseConfig({ eventSourceName: SOURCE, notificationEmail: 'secops@example.com', ...context });
  const rules = loadRules();
  const auth0 = config.auth0EventSourceName ?? (config.auth0HttpSink ? AUTH0_HTTP_SOURCE : undefined);
  const stack = new OktaLogPipelineStack(app, 'OktaLogPipeline', {
    config,
    alertRules: compileRules(rules, { okta: SOURCE, auth0 }),
    ...(config.auth0HttpSink ? { auth0HttpSinkRules: compileRules(rules, { auth0: AUTH0_HTTP_SOURCE }) } : {}),
  });
  return { app, stack, template: Template.fromStack(stack) };
};

/** Synths are slow: tests that only read a stack share the one built for the same context. */
const built = new Map<string, ReturnType<typeof build>>();
const synth = (context: Record<string, unknown>): ReturnType<typeof build> => {
  const key = JSON.stringify(context);
  const cached = built.get(key) ?? build(context);
  built.set(key, cached);
  return cached;
};

/** The template's resources, with the asset hashes that name code bundles blanked out. */
const resourcesOf = (template: Template): Record<string, unknown> =>
  JSON.parse(JSON.stringify(template.toJSON().Resources).replaceAll(/[0-9a-f]{64}\.zip/g, 'asset.zip'));

const auth0WatchdogFunction = (template: Template) => {
  const functions = Object.entries(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { AUTH0_DOMAIN: Match.anyValue() } } },
    }),
  );
  expect(functions).toHaveLength(1);
  const [id, resource] = functions[0] ?? ['', {}];
  return { id, properties: resource.Properties };
};

const statementsOfRole = (template: Template, roleId: string) =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);

describe("the feed watchdog's Auth0 check in the stack", () => {
  it('is absent without auth0Domain and auth0SecretName, and adding it changes no resource but three queue policies', () => {
    // Prepare
    const without = synth(EVENTBRIDGE);
    const withIt = synth({ ...EVENTBRIDGE, ...WATCHDOG });
    expect(without.stack.auth0Watchdog).toBeUndefined();
    expect(withIt.stack.auth0Watchdog).toBeDefined();

    // Act
    const before = resourcesOf(without.template);
    const after = resourcesOf(withIt.template);
    const changed = Object.keys(before).filter((id) => JSON.stringify(before[id]) !== JSON.stringify(after[id]));

    // Assert: every resource keeps its logical id; only the Auth0 ingest, alert and detector queues admit a new sender.
    expect(changed.map((id) => (before[id] as { Type: string }).Type)).toEqual([
      'AWS::SQS::QueuePolicy',
      'AWS::SQS::QueuePolicy',
      'AWS::SQS::QueuePolicy',
    ]);
    expect(changed.some((id) => /DetectionConsumerQueue/.test(id))).toBe(true);
    expect(changed.some((id) => /Auth0IngestQueue/.test(id))).toBe(true);
    expect(changed.some((id) => /AlertingConsumerQueue/.test(id))).toBe(true);
  });

  it('watches the EventBridge stream of the Auth0 bus, one run at a time, over the Auth0 events table', () => {
    const { stack, template } = synth({ ...EVENTBRIDGE, ...WATCHDOG, watchdogMinutes: '10', autoReactivate: 'true' });
    const { id, properties } = auth0WatchdogFunction(template);
    const auth0 = stack.auth0;
    if (auth0 === undefined) throw new Error('no Auth0 source');
    expect(properties.ReservedConcurrentExecutions).toBe(1);
    expect(properties.Environment.Variables).toMatchObject({
      LOG_SOURCE: 'auth0',
      AUTH0_DOMAIN: 'https://acme.us.auth0.com',
      AUTH0_SECRET_NAME: 'olp/auth0',
      AUTH0_EVENT_SOURCE_NAME: AUTH0_SOURCE,
      AUTO_REACTIVATE: 'true',
      // The allowed lateness (120 s by default) plus five minutes for Auth0 to show a log in the Management API.
      CHECK_DELAY_SECONDS: '420',
      EVENTS_TABLE_NAME: stack.resolve(auth0.eventsTable.table.tableName),
      INGEST_QUEUE_URL: stack.resolve(auth0.ingest.queue.queueUrl),
    });
    expect(properties.Environment.Variables.AUTH0_HTTP_ENDPOINT).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toMatch(/SecretString/);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(10 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  it('watches the HTTP stream that posts to the sink when there is no Auth0 bus', () => {
    const { stack, template } = synth({ ...HTTP, ...WATCHDOG });
    const { properties } = auth0WatchdogFunction(template);
    const sink = stack.auth0?.httpSink;
    if (sink === undefined) throw new Error('no Auth0 HTTP sink');
    expect(properties.Environment.Variables.AUTH0_HTTP_ENDPOINT).toEqual(stack.resolve(sink.functionUrl.url));
    expect(properties.Environment.Variables.AUTH0_EVENT_SOURCE_NAME).toBeUndefined();
  });

  it('may read its one secret, its own state item and staged Auth0 logs by key, and send to three queues only', () => {
    const { stack, template } = synth({
      ...EVENTBRIDGE,
      ...WATCHDOG,
      oktaOrgUrl: 'https://acme.okta.com',
      oktaSecretName: 'olp/okta',
    });
    const { properties } = auth0WatchdogFunction(template);
    const statements = statementsOfRole(template, properties.Role['Fn::GetAtt'][0]);
    const text = JSON.stringify(statements);
    const auth0Table = stack.resolve(stack.auth0?.eventsTable.table.tableArn);
    expect(text).toContain(':secret:olp/auth0-??????');
    expect(text).not.toContain(':secret:olp/okta');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: auth0Table,
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['watchdog'] } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'dynamodb:BatchGetItem', Resource: auth0Table }),
    );
    // Nothing of Okta's table, no write to staged logs, no archive access.
    expect(text).not.toContain(JSON.stringify(stack.resolve(stack.stateful.eventsTable.table.tableArn)));
    expect(text).not.toMatch(/s3:|dynamodb:Query|dynamodb:UpdateItem|sqs:ReceiveMessage/);
    const queues = statements
      .filter((statement) => JSON.stringify(statement.Action).includes('sqs:SendMessage'))
      .flatMap((statement) => [statement.Resource].flat());
    expect(queues).toEqual(
      expect.arrayContaining([
        stack.resolve(stack.auth0?.ingest.queue.queueArn),
        stack.resolve(stack.alerting.consumer.queue.queueArn),
        stack.resolve(stack.detection.consumer.queue.queueArn),
      ]),
    );
    expect(queues).toHaveLength(3);
  });

  it('has alarms like the Okta check: logs dropped, stream inactive, errors, lag; only with the config', () => {
    const ids = (template: Template) => Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    const names = ['Auth0StreamDroppingLogs', 'Auth0LogStreamInactive', 'Auth0WatchdogErrors', 'Auth0WatchdogLag'];
    const without = ids(synth(EVENTBRIDGE).template);
    const { template } = synth({ ...EVENTBRIDGE, ...WATCHDOG });
    for (const name of names) {
      expect(without.filter((id) => id.includes(name))).toEqual([]);
      expect(ids(template).filter((id) => id.includes(name))).toHaveLength(1);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Auth0LogStreamActive',
      Dimensions: Match.arrayWith([{ Name: 'source', Value: 'auth0' }]),
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      Period: 300,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Auth0WatchdogLagSeconds',
      TreatMissingData: 'breaching',
      Threshold: 3600,
    });
  });

  it.each([
    ['its partner event bus', EVENTBRIDGE],
    ['its HTTP sink', HTTP],
  ])('passes the cdk-nag AwsSolutions checks with the Auth0 source deployed by %s', (_way, auth0) => {
    const { app, stack } = build(
      { ...auth0, ...WATCHDOG, redriveRoleArn: 'arn:aws:iam::123456789012:role/okta-redrive' },
      { nag: true },
    );
    expect(stack.auth0Watchdog).toBeDefined();
    app.synth();
    const findings = new AwsSolutionsChecks()
      .validateScope(app)
      .violations.flatMap((violation) =>
        violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
      );
    expect(findings).toEqual([]);
  });
});

describe('the Auth0 watchdog config', () => {
  const configError = (context: Record<string, unknown>): string => {
    try {
      parseConfig({ eventSourceName: SOURCE, ...context });
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    throw new Error(`expected a ConfigError for ${JSON.stringify(context)}`);
  };

  it('takes the tenant as its https origin', () => {
    expect(parseConfig({ eventSourceName: SOURCE, ...EVENTBRIDGE, ...WATCHDOG })).toMatchObject({
      auth0Domain: 'https://acme.us.auth0.com',
      auth0SecretName: 'olp/auth0',
    });
    expect(
      parseConfig({ eventSourceName: SOURCE, ...HTTP, ...WATCHDOG, auth0Domain: 'https://login.acme.com/' }),
    ).toMatchObject({ auth0Domain: 'https://login.acme.com' });
  });

  it.each([
    [{ ...EVENTBRIDGE, auth0Domain: 'acme.us.auth0.com' }, /auth0SecretName .*must be set together with auth0Domain/],
    [{ ...EVENTBRIDGE, auth0SecretName: 'olp/auth0' }, /auth0Domain .*must be set together with auth0SecretName/],
    [WATCHDOG, /auth0Domain "acme\.us\.auth0\.com" needs the Auth0 source .* auth0EventSourceName .* auth0HttpSink/],
    [
      { ...EVENTBRIDGE, ...WATCHDOG, auth0Domain: 'http://127.0.0.1:8080' },
      /auth0Domain "http:\/\/127\.0\.0\.1:8080" must be the Auth0 tenant's domain/,
    ],
    [
      { ...EVENTBRIDGE, ...WATCHDOG, auth0Domain: 'https://acme.us.auth0.com/api' },
      /auth0Domain .* \(or its https URL, no path\)/,
    ],
    [
      { ...EVENTBRIDGE, ...WATCHDOG, auth0SecretName: 'olp auth0' },
      /auth0SecretName "olp auth0" must be the name of a Secrets Manager secret/,
    ],
  ])('rejects %j naming the key and the rule', (context, message) => {
    expect(configError(context)).toMatch(message);
  });
});
