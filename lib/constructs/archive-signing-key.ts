import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface ArchiveSigningKeyProps {
  /** @default 'Signs the okta-log-pipeline archive digest records' */
  readonly description?: string;
  /**
   * The key signs every digest record of the archive's integrity chain: deleting it leaves old signatures verifiable
   * only with a public key saved beforehand. @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The KMS asymmetric key that signs the archive's digest records (docs/design.md, invariant 9): ECC_NIST_P256,
 * SIGN_VERIFY. Its private half never leaves KMS; anyone with its public half (`aws kms get-public-key`) verifies a
 * record offline. The sequencer gets `kms:Sign` alone, for SHA-256 digests alone (`grantSignDigest`): it can neither
 * verify, nor decrypt, nor sign a raw message, nor change the key.
 *
 * Default settings: ECC_NIST_P256, SIGN_VERIFY, no rotation (KMS has none for asymmetric keys), the account's default
 * key policy (IAM policies decide), retained.
 */
export class ArchiveSigningKey extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ArchiveSigningKeyProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: props.description ?? 'Signs the okta-log-pipeline archive digest records',
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      // No rotation: KMS cannot rotate asymmetric keys (cdk-nag's KMS5 applies to symmetric keys only). A new key
      // would leave the records already signed verifiable only with the old public key: to replace it, keep that
      // public key (olp archive verify takes --public-key more than once).
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /**
   * `kms:Sign` on this key for `grantee`, only for precomputed SHA-256 digests with ECDSA_SHA_256: exactly what the
   * sequencer's KmsArchiveSigner asks for, nothing else.
   */
  grantSignDigest(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Sign'],
      resourceArns: [this.key.keyArn],
      conditions: {
        StringEquals: { 'kms:MessageType': 'DIGEST', 'kms:SigningAlgorithm': 'ECDSA_SHA_256' },
      },
    });
  }
}
