import { routeEvent } from '../../lib/rules/routing.ts';
import type { CompiledAlertRule } from '../../lib/rules/types.ts';
import type { AlertClaims, AlertPublisher } from '../alert/process-alert.ts';
import { MAX_CLOCK_SKEW_MS } from '../ingest/ingest-envelope.ts';
import { Auth0LogCore } from '../shared/auth0-log.ts';
import { AUTH0 } from '../shared/log-sources.ts';
import type { EventStore } from '../shared/ports.ts';
import type { QueueMessage, QueueSender } from '../shared/sqs-queue-sender.ts';
import { ORIGIN_ATTRIBUTE, type StagingSettings, stagedKeyOf } from '../shared/staged-event.ts';
import { type EnvelopeOrigin, wrapEvent } from '../shared/system-log-envelope.ts';
import {
  type Auth0StreamRef,
  auth0LogsUncheckedAlert,
  auth0ResumeFailedAlert,
  auth0StreamDownAlert,
  auth0StreamMissingAlert,
  auth0StreamResumedAlert,
} from './auth0-watchdog-alerts.ts';
import {
  type Auth0Episode,
  type Auth0ResumeOutcome,
  type Auth0StreamFinding,
  type Auth0WatchdogState,
  checkpointAdvanced,
  downAlertRaised,
  initialAuth0State,
  type LogAgeLimits,
  type LogMark,
  logAge,
  observeAuth0Stream,
  resumeAttempted,
  uncheckedRangeReported,
} from './auth0-watchdog-state.ts';
import { REACTIVATION_BACKOFF_MS, raiseOnce } from './run-watchdog.ts';
import type { WatchdogAlert } from './watchdog-alerts.ts';

/**
 * The feed watchdog's run for the Auth0 log stream: the Management API against what the stream delivered.
 *
 * 1. The stream: the one that feeds this deployment, and its status. Paused or suspended (or none) opens an episode:
 *    one critical alert per episode, and with autoReactivate a resume (at most once an hour) and a follow-up alert.
 * 2. The gap check: the tenant's logs after the checkpoint, in Auth0's checkpoint order (`log_id`), up to those
 *    younger than `checkDelay`. Each is looked up by its staging key (the API's log is the stream's `data`, so both
 *    copies have one key: docs/design.md, invariant 9); the ones the stream did not deliver go to the Auth0 ingest
 *    queue as backfill, and through the Auth0 alert rules to the alert queue. Only for a stream that delivers every
 *    log as the API returns it: one that filters categories or hides PII fields would have its omissions refilled.
 *
 * Every effect can be repeated (claimed alerts, ingest dedupe, resuming an active stream does nothing), and the state
 * is written only over the version read: retries and overlapping runs neither double nor skip anything.
 */

/** The log stream the watchdog watches, as the Management API describes it. */
export interface Auth0WatchedStream extends Auth0StreamRef {
  /** `active`, `paused` or `suspended` (Auth0's LogStreamStatusEnum); anything else counts as not delivering. */
  readonly status: string;
  /** Why what it delivers differs from the Management API's logs (category filters, PII fields), if it does. */
  readonly differs?: string;
}

/** Auth0 still answered 429 after the waits its `x-ratelimit-reset` asked for: this run leaves the rest to the next. */
export class Auth0RateLimitedError extends Error {
  override readonly name = 'Auth0RateLimitedError';
}

/** The Management API as the watchdog uses it (lib/auth0 over an Auth0Client deployed; the fake Auth0 in tests). */
export interface Auth0Feed {
  /** The stream that feeds this deployment, if any. */
  findStream(): Promise<Auth0WatchedStream | undefined>;
  /** Sets the stream active (a stream already active is left alone). */
  resume(id: string): Promise<void>;
  /** The tenant's logs after `from` in `log_id` order, a page at a time, until a page comes back empty. */
  readLogs(from: string): AsyncIterable<readonly unknown[]>;
  /** The tenant's newest logs, newest first, a page at a time, as far back as Auth0's search goes. */
  newestLogs(): AsyncIterable<readonly unknown[]>;
}

