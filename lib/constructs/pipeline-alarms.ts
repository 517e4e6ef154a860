import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from './pipeline-function.ts';

const ONE_MINUTE = Duration.minutes(1);

/** Feed silence, by default: a quiet org may send nothing for a night, so only half a day of silence alarms. */
export const DEFAULT_SILENCE_MINUTES = 720;
/** How much later than planned the oldest unsealed window may be before the sequencer counts as lagging. */
export const SEQUENCER_LAG_SLACK = Duration.minutes(10);
/**
 * Minutes without a sequencer report that count as a stopped sequencer (missing data breaches). A run reports when it
 * ends and may take up to its 5-minute timeout, so 5 would be a false alarm on a long catch-up run; 10 still alarms
 * within 15 minutes of a stop.
 */
const SEQUENCER_SILENT_MINUTES = 10;
/** DynamoDB streams keep records 24 hours: a rescue this far behind has a quarter of that left. */
const MAX_RESCUE_ITERATOR_AGE = Duration.hours(6);

export interface PipelineAlarmsProps {
  /** Receives every alarm and its return to OK. */
  readonly alarmTopic: sns.ITopic;
  /** The queue EventBridge fills with Okta events. */
  readonly ingestQueue: sqs.IQueue;
  readonly ingestFunction: lambda.IFunction;
  readonly sequencerFunction: lambda.IFunction;
  readonly alertFunction: lambda.IFunction;
  /** The detector of stateful alert rules. */
  readonly detectorFunction: lambda.IFunction;
  /** Stages again the staged events DynamoDB TTL deleted before their window was sealed. */
  readonly rescueFunction: lambda.IFunction;
  /**
   * How long after it starts a window is sealed when all is well: window length + allowed lateness + seal guard. The
   * sequencer lags when its oldest unsealed window is older than this plus {@link SEQUENCER_LAG_SLACK}.
   */
  readonly windowSealDelay: Duration;
  /** Every dead-letter queue of the pipeline, by a name for the alarm description. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /** Minutes without a single Okta event before the feed counts as silent. @default DEFAULT_SILENCE_MINUTES (720) */
  readonly silenceMinutes?: number;
  /** Age of the oldest ingest message that means ingest is falling behind. @default Duration.minutes(15) */
  readonly maxIngestAge?: Duration;
  /**
   * The feed watchdog, when deployed: its alarms replace FeedSilence, since it tells a quiet org from a dead stream
   * (events Okta logged that did not arrive). @default - no watchdog: FeedSilence watches the ingest queue
   */
  readonly watchdog?: { readonly fn: lambda.IFunction; readonly schedule: Duration };
  /**
   * The Auth0 source, when deployed: its ingest, sequencer and rescue functions and ingest queue, and the HTTP sink
   * when on. Its dead-letter queues go in `deadLetterQueues`. The pipeline's custom metrics (quarantined events,
   * failed records, set-aside windows, the oldest unsealed window) carry no source, so the alarms on them cover both
   * sources. @default - Okta only
   */
  readonly auth0?: Auth0AlarmSources;
}

export interface Auth0AlarmSources {
  readonly ingestQueue: sqs.IQueue;
  readonly ingestFunction: lambda.IFunction;
  readonly sequencerFunction: lambda.IFunction;
  readonly rescueFunction: lambda.IFunction;
  /** The HTTP sink function. @default - no HTTP sink */
  readonly httpSinkFunction?: lambda.IFunction;
}

/** Metrics the HTTP sink emits per request it refuses (lambdas/http-sink/handler.ts). */
export const AUTH0_HTTP_UNAUTHORIZED_METRIC = 'Auth0HttpUnauthorized';
export const AUTH0_HTTP_BODY_REJECTED_METRIC = 'Auth0HttpBodyRejected';
/** Minutes in a row with a 401 before the sink's secret and the stream's authorization count as disagreeing. */
const UNAUTHORIZED_MINUTES = 5;

/** The watchdog counts as stuck when it has not checked the System Log this far back (it catches up far faster). */
const MAX_WATCHDOG_LAG = Duration.hours(1);
/** Periods in a row with events missing from the stream before it counts as dropping them (not a one-off). */
const MISSING_PERIODS = 3;

/** A custom metric the pipeline's Lambdas emit (Powertools), per minute. */
const pipelineMetric = (metricName: string, statistic: 'Sum' | 'Maximum'): cloudwatch.Metric =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    period: ONE_MINUTE,
    statistic,
  });

