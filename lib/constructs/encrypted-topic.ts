import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface EncryptedTopicProps {
  /** What the topic carries, for the key and the email sender name. */
  readonly displayName: string;
  /** Subscribes this address (it must confirm the subscription). @default - no subscription */
  readonly notificationEmail?: string;
  /**
   * Lets this account's CloudWatch alarms publish: a key policy and a topic policy statement, each conditioned on
   * `aws:SourceAccount` and `aws:SourceArn`. @default false
   */
  readonly allowCloudWatchAlarms?: boolean;
  /** @default RemovalPolicy.RETAIN */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

/** An SNS topic encrypted with its own customer-managed KMS key (rotated yearly) that refuses non-TLS publishers. */
export class EncryptedTopic extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptedTopicProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the ${props.displayName} topic`,
      enableKeyRotation: true,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.topic = new sns.Topic(this, 'Resource', {
      displayName: props.displayName,
      masterKey: this.key,
      enforceSSL: true,
    });

    if (props.allowCloudWatchAlarms === true) {
      const stack = Stack.of(this);
      const cloudwatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
      // On the key and on the topic alike: only alarms of this account, so the service cannot be made a confused
      // deputy for another account's alarms.
      const fromAlarmsOfThisAccount = () => ({
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
        StringEquals: { 'aws:SourceAccount': stack.account },
      });
      // SNS encrypts with the publisher's KMS permissions, so the alarm service needs the key (AWS's documented grant).
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [cloudwatch],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: fromAlarmsOfThisAccount(),
        }),
      );
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [cloudwatch],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: fromAlarmsOfThisAccount(),
        }),
      );
    }

    if (props.notificationEmail !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.notificationEmail));
    }
  }
}
