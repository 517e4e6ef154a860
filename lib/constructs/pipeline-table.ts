import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface PipelineTableProps {
  /** @default { name: 'pk', type: STRING } */
  readonly partitionKey?: dynamodb.Attribute;
  /** @default - no sort key */
  readonly sortKey?: dynamodb.Attribute;
  /** The attribute holding each item's expiry (epoch seconds). @default 'expiresAt' */
  readonly timeToLiveAttribute?: string;
  /** @default dynamodb.TableEncryption.AWS_MANAGED */
  readonly encryption?: dynamodb.TableEncryption;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** Turns on a DynamoDB stream with these images (records are kept 24 hours). @default - no stream */
  readonly stream?: dynamodb.StreamViewType;
  /** How the table's reads and writes are paid for. @default on-demand */
  readonly capacity?: TableCapacity;
}

export const TABLE_CAPACITY_MODES = ['on-demand', 'provisioned'] as const;

/**
 * On-demand capacity bills each request; provisioned capacity bills capacity-hours, which auto scaling keeps at
 * `TARGET_UTILISATION` of the traffic between `PROVISIONED_MIN_UNITS` and `maxUnits` (read and write each).
 */
export type TableCapacity =
  | { readonly mode: 'on-demand' }
  | { readonly mode: 'provisioned'; readonly maxUnits: number };

/** The fewest read and write units a provisioned table keeps: a quiet stream costs about $3 a month a table. */
export const PROVISIONED_MIN_UNITS = 5;
/** Auto scaling's target: headroom for a burst while it scales up, and what the cost estimate assumes. */
export const TARGET_UTILISATION = 70;

/**
 * A DynamoDB table for pipeline state: on-demand capacity (or provisioned, auto scaled), encrypted, point-in-time
 * recovery on, items expiring by TTL, retained (and protected from deletion) when the stack goes away.
 */
export class PipelineTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PipelineTableProps = {}) {
    super(scope, id);
    const capacity = props.capacity ?? { mode: 'on-demand' };
    this.table = new dynamodb.Table(this, 'Resource', {
      partitionKey: props.partitionKey ?? { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: props.sortKey,
      ...(capacity.mode === 'provisioned'
        ? {
            billingMode: dynamodb.BillingMode.PROVISIONED,
            readCapacity: PROVISIONED_MIN_UNITS,
            writeCapacity: PROVISIONED_MIN_UNITS,
          }
        : { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST }),
      encryption: props.encryption ?? dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: props.timeToLiveAttribute ?? 'expiresAt',
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      stream: props.stream,
    });
    if (capacity.mode === 'provisioned') {
      if (!Number.isInteger(capacity.maxUnits) || capacity.maxUnits < PROVISIONED_MIN_UNITS) {
        throw new Error(`maxUnits ${capacity.maxUnits} must be an integer of at least ${PROVISIONED_MIN_UNITS}`);
      }
      const range = { minCapacity: PROVISIONED_MIN_UNITS, maxCapacity: capacity.maxUnits };
      const target = { targetUtilizationPercent: TARGET_UTILISATION };
      this.table.autoScaleWriteCapacity(range).scaleOnUtilization(target);
      this.table.autoScaleReadCapacity(range).scaleOnUtilization(target);
    }
  }
}