/** A custom metric of one source's functions (a source other than Okta reports under its `source` dimension). */
const sourceMetric = (metricName: string, statistic: 'Sum' | 'Maximum', source: string): cloudwatch.Metric =>
  pipelineMetric(metricName, statistic).with({ dimensionsMap: { service: SERVICE_NAME, source } });

/** The pipeline's health alarms, all to one operations topic. */
export class PipelineAlarms extends Construct {
  /** No Okta event reached the ingest queue for `silenceMinutes`; only without the watchdog. */
  public readonly feedSilence?: cloudwatch.Alarm;
  /** The watchdog's alarms, when it is deployed. */
  public readonly watchdog?: {
    /** Okta logged events the stream did not deliver, run after run (the watchdog refills them). */
    readonly streamDroppingEvents: cloudwatch.Alarm;
    /** The log stream is not ACTIVE (the watchdog also raises a critical alert on the alert topic). */
    readonly logStreamInactive: cloudwatch.Alarm;
    readonly errors: cloudwatch.Alarm;
    /** The watchdog is far behind the System Log, or not reporting at all. */
    readonly lag: cloudwatch.Alarm;
  };
  /** Ingest messages are waiting longer than `maxIngestAge`. */
  public readonly ingestBacklog: cloudwatch.Alarm;
  public readonly ingestErrors: cloudwatch.Alarm;
  public readonly sequencerErrors: cloudwatch.Alarm;
  public readonly alertErrors: cloudwatch.Alarm;
  public readonly detectorErrors: cloudwatch.Alarm;
  public readonly detectorRecordsFailed: cloudwatch.Alarm;
  /** The oldest unsealed window is overdue, or the sequencer stopped reporting (a stopped or crashing sequencer). */
  public readonly sequencerLag: cloudwatch.Alarm;
  /** The sequencer set aside a window it could not seal as planned. */
  public readonly windowsSetAside: cloudwatch.Alarm;
  /** Ingest reported records of a batch as failed (they are retried, then dead-lettered). */
  public readonly ingestRecordsFailed: cloudwatch.Alarm;
  /** The alert function reported records of a batch as failed (they are retried, then dead-lettered). */
  public readonly alertRecordsFailed: cloudwatch.Alarm;
  public readonly rescueErrors: cloudwatch.Alarm;
  /** The rescue function is hours behind its stream, whose records expire after 24 hours. */
  public readonly rescueIteratorAge: cloudwatch.Alarm;
  /** The ingest function rejected an event into the archive's quarantine prefix. */
  public readonly eventsQuarantined: cloudwatch.Alarm;
  /** One alarm per dead-letter queue, by the names given in `deadLetterQueues`. */
  public readonly deadLetters: ReadonlyMap<string, cloudwatch.Alarm>;
  /** The Auth0 source's alarms, when it is deployed. */
  public readonly auth0?: {
    readonly ingestBacklog: cloudwatch.Alarm;
    readonly ingestErrors: cloudwatch.Alarm;
    readonly sequencerErrors: cloudwatch.Alarm;
    /** The Auth0 sequencer was not invoked for minutes on end (its lag metric is shared with Okta's sequencer). */
    readonly sequencerStopped: cloudwatch.Alarm;
    readonly rescueErrors: cloudwatch.Alarm;
    readonly rescueIteratorAge: cloudwatch.Alarm;
    /** Its oldest unsealed window is overdue (its own metric, under the `source` dimension). */
    readonly sequencerLag: cloudwatch.Alarm;
    readonly windowsSetAside: cloudwatch.Alarm;
    readonly eventsQuarantined: cloudwatch.Alarm;
    readonly httpSink?: {
      readonly errors: cloudwatch.Alarm;
      /** Requests refused for want of concurrency: Auth0 sees 429s and retries, then suspends the stream. */
      readonly throttles: cloudwatch.Alarm;
      /** Every minute for minutes on end, requests carried a wrong Authorization header. */
      readonly unauthorized: cloudwatch.Alarm;
      /** A body was too large or unreadable (400, 413): Auth0 retries, then suspends the stream. */
      readonly bodyRejected: cloudwatch.Alarm;
    };
  };

  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    this.action = new actions.SnsAction(props.alarmTopic);
    const silenceMinutes = props.silenceMinutes ?? DEFAULT_SILENCE_MINUTES;
    const maxIngestAge = props.maxIngestAge ?? Duration.minutes(15);

