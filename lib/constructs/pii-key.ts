import { Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { SourceName } from '../../lambdas/shared/log-sources.ts';
import { hashesPii, type PiiSettings, type PiiSources } from '../../lambdas/shared/pii.ts';

/**
 * What a function needs for PII controls (lambdas/shared/pii-secret.ts): its settings in `PII_SETTINGS` and, when
 * they hash, the name of the secret holding the HMAC key in `PII_HASH_SECRET_NAME`, with read access to that one
 * secret. Nothing at all without settings, so a stack without PII controls is unchanged.
 */
export interface PiiAccess {
  /** The settings this function applies (the alert function: every source; a sequencer: its own, with `archive`). */
  readonly sources: PiiSources;
  /** The Secrets Manager secret holding the HMAC key, by name; required when a setting hashes. */
  readonly hashSecretName?: string;
}

/** The environment variables of `access`; empty without settings. */
export function piiEnvironment(access: PiiAccess | undefined): Record<string, string> {
  if (access === undefined || Object.keys(access.sources).length === 0) return {};
  return {
    PII_SETTINGS: JSON.stringify(access.sources),
    ...(hashesPii(access.sources) ? { PII_HASH_SECRET_NAME: secretNameOf(access) } : {}),
  };
}

/** Lets `role` read the HMAC key's secret, when the settings hash; nothing otherwise. */
export function grantPiiKey(scope: Construct, role: iam.IRole, access: PiiAccess | undefined): void {
  if (access === undefined || !hashesPii(access.sources)) return;
  const secretName = secretNameOf(access);
  secretsmanager.Secret.fromSecretNameV2(scope, 'PiiHashSecret', secretName).grantRead(role);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${secretName}-??????]`,
    reason:
      'Secrets Manager appends six random characters to a secret name in its ARN; the pattern matches the one ' +
      'secret named in piiHashSecretName and no other.',
  });
}

const secretNameOf = (access: PiiAccess): string => {
  if (access.hashSecretName === undefined) {
    throw new Error('PII settings that hash need piiHashSecretName: the Secrets Manager secret holding the HMAC key');
  }
  return access.hashSecretName;
};

/**
 * The access a function needs for `scope`: the alert function every configured source's settings; a source's
 * sequencer that source's, only with `archive: true`. Undefined when there is nothing to apply.
 */
export function piiAccess(
  configured: PiiSources,
  hashSecretName: string | undefined,
  scope: 'alerts' | SourceName,
): PiiAccess | undefined {
  const sources: Partial<Record<SourceName, PiiSettings>> = {};
  for (const [name, settings] of Object.entries(configured) as Array<[SourceName, PiiSettings | undefined]>) {
    if (settings !== undefined && (scope === 'alerts' || (scope === name && settings.archive)))
      sources[name] = settings;
  }
  if (Object.keys(sources).length === 0) return undefined;
  return { sources, ...(hashSecretName === undefined ? {} : { hashSecretName }) };
}
