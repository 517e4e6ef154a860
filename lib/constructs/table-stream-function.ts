import { Duration, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PipelineFunction, type PipelineFunctionProps } from './pipeline-function.ts';

export interface TableStreamFunctionProps extends PipelineFunctionProps {
  /** The table whose stream invokes the function; it must have a stream. */
  readonly table: dynamodb.ITable;
  /**
   * Only records that match one of these (built with `lambda.FilterCriteria.filter`) invoke the function; the others
   * are skipped at no cost. @default - every record
   */
  readonly filters?: ReadonlyArray<Record<string, unknown>>;
  /** @default 100 */
  readonly batchSize?: number;
  /** Retries of a failing batch (halved on each error) before it goes to the dead-letter queue. @default 10 */
  readonly retryAttempts?: number;
}

/**
 * A pipeline function fed by a DynamoDB stream from its oldest record on: batches that fail are split in two and
 * retried, the function reports which records failed, and a batch that fails every retry is described (shard and
 * sequence numbers, not the records) in `deadLetterQueue`. Stream records are kept 24 hours, so that is how long an
 * operator has to read a failed batch from the stream.
 */
export class TableStreamFunction extends Construct {
  public readonly pipelineFunction: PipelineFunction;
  public readonly lambdaFunction: lambda.IFunction;
  public readonly role: iam.Role;
  /** The on-failure destination of the stream event source. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TableStreamFunctionProps) {
    super(scope, id);
    const { table, filters, batchSize, retryAttempts, ...functionProps } = props;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself a dead-letter queue: the on-failure destination of the function's DynamoDB stream " +
        'event source, which cdk-nag does not recognise as one (it only follows SQS redrive policies).',
    });

    this.pipelineFunction = new PipelineFunction(this, 'Handler', functionProps);
    this.lambdaFunction = this.pipelineFunction.lambdaFunction;
    this.role = this.pipelineFunction.role;
    this.pipelineFunction.lambdaFunction.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: batchSize ?? 100,
        bisectBatchOnError: true,
        retryAttempts: retryAttempts ?? 10,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.deadLetterQueue),
        filters: filters === undefined ? undefined : [...filters],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The stream event source grants dynamodb:ListStreams, which has no resource-level permissions (Service ' +
        "Authorization Reference), so it is on '*'; the stream reads themselves name the table's stream ARN.",
    });
  }
}
