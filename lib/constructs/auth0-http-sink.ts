import { Duration, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AUTH0 } from '../../lambdas/shared/log-sources.ts';
import { ALERT_RULES_FILE } from '../../lambdas/watchdog/bundled-rules.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { grantObjectKeys } from './archive-bucket.ts';
import { PipelineFunction } from './pipeline-function.ts';
import type { QueuedConsumer } from './queued-consumer.ts';

/**
 * Concurrent requests the sink serves at most; more are answered 429 by Lambda (Auth0 retries them). Auth0 posts one
 * batch at a time per stream and the sink answers in tens of milliseconds, so a handful would do; 10 leaves room for
 * retries overlapping a slow SQS call, and caps what a flood of requests to the public URL can cost (each is refused
 * with a 401 after a cached secret read) while taking little from the account's unreserved concurrency.
 */
export const AUTH0_HTTP_SINK_CONCURRENCY = 10;

export interface Auth0HttpSinkProps {
  /** The TypeScript handler file (lambdas/http-sink/handler.ts). */
  readonly entry: string;
  /** The secret holding the exact Authorization value the log stream sends, by name; the only secret it may read. */
  readonly secretName: string;
  /** Where each log goes, in an Auth0 log envelope; the sink is admitted past the queue's deny. */
  readonly ingest: QueuedConsumer;
  /** Where logs an Auth0 alert rule matches go, as the rule's EventBridge target would send them. */
  readonly alert: QueuedConsumer;
  /** Where logs a stateful Auth0 rule's pre-filter matches go, as the rule's EventBridge target would send them. */
  readonly detector: QueuedConsumer;
  /** The archive bucket: unreadable bodies go under `auth0/quarantine/`. */
  readonly quarantineBucket: s3.Bucket;
  /** The Auth0 alert rules compiled for AUTH0_HTTP_SOURCE, matched in the function and shipped beside its bundle. */
  readonly alertRules: readonly CompiledAlertRule[];
  /** @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default AUTH0_HTTP_SINK_CONCURRENCY */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * The endpoint of an Auth0 HTTP log stream: a Lambda function URL, public (auth type NONE, since Auth0 cannot sign
 * requests with SigV4) and checked by the function itself, which compares the Authorization header in constant time
 * with the value in one Secrets Manager secret. CORS is off (no browser calls it). Reserved concurrency is its
 * throttle. It puts each log on the Auth0 ingest queue and matching logs on the alert queue.
 *
 * Default settings: 15 s timeout, 512 MB, reserved concurrency {@link AUTH0_HTTP_SINK_CONCURRENCY}, invoke permission
 * for the function URL only.
 */
export class Auth0HttpSink extends Construct {
  public readonly lambdaFunction: lambda.IFunction;
  public readonly role: iam.Role;
  public readonly functionUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: Auth0HttpSinkProps) {
    super(scope, id);
    const wrongSource = props.alertRules.find((rule) => rule.source !== 'auth0');
    if (wrongSource !== undefined) {
      throw new Error(
        `${this.node.path}: alert rule ${wrongSource.id} is not an Auth0 rule; the sink matches Auth0 logs`,
      );
    }
    const fn = new PipelineFunction(this, 'Handler', {
      entry: props.entry,
      description: 'Receives the logs of an Auth0 HTTP log stream and queues them for ingest and alert rules',
      timeout: Duration.seconds(15),
      memorySize: 512,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions ?? AUTH0_HTTP_SINK_CONCURRENCY,
      logRetention: props.logRetention,
      bundledFiles: { [ALERT_RULES_FILE]: JSON.stringify(props.alertRules) },
      environment: {
        AUTH0_HTTP_SECRET_NAME: props.secretName,
        INGEST_QUEUE_URL: props.ingest.queue.queueUrl,
        ALERT_QUEUE_URL: props.alert.queue.queueUrl,
        DETECTOR_QUEUE_URL: props.detector.queue.queueUrl,
        ARCHIVE_BUCKET_NAME: props.quarantineBucket.bucketName,
        EXPECTED_ACCOUNT: props.ingest.queue.env.account,
      },
    });
    this.lambdaFunction = fn.lambdaFunction;
    this.role = fn.role;
    // No `cors`: the URL answers no preflight and sends no CORS headers. Auth type NONE adds a resource policy that
    // lets anyone invoke the function through this URL (lambda:InvokeFunctionUrl with FunctionUrlAuthType NONE), and
    // nothing else.
    this.functionUrl = fn.lambdaFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });

    secretsmanager.Secret.fromSecretNameV2(this, 'AuthorizationSecret', props.secretName).grantRead(this.role);
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${props.secretName}-??????]`,
      reason:
        'Secrets Manager appends six random characters to a secret name in its ARN; the pattern matches the one ' +
        'secret named in auth0HttpSecretName and no other.',
    });
    grantObjectKeys(
      props.quarantineBucket,
      this.role,
      `${AUTH0.archivePrefix}quarantine/*`,
      ['s3:PutObject'],
      'The Auth0 HTTP sink writes each body it cannot read',
    );
    props.ingest.admitSender(this.role);
    props.alert.admitSender(this.role);
    props.detector.admitSender(this.role);
  }
}
