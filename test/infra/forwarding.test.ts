import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH0_HTTP_SOURCE } from '../../lambdas/shared/log-sources.ts';
import { parseConfig } from '../../lib/config.ts';
import { FORWARD_MAX_EVENT_AGE, FORWARD_RETRY_ATTEMPTS } from '../../lib/constructs/forwarding.ts';
import { compileRules, type ForwardingPlan, forwardingPlan, loadRuleSet } from '../../lib/rules/index.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const AUTH0_SOURCE = 'aws.partner/auth0.com/acme-0123abcd/auth0.logs';
const WORKFLOWS_URL = 'https://acme.workflows.okta.com/api/flo/d8c5b3a0e1f24b6c/invoke';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A rule directory holding one file per text. */
const ruleDirOf = (texts: readonly string[]): string => {
  const dir = mkdtempSync(join(tmpdir(), 'olp-forwarding-'));
  dirs.push(dir);
  for (const [i, text] of texts.entries()) writeFileSync(join(dir, `rules-${i}.yaml`), text);
  return dir;
};
const ruleDir = (text: string): string => ruleDirOf([text]);

const DESTINATIONS = `
destinations:
  - name: okta-workflows
    url: ${WORKFLOWS_URL}
    rateLimitPerSecond: 10
    auth: { type: api-key, header: x-api-client-token, secretName: olp/workflows }
  - name: siem
    url: https://siem.example.com/ingest/okta
    method: PUT
    auth: { type: basic, secretName: olp/siem }
  - name: soar
    url: https://soar.example.com/hooks/okta
    auth:
      type: oauth-client-credentials
      tokenUrl: https://login.example.com/oauth2/token
      tokenMethod: POST
      scope: hooks.write
      secretName: olp/soar
`;

/** An Okta rule on its own event type, or an Auth0 rule on failed logins. */
const rule = (id: string, forward: string, source: 'okta' | 'auth0' = 'okta') => `
  - id: ${id}
    source: ${source}
    title: Rule ${id}
    severity: high
    description: What ${id} means.
    runbook: What to do about ${id}.
    match: { eventType: [${source === 'okta' ? `app.${id.replaceAll('-', '_')}` : 'f'}] }
${forward === '' ? '' : `    forward: [${forward}]\n`}`;

const FORWARDING_RULES = `${DESTINATIONS}
rules:${rule('forwarded-twice', 'okta-workflows, siem')}${rule('forwarded-once', 'okta-workflows')}${rule('to-soar', 'soar')}${rule('kept-here', '')}`;

/** The app as `cdk synth` builds it (cdk.json context and, when `checked`, the AwsSolutions pack), minus bundling. */
const newApp = (checked: boolean) => {
  const app = new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });
  if (checked) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
};

/** No pack: these tests are about the user's rules, which stand for any rule file. */
const EMPTY_PACK = ruleDirOf([]);

/** The pipeline as bin/app.ts builds it, from the user rules in `userDir`. */
const build = (
  options: {
    userDir?: string;
    context?: Record<string, unknown>;
    forwarding?: 'plan' | 'none';
    checked?: boolean;
  } = {},
) => {
  const app = newApp(options.checked ?? false);
  const config = parseConfig({ eventSourceName: SOURCE, notificationEmail: 'secops@example.com', ...options.context });
  const ruleSet = loadRuleSet({
    packDir: EMPTY_PACK,
    ...(options.userDir === undefined ? {} : { userDir: options.userDir }),
  });
  const auth0 = config.auth0EventSourceName ?? (config.auth0HttpSink ? AUTH0_HTTP_SOURCE : undefined);
  const plan: ForwardingPlan | undefined = options.forwarding === 'none' ? undefined : forwardingPlan(ruleSet);
  const stack = new OktaLogPipelineStack(app, 'OktaLogPipeline', {
    config,
    alertRules: compileRules(ruleSet.rules, { okta: config.eventSourceName, auth0 }),
    ...(config.auth0HttpSink ? { auth0HttpSinkRules: compileRules(ruleSet.rules, { auth0: AUTH0_HTTP_SOURCE }) } : {}),
    ...(plan === undefined ? {} : { forwarding: plan }),
  });
  return { app, stack, template: () => Template.fromStack(stack) };
};

