import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH0_HTTP_SOURCE } from '../../lambdas/shared/log-sources.ts';
import { parseConfig } from '../../lib/config.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import { OktaLogPipelineStack } from '../../lib/stacks/okta-log-pipeline-stack.ts';

// Inside the project (cdk.out is ignored), so the bundles resolve the AWS SDK they leave external.
const OUTDIR = fileURLToPath(new URL(`../../cdk.out/infra-test-${randomUUID()}/`, import.meta.url));

/** What each function reads at cold start. */
const FUNCTION_ENV = {
  AWS_REGION: 'us-east-1',
  EVENTS_TABLE_NAME: 'events',
  ARCHIVE_BUCKET_NAME: 'archive',
  WINDOW_SECONDS: '60',
  ALLOWED_LATENESS_SECONDS: '120',
  WINDOW_SHARDS: '8',
  DEDUPE_RETENTION_DAYS: '7',
  SEAL_GUARD_SECONDS: '90',
  ALERTS_TABLE_NAME: 'claims',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alerts',
  ALERT_DEDUPE_RETENTION_DAYS: '30',
  EVENT_SOURCE_NAME: 'aws.partner/okta.com/acme/okta-logs',
  EXPECTED_ACCOUNT: '123456789012',
  QUARANTINE_BUCKET_NAME: 'archive',
  OKTA_ORG_URL: 'https://acme.okta.com',
  OKTA_SECRET_NAME: 'olp/okta',
  OKTA_API_SHARE: '0.5',
  INGEST_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/ingest',
  ALERT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/alert',
  AUTO_REACTIVATE: 'false',
  CHECK_DELAY_SECONDS: '420',
  AUTH0_HTTP_SECRET_NAME: 'olp/auth0-http',
  DETECTOR_TABLE_NAME: 'detector',
  DETECTOR_KEEP_SECONDS: '86520',
  DETECTOR_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/detector',
};

describe('Lambda bundles', () => {
  const savedEnv = { ...process.env };
  afterAll(() => {
    rmSync(OUTDIR, { recursive: true, force: true });
    process.env = savedEnv;
  });

  it('bundle every handler into an ESM module that loads and exports `handler`', async () => {
    // Prepare
    mkdirSync(OUTDIR, { recursive: true });
    const app = new App({
      outdir: OUTDIR,
      context: {
        ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
        // As the CLI does: the template then names each function's asset directory.
        'aws:cdk:enable-asset-metadata': true,
      },
    });
    const source = 'aws.partner/okta.com/acme/okta-logs';
    const alertRules = compileRules(loadRules(), source);
    new OktaLogPipelineStack(app, 'OktaLogPipeline', {
      config: parseConfig({
        eventSourceName: source,
        oktaOrgUrl: 'https://acme.okta.com',
        oktaSecretName: 'olp/okta',
      }),
      alertRules,
    });

    // Act: esbuild runs here, as in `cdk synth`.
    const assembly = app.synth();

    // Assess
    const template = assembly.getStackByName('OktaLogPipeline').template;
    const functions = Object.values(template.Resources).filter(
      (resource): resource is { Type: string; Metadata: Record<string, string> } =>
        (resource as { Type: string }).Type === 'AWS::Lambda::Function',
    );
    // ingest, sequencer, rescue, alert, detector, watchdog
    expect(functions).toHaveLength(6);
    Object.assign(process.env, FUNCTION_ENV);
    for (const fn of functions) {
      const asset = join(OUTDIR, fn.Metadata['aws:asset:path'] ?? 'missing-asset-path');
      const bundle = join(asset, 'index.mjs');
      expect(existsSync(bundle)).toBe(true);
      expect(existsSync(`${bundle}.map`)).toBe(true);
      expect(readFileSync(bundle, 'utf8')).toMatch(/^import\s*\{\s*createRequire\s*\}\s*from\s*['"]node:module['"]/);
      const module: { handler?: unknown } = await import(pathToFileURL(bundle).href);
      expect(typeof module.handler).toBe('function');
    }
    // The watchdog's bundle carries the compiled alert rules it matches refilled events against.
    const watchdog = functions.find((fn) =>
      existsSync(join(OUTDIR, fn.Metadata['aws:asset:path'] ?? '', 'alert-rules.json')),
    );
    const shipped = JSON.parse(
      readFileSync(join(OUTDIR, watchdog?.Metadata['aws:asset:path'] ?? 'missing', 'alert-rules.json'), 'utf8'),
    );
    expect(shipped).toEqual(JSON.parse(JSON.stringify(alertRules)));
  });

  it('bundle the Auth0 source and its HTTP sink, which carries the Auth0 rules compiled for the sink', async () => {
    // Prepare
    mkdirSync(OUTDIR, { recursive: true });
    const app = new App({
      outdir: OUTDIR,
      context: {
        ...JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context,
        'aws:cdk:enable-asset-metadata': true,
      },
    });
    const source = 'aws.partner/okta.com/acme/okta-logs';
    const rules = loadRules();
    const sinkRules = compileRules(rules, { auth0: AUTH0_HTTP_SOURCE });
    new OktaLogPipelineStack(app, 'OktaLogPipeline', {
      config: parseConfig({ eventSourceName: source, auth0HttpSink: 'true', auth0HttpSecretName: 'olp/auth0-http' }),
      alertRules: compileRules(rules, { okta: source, auth0: AUTH0_HTTP_SOURCE }),
      auth0HttpSinkRules: sinkRules,
    });

    // Act
    const assembly = app.synth();

    // Assess
    const template = assembly.getStackByName('OktaLogPipeline').template;
    const assets = Object.values(template.Resources)
      .filter((resource) => (resource as { Type: string }).Type === 'AWS::Lambda::Function')
      .map((resource) =>
        join(OUTDIR, (resource as { Metadata: Record<string, string> }).Metadata['aws:asset:path'] ?? ''),
      );
    // Okta's ingest, sequencer, rescue, alert and detector; Auth0's ingest, sequencer and rescue; the sink.
    expect(assets).toHaveLength(9);
    Object.assign(process.env, FUNCTION_ENV);
    for (const asset of assets) {
      const module: { handler?: unknown } = await import(pathToFileURL(join(asset, 'index.mjs')).href);
      expect(typeof module.handler).toBe('function');
    }
    const sink = assets.filter((asset) => existsSync(join(asset, 'alert-rules.json')));
    expect(sink).toHaveLength(1);
    const shipped = JSON.parse(readFileSync(join(sink[0] ?? 'missing', 'alert-rules.json'), 'utf8'));
    expect(shipped.length).toBeGreaterThan(0);
    expect(shipped).toEqual(JSON.parse(JSON.stringify(sinkRules)));
  });
});
