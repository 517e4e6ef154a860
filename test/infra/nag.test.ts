import { readFileSync } from 'node:fs';
import { App, Stack, Stage, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { AUTH0_HTTP_SOURCE } from '../../lambdas/shared/log-sources.ts';
import { parseConfig } from '../../lib/config.ts';
import { compileRules } from '../../lib/rules/compile.ts';
import { loadRules } from '../../lib/rules/load.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';

/** The app as `cdk synth` builds it (cdk.json context and the AwsSolutions pack), minus esbuild bundling. */
const newCheckedApp = () => {
  const app = new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
};

/** Every finding of the AwsSolutions pack that no acknowledgment covers, errors and warnings alike. */
const findingsOf = (app: App) =>
  new AwsSolutionsChecks()
    .validateScope(app)
    .violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
    );

/** Every acknowledgment in the tree: where it was made, the rule it covers and why. */
const acknowledgmentsOf = (root: IConstruct) =>
  root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          construct,
          id: id.replace(/^[A-Za-z]+::/, ''),
          reason,
        })),
      ),
  );

const buildPipeline = (context: Record<string, unknown> = {}) => {
  const app = newCheckedApp();
  const config = parseConfig({ eventSourceName: SOURCE, notificationEmail: 'secops@example.com', ...context });
  // The real alert rule pack, so every rule the pipeline ships is checked too.
  const rules = loadRules();
  const auth0 = config.auth0EventSourceName ?? (config.auth0HttpSink ? AUTH0_HTTP_SOURCE : undefined);
  const alertRules = compileRules(rules, { okta: config.eventSourceName, auth0 });
  const stack = new OktaLogPipelineStack(app, 'OktaLogPipeline', {
    config,
    alertRules,
    ...(config.auth0HttpSink ? { auth0HttpSinkRules: compileRules(rules, { auth0: AUTH0_HTTP_SOURCE }) } : {}),
  });
  return { app, stack };
};

describe('cdk-nag AwsSolutions checks', () => {
  it('pass with no unacknowledged error or warning', () => {
    // Prepare
    const { app } = buildPipeline();

    // Act: synth runs the plugin and throws on errors; validateScope lists warnings as well.
    app.synth();

    // Assess
    expect(findingsOf(app)).toEqual([]);
  });

  it('pass with every optional setting changed too', () => {
    const { app } = buildPipeline({
      archiveRetentionDays: '0',
      windowSeconds: '300',
      logRetentionDays: '3653',
      redriveRoleArn: 'arn:aws:iam::123456789012:role/okta-redrive',
      tableCapacity: 'provisioned',
    });
    app.synth();
    expect(findingsOf(app)).toEqual([]);
  });

  it('pass with the feed watchdog deployed', () => {
    const { app, stack } = buildPipeline({
      oktaOrgUrl: 'https://acme.okta.com',
      oktaSecretName: 'olp/okta',
      autoReactivate: 'true',
      redriveRoleArn: 'arn:aws:iam::123456789012:role/okta-redrive',
    });
    expect(stack.watchdog).toBeDefined();
    app.synth();
    expect(findingsOf(app)).toEqual([]);
  });

  it.each([
    ['its partner event bus', { auth0EventSourceName: 'aws.partner/auth0.com/acme-0123abcd/auth0.logs' }],
    ['its HTTP sink', { auth0HttpSink: 'true', auth0HttpSecretName: 'olp/auth0-http' }],
  ])('pass with the Auth0 source deployed by %s, and the feed watchdog', (_way, auth0) => {
    const { app, stack } = buildPipeline({
      ...auth0,
      oktaOrgUrl: 'https://acme.okta.com',
      oktaSecretName: 'olp/okta',
      redriveRoleArn: 'arn:aws:iam::123456789012:role/okta-redrive',
    });
    expect(stack.auth0).toBeDefined();
    app.synth();
    expect(findingsOf(app)).toEqual([]);
  });

  it('acknowledge for the Auth0 HTTP sink only its one secret and its quarantine prefix', () => {
    const { stack } = buildPipeline({ auth0HttpSink: 'true', auth0HttpSecretName: 'olp/auth0-http' });
    const sinkRole = stack.auth0?.httpSink?.role;
    if (sinkRole === undefined) throw new Error('no Auth0 HTTP sink');
    expect(
      acknowledgmentsOf(stack)
        .filter(({ construct }) => construct === sinkRole)
        .map(({ id }) => id)
        .sort(),
    ).toEqual([
      'AwsSolutions-IAM5[Resource::<StatefulArchive7D3A05C0.Arn>/auth0/quarantine/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:olp/auth0-http-??????]',
    ]);
  });

  it('fail synth on a finding, so the tests above would notice one', () => {
    // Prepare
    const app = newCheckedApp();
    new s3.Bucket(new Stack(app, 'Careless'), 'Bucket');

    // Act and assess
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
    expect(findingsOf(app)).toContain('AwsSolutions-S10 at Careless/Bucket/Resource');
  });

  it('are acknowledged only on single resources, each with a specific reason', () => {
    // Prepare
    const { stack } = buildPipeline();

    // Act
    const acknowledgments = acknowledgmentsOf(stack);

    // Assess
    expect(acknowledgments.map(({ construct, id }) => `${id} on ${construct.node.path}`).sort()).toEqual([
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*] on OktaLogPipeline/Compute/Alerting/Consumer/Handler/Role',
      'AwsSolutions-IAM5[Resource::*] on OktaLogPipeline/Compute/Rescue/Handler/Role',
      'AwsSolutions-IAM5[Resource::<StatefulArchive7D3A05C0.Arn>/archive/*] on OktaLogPipeline/Compute/Sequencer/Handler/Role',
      'AwsSolutions-IAM5[Resource::<StatefulArchive7D3A05C0.Arn>/digests/*] on OktaLogPipeline/Compute/Sequencer/Handler/Role',
      'AwsSolutions-IAM5[Resource::<StatefulArchive7D3A05C0.Arn>/quarantine/*] on OktaLogPipeline/Compute/Alerting/Consumer/Handler/Role',
      'AwsSolutions-IAM5[Resource::<StatefulArchive7D3A05C0.Arn>/quarantine/*] on OktaLogPipeline/Compute/Detection/Consumer/Handler/Role',
      'AwsSolutions-IAM5[Resource::<StatefulArchive7D3A05C0.Arn>/quarantine/*] on OktaLogPipeline/Compute/Ingest/Handler/Role',
      'AwsSolutions-S1 on OktaLogPipeline/Stateful/Archive/AccessLogs',
      'AwsSolutions-SQS3 on OktaLogPipeline/Compute/Alerting/Consumer/TargetDeadLetterQueue',
      'AwsSolutions-SQS3 on OktaLogPipeline/Compute/Detection/Consumer/TargetDeadLetterQueue',
      'AwsSolutions-SQS3 on OktaLogPipeline/Compute/Ingest/TargetDeadLetterQueue',
      'AwsSolutions-SQS3 on OktaLogPipeline/Compute/Rescue/DeadLetterQueue',
    ]);
    for (const { construct, reason } of acknowledgments) {
      expect(Stack.isStack(construct) || Stage.isStage(construct)).toBe(false);
      expect(reason.length).toBeGreaterThan(60);
    }
  });
});
