import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * Grants `actions` on the objects matching `keyPattern` (e.g. `quarantine/*`) to a role, and acknowledges on that
 * role alone the cdk-nag finding this raises: a grant on the objects under a prefix is a wildcard resource by nature
 * (IAM5, named after the bucket's logical ID). `why` says what the role writes there, for the reason.
 */
export function grantObjectKeys(
  bucket: s3.Bucket,
  role: iam.Role,
  keyPattern: string,
  actions: readonly string[],
  why: string,
): void {
  bucket.grants.actionsOnObjectKeys(role, keyPattern, ...actions);
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${keyPattern}]`,
    reason: `${why} under ${keyPattern}, with generated keys; the grant is limited to that prefix and to the actions named.`,
  });
}

export interface ArchiveBucketProps {
  /** Days after which archived objects expire; 0 keeps them forever. @default 2557 (7 years) */
  readonly retentionDays?: number;
  /** Days after which objects move to S3 Glacier Instant Retrieval. @default 30 */
  readonly transitionDays?: number;
  /** Days a replaced or deleted object version is kept. @default 30 */
  readonly noncurrentVersionExpirationDays?: number;
  /** Days the server access logs are kept. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** Encrypts the archive with this key instead of S3-managed keys. @default - SSE-S3 */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The archive: versioned, encrypted, TLS-only, never public, moving to Glacier Instant Retrieval and expiring by
 * lifecycle rules, with server access logs in a bucket of its own. Both buckets are retained with the stack gone.
 */
export class ArchiveBucket extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 2557;
    const transitionDays = props.transitionDays ?? 30;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 delivers server access logs only to buckets with SSE-S3 default encryption.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.accessLogRetentionDays ?? 365) }],
      removalPolicy,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the archive bucket server access logs; logging its own access would recurse.',
    });

    this.bucket = new s3.Bucket(this, 'Resource', {
      ...(props.encryptionKey === undefined
        ? { encryption: s3.BucketEncryption.S3_MANAGED }
        : { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }),
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          id: 'archive-tiering',
          transitions: [
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(transitionDays),
            },
          ],
          expiration: retentionDays === 0 ? undefined : Duration.days(retentionDays),
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays ?? 30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        // S3 refuses this flag in a rule that also expires by age, hence a rule of its own.
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy,
    });
  }
}
