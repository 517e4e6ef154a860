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
}

/**
 * A DynamoDB table for pipeline state: on-demand capacity, encrypted, point-in-time recovery on, items expiring by TTL,
 * retained (and protected from deletion) when the stack goes away.
 */
export class PipelineTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PipelineTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Resource', {
      partitionKey: props.partitionKey ?? { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: props.sortKey,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: props.encryption ?? dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: props.timeToLiveAttribute ?? 'expiresAt',
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      stream: props.stream,
    });
  }
}
