import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const WATCHDOG = { oktaOrgUrl: 'https://acme.okta.com', oktaSecretName: 'olp/okta' };

/** The app as `cdk synth` builds it (cdk.json context), minus esbuild bundling. */
const synth = (context: Record<string, unknown> = {}) => {
  const app = new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });
  const config = parseConfig({ eventSourceName: SOURCE, ...context });
  const stack = new OktaLogPipelineStack(app, 'OktaLogPipeline', {
    config,
    alertRules: compileRules(loadRules(), SOURCE),
  });
  return { stack, template: Template.fromStack(stack) };
};

/** The template's resources, with the asset hashes that name code bundles blanked out. */
const resourcesOf = (template: Template) =>
  JSON.parse(JSON.stringify(template.toJSON().Resources).replaceAll(/[0-9a-f]{64}\.zip/g, 'asset.zip'));

const watchdogFunction = (template: Template) => {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { OKTA_ORG_URL: Match.anyValue() } } },
  });
  const [entry] = Object.entries(functions);
  if (entry === undefined) throw new Error('no watchdog function in the template');
  return { id: entry[0], properties: entry[1].Properties };
};

describe('the feed watchdog in the stack', () => {
  it('is absent without oktaOrgUrl and oktaSecretName, and the template is as without the watchdog settings', () => {
    // Settings that only the watchdog reads change nothing while it is off.
    const plain = synth();
    const tuned = synth({ autoReactivate: 'true', watchdogMinutes: '10', oktaApiShare: '0.3' });
    expect(plain.stack.watchdog).toBeUndefined();
    expect(resourcesOf(tuned.template)).toEqual(resourcesOf(plain.template));
    expect(Object.keys(plain.template.findResources('AWS::CloudWatch::Alarm'))).toContainEqual(
      expect.stringMatching(/FeedSilence/),
    );
  });

  it('runs every watchdogMinutes, one at a time, with the org, the secret name and the share of the rate limits', () => {
    const { template } = synth({ ...WATCHDOG, watchdogMinutes: '10', oktaApiShare: '0.25', autoReactivate: 'true' });
    const { id, properties } = watchdogFunction(template);
    expect(properties.ReservedConcurrentExecutions).toBe(1);
    expect(properties.Environment.Variables).toMatchObject({
      OKTA_ORG_URL: 'https://acme.okta.com',
      OKTA_SECRET_NAME: 'olp/okta',
      OKTA_API_SHARE: '0.25',
      AUTO_REACTIVATE: 'true',
      EVENT_SOURCE_NAME: SOURCE,
      // The stream's allowed lateness (120 s by default) plus five minutes for the System Log API.
      CHECK_DELAY_SECONDS: '420',
    });
    // The secret's value never enters the template: only its name.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/SecretString/);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(10 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  it('may read that one secret, its own state item, staged events by key, and send to its three queues only', () => {
    const { template } = synth(WATCHDOG);
    const { properties } = watchdogFunction(template);
    const roleId = properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      JSON.stringify(policy.Properties.Roles).includes(roleId),
    );
    const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    const text = JSON.stringify(statements);
    expect(text).toContain(':secret:olp/okta-??????');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['watchdog'] } },
      }),
    );
    // No write to staged events, no archive access, no delete of anything but its own alert claims.
    expect(text).not.toMatch(/s3:|dynamodb:Query|dynamodb:UpdateItem|sqs:ReceiveMessage/);
    const queues = statements
      .filter((statement) => JSON.stringify(statement.Action).includes('sqs:SendMessage'))
      .flatMap((statement) => [statement.Resource].flat());
    // Ingest, alert and detector.
    expect(queues).toHaveLength(3);
  });

  it('is excepted from the deny of the ingest, alert and detector queues, and only of those', () => {
    const { template } = synth(WATCHDOG);
    const roleId = watchdogFunction(template).properties.Role['Fn::GetAtt'][0];
    const queuePolicies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const excepting = queuePolicies.filter((policy) =>
      policy.Properties.PolicyDocument.Statement.some(
        (statement: { Effect: string; Condition?: Record<string, unknown> }) =>
          statement.Effect === 'Deny' &&
          JSON.stringify(statement.Condition?.ArnNotEquals ?? {}).includes(`"${roleId}"`),
      ),
    );
    expect(excepting).toHaveLength(3);
  });

  it('replaces FeedSilence with its own alarms: dropping events, stream inactive, errors, lag', () => {
    const { stack, template } = synth(WATCHDOG);
    expect(stack.alarms.feedSilence).toBeUndefined();
    const names = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(names.filter((name) => /FeedSilence/.test(name))).toEqual([]);
    for (const alarm of ['StreamDroppingEvents', 'LogStreamInactive', 'WatchdogErrors', 'WatchdogLag']) {
      expect(names).toContainEqual(expect.stringMatching(new RegExp(alarm)));
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'WatchdogLagSeconds',
      Period: 300,
      TreatMissingData: 'breaching',
    });
  });
});
