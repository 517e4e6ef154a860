import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from './pipeline-function.ts';

const ONE_MINUTE = Duration.minutes(1);

export interface PipelineAlarmsProps {
  /** Receives every alarm and its return to OK. */
  readonly alarmTopic: sns.ITopic;
  /** The queue EventBridge fills with Okta events. */
  readonly ingestQueue: sqs.IQueue;
  readonly ingestFunction: lambda.IFunction;
  readonly sequencerFunction: lambda.IFunction;
  readonly alertFunction: lambda.IFunction;
  /** Every dead-letter queue of the pipeline, by a name for the alarm description. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Minutes without a single Okta event before the feed counts as silent. @default 30 */
  readonly silenceMinutes?: number;
  /** Age of the oldest ingest message that means ingest is falling behind. @default Duration.minutes(15) */
  readonly maxIngestAge?: Duration;
}

/** The pipeline's health alarms, all to one operations topic. */
export class PipelineAlarms extends Construct {
  /** No Okta event reached the ingest queue for `silenceMinutes`. */
  public readonly feedSilence: cloudwatch.Alarm;
  /** Ingest messages are waiting longer than `maxIngestAge`. */
  public readonly ingestBacklog: cloudwatch.Alarm;
  public readonly ingestErrors: cloudwatch.Alarm;
  public readonly sequencerErrors: cloudwatch.Alarm;
  public readonly alertErrors: cloudwatch.Alarm;
  /** The ingest function rejected an event into the archive's quarantine prefix. */
  public readonly eventsQuarantined: cloudwatch.Alarm;
  /** One alarm per dead-letter queue, by the names given in `deadLetterQueues`. */
  public readonly deadLetters: ReadonlyMap<string, cloudwatch.Alarm>;

  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    this.action = new actions.SnsAction(props.alarmTopic);
    const silenceMinutes = props.silenceMinutes ?? 30;
    const maxIngestAge = props.maxIngestAge ?? Duration.minutes(15);

    // Measured at the ingest queue rather than the rule (AWS/Events MatchedEvents): it counts what actually entered
    // the pipeline, so it also catches a broken rule target. SQS stops publishing metrics for an idle queue, so a
    // missing data point is silence too.
    this.feedSilence = this.alarm('FeedSilence', {
      metric: props.ingestQueue.metricNumberOfMessagesSent({ period: ONE_MINUTE, statistic: 'Sum' }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: silenceMinutes,
      datapointsToAlarm: silenceMinutes,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription:
        `No Okta event for ${silenceMinutes} minutes. Check the log stream in the Okta admin console: ` +
        'Okta deactivates a stream after two failed deliveries, and an admin must reactivate it.',
    });
    this.ingestBacklog = this.alarm('IngestBacklog', {
      metric: props.ingestQueue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: 'Maximum' }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: maxIngestAge.toSeconds(),
      evaluationPeriods: 1,
      alarmDescription: `Okta events have waited over ${maxIngestAge.toMinutes()} minutes in the ingest queue.`,
    });
    this.ingestErrors = this.errorsOf('IngestErrors', props.ingestFunction, 'The ingest function failed.');
    this.sequencerErrors = this.errorsOf(
      'SequencerErrors',
      props.sequencerFunction,
      'The sequencer failed; windows are not being sealed and archived.',
    );
    this.alertErrors = this.errorsOf('AlertErrors', props.alertFunction, 'The alert function failed.');
    this.eventsQuarantined = this.alarm('EventsQuarantined', {
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'EventsQuarantined',
        dimensionsMap: { service: SERVICE_NAME },
        period: ONE_MINUTE,
        statistic: 'Sum',
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 0,
      evaluationPeriods: 1,
      alarmDescription: 'Events were quarantined: see the quarantine/ prefix of the archive bucket for each reason.',
    });

    const deadLetters = new Map<string, cloudwatch.Alarm>();
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      deadLetters.set(
        name,
        this.alarm(`DeadLetters${name}`, {
          metric: queue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' }),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: 0,
          evaluationPeriods: 1,
          alarmDescription: `Messages in the ${name} dead-letter queue: inspect them and redrive.`,
        }),
      );
    }
    this.deadLetters = deadLetters;
  }

  private errorsOf(id: string, fn: lambda.IFunction, description: string): cloudwatch.Alarm {
    return this.alarm(id, {
      metric: fn.metricErrors({ period: ONE_MINUTE, statistic: 'Sum' }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 0,
      evaluationPeriods: 1,
      alarmDescription: description,
    });
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}
