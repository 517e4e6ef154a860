#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AUTH0_HTTP_SOURCE } from '../lambdas/shared/log-sources.ts';
import { AUTH0_GROUP_KEY, CONFIG_KEYS, ConfigError, type PipelineConfig, parseConfig } from '../lib/config.ts';
import {
  compileRules,
  forwardingPlan,
  loadRuleSet,
  RuleCompileError,
  RuleValidationError,
  TooManyAlertRulesError,
} from '../lib/rules/index.ts';
import { OktaLogPipelineStack } from '../lib/stacks/okta-log-pipeline-stack.ts';

/** Errors in what the user configured: their message says what to fix, so a stack trace would only bury it. */
const USER_ERRORS = [ConfigError, RuleValidationError, RuleCompileError, TooManyAlertRulesError];

const app = new App();

const readInputs = () => {
  const context = Object.fromEntries(
    [...CONFIG_KEYS, AUTH0_GROUP_KEY].map((key) => [key, app.node.tryGetContext(key)]),
  );
  const config: PipelineConfig = parseConfig(context);
  const ruleSet = loadRuleSet(config.rulesDir === undefined ? {} : { userDir: config.rulesDir });
  const { rules } = ruleSet;
  // Auth0 rules go on the Auth0 partner bus when there is one; the HTTP sink matches its own copy, compiled for the
  // source it gives the logs it receives.
  const auth0 = config.auth0EventSourceName ?? (config.auth0HttpSink ? AUTH0_HTTP_SOURCE : undefined);
  return {
    config,
    alertRules: compileRules(rules, { okta: config.eventSourceName, auth0 }),
    ...(config.auth0HttpSink ? { auth0HttpSinkRules: compileRules(rules, { auth0: AUTH0_HTTP_SOURCE }) } : {}),
    forwarding: forwardingPlan(ruleSet),
  };
};

const inputs = (() => {
  try {
    return readInputs();
  } catch (error) {
    if (!USER_ERRORS.some((kind) => error instanceof kind)) throw error;
    console.error((error as Error).message);
    process.exit(1);
  }
})();

new OktaLogPipelineStack(app, 'OktaLogPipeline', {
  ...inputs,
  description: 'Okta (and Auth0) log streams to a deduplicated, ordered S3 archive and SNS alerts',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// Acknowledgments are recorded in each resource's template metadata too, as an audit trail.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