/** The logical ID of a construct's CloudFormation resource (the Connection and ApiDestination name theirs oddly). */
const logicalIdOf = (construct: IConstruct): string => {
  const resource = construct.node.defaultChild ?? construct.node.children.find(CfnElement.isCfnElement);
  if (resource === undefined || !CfnElement.isCfnElement(resource))
    throw new Error(`${construct.node.path}: no resource`);
  return Stack.of(construct).getLogicalId(resource);
};

/** The targets of the EventBridge rule of one alert rule. */
const targetsOf = (stack: OktaLogPipelineStack, template: Template, alertRuleId: string): Record<string, unknown>[] => {
  const rule = stack.alerting.rules.get(alertRuleId);
  if (rule === undefined) throw new Error(`no EventBridge rule for ${alertRuleId}`);
  return template.toJSON().Resources[logicalIdOf(rule)].Properties.Targets;
};

/** Every finding of the AwsSolutions pack that no acknowledgment covers, errors and warnings alike. */
const findingsOf = (app: App) =>
  new AwsSolutionsChecks()
    .validateScope(app)
    .violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
    );

describe('forwarding to destinations', () => {
  const forwarding = build({ userDir: ruleDir(FORWARDING_RULES), checked: true });
  const template = forwarding.template();
  const deployed = forwarding.stack.forwarding?.destinations;
  const parts = (name: string) => {
    const found = deployed?.get(name);
    if (found === undefined) throw new Error(`destination ${name} was not deployed`);
    return found;
  };

  it('deploys a connection and an API destination per destination, with its endpoint, method and rate limit', () => {
    // Assess
    template.resourceCountIs('AWS::Events::Connection', 3);
    template.resourceCountIs('AWS::Events::ApiDestination', 3);
    template.hasResourceProperties('AWS::Events::ApiDestination', {
      ConnectionArn: { 'Fn::GetAtt': [logicalIdOf(parts('okta-workflows').connection), 'Arn'] },
      InvocationEndpoint: WORKFLOWS_URL,
      HttpMethod: 'POST',
      InvocationRateLimitPerSecond: 10,
    });
    template.hasResourceProperties('AWS::Events::ApiDestination', {
      InvocationEndpoint: 'https://siem.example.com/ingest/okta',
      HttpMethod: 'PUT',
      InvocationRateLimitPerSecond: Match.absent(),
    });
  });

  it('takes every credential from Secrets Manager at deploy time: no credential value is in the template', () => {
    // Assess
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'API_KEY',
      AuthParameters: {
        ApiKeyAuthParameters: {
          ApiKeyName: 'x-api-client-token',
          ApiKeyValue: '{{resolve:secretsmanager:olp/workflows:SecretString:apiKey::}}',
        },
      },
    });
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'BASIC',
      AuthParameters: {
        BasicAuthParameters: {
          Username: '{{resolve:secretsmanager:olp/siem:SecretString:username::}}',
          Password: '{{resolve:secretsmanager:olp/siem:SecretString:password::}}',
        },
      },
    });
    template.hasResourceProperties('AWS::Events::Connection', {
      AuthorizationType: 'OAUTH_CLIENT_CREDENTIALS',
      AuthParameters: {
        OAuthParameters: {
          AuthorizationEndpoint: 'https://login.example.com/oauth2/token',
          HttpMethod: 'POST',
          ClientParameters: {
            ClientID: '{{resolve:secretsmanager:olp/soar:SecretString:clientId::}}',
            ClientSecret: '{{resolve:secretsmanager:olp/soar:SecretString:clientSecret::}}',
          },
          OAuthHttpParameters: {
            BodyParameters: Match.arrayWith([
              { Key: 'grant_type', Value: 'client_credentials', IsValueSecret: false },
              { Key: 'scope', Value: 'hooks.write', IsValueSecret: false },
            ]),
          },
        },
      },
    });
    // Every value that could be a credential is a dynamic reference to the destination's secret.
    const credentialValues = Object.values(template.findResources('AWS::Events::Connection')).flatMap((resource) => {
      const auth = resource.Properties.AuthParameters;
      return [
        auth.ApiKeyAuthParameters?.ApiKeyValue,
        auth.BasicAuthParameters?.Username,
        auth.BasicAuthParameters?.Password,
        auth.OAuthParameters?.ClientParameters?.ClientID,
        auth.OAuthParameters?.ClientParameters?.ClientSecret,
      ].filter((value) => value !== undefined);
    });
    expect(credentialValues).toHaveLength(5);
    for (const value of credentialValues) {
      expect(value).toMatch(/^\{\{resolve:secretsmanager:olp\/(workflows|siem|soar):SecretString:\w+::\}\}$/);
    }
  });

  it('adds one API destination target per destination to a forwarding rule, sending its detail with retries and a DLQ', () => {
    // Act
    const targets = targetsOf(forwarding.stack, template, 'forwarded-twice');

    // Assess: the alert queue target, then one per destination.
    expect(targets).toHaveLength(3);
    for (const name of ['okta-workflows', 'siem']) {
      const { apiDestination, deadLetterQueue } = parts(name);
      expect(targets).toContainEqual(
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [logicalIdOf(apiDestination), 'Arn'] },
          InputPath: '$.detail',
          RetryPolicy: {
            MaximumRetryAttempts: FORWARD_RETRY_ATTEMPTS,
            MaximumEventAgeInSeconds: FORWARD_MAX_EVENT_AGE.toSeconds(),
          },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(deadLetterQueue), 'Arn'] } },
          RoleArn: expect.anything(),
        }),
      );
    }
    expect(FORWARD_RETRY_ATTEMPTS).toBe(185);
    expect(FORWARD_MAX_EVENT_AGE.toHours()).toBe(24);
  });

  it('leaves a rule without forward with its one alert queue target', () => {
    expect(targetsOf(forwarding.stack, template, 'kept-here')).toHaveLength(1);
    expect(targetsOf(forwarding.stack, template, 'forwarded-once')).toHaveLength(2);
  });

  it('lets the forwarding role invoke its API destination only', () => {
    const { apiDestination } = parts('okta-workflows');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'events:InvokeApiDestination',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logicalIdOf(apiDestination), 'Arn'] },
          },
        ],
      },
    });
  });

  it('gives each destination an encrypted, TLS-only dead-letter queue that admits only the alert rules', () => {
    // Prepare
    const { deadLetterQueue } = parts('okta-workflows');

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
    const [policy, ...others] = Object.values(
      template.findResources('AWS::SQS::QueuePolicy', {
        Properties: { Queues: [{ Ref: logicalIdOf(deadLetterQueue) }] },
      }),
    );
    expect(others).toEqual([]);
    const statements = policy?.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const allow = statements.find((statement) => statement.Sid === 'AllowTheForwardingAlertRules');
    expect(allow).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } });
    expect(JSON.stringify(allow)).toContain(`/${forwarding.stack.alerting.ruleNamePrefix}*`);
  });

  it('alarms on the first dead letter of a destination, to the operations topic', () => {
    // Prepare
    const { deadLetterQueue, deadLetterAlarm } = parts('siem');
    const operations = { Ref: logicalIdOf(forwarding.stack.stateful.operationsTopic.topic) };

    // Assess
    const alarm = template.toJSON().Resources[logicalIdOf(deadLetterAlarm)].Properties;
    expect(alarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(deadLetterQueue), 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [operations],
      OKActions: [operations],
    });
    expect(alarm.AlarmDescription).toContain('destination siem (siem.example.com)');
    expect(alarm.AlarmDescription).toContain('olp/siem');
  });

  it('passes the cdk-nag AwsSolutions checks, acknowledging only each dead-letter queue being one', () => {
    // Act
    forwarding.app.synth();

    // Assess
    expect(findingsOf(forwarding.app)).toEqual([]);
    const acknowledged = (deployed === undefined ? [] : [...deployed.values()]).flatMap(({ deadLetterQueue }) =>
      deadLetterQueue.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>)),
    );
    expect(acknowledged.map(([id]) => id.replace(/^[A-Za-z]+::/, ''))).toEqual([
      'AwsSolutions-SQS3',
      'AwsSolutions-SQS3',
      'AwsSolutions-SQS3',
    ]);
    for (const [, reason] of acknowledged) expect(reason).toMatch(/dead-letter queue.*API/);
  });
});

