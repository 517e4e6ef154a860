import type { AlertRuleSummary } from '../../lib/rules/types.ts';
import type { Auth0Episode } from './auth0-watchdog-state.ts';
import { alertOf, finding, WATCHDOG_RUNBOOK, type WatchdogAlert } from './watchdog-alerts.ts';

/**
 * The alerts the watchdog raises about the Auth0 log stream, shaped and claimed as its Okta alerts are
 * (watchdog-alerts.ts): the same formatter, SNS message and attributes, each claimed under a UUIDv5 of what makes it
 * unique (the episode), so it fires once however often a run raises it.
 */

const AUTH0_RUNBOOK = `${WATCHDOG_RUNBOOK}, and "Connecting an Auth0 tenant"`;

/** The Auth0 log stream as the alerts name it. */
export interface Auth0StreamRef {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  /** eventbridge: the partner event source; http: the endpoint (credentials in it redacted). */
  readonly sink: string;
}

const STATUS_MEANING: Readonly<Record<Auth0Episode['status'], string>> = {
  suspended:
    'Auth0 suspended it: Auth0 suspends a log stream whose sink keeps failing, and a suspended stream delivers ' +
    'nothing until it is resumed.',
  paused:
    'It is paused: an admin paused it (Dashboard, or PATCH /api/v2/log-streams/{id} with status paused), or Auth0 ' +
    'paused it after failing to reach the sink for 7 consecutive days. A paused stream delivers nothing until it is ' +
    'resumed.',
  missing:
    'No log stream of the tenant delivers to this pipeline: it was deleted, or the pipeline is set up for another.',
};

const streamDownRule = (status: 'paused' | 'suspended'): AlertRuleSummary => ({
  id: 'olp-watchdog-auth0-log-stream-down',
  title: 'Auth0 log stream is not delivering',
  severity: 'critical',
  subject: `Auth0 log stream {target} is ${status}: logs are not delivered`,
  description:
    `The Auth0 log stream that feeds this pipeline is ${status}. ${STATUS_MEANING[status]} Auth0 keeps logging; ` +
    'the watchdog refills the gap from the Management API (GET /api/v2/logs), so the archive and the alerts catch ' +
    'up, with a delay, unless the stream filters categories or hides PII (then nothing is refilled).',
  runbook: [
    '1. olp auth0 stream status --domain <tenant> --id <stream id>: the stream, its sink and its status.',
    '2. Check the sink before resuming. EventBridge: the partner event source and the event bus named after it exist',
    '   (aws events describe-event-source --name <source>; aws events describe-event-bus --name <source>). HTTP: the',
    '   sink function answers (its alarms Auth0HttpSinkErrors, Auth0HttpSinkUnauthorized, Auth0HttpSinkThrottles).',
    '3. Resume: olp auth0 stream resume --domain <tenant> --id <stream id>, or the Dashboard (Monitoring > Streams).',
    '   With autoReactivate the watchdog does this itself, at most once an hour, and says so in a follow-up alert.',
    '4. Nothing to refill by hand: the watchdog sends the logs the stream did not deliver through the Auth0 ingest.',
    `More: ${AUTH0_RUNBOOK}`,
  ].join('\n'),
});

const STREAM_MISSING: AlertRuleSummary = {
  id: 'olp-watchdog-auth0-log-stream-missing',
  title: 'No Auth0 log stream feeds this pipeline',
  severity: 'critical',
  subject: 'No Auth0 log stream delivers to {target}',
  description: `${STATUS_MEANING.missing} Nothing is delivered; the watchdog keeps refilling from the Management API.`,
  runbook: [
    '1. olp auth0 stream list --domain <tenant>: which streams exist, and their sinks.',
    '2. A deleted stream cannot be restored: create one (olp auth0 stream create) with the same sink. An eventbridge',
    '   stream gets a new partner event source: redeploy with it as auth0EventSourceName.',
    `More: ${AUTH0_RUNBOOK}`,
  ].join('\n'),
};

const STREAM_RESUMED: AlertRuleSummary = {
  id: 'olp-watchdog-auth0-log-stream-resumed',
  title: 'Auth0 log stream resumed by the watchdog',
  severity: 'high',
  subject: 'Auth0 log stream {target} resumed by the watchdog',
  description:
    'The watchdog found the Auth0 log stream paused or suspended and, as autoReactivate allows, set it active ' +
    '(PATCH /api/v2/log-streams/{id}). If the cause remains, the stream stops again; the watchdog resumes it at most ' +
    'once an hour and alerts for each new episode.',
  runbook: [
    '1. Find why it stopped (the sink, the partner event source and bus, an admin pausing it) so it does not recur.',
    '2. The gap is being refilled from the Management API.',
    `More: ${AUTH0_RUNBOOK}`,
  ].join('\n'),
};

const RESUME_FAILED: AlertRuleSummary = {
  id: 'olp-watchdog-auth0-log-stream-resume-failed',
  title: 'The watchdog could not resume the Auth0 log stream',
  severity: 'high',
  subject: 'Watchdog could not resume Auth0 log stream {target}',
  description:
    'With autoReactivate the watchdog asked Auth0 to set the log stream active, and Auth0 refused (the reason is in ' +
    'the alert). It tries again at most once an hour; until then the stream delivers nothing and the watchdog refills.',
  runbook: [
    "1. The reason names the call and Auth0's error: 403 insufficient_scope means the watchdog's application lacks",
    '   update:log_streams; 404 means the stream is gone.',
    '2. Resume it by hand: olp auth0 stream resume --domain <tenant> --id <stream id>.',
    `More: ${AUTH0_RUNBOOK}`,
  ].join('\n'),
};

