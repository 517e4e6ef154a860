import type { AlertRuleSummary } from '../../lib/rules/types.ts';
import { type FormattedAlert, formatAlert } from '../alert/format-alert.ts';
import { envelopeIdOf } from '../shared/system-log-envelope.ts';

/**
 * The alerts the watchdog raises itself, about the feed rather than about one System Log event. They go through the
 * alert formatter, so subscribers get the same SNS message (subject, text, JSON, `severity`/`eventType`/`ruleId`
 * attributes) as for rule alerts. The "event" is the watchdog's finding, shaped like a System Log event: its uuid is a
 * UUIDv5 of what makes the alert unique (the episode), so the alert claim makes it fire once however often it is
 * raised.
 */

export const WATCHDOG_RUNBOOK = 'the README of okta-log-pipeline, section "The feed watchdog"';

const STREAM_INACTIVE: AlertRuleSummary = {
  id: 'olp-watchdog-log-stream-inactive',
  title: 'Okta log stream is not delivering',
  severity: 'critical',
  subject: 'Log stream {target} is INACTIVE: events are not delivered',
  description:
    'The Okta log stream that feeds this pipeline is INACTIVE: Okta deactivates a stream after two failed ' +
    'deliveries, or an admin deactivated it. Okta keeps logging; the watchdog refills the gap from the System Log ' +
    'API, so the archive and the alerts catch up, but with a delay of minutes until the stream is active again.',
  runbook: [
    '1. Find why: the log-stream-deactivated alert (or the System Log event system.log_stream.lifecycle.deactivate)',
    '   names who deactivated it; the actor "system" means deliveries failed.',
    '2. Check the AWS side before reactivating (the partner event source and the event bus with its name exist):',
    '   aws events describe-event-source --name <source>; aws events describe-event-bus --name <source>',
    '3. Reactivate: olp stream activate --okta-org <org> <stream id>, or Admin Console > Reports > Log Streaming.',
    '   With autoReactivate the watchdog does this itself and says so in a follow-up alert.',
    '4. Nothing to refill by hand: the watchdog backfills from the System Log API. To prove it afterwards:',
    '   olp audit --okta-org <org> --since <when it stopped> --bucket <archive bucket>',
    `More: ${WATCHDOG_RUNBOOK}`,
  ].join('\n'),
};

const STREAM_REACTIVATED: AlertRuleSummary = {
  id: 'olp-watchdog-log-stream-reactivated',
  title: 'Okta log stream reactivated by the watchdog',
  severity: 'high',
  subject: 'Log stream {target} reactivated by the watchdog',
  description:
    'The watchdog found the log stream INACTIVE and, as autoReactivate allows, activated it. If the cause of the ' +
    'failed deliveries remains, Okta deactivates it again after two more failures and the watchdog alerts again.',
  runbook: [
    '1. Find why deliveries failed (partner event source, event bus, AWS account limits) so it does not recur.',
    '2. The gap is being refilled from the System Log API; olp audit proves the archive complete afterwards.',
    `More: ${WATCHDOG_RUNBOOK}`,
  ].join('\n'),
};

const STREAM_MISSING: AlertRuleSummary = {
  id: 'olp-watchdog-log-stream-missing',
  title: 'No Okta log stream feeds this pipeline',
  severity: 'critical',
  subject: 'No Okta log stream has event source {target}',
  description:
    'No log stream of the Okta org has the event source name this pipeline is deployed for: it was deleted, or the ' +
    'pipeline is configured for another org or name. Nothing is delivered; the watchdog keeps refilling from the ' +
    'System Log API.',
  runbook: [
    '1. olp stream list --okta-org <org>: which streams exist, and their event source names.',
    '2. A deleted stream cannot be restored: create a new one (olp stream create) and redeploy with its source name.',
    `More: ${WATCHDOG_RUNBOOK}`,
  ].join('\n'),
};

const UNCHECKED_RANGE: AlertRuleSummary = {
  id: 'olp-watchdog-range-unchecked',
  title: 'The watchdog skipped a range it could no longer check',
  severity: 'high',
  subject: 'Watchdog skipped {target}: prove it with olp audit',
  description:
    'The watchdog was behind by more than the dedupe retention allows (it was stopped, or failed for days), so it ' +
    'could no longer tell delivered events from missing ones in this range without risking archiving some twice. ' +
    'It moved on; the range may hold events the stream never delivered.',
  runbook: [
    '1. Prove the range complete against the archive, and fill what is missing:',
    '   olp audit --okta-org <org> --since <from> --until <to> --bucket <archive bucket> --fill ...',
    '2. Find why the watchdog stopped: its function errors and the WatchdogErrors alarm.',
    `More: ${WATCHDOG_RUNBOOK}`,
  ].join('\n'),
};

