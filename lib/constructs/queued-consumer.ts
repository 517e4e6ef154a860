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

/**
 * Rules a queue admits by ARN. SQS allows 20 statements and 8,192 bytes per queue policy; each rule ARN appears twice
 * (in the allow and in the deny), so past this many rules use `ruleNamePrefix` instead.
 */
export const MAX_RULES_BY_ARN = 10;

const SEND = 'sqs:SendMessage';

export interface QueuedConsumerProps {
  /** The TypeScript handler file; it exports `handler` and reports partial batch failures. */
  readonly entry: string;
  /**
   * The event bus whose rules feed the queue (see `addEventRule`); needed with `ruleNamePrefix`, which admits the
   * rules of this bus. @default - none: the queue is fed by rules admitted by ARN, or by admitted senders only
   */
  readonly eventBus?: events.IEventBus;
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
  /**
   * Admit the rules of `eventBus` whose name starts with this prefix, instead of naming each rule's ARN: for a queue
   * fed by more rules than one SQS policy can list. Every rule given to `addEventRule` must then have a physical name
   * with this prefix. @default - the queue policies name the ARN of each rule given to `addEventRule`
   */
  readonly ruleNamePrefix?: string;
  /**
   * The IAM role (its full ARN, path included) that may send to the queue besides the admitted rules, so an operator
   * can redrive the dead-letter queues into it. @default - no one but the admitted rules can send to the queue
   */
  readonly redriveRoleArn?: string;
}

/** Who may send to one queue: the admitted EventBridge rules, and optionally one role; a deny for everyone else. */
class SenderPolicy {
  private allow: iam.PolicyStatement | undefined;
  private readonly deny: iam.PolicyStatement;
  private readonly exceptRoleArns: string[] = [];

  constructor(
    private readonly queue: sqs.Queue,
    exceptRoleArn: string | undefined,
  ) {
    // An explicit deny outweighs any IAM allow in the account, so only the principals excepted here can send. A
    // negated condition is true when its key is absent: IAM principals carry no aws:SourceArn, and EventBridge no
    // aws:PrincipalArn. A redrive (StartMessageMoveTask) sends with its caller's identity, so the role's ARN is what
    // lets the operator move dead letters back.
    this.deny = new iam.PolicyStatement({
      sid: 'DenySendersOtherThanTheAdmittedRules',
      effect: iam.Effect.DENY,
      principals: [new iam.StarPrincipal()],
      actions: [SEND],
      resources: [queue.queueArn],
    });
    if (exceptRoleArn !== undefined) this.except(exceptRoleArn);
    queue.addToResourcePolicy(this.deny);
  }

  /** Lets one more role through the deny (its own IAM policy must still allow the send). */
  except(roleArn: string): void {
    this.exceptRoleArns.push(roleArn);
    this.deny.addCondition('ArnNotEquals', {
      'aws:PrincipalArn': this.exceptRoleArns.length === 1 ? this.exceptRoleArns[0] : [...this.exceptRoleArns],
    });
  }

  /** Admits the rules whose ARNs match `ruleArns` under the ARN condition operator `operator`. */
  admit(operator: 'ArnEquals' | 'ArnLike', ruleArns: string[]): void {
    const negated = operator === 'ArnEquals' ? 'ArnNotEquals' : 'ArnNotLike';
    const condition = { 'aws:SourceArn': ruleArns.length === 1 ? ruleArns[0] : [...ruleArns] };
    if (this.allow === undefined) {
      this.allow = new iam.PolicyStatement({
        sid: 'AllowTheAdmittedRules',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: [SEND],
        resources: [this.queue.queueArn],
      });
      this.queue.addToResourcePolicy(this.allow);
    }
    // Both merge into the statements' existing operator blocks, replacing the previous list of rules.
    this.allow.addCondition(operator, condition);
    this.deny.addCondition(negated, condition);
  }
}