describe('a pipeline without forwarding', () => {
  it('synthesizes the same template with no destination, with unused destinations, and with no plan at all', () => {
    // Prepare: the pack declares no destination; the user files declare some that no rule forwards to.
    const unused = ruleDir(`${DESTINATIONS}\nrules:${rule('kept-here', '')}`);
    const same = ruleDir(`rules:${rule('kept-here', '')}`);

    // Act
    const withoutPlan = build({ userDir: same, forwarding: 'none' }).template().toJSON();
    const noDestination = build({ userDir: same }).template().toJSON();
    const unusedDestinations = build({ userDir: unused }).template().toJSON();

    // Assess
    expect(noDestination).toEqual(withoutPlan);
    expect(unusedDestinations).toEqual(withoutPlan);
    expect(JSON.stringify(withoutPlan)).not.toMatch(/AWS::Events::(Connection|ApiDestination)/);
  });

  it('deploys nothing for a rule whose log source is not configured', () => {
    // Prepare: an Auth0 rule forwards, and the stack has no Auth0 source.
    const dir = ruleDir(`${DESTINATIONS}\nrules:${rule('auth0-forwarded', 'siem', 'auth0')}`);

    // Act
    const { stack, template } = build({ userDir: dir });

    // Assess
    expect(stack.forwarding?.destinations.size ?? 0).toBe(0);
    template().resourceCountIs('AWS::Events::Connection', 0);
  });
});