/** A state item written only over the version it was read at (dynamo-watchdog-store.ts). */
export interface VersionedStore<S> {
  read(): Promise<{ readonly state: S; readonly version: number } | undefined>;
  write(state: S, expected: number | undefined): Promise<boolean>;
}

export interface Auth0WatchdogDeps {
  readonly feed: Auth0Feed;
  readonly state: VersionedStore<Auth0WatchdogState>;
  /** The Auth0 events table, to tell delivered logs from missing ones. */
  readonly staged: Pick<EventStore, 'lookupStaged'>;
  /** The Auth0 ingest queue. */
  readonly ingestQueue: QueueSender;
  readonly alertQueue: QueueSender;
  /** Where refilled logs a stateful rule's pre-filter matches go, as the rule's EventBridge target would send them. */
  readonly detectorQueue: QueueSender;
  readonly claims: AlertClaims;
  readonly publisher: AlertPublisher;
  /** The deployed Auth0 alert rules, compiled for the envelope's source. */
  readonly rules: readonly CompiledAlertRule[];
  readonly now: () => number;
  readonly remainingMs: () => number;
}

export interface Auth0WatchdogSettings {
  readonly staging: StagingSettings;
  /** The envelope of refilled logs: the source Auth0's logs arrive with here, the stack's account and region. */
  readonly envelope: EnvelopeOrigin;
  /** What the stream is found by (its partner event source, or the sink's URL), as an alert names it. */
  readonly wanted: string;
  /** How long after its date a log is checked: the stream's allowed lateness plus Auth0's delay in indexing logs. */
  readonly checkDelayMs: number;
  /** The oldest log the watchdog may still check: newer than the dedupe retention (see the Okta watchdog's). */
  readonly maxCheckAgeMs: number;
  readonly autoReactivate: boolean;
  readonly maxPagesPerRun: number;
  readonly stopBeforeDeadlineMs: number;
}

export interface Auth0WatchdogReport {
  readonly status: Auth0StreamFinding['status'];
  /** Watchdog alerts published in this run. */
  readonly alerts: string[];
  readonly resumed: boolean;
  /** Logs read and checked against the events table. */
  readonly checked: number;
  /** Logs the stream had not delivered, sent to the Auth0 ingest queue as backfill. */
  readonly backfilled: number;
  readonly alertMessages: number;
  /** Logs passed without a check, too old for the dedupe retention (alerted on as a range). */
  readonly unchecked: number;
  readonly checkpoint?: string;
  /** Logs dated before this (epoch ms) are checked: the lag is now minus this. */
  readonly checkedThrough?: number;
  /** Why the gap check did not run, if it did not. */
  readonly gapCheckSkipped?: string;
  /** Where the first run started: after the newest log found staged, or (none staged) after the oldest read. */
  readonly started?: { readonly after: string; readonly staged: boolean };
  readonly moreToDo: boolean;
  /** Auth0 kept answering 429: the run stopped early. */
  readonly rateLimited: boolean;
  /** Another run wrote the state first: this run stopped without moving it. */
  readonly lostRace: boolean;
}