    // Measured at the ingest queue rather than the rule (AWS/Events MatchedEvents): it counts what actually entered
    // the pipeline, so it also catches a broken rule target. SQS stops publishing metrics for an idle queue, so a
    // missing data point is silence too.
    if (props.watchdog === undefined) {
      this.feedSilence = this.alarm('FeedSilence', {
        metric: props.ingestQueue.metricNumberOfMessagesSent({ period: ONE_MINUTE, statistic: 'Sum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: silenceMinutes,
        datapointsToAlarm: silenceMinutes,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription:
          `No Okta event reached the pipeline for ${silenceMinutes} minutes. A quiet org can be this silent at night ` +
          'or at weekends (raise silenceMinutes if this alarm is routine). Otherwise check the log stream in the Okta ' +
          'admin console (Reports > Log Streaming): Okta deactivates a stream after two failed deliveries, and an ' +
          'admin must reactivate it.',
      });
    } else {
      this.watchdog = this.watchdogAlarms(props.watchdog.fn, props.watchdog.schedule);
    }
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
    this.detectorErrors = this.errorsOf(
      'DetectorErrors',
      props.detectorFunction,
      'The detector of stateful alert rules failed; their events wait in the detector queue.',
    );

    // The sequencer reports the age every run, and runs every minute: no report for minutes on end means it is not
    // running (schedule disabled, concurrency 0, crashing), so missing data breaches.
    const maxWindowAge = props.windowSealDelay.plus(SEQUENCER_LAG_SLACK);
    this.sequencerLag = this.alarm('SequencerLag', {
      metric: pipelineMetric('OldestUnsealedWindowAgeSeconds', 'Maximum'),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: maxWindowAge.toSeconds(),
      evaluationPeriods: SEQUENCER_SILENT_MINUTES,
      datapointsToAlarm: SEQUENCER_SILENT_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription:
        `The oldest unsealed window is over ${maxWindowAge.toSeconds()} s old, or the sequencer has not reported for ` +
        `${SEQUENCER_SILENT_MINUTES} minutes: events are staged but not archived, and staged events wait longer than ` +
        "planned. Check the sequencer's logs for errors or timeouts, that its schedule rule is enabled, and that its " +
        'reserved concurrency is 1 (not 0). It catches up by itself once it runs again.',
    });
    this.windowsSetAside = this.alarm('WindowsSetAside', {
      metric: pipelineMetric('SetAsideWindows', 'Maximum'),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 0,
      evaluationPeriods: 1,
      alarmDescription:
        'The sequencer set aside a window it could not seal as planned (every other window is still sealed). Read ' +
        "the set-aside record: the items with pk 'set-aside' in the events table, or the sequencer's log line " +
        '"window set aside"; each says which window, where and why.',
    });
    this.ingestRecordsFailed = this.alarm('IngestRecordsFailed', {
      metric: pipelineMetric('IngestRecordsFailed', 'Sum'),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 0,
      evaluationPeriods: 1,
      alarmDescription:
        'Ingest reported records of a batch as failed; SQS redelivers them, then moves them to the Ingest ' +
        "dead-letter queue. See the ingest function's logs.",
    });
    this.alertRecordsFailed = this.alarm('AlertRecordsFailed', {
      metric: pipelineMetric('AlertRecordsFailed', 'Sum'),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 0,
      evaluationPeriods: 1,
      alarmDescription:
        'The alert function reported records of a batch as failed (e.g. publishing to the alert topic failed); SQS ' +
        "redelivers them, then moves them to the Alert dead-letter queue. See the alert function's logs.",
    });
    this.detectorRecordsFailed = this.alarm('DetectorRecordsFailed', {
      metric: pipelineMetric('DetectorRecordsFailed', 'Sum'),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 0,
      evaluationPeriods: 1,
      alarmDescription:
        'The detector reported records of a batch as failed (its table or the alert queue refused a request); SQS ' +
        "redelivers them, then moves them to the Detector dead-letter queue. See the detector function's logs.",
    });
    this.rescueErrors = this.errorsOf(
      'RescueErrors',
      props.rescueFunction,
      'The rescue function failed: staged events DynamoDB TTL deleted before their window was sealed are not being ' +
        'staged again. Its stream keeps them 24 hours; see its logs.',
    );
    this.rescueIteratorAge = this.alarm('RescueIteratorAge', {
      metric: props.rescueFunction.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: MAX_RESCUE_ITERATOR_AGE.toMilliseconds(),
      evaluationPeriods: 1,
      alarmDescription:
        `The rescue function is over ${MAX_RESCUE_ITERATOR_AGE.toHours()} hours behind the events table stream, ` +
        'whose records expire after 24 hours: a record it does not reach in time is lost. See its logs and errors.',
    });

    this.eventsQuarantined = this.alarm('EventsQuarantined', {
      metric: pipelineMetric('EventsQuarantined', 'Sum'),
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
    if (props.auth0 !== undefined) this.auth0 = this.auth0Alarms(props.auth0, maxIngestAge, props.windowSealDelay);
  }

  private auth0Alarms(
    auth0: Auth0AlarmSources,
    maxIngestAge: Duration,
    windowSealDelay: Duration,
  ): NonNullable<PipelineAlarms['auth0']> {
    // Lambda's own metrics, by function name: the Powertools metrics of both sources share one dimension set.
    const sequencerRuns = auth0.sequencerFunction.metricInvocations({ period: ONE_MINUTE, statistic: 'Sum' });
    return {
      ingestBacklog: this.alarm('Auth0IngestBacklog', {
        metric: auth0.ingestQueue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: 'Maximum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: maxIngestAge.toSeconds(),
        evaluationPeriods: 1,
        alarmDescription: `Auth0 logs have waited over ${maxIngestAge.toMinutes()} minutes in the Auth0 ingest queue.`,
      }),
      ingestErrors: this.errorsOf('Auth0IngestErrors', auth0.ingestFunction, 'The Auth0 ingest function failed.'),
      sequencerErrors: this.errorsOf(
        'Auth0SequencerErrors',
        auth0.sequencerFunction,
        'The Auth0 sequencer failed; Auth0 windows are not being sealed and archived under auth0/.',
      ),
      sequencerStopped: this.alarm('Auth0SequencerStopped', {
        metric: sequencerRuns,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: SEQUENCER_SILENT_MINUTES,
        datapointsToAlarm: SEQUENCER_SILENT_MINUTES,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription:
          `The Auth0 sequencer has not run for ${SEQUENCER_SILENT_MINUTES} minutes: Auth0 logs are staged but not ` +
          'archived. Check that its schedule rule is enabled and its reserved concurrency is 1 (not 0). Windows ' +
          `overdue by more than ${windowSealDelay.plus(SEQUENCER_LAG_SLACK).toSeconds()} s raise Auth0SequencerLag.`,
      }),
      rescueErrors: this.errorsOf(
        'Auth0RescueErrors',
        auth0.rescueFunction,
        'The Auth0 rescue function failed: staged Auth0 logs DynamoDB TTL deleted before their window was sealed are ' +
          'not being staged again. Its stream keeps them 24 hours; see its logs.',
      ),
      rescueIteratorAge: this.alarm('Auth0RescueIteratorAge', {
        metric: auth0.rescueFunction.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: MAX_RESCUE_ITERATOR_AGE.toMilliseconds(),
        evaluationPeriods: 1,
        alarmDescription:
          `The Auth0 rescue function is over ${MAX_RESCUE_ITERATOR_AGE.toHours()} hours behind the Auth0 events ` +
          'table stream, whose records expire after 24 hours. See its logs and errors.',
      }),
      // The Auth0 functions report their own metrics under `source: auth0` (lambdas/shared/powertools.ts).
      sequencerLag: this.alarm('Auth0SequencerLag', {
        metric: sourceMetric('OldestUnsealedWindowAgeSeconds', 'Maximum', 'auth0'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: windowSealDelay.plus(SEQUENCER_LAG_SLACK).toSeconds(),
        evaluationPeriods: SEQUENCER_SILENT_MINUTES,
        datapointsToAlarm: SEQUENCER_SILENT_MINUTES,
        alarmDescription:
          `The oldest unsealed Auth0 window is over ${windowSealDelay.plus(SEQUENCER_LAG_SLACK).toSeconds()} s old: ` +
          "Auth0 logs are staged but not archived. See the Auth0 sequencer's logs.",
      }),
      windowsSetAside: this.alarm('Auth0WindowsSetAside', {
        metric: sourceMetric('SetAsideWindows', 'Maximum', 'auth0'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription:
          "The Auth0 sequencer set aside a window it could not seal: the Auth0 events table's items with pk " +
          "'set-aside' say which and why.",
      }),
      eventsQuarantined: this.alarm('Auth0EventsQuarantined', {
        metric: sourceMetric('EventsQuarantined', 'Sum', 'auth0'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription: 'Auth0 logs were quarantined: see auth0/quarantine/ in the archive bucket for each reason.',
      }),
      ...(auth0.httpSinkFunction === undefined ? {} : { httpSink: this.httpSinkAlarms(auth0.httpSinkFunction) }),
    };
  }

  private httpSinkAlarms(fn: lambda.IFunction): NonNullable<NonNullable<PipelineAlarms['auth0']>['httpSink']> {
    return {
      errors: this.errorsOf(
        'Auth0HttpSinkErrors',
        fn,
        'The Auth0 HTTP sink failed (Auth0 got a 5xx and retries; a sink that keeps failing gets the stream ' +
          'suspended): see its logs, then `olp auth0 stream status` and `resume`.',
      ),
      throttles: this.alarm('Auth0HttpSinkThrottles', {
        metric: fn.metricThrottles({ period: ONE_MINUTE, statistic: 'Sum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription:
          'The Auth0 HTTP sink ran out of reserved concurrency: Auth0 got 429s and retries. A flood of requests to ' +
          'its public URL does this too; check the sink for 401s.',
      }),
      unauthorized: this.alarm('Auth0HttpSinkUnauthorized', {
        metric: pipelineMetric(AUTH0_HTTP_UNAUTHORIZED_METRIC, 'Sum'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: UNAUTHORIZED_MINUTES,
        datapointsToAlarm: UNAUTHORIZED_MINUTES,
        alarmDescription:
          `For ${UNAUTHORIZED_MINUTES} minutes in a row the Auth0 HTTP sink answered 401: the Authorization value of ` +
          'the log stream and the one in the auth0HttpSecretName secret differ (Auth0 suspends a stream that keeps ' +
          'failing), or someone is probing the URL.',
      }),
      bodyRejected: this.alarm('Auth0HttpSinkBodyRejected', {
        metric: pipelineMetric(AUTH0_HTTP_BODY_REJECTED_METRIC, 'Sum'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 1,
        alarmDescription:
          'The Auth0 HTTP sink refused a body as too large (413) or unreadable (400, quarantined under ' +
          "auth0/quarantine/): check the log stream's content format, and see the sink's logs.",
      }),
    };
  }

  private watchdogAlarms(fn: lambda.IFunction, schedule: Duration): NonNullable<PipelineAlarms['watchdog']> {
    const period = schedule;
    // The watchdog reports once per run, so its metrics are read per schedule period.
    const watchdogMetric = (metricName: string, statistic: 'Sum' | 'Maximum' | 'Minimum') =>
      pipelineMetric(metricName, 'Sum').with({ period, statistic });
    return {
      streamDroppingEvents: this.alarm('StreamDroppingEvents', {
        metric: watchdogMetric('EventsMissingFromStream', 'Sum'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: MISSING_PERIODS,
        datapointsToAlarm: MISSING_PERIODS,
        alarmDescription:
          `For ${MISSING_PERIODS} watchdog runs in a row, Okta logged events that the log stream did not deliver ` +
          'within the allowed lateness. The watchdog refills them from the System Log API (archived as late ' +
          'supplements with origin backfill), so nothing is lost, but the stream is not doing its job: check its ' +
          'status (olp stream status) and the partner event source and bus.',
      }),
      logStreamInactive: this.alarm('LogStreamInactive', {
        metric: watchdogMetric('LogStreamActive', 'Minimum'),
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        alarmDescription:
          'The Okta log stream that feeds the pipeline is INACTIVE or gone. The watchdog raised a critical alert on ' +
          'the alert topic and refills the gap from the System Log API; reactivate the stream (olp stream activate) ' +
          'once the AWS side is checked, or let autoReactivate do it.',
      }),
      errors: this.alarm('WatchdogErrors', {
        metric: fn.metricErrors({ period, statistic: 'Sum' }),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: 0,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        alarmDescription:
          'The feed watchdog failed two runs in a row (Okta API errors, bad credentials in its secret, rate ' +
          'limits): see its logs. It resumes where it stopped once it runs again.',
      }),
      lag: this.alarm('WatchdogLag', {
        metric: watchdogMetric('WatchdogLagSeconds', 'Maximum'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        threshold: MAX_WATCHDOG_LAG.toSeconds(),
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription:
          `The feed watchdog has not checked the System Log for over ${MAX_WATCHDOG_LAG.toHours()} hour, or has not ` +
          'reported for three of its periods: gaps in the stream are not being found. Check its errors, schedule and ' +
          'reserved concurrency (1, not 0).',
      }),
    };
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
