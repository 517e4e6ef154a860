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

/**
 * How S3 Object Lock protects archived objects (every object version written to the bucket, `quarantine/` included):
 * - `governance`: nobody can delete or overwrite a version before its retention ends, except a principal granted
 *   `s3:BypassGovernanceRetention` who sends the bypass header (a break-glass role).
 * - `compliance`: nobody can, the account's root user included, and the retention cannot be shortened.
 * - `off`: versioning only; whoever may delete versions can.
 */
export const ARCHIVE_LOCK_MODES = ['governance', 'compliance', 'off'] as const;
export type ArchiveLockMode = (typeof ARCHIVE_LOCK_MODES)[number];

/**
 * The longest retention the CDK and S3 accept for a default Object Lock retention (100 years, counted in days).
 * A governance lock on an archive kept forever (`retentionDays` 0) lasts this long: Object Lock has no "forever".
 */
export const LONGEST_LOCK_DAYS = 36_500;

/** An Object Lock setting the archive cannot have. */
export class ArchiveLockError extends Error {
  override readonly name = 'ArchiveLockError';
}

export interface ArchiveBucketProps {
  /** Days after which archived objects expire; 0 keeps them forever. @default 2557 (7 years) */
  readonly retentionDays?: number;
  /**
   * Object Lock for archived objects, with `retentionDays` as the default retention of each new version. With
   * `retentionDays` 0 a governance lock lasts {@link LONGEST_LOCK_DAYS}; a compliance lock needs a positive
   * `retentionDays`, since nobody could ever lift it. @default 'governance'
   */
  readonly lockMode?: ArchiveLockMode;
  /** Days after which objects move to S3 Glacier Instant Retrieval. @default 30 */
  readonly transitionDays?: number;
  /**
   * Days a replaced or deleted object version is kept. Under Object Lock a version is kept at least until its own
   * retention ends, whatever this says: S3 lifecycle rules never delete a locked version. @default 30
   */
  readonly noncurrentVersionExpirationDays?: number;
  /** Days the server access logs are kept. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** Encrypts the archive with this key instead of S3-managed keys. @default - SSE-S3 */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The archive: versioned, locked (S3 Object Lock, governance mode by default), encrypted, TLS-only, never public,
 * moving to Glacier Instant Retrieval and expiring by lifecycle rules no sooner than the lock ends, with server
 * access logs in a bucket of its own (unlocked: S3 refuses to deliver access logs to a bucket with Object Lock).
 * Both buckets are retained with the stack gone.
 */
export class ArchiveBucket extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly accessLogsBucket: s3.Bucket;
  /** The Object Lock mode of new versions, or `off`. */
  public readonly lockMode: ArchiveLockMode;
  /** Days each new version is locked for; undefined when the lock is off. */
  public readonly lockRetentionDays?: number;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 2557;
    const transitionDays = props.transitionDays ?? 30;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.lockMode = props.lockMode ?? 'governance';
    if (this.lockMode === 'compliance' && retentionDays === 0) {
      throw new ArchiveLockError(
        `${this.node.path}: a compliance-mode Object Lock needs a positive retentionDays; nobody can ever shorten ` +
          'it, and S3 cannot lock an object forever',
      );
    }
    if (this.lockMode !== 'off') this.lockRetentionDays = retentionDays === 0 ? LONGEST_LOCK_DAYS : retentionDays;

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
          // Same days as the lock: S3 counts both from the version's creation and rounds lifecycle actions up to
          // the next midnight UTC, so no current object is expired (hidden behind a delete marker) while locked.
          expiration: retentionDays === 0 ? undefined : Duration.days(retentionDays),
          // Counted from when a version stops being current. Under the lock this never removes a locked version
          // (S3 lifecycle cannot delete one; it acts once the retention has ended). Setting it to the retention
          // instead would keep every expired version for twice the retention.
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays ?? 30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        // S3 refuses this flag in a rule that also expires by age, hence a rule of its own.
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy,
    });

    if (this.lockRetentionDays !== undefined) {
      // Only ObjectLockConfiguration, never the top-level ObjectLockEnabled flag that `objectLockEnabled` /
      // `objectLockDefaultRetention` would add: CloudFormation replaces a bucket when that flag is added (the CDK's
      // resource spec marks it causesReplacement), so an existing stack would get a new, empty archive bucket and
      // orphan the old one. ObjectLockConfiguration updates in place, and S3 turns Object Lock on for an existing
      // versioned bucket when it is applied. Lifecycle expiration (retentionDays) never precedes the lock's end.
      const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
      cfnBucket.objectLockConfiguration = {
        objectLockEnabled: 'Enabled',
        rule: {
          defaultRetention: {
            mode: this.lockMode === 'compliance' ? s3.ObjectLockMode.COMPLIANCE : s3.ObjectLockMode.GOVERNANCE,
            days: this.lockRetentionDays,
          },
        },
      };
    }
  }
}