/** A log from the Management API as the stream would have delivered it: `{log_id, data}`. */
interface ApiLog {
  readonly record: Record<string, unknown>;
  readonly text: string;
  /** The log's id and date, when it is a valid Auth0 log. */
  readonly mark?: LogMark;
  /** Its id when it has one, valid or not: the checkpoint may move past it. */
  readonly id?: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asStreamLog = (log: unknown): ApiLog => {
  const id = isRecord(log) && typeof log.log_id === 'string' ? log.log_id : undefined;
  const record = { log_id: isRecord(log) ? log.log_id : undefined, data: log };
  const core = Auth0LogCore.safeParse(record);
  return {
    record,
    text: JSON.stringify(record),
    ...(id === undefined ? {} : { id }),
    ...(core.success ? { mark: { id: core.data.log_id, dateMs: Date.parse(core.data.data.date) } } : {}),
  };
};

const keyOf = (log: ApiLog & { mark: LogMark }, staging: StagingSettings) => {
  const date = (log.record.data as { date: string }).date;
  return stagedKeyOf({ uuid: log.mark.id, published: date }, log.record, staging);
};

const findingOf = (stream: Auth0WatchedStream | undefined): Auth0StreamFinding => {
  if (stream === undefined) return { status: 'missing' };
  if (stream.status === 'active') return { status: 'active', id: stream.id };
  return { status: stream.status === 'paused' ? 'paused' : 'suspended', id: stream.id };
};

/** Runs `call`; Auth0's persisting rate limit comes back as undefined, anything else is thrown. */
const unlessRateLimited = async <T>(call: () => Promise<T>): Promise<{ value: T } | undefined> => {
  try {
    return { value: await call() };
  } catch (error) {
    if (error instanceof Auth0RateLimitedError) return undefined;
    throw error;
  }
};

export const runAuth0Watchdog = async (
  deps: Auth0WatchdogDeps,
  settings: Auth0WatchdogSettings,
): Promise<Auth0WatchdogReport> => {
  const now = deps.now();
  const raisedAt = new Date(now).toISOString();
  const limits: LogAgeLimits = { ...settings, maxFutureMs: MAX_CLOCK_SKEW_MS };
  const stored = await deps.state.read();
  let version = stored?.version;
  let state: Auth0WatchdogState = stored?.state ?? initialAuth0State();
  const alerts: string[] = [];
  const progress = { checked: 0, backfilled: 0, alertMessages: 0, unchecked: 0, moreToDo: false, rateLimited: false };
  let resumed = false;
  let caughtUp = false;
  let gapCheckSkipped: string | undefined;
  let started: Auth0WatchdogReport['started'];

  const raise = async (raised: WatchdogAlert) => {
    if (await raiseOnce(deps, raised)) alerts.push(raised.ruleId);
  };
  const save = async (next: Auth0WatchdogState): Promise<boolean> => {
    if (!(await deps.state.write(next, version))) return false;
    version = (version ?? 0) + 1;
    state = next;
    return true;
  };

  // 1. The stream.
  const read = await unlessRateLimited(() => deps.feed.findStream());
  if (read === undefined) progress.rateLimited = true;
  const stream = read?.value;
  const finding: Auth0StreamFinding =
    read === undefined ? { status: 'unknown', reason: 'Auth0 rate-limited the log stream read' } : findingOf(stream);
  const report = (lostRace: boolean): Auth0WatchdogReport => ({
    status: finding.status,
    alerts,
    resumed,
    ...progress,
    ...(state.checkpoint === undefined ? {} : { checkpoint: state.checkpoint }),
    ...(caughtUp
      ? { checkedThrough: now - settings.checkDelayMs }
      : state.checkpointDate === undefined
        ? {}
        : { checkedThrough: state.checkpointDate }),
    ...(gapCheckSkipped === undefined ? {} : { gapCheckSkipped }),
    ...(started === undefined ? {} : { started }),
    lostRace,
  });

  const policy = { autoReactivate: settings.autoReactivate, resumeBackoffMs: REACTIVATION_BACKOFF_MS };
  const step = observeAuth0Stream(state, finding, now, policy);
  // Saved before alerting: the episode key names when a run first saw the stream down, so overlapping runs must agree
  // on one before either claims its alert.
  if (!(await save(step.state))) return report(true);
  const ref = (episode: Auth0Episode): Auth0StreamRef =>
    stream ?? { id: episode.streamId ?? '', name: '', type: '', sink: settings.wanted };
  for (const effect of step.effects) {
    const episode = state.episode;
    if (episode === undefined) break;
    if (effect.kind === 'alert-down') {
      await raise(
        episode.status === 'missing'
          ? auth0StreamMissingAlert(settings.wanted, episode, raisedAt)
          : auth0StreamDownAlert(ref(episode), { ...episode, status: episode.status }, raisedAt),
      );
      if (!(await save(downAlertRaised(state)))) return report(true);
      continue;
    }
    const outcome = await resume(deps.feed, effect.streamId);
    const after = resumeAttempted(state, outcome, now);
    resumed = outcome.ok;
    for (const followUp of after.effects) {
      await raise(
        followUp.kind === 'alert-resumed'
          ? auth0StreamResumedAlert(ref(episode), episode, raisedAt)
          : auth0ResumeFailedAlert(ref(episode), episode, after.state.episode?.resumeFailed ?? 'unknown', raisedAt),
      );
    }
    if (!outcome.ok && outcome.rateLimited) progress.rateLimited = true;
    if (!(await save(after.state))) return report(true);
  }

  // 2. The gap check.
  if (finding.status === 'unknown') {
    gapCheckSkipped = finding.reason;
    return report(false);
  }
  if (stream?.differs !== undefined) {
    gapCheckSkipped = `the stream ${stream.differs}: its logs differ from the Management API's, nothing is refilled`;
    caughtUp = true;
    return report(false);
  }

  /** Which of these logs the events table does not have, as ingest and alert-queue messages. */
  const check = async (logs: ReadonlyArray<ApiLog & { mark: LogMark }>, invalid: readonly ApiLog[]) => {
    const keyed = logs.map((log) => ({ log, key: keyOf(log, settings.staging) }));
    const found = new Set((await deps.staged.lookupStaged(keyed.map(({ key }) => key))).map((s) => `${s.pk}|${s.sk}`));
    const missing = keyed.filter(({ key }) => !found.has(`${key.pk}|${key.sk}`)).map(({ log }) => log);
    const backfill: QueueMessage[] = [];
    const alertMessages: QueueMessage[] = [];
    const detections: QueueMessage[] = [];
    // A log that is not a valid Auth0 log goes to ingest all the same, to be quarantined there with its reason.
    for (const log of [...missing, ...invalid]) {
      const { envelope, text } = wrapEvent(log.record, log.text, settings.envelope, AUTH0);
      backfill.push({ body: text, attributes: { [ORIGIN_ATTRIBUTE]: 'backfill' } });
      if (log.mark === undefined) continue;
      const routed = routeEvent(deps.rules, envelope);
      alertMessages.push(...routed.alerts.map((body) => ({ body })));
      detections.push(...routed.detections.map((body) => ({ body })));
    }
    return { backfill, alertMessages, detections, missing: missing.length };
  };

  if (state.checkpoint === undefined) {
    const start = await unlessRateLimited(() => startingPoint(deps, settings.staging, now, limits));
    if (start === undefined) {
      progress.rateLimited = true;
      return report(false);
    }
    if (start.value === undefined) {
      // The tenant has no log old enough to check yet: nothing to start after.
      caughtUp = true;
      return report(false);
    }
    started = { after: start.value.mark.id, staged: start.value.staged };
    if (!(await save(checkpointAdvanced(state, { last: start.value.mark, checked: 0, backfilled: 0, tooOld: [] })))) {
      return report(true);
    }
  }
  const from = state.checkpoint;
  if (from === undefined) return report(false);

  const reportUnchecked = async (): Promise<boolean> => {
    const range = state.unchecked;
    if (range === undefined) return true;
    await raise(
      auth0LogsUncheckedAlert(
        {
          fromId: range.fromId,
          toId: range.toId,
          fromDate: new Date(range.fromDate).toISOString(),
          toDate: new Date(range.toDate).toISOString(),
        },
        raisedAt,
      ),
    );
    return save(uncheckedRangeReported(state));
  };

  let pages = 0;
  try {
    for await (const page of deps.feed.readLogs(from)) {
      if (page.length === 0) {
        caughtUp = true;
        break;
      }
      // Checked when a page arrives, so that a run whose last page was its limit still reads the empty one after.
      if (pages >= settings.maxPagesPerRun || deps.remainingMs() < settings.stopBeforeDeadlineMs) {
        progress.moreToDo = true;
        break;
      }
      pages++;
      const checkable: Array<ApiLog & { mark: LogMark }> = [];
      const invalid: ApiLog[] = [];
      const tooOld: LogMark[] = [];
      let last: LogMark | undefined;
      for (const log of page.map(asStreamLog)) {
        const { mark } = log;
        const age = mark === undefined ? 'invalid' : logAge(mark.dateMs, now, limits);
        if (age === 'too-young') {
          caughtUp = true;
          break;
        }
        if (mark === undefined || age === 'future') {
          // Not an Auth0 log, or dated beyond the clock skew ingest allows: ingest quarantines it with the reason.
          invalid.push(log);
          if (log.id !== undefined) last = { id: log.id, dateMs: last?.dateMs ?? state.checkpointDate ?? now };
        } else if (age === 'too-old') {
          tooOld.push(mark);
          last = mark;
        } else {
          checkable.push({ ...log, mark });
          last = mark;
        }
      }
      const outcome = await check(checkable, invalid);
      // Sent before the checkpoint moves past them: a crash here re-reads the page, and ingest dedupes the copies.
      await deps.ingestQueue.send(outcome.backfill);
      await deps.alertQueue.send(outcome.alertMessages);
      await deps.detectorQueue.send(outcome.detections);
      progress.checked += checkable.length;
      progress.backfilled += outcome.missing;
      progress.alertMessages += outcome.alertMessages.length;
      progress.unchecked += tooOld.length;
      if (last !== undefined) {
        const next = checkpointAdvanced(state, {
          last,
          checked: checkable.length,
          backfilled: outcome.missing,
          tooOld,
        });
        if (!(await save(next))) return report(true);
      }
      // The check reached logs it can check again: the range of logs it passed is complete (a crash before the alert
      // leaves the range in the state, for the next run to report).
      if (checkable.length > 0 && !(await reportUnchecked())) return report(true);
      if (caughtUp) break;
    }
  } catch (error) {
    if (!(error instanceof Auth0RateLimitedError)) throw error;
    progress.rateLimited = true;
    progress.moreToDo = true;
  }
  if (caughtUp && !(await reportUnchecked())) return report(true);
  return report(false);
};

/** Asks Auth0 to resume the stream, and says how it went. */
const resume = async (feed: Auth0Feed, streamId: string): Promise<Auth0ResumeOutcome> => {
  try {
    await feed.resume(streamId);
    return { ok: true };
  } catch (error) {
    if (error instanceof Auth0RateLimitedError) return { ok: false, rateLimited: true };
    if (error instanceof Error) return { ok: false, rateLimited: false, reason: error.message };
    throw error;
  }
};

/**
 * Where the first run starts: after the newest log the events table holds (the last the stream delivered), among the
 * tenant's newest logs old enough to check, so the gap check picks up where delivery stopped even when the watchdog
 * is deployed during an outage. When none of them is staged, after the oldest of them (Auth0's search reaches 1,000
 * logs back); when a log is too old to check, after it.
 */
const startingPoint = async (
  deps: Pick<Auth0WatchdogDeps, 'feed' | 'staged'>,
  staging: StagingSettings,
  now: number,
  limits: LogAgeLimits,
): Promise<{ readonly mark: LogMark; readonly staged: boolean } | undefined> => {
  let oldest: LogMark | undefined;
  for await (const page of deps.feed.newestLogs()) {
    const candidates: Array<ApiLog & { mark: LogMark }> = [];
    for (const log of page.map(asStreamLog)) {
      if (log.mark === undefined) continue;
      const age = logAge(log.mark.dateMs, now, limits);
      if (age === 'too-old') {
        const staged = await newestStaged(deps, candidates, staging);
        return staged === undefined ? { mark: log.mark, staged: false } : { mark: staged, staged: true };
      }
      if (age === 'checkable') candidates.push({ ...log, mark: log.mark });
    }
    const staged = await newestStaged(deps, candidates, staging);
    if (staged !== undefined) return { mark: staged, staged: true };
    oldest = candidates.at(-1)?.mark ?? oldest;
  }
  return oldest === undefined ? undefined : { mark: oldest, staged: false };
};

/** The first of these logs (newest first) that the events table holds. */
const newestStaged = async (
  deps: Pick<Auth0WatchdogDeps, 'staged'>,
  logs: ReadonlyArray<ApiLog & { mark: LogMark }>,
  staging: StagingSettings,
): Promise<LogMark | undefined> => {
  if (logs.length === 0) return undefined;
  const keyed = logs.map((log) => ({ log, key: keyOf(log, staging) }));
  const found = new Set((await deps.staged.lookupStaged(keyed.map(({ key }) => key))).map((s) => `${s.pk}|${s.sk}`));
  return keyed.find(({ key }) => found.has(`${key.pk}|${key.sk}`))?.log.mark;
};
