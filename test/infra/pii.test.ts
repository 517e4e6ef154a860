import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const AUTH0_SOURCE = 'aws.partner/auth0.com/acme-0123456789abcdef/auth0.logs';
const HASHING = {
  oktaPii: { fields: ['username', 'email', 'ip'], method: 'hash', archive: true },
  auth0Pii: { fields: ['username', 'email'], method: 'hash' },
  piiHashSecretName: 'olp/pii-hash',
  auth0EventSourceName: AUTH0_SOURCE,
};

/** The app as `cdk synth` builds it (cdk.json context), minus esbuild bundling; `nag` adds the AwsSolutions pack. */
const synth = (context: Record<string, unknown> = {}, nag = false) => {
  const app = new App({
    context: {
      ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
      'aws:cdk:bundling-stacks': [],
    },
  });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const config = parseConfig({ eventSourceName: SOURCE, ...context });
  const auth0 = config.auth0EventSourceName;
  const stack = new OktaLogPipelineStack(app, 'OktaLogPipeline', {
    config,
    alertRules: compileRules(loadRules(), { okta: SOURCE, auth0 }),
  });
  return { app, stack, template: Template.fromStack(stack) };
};

/** The template's resources, with the asset hashes that name code bundles blanked out. */
const resourcesOf = (template: Template) =>
  JSON.parse(JSON.stringify(template.toJSON().Resources).replaceAll(/[0-9a-f]{64}\.zip/g, 'asset.zip'));

/** A function's logical ID and environment, found by an environment variable only it has. */
const functionWith = (template: Template, variables: Record<string, unknown>) => {
  const found = Object.entries(
    template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: variables } } }),
  );
  if (found.length !== 1) throw new Error(`${found.length} functions with ${JSON.stringify(variables)}`);
  const [[id, resource]] = found as [[string, { Properties: { Environment: { Variables: Record<string, string> } } }]];
  return { id, variables: resource.Properties.Environment.Variables };
};

const alertFunction = (template: Template) => functionWith(template, { ALERT_TOPIC_ARN: Match.anyValue() });
const sequencer = (template: Template, source: 'okta' | 'auth0') =>
  functionWith(template, {
    SEAL_GUARD_SECONDS: Match.anyValue(),
    ...(source === 'auth0' ? { LOG_SOURCE: 'auth0' } : { LOG_SOURCE: Match.absent() }),
  });

/** The IAM statements of the role a function runs as. */
const statementsOf = (template: Template, functionId: string) => {
  const role = template.toJSON().Resources[functionId].Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
};

const readsSecret = (template: Template, functionId: string) =>
  JSON.stringify(statementsOf(template, functionId)).includes('secretsmanager:GetSecretValue');

describe('PII controls in the stack', () => {
  it('changes nothing without PII settings: no variables, no secret access, the same template with a secret name', () => {
    const plain = synth();
    const named = synth({ piiHashSecretName: 'olp/pii-hash' });
    expect(resourcesOf(named.template)).toEqual(resourcesOf(plain.template));
    expect(JSON.stringify(plain.template.toJSON())).not.toMatch(/PII_|pii-hash/);
    expect(readsSecret(plain.template, alertFunction(plain.template).id)).toBe(false);
  });

  it('gives masking settings to the alert function only, and no secret access anywhere', () => {
    const { template } = synth({ oktaPii: '{"fields":["username","email"],"method":"mask"}' });
    const alert = alertFunction(template);
    expect(JSON.parse(alert.variables.PII_SETTINGS ?? '{}')).toEqual({
      okta: { fields: ['username', 'email'], method: 'mask', archive: false },
    });
    expect(alert.variables.PII_HASH_SECRET_NAME).toBeUndefined();
    expect(sequencer(template, 'okta').variables.PII_SETTINGS).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toMatch(/secretsmanager/);
  });

  it('lets the alert function, and the sequencer of an archive that hashes, read that one secret', () => {
    const { template } = synth(HASHING);
    const alert = alertFunction(template);
    expect(alert.variables).toMatchObject({ PII_HASH_SECRET_NAME: 'olp/pii-hash' });
    expect(Object.keys(JSON.parse(alert.variables.PII_SETTINGS ?? '{}'))).toEqual(['okta', 'auth0']);
    const okta = sequencer(template, 'okta');
    expect(JSON.parse(okta.variables.PII_SETTINGS ?? '{}')).toEqual({
      okta: { fields: ['username', 'email', 'ip'], method: 'hash', archive: true },
    });
    expect(okta.variables.PII_HASH_SECRET_NAME).toBe('olp/pii-hash');
    // Auth0's archive is not redacted: its sequencer gets neither the settings nor the secret.
    const auth0 = sequencer(template, 'auth0');
    expect(auth0.variables.PII_SETTINGS).toBeUndefined();
    expect(readsSecret(template, auth0.id)).toBe(false);
    for (const id of [alert.id, okta.id]) {
      const statements = statementsOf(template, id).filter((statement: { Action: unknown }) =>
        JSON.stringify(statement.Action).includes('secretsmanager'),
      );
      expect(statements).toHaveLength(1);
      expect(JSON.stringify(statements[0].Resource)).toContain(':secret:olp/pii-hash-??????');
    }
    // Only the secret's name is in the template, never a value.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/SecretString/);
  });

  it('passes the AwsSolutions checks with hashing on', () => {
    const { app } = synth(HASHING, true);
    app.synth();
    const findings = new AwsSolutionsChecks()
      .validateScope(app)
      .violations.flatMap((violation) =>
        violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath}`),
      );
    expect(findings).toEqual([]);
  });
});