describe('forwarding that cannot be deployed', () => {
  it('refuses a destination on this machine, which EventBridge cannot reach', () => {
    // Prepare
    const dir = ruleDir(`
destinations:
  - name: local-receiver
    url: http://127.0.0.1:8080/events
    auth: { type: api-key, header: Authorization, secretName: olp/local }
rules:${rule('forwarded-locally', 'local-receiver')}`);

    // Act and assess
    expect(() => build({ userDir: dir })).toThrow(
      /destination local-receiver: http:\/\/127\.0\.0\.1:8080\/events is for olp local only/,
    );
  });

  it('refuses an Auth0 rule that forwards when only the HTTP sink matches it', () => {
    // Prepare
    const dir = ruleDir(`${DESTINATIONS}\nrules:${rule('auth0-forwarded', 'siem', 'auth0')}`);

    // Act and assess
    expect(() =>
      build({ userDir: dir, context: { auth0HttpSink: 'true', auth0HttpSecretName: 'olp/auth0-http' } }),
    ).toThrow(/alert rule auth0-forwarded forwards to siem, but its Auth0 logs arrive through the HTTP sink/);
  });

  it('forwards an Auth0 rule from the Auth0 partner bus', () => {
    // Prepare
    const dir = ruleDir(`${DESTINATIONS}\nrules:${rule('auth0-forwarded', 'siem', 'auth0')}`);

    // Act
    const { stack, template } = build({ userDir: dir, context: { auth0EventSourceName: AUTH0_SOURCE } });

    // Assess
    const synthesized = template();
    expect(targetsOf(stack, synthesized, 'auth0-forwarded')).toHaveLength(2);
    const auth0Bus = stack.auth0?.partnerBus?.eventBus;
    if (auth0Bus === undefined) throw new Error('no Auth0 partner bus');
    const policies = JSON.stringify(synthesized.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toContain(`":rule/",{"Ref":"${logicalIdOf(auth0Bus)}"},"/${stack.alerting.ruleNamePrefix}*"`);
  });
});
