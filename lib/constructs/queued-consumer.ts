import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PipelineFunction } from './pipeline-function.ts';

/** EventBridge's own maximum: a target that keeps failing is retried for a day before the event goes to the DLQ. */
const TARGET_RETRY_ATTEMPTS = 185;
const TARGET_MAX_EVENT_AGE = Duration.hours(24);

export interface QueuedConsumerProps {
  /** The TypeScript handler file; it exports `handler` and reports partial batch failures. */
  readonly entry: string;
  /** The event bus whose rules feed the queue (see `addEventRule`). */
  readonly eventBus: events.IEventBus;
  /** @default - no description */
  readonly description?: string;
  /** @default - none besides the Powertools settings */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default - none: the function is invoked as soon as messages arrive */
  readonly maxBatchingWindow?: Duration;
  /** Receives before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default Duration.days(4) */
  readonly retentionPeriod?: Duration;
}

/**
 * EventBridge rules -> SQS queue -> Lambda, each hop with a dead-letter queue:
 * - `targetDeadLetterQueue` holds events EventBridge could not deliver to the queue after a day of retries;
 * - `deadLetterQueue` holds messages the function failed `maxReceiveCount` times.
 *
 * Queues use SQS-managed encryption (EventBridge cannot send to a queue encrypted with the AWS managed KMS key) and
 * refuse non-TLS requests. The function reports partial batch failures, so one bad message does not redeliver its
 * batch.
 */
export class QueuedConsumer extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly targetDeadLetterQueue: sqs.Queue;
  public readonly pipelineFunction: PipelineFunction;
  public readonly lambdaFunction: lambda.IFunction;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: QueuedConsumerProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(30);
    const maxBatchingWindow = props.maxBatchingWindow ?? Duration.seconds(0);

    // A dead-lettered message keeps its original enqueue time, so DLQs hold messages longer than their source.
    const deadLetterRetention = Duration.days(14);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: deadLetterRetention,
    });
    this.targetDeadLetterQueue = new sqs.Queue(this, 'TargetDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: deadLetterRetention,
    });
    Validations.of(this.targetDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter queue: the DeadLetterConfig of EventBridge rule targets, which cdk-nag ' +
        'does not recognise as one (it only follows SQS redrive policies).',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      // AWS's guidance for Lambda consumers: six times the function timeout, plus the batching window.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6 + maxBatchingWindow.toSeconds()),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });

    // One statement for every rule on the bus: a statement per rule would overrun the SQS limit of 20 per policy.
    const rulesOfBus = new iam.ServicePrincipal('events.amazonaws.com', {
      conditions: {
        ArnLike: {
          'aws:SourceArn': Stack.of(this).formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: `${props.eventBus.eventBusName}/*`,
          }),
        },
      },
    });
    this.queue.grantSendMessages(rulesOfBus);
    this.targetDeadLetterQueue.grantSendMessages(rulesOfBus);

    this.pipelineFunction = new PipelineFunction(this, 'Handler', {
      entry: props.entry,
      description: props.description,
      environment: props.environment,
      timeout,
      memorySize: props.memorySize,
      logRetention: props.logRetention,
    });
    this.lambdaFunction = this.pipelineFunction.lambdaFunction;
    this.role = this.pipelineFunction.role;
    this.pipelineFunction.lambdaFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        maxBatchingWindow: props.maxBatchingWindow,
        reportBatchItemFailures: true,
      }),
    );
  }

  /**
   * Sends the rule's events to the queue, optionally transformed by `message`. The rule must be on the bus given as
   * `eventBus`: the queue's policy admits that bus's rules only.
   */
  public addEventRule(rule: events.Rule, message?: events.RuleTargetInput): void {
    rule.addTarget({
      bind: () => ({
        arn: this.queue.queueArn,
        targetResource: this.queue,
        input: message,
        deadLetterConfig: { arn: this.targetDeadLetterQueue.queueArn },
        retryPolicy: {
          maximumRetryAttempts: TARGET_RETRY_ATTEMPTS,
          maximumEventAgeInSeconds: TARGET_MAX_EVENT_AGE.toSeconds(),
        },
      }),
    });
  }
}
