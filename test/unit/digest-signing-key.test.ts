import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ArchiveSigningKey } from '../../lib/constructs/archive-signing-key.ts';

/** The key that signs digest records, in a stack of its own with one role granted signing, under cdk-nag. */
const build = () => {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Signing');
  const signing = new ArchiveSigningKey(stack, 'ArchiveSigningKey');
  const role = new iam.Role(stack, 'Sequencer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  signing.grantSignDigest(role);
  return { app, stack, signing, template: Template.fromStack(stack) };
};

describe('ArchiveSigningKey', () => {
  it('is an ECC_NIST_P256 SIGN_VERIFY key, retained with the stack gone', () => {
    const { template } = build();
    template.hasResource('AWS::KMS::Key', {
      Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('grants kms:Sign alone, for SHA-256 digests with ECDSA_SHA_256 alone', () => {
    // Prepare
    const { template, stack, signing } = build();

    // Assess
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual([
      {
        Action: 'kms:Sign',
        Effect: 'Allow',
        Resource: stack.resolve(signing.key.keyArn),
        Condition: { StringEquals: { 'kms:MessageType': 'DIGEST', 'kms:SigningAlgorithm': 'ECDSA_SHA_256' } },
      },
    ]);
  });

  it('passes cdk-nag with nothing acknowledged (the rotation rule applies to symmetric keys only)', () => {
    // Prepare
    const { app, stack } = build();

    // Act
    const violations = new AwsSolutionsChecks().validateScope(app).violations;
    const acknowledged = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);

    // Assess
    expect(violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))).toEqual(
      [],
    );
    expect(acknowledged).toEqual([]);
  });
});