/**
 * EventBridge rules -> SQS queue -> Lambda, each hop with a dead-letter queue:
 * - `targetDeadLetterQueue` holds events EventBridge could not deliver to the queue after a day of retries;
 * - `deadLetterQueue` holds messages the function failed `maxReceiveCount` times.
 *
 * Queues use SQS-managed encryption (EventBridge cannot send to a queue encrypted with the AWS managed KMS key) and
 * refuse non-TLS requests. The queue and its target dead-letter queue admit only the rules given to `addEventRule` and
 * deny `sqs:SendMessage` to everyone else (on the queue, `redriveRoleArn` excepted), whatever their IAM policies say.
 * The function reports partial batch failures, so one bad message does not redeliver its batch.
 */
export class QueuedConsumer extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly targetDeadLetterQueue: sqs.Queue;
  public readonly pipelineFunction: PipelineFunction;
  public readonly lambdaFunction: lambda.IFunction;
  public readonly role: iam.Role;

  private readonly queuePolicy: SenderPolicy;
  private readonly targetDeadLetterPolicy: SenderPolicy;
  private readonly ruleNamePrefix: string | undefined;
  private readonly ruleArns: string[] = [];
  /** The rule ARN patterns `ruleNamePrefix` admits: one per event bus. */
  private readonly prefixedRuleArns: string[] = [];

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

    this.queuePolicy = new SenderPolicy(this.queue, props.redriveRoleArn);
    this.targetDeadLetterPolicy = new SenderPolicy(this.targetDeadLetterQueue, undefined);
    this.ruleNamePrefix = props.ruleNamePrefix;
    if (props.ruleNamePrefix !== undefined) {
      if (props.eventBus === undefined) {
        throw new Error(`${this.node.path}: a ruleNamePrefix admits the rules of an event bus; give the eventBus`);
      }
      this.admitRulesNamedOn(props.eventBus);
    }

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
   * Admits, besides those of `eventBus`, the rules of another event bus whose names start with `ruleNamePrefix` (the
   * Auth0 partner bus, for alert rules on Auth0 logs).
   */
  public admitRulesNamedOn(eventBus: events.IEventBus): void {
    if (this.ruleNamePrefix === undefined) {
      throw new Error(`${this.node.path}: only a consumer with a ruleNamePrefix admits rules by name`);
    }
    // Rule names are unique per bus and the buses are this stack's, so the prefix admits this stack's rules only.
    this.prefixedRuleArns.push(
      Stack.of(this).formatArn({
        service: 'events',
        resource: 'rule',
        resourceName: `${eventBus.eventBusName}/${this.ruleNamePrefix}*`,
      }),
    );
    this.queuePolicy.admit('ArnLike', this.prefixedRuleArns);
    this.targetDeadLetterPolicy.admit('ArnLike', this.prefixedRuleArns);
  }

  /**
   * Lets a role of this stack send to the queue (the feed watchdog refilling what the stream did not deliver): grants
   * it `sqs:SendMessage` and excepts it from the queue policy's deny.
   */
  public admitSender(role: iam.IRole): void {
    this.queuePolicy.except(role.roleArn);
    this.queue.grantSendMessages(role);
  }

  /**
   * Sends the rule's events to the queue, optionally transformed by `message`, and admits the rule to the queue and
   * its target dead-letter queue (by ARN, or by `ruleNamePrefix`, which the rule's name must then start with).
   */
  public addEventRule(rule: events.Rule, message?: events.RuleTargetInput): void {
    if (this.ruleNamePrefix === undefined) {
      if (this.ruleArns.length === MAX_RULES_BY_ARN) {
        throw new Error(
          `${this.node.path}: a queue admits at most ${MAX_RULES_BY_ARN} rules by ARN (SQS policies hold 8,192 bytes); ` +
            'give the consumer a ruleNamePrefix and name its rules with it',
        );
      }
      this.ruleArns.push(rule.ruleArn);
      this.queuePolicy.admit('ArnEquals', this.ruleArns);
      this.targetDeadLetterPolicy.admit('ArnEquals', this.ruleArns);
    } else {
      const name = (rule.node.defaultChild as events.CfnRule).name;
      if (name === undefined || !name.startsWith(this.ruleNamePrefix)) {
        throw new Error(
          `${rule.node.path}: its name must start with "${this.ruleNamePrefix}", the only rules the queue admits`,
        );
      }
    }
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