const UNCHECKED_LOGS: AlertRuleSummary = {
  id: 'olp-watchdog-auth0-logs-unchecked',
  title: 'The watchdog skipped Auth0 logs it could no longer check',
  severity: 'high',
  subject: 'Watchdog skipped Auth0 logs {target}: check them by hand',
  description:
    'The watchdog was behind by more than the dedupe retention allows (it was stopped, or failed for days), so it ' +
    'could no longer tell delivered Auth0 logs from missing ones without risking archiving some twice. It moved on; ' +
    'these logs may include some the stream never delivered.',
  runbook: [
    '1. The logs lie between the two log ids in the alert, dated as it says; compare them with the auth0/ archive.',
    '2. Find why the watchdog stopped: its function errors and the Auth0WatchdogErrors alarm.',
    `More: ${AUTH0_RUNBOOK}`,
  ].join('\n'),
};

const streamTarget = (stream: Auth0StreamRef) => ({
  id: stream.id,
  type: 'Auth0LogStream',
  displayName: stream.name === '' ? stream.id : stream.name,
});

/** The stream is paused or suspended: once per episode. */
export const auth0StreamDownAlert = (
  stream: Auth0StreamRef,
  episode: Pick<Auth0Episode, 'key' | 'since'> & { readonly status: 'paused' | 'suspended' },
  raisedAt: string,
): WatchdogAlert =>
  alertOf(
    streamDownRule(episode.status),
    finding(
      episode.key,
      `olp.watchdog.auth0_log_stream_${episode.status}`,
      episode.since,
      streamTarget(stream),
      `Auth0 log stream ${episode.status} (found at ${episode.since}); the watchdog refills the gap from the ` +
        'Management API',
      { logStream: { ...stream, status: episode.status, downSince: episode.since } },
    ),
    raisedAt,
    'Auth0',
  );

/** No stream delivers to this pipeline: once per episode. */
export const auth0StreamMissingAlert = (
  wanted: string,
  episode: Pick<Auth0Episode, 'key' | 'since'>,
  raisedAt: string,
): WatchdogAlert =>
  alertOf(
    STREAM_MISSING,
    finding(
      episode.key,
      'olp.watchdog.auth0_log_stream_missing',
      episode.since,
      { id: wanted, type: 'Auth0LogStreamSink', displayName: wanted },
      `No Auth0 log stream delivers to ${wanted}`,
      { wanted },
    ),
    raisedAt,
    'Auth0',
  );

/** The watchdog resumed the stream (autoReactivate): once per episode. */
export const auth0StreamResumedAlert = (
  stream: Auth0StreamRef,
  episode: Pick<Auth0Episode, 'key' | 'since' | 'status'>,
  raisedAt: string,
): WatchdogAlert =>
  alertOf(
    STREAM_RESUMED,
    finding(
      `${episode.key}#resumed`,
      'olp.watchdog.auth0_log_stream_resumed',
      raisedAt,
      streamTarget(stream),
      `Auth0 log stream ${episode.status} since ${episode.since} resumed by the watchdog`,
      { logStream: { ...stream, status: 'active', downSince: episode.since, resumedAt: raisedAt } },
    ),
    raisedAt,
    'Auth0',
  );

/** Auth0 refused to resume the stream: once per episode. */
export const auth0ResumeFailedAlert = (
  stream: Auth0StreamRef,
  episode: Pick<Auth0Episode, 'key' | 'since' | 'status'>,
  reason: string,
  raisedAt: string,
): WatchdogAlert =>
  alertOf(
    RESUME_FAILED,
    finding(
      `${episode.key}#resume-failed`,
      'olp.watchdog.auth0_log_stream_resume_failed',
      raisedAt,
      streamTarget(stream),
      `Could not resume the Auth0 log stream, ${episode.status} since ${episode.since}: ${reason}`,
      { logStream: { ...stream, status: episode.status, downSince: episode.since }, reason },
    ),
    raisedAt,
    'Auth0',
  );

/** The watchdog moved past logs it could not check: once per range of log ids. */
export const auth0LogsUncheckedAlert = (
  range: { readonly fromId: string; readonly toId: string; readonly fromDate: string; readonly toDate: string },
  raisedAt: string,
): WatchdogAlert =>
  alertOf(
    UNCHECKED_LOGS,
    finding(
      `auth0-unchecked#${range.fromId}#${range.toId}`,
      'olp.watchdog.auth0_logs_unchecked',
      raisedAt,
      {
        id: `${range.fromId}/${range.toId}`,
        type: 'Auth0LogRange',
        displayName: `${range.fromDate} to ${range.toDate}`,
      },
      `Auth0 logs ${range.fromId} to ${range.toId} (dated ${range.fromDate} to ${range.toDate}) were not checked ` +
        'against the stream',
      { unchecked: range },
    ),
    raisedAt,
    'Auth0',
  );