/** A log stream as the alerts name it. */
export interface StreamRef {
  readonly id: string;
  readonly name: string;
  readonly eventSourceName: string;
}

/** The watchdog's finding as the formatter reads an event: uuid, published, eventType, actor, target. */
export const finding = (
  key: string,
  eventType: string,
  published: string,
  target: { readonly id: string; readonly type: string; readonly displayName: string },
  displayMessage: string,
  details: Record<string, unknown>,
) => ({
  uuid: envelopeIdOf(key),
  published,
  eventType,
  displayMessage,
  actor: { id: 'okta-log-pipeline', type: 'Watchdog', alternateId: 'watchdog', displayName: 'olp watchdog' },
  target: [{ ...target, alternateId: target.id }],
  ...details,
});

const streamTarget = (stream: StreamRef) => ({
  id: stream.id,
  type: 'LogStream',
  displayName: stream.name === '' ? stream.id : stream.name,
});

export interface WatchdogAlert {
  /** The rule id and uuid the alert is claimed under: once per pair. */
  readonly ruleId: string;
  readonly uuid: string;
  readonly alert: FormattedAlert;
}

/** The alert for a finding; `sourceLabel` names the log source in the subject (Okta unless said otherwise). */
export const alertOf = (
  rule: AlertRuleSummary,
  event: ReturnType<typeof finding>,
  raisedAt: string,
  sourceLabel?: string,
): WatchdogAlert => ({
  ruleId: rule.id,
  uuid: event.uuid,
  alert: formatAlert(rule, event, { raisedAt, ...(sourceLabel === undefined ? {} : { sourceLabel }) }),
});

/** The stream is INACTIVE: one per episode (the episode key: the stream id and Okta's `lastUpdated`). */
export const streamInactiveAlert = (
  stream: StreamRef,
  episode: { readonly key: string; readonly since: string },
  raisedAt: string,
): WatchdogAlert =>
  alertOf(
    STREAM_INACTIVE,
    finding(
      episode.key,
      'olp.watchdog.log_stream_inactive',
      episode.since,
      streamTarget(stream),
      `Log stream INACTIVE since ${episode.since}; the watchdog refills the gap from the System Log API`,
      { logStream: { ...stream, status: 'INACTIVE', inactiveSince: episode.since } },
    ),
    raisedAt,
  );

/** The watchdog activated the stream (autoReactivate): once per episode. */
export const streamReactivatedAlert = (
  stream: StreamRef,
  episode: { readonly key: string; readonly since: string },
  raisedAt: string,
): WatchdogAlert =>
  alertOf(
    STREAM_REACTIVATED,
    finding(
      `${episode.key}#reactivated`,
      'olp.watchdog.log_stream_reactivated',
      raisedAt,
      streamTarget(stream),
      `Log stream INACTIVE since ${episode.since} reactivated by the watchdog`,
      { logStream: { ...stream, status: 'ACTIVE', inactiveSince: episode.since, reactivatedAt: raisedAt } },
    ),
    raisedAt,
  );

/** No stream has the configured event source name: once per alert-dedupe retention. */
export const streamMissingAlert = (eventSourceName: string, since: string, raisedAt: string): WatchdogAlert =>
  alertOf(
    STREAM_MISSING,
    finding(
      `missing#${eventSourceName}`,
      'olp.watchdog.log_stream_missing',
      since,
      { id: eventSourceName, type: 'EventSource', displayName: eventSourceName },
      `No Okta log stream has the event source name ${eventSourceName}`,
      { eventSourceName },
    ),
    raisedAt,
  );

/** The watchdog moved past a range it could not check: once per range. */
export const rangeUncheckedAlert = (from: string, to: string, raisedAt: string): WatchdogAlert =>
  alertOf(
    UNCHECKED_RANGE,
    finding(
      `unchecked#${from}#${to}`,
      'olp.watchdog.range_unchecked',
      raisedAt,
      { id: `${from}/${to}`, type: 'TimeRange', displayName: `${from} to ${to}` },
      `System Log events published from ${from} to ${to} were not checked against the stream`,
      { unchecked: { from, to } },
    ),
    raisedAt,
  );
