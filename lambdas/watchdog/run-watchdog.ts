import type { LogStreamSummary } from '../../lib/okta/log-streams.ts';
import { routeEvent } from '../../lib/rules/routing.ts';
import type { CompiledAlertRule } from '../../lib/rules/types.ts';
import type { AlertClaims, AlertPublisher } from '../alert/process-alert.ts';
import { OktaEventCore } from '../shared/okta-event.ts';
import type { EventStore } from '../shared/ports.ts';
import type { QueueMessage, QueueSender } from '../shared/sqs-queue-sender.ts';
import { ORIGIN_ATTRIBUTE, type StagingSettings, stagedKeyOf } from '../shared/staged-event.ts';
import { type EnvelopeOrigin, wrapEvent } from '../shared/system-log-envelope.ts';
import {
  rangeUncheckedAlert,
  streamInactiveAlert,
  streamMissingAlert,
  streamReactivatedAlert,
  type WatchdogAlert,
} from './watchdog-alerts.ts';
import { initialState, nextEpisode, type StreamFinding, type WatchdogState } from './watchdog-state.ts';

/**
 * The feed watchdog, one run: Okta's APIs against what the stream delivered.
 *
 * 1. The log stream: find the one whose event source is the configured one and read its status. Not ACTIVE opens a
 *    deactivation episode: one critical alert per episode, and with autoReactivate an activation and a follow-up alert.
 * 2. The gap check: read the System Log from where the last run stopped to `checkDelay` ago, look up each event's
 *    staging key (which is the same for the API's copy and the stream's: docs/design.md), and send the events the
 *    stream did not deliver to the ingest queue as backfill, through the same validation, dedupe and staging. The
 *    same events, and every `system.log_stream.*` event, go through the alert rules to the alert queue, where the
 *    (rule, uuid) claim keeps a copy that did arrive through the stream from alerting twice.
 *
 * Every effect is idempotent (alert claims, ingest dedupe, activation), and the state is written only if no other run
 * wrote it since it was read, so retries and overlapping runs neither double nor skip anything. A run reads at most
 * `maxPagesPerRun` pages and stops before its deadline; the next one resumes from the stored cursor.
 */

/** Okta's APIs as the watchdog uses them (lib/okta over an OktaClient deployed; a fake Okta server in tests). */
export interface OktaFeed {
  /** The log stream whose `settings.eventSourceName` is the configured one, if any. */
  findStream(): Promise<LogStreamSummary | undefined>;
  activate(id: string): Promise<LogStreamSummary>;
  /** System Log events published in [since, until), in published order, a page at a time. */
  readPages(since: Date, until: Date): AsyncIterable<readonly object[]>;
}

export interface WatchdogStateStore {
  read(): Promise<{ readonly state: WatchdogState; readonly version: number } | undefined>;
  /** Writes the state if its stored version is still `expected` (undefined: none stored); returns whether it did. */
  write(state: WatchdogState, expected: number | undefined): Promise<boolean>;
}

export interface WatchdogDeps {
  readonly okta: OktaFeed;
  readonly state: WatchdogStateStore;
  /** The events table, to tell delivered events from missing ones. */
  readonly staged: Pick<EventStore, 'lookupStaged'>;
  readonly ingestQueue: QueueSender;
  readonly alertQueue: QueueSender;
  /** Where refilled events a stateful rule's pre-filter matches go, as the rule's EventBridge target would send them. */
  readonly detectorQueue: QueueSender;
  /** The alert path's claims and topic, for the watchdog's own alerts. */
  readonly claims: AlertClaims;
  readonly publisher: AlertPublisher;
  /** The deployed alert rules, matched against refilled events as EventBridge matches delivered ones. */
  readonly rules: readonly CompiledAlertRule[];
  readonly now: () => number;
  /** Milliseconds left before the run must end (the Lambda's remaining time). */
  readonly remainingMs: () => number;
}

export interface WatchdogSettings {
  readonly staging: StagingSettings;
  /** The envelope of refilled events: the pinned partner event source, the stack's account and region. */
  readonly envelope: EnvelopeOrigin;
  /**
   * How long after `published` an event is checked: the stream's allowed lateness plus the System Log API's own delay
   * in showing events. An event the stream delivers later than this is refilled too, and deduped as a copy.
   */
  readonly checkDelayMs: number;
  /**
   * The oldest event the watchdog may still check: newer than the dedupe retention, so an event delivered, archived
   * and forgotten by the events table is never taken for missing. Older unchecked ranges are skipped with an alert.
   */
  readonly maxCheckAgeMs: number;
  readonly autoReactivate: boolean;
  readonly maxPagesPerRun: number;
  /** Stop reading pages when less than this remains of the run. */
  readonly stopBeforeDeadlineMs: number;
}

export interface WatchdogReport {
  readonly status: StreamFinding['status'];
  /** Watchdog alerts published in this run (a retried run finds them claimed and publishes none). */
  readonly alerts: string[];
  readonly reactivated: boolean;
  /** System Log events read and checked. */
  readonly checked: number;
  /** Events the stream had not delivered, sent to the ingest queue as backfill. */
  readonly backfilled: number;
  /** Alert-queue messages sent for refilled and log stream events. */
  readonly alertMessages: number;
  /** How far the check has got (epoch ms), and whether there is more to read than this run could. */
  readonly checkedBefore: number;
  readonly moreToDo: boolean;
  /** The range skipped because it was older than the dedupe retention allows checking. */
  readonly skipped?: { readonly from: string; readonly to: string };
  /** Another run wrote the state first: this run stopped without moving it. */
  readonly lostRace: boolean;
}

const LOG_STREAM_EVENT_TYPES = 'system.log_stream.';

/** Raises a watchdog alert at most once: claim, publish, give the claim back if publishing failed. */
export const raiseOnce = async (
  deps: Pick<WatchdogDeps, 'claims' | 'publisher'>,
  raised: WatchdogAlert,
): Promise<boolean> => {
  if (!(await deps.claims.claim(raised.ruleId, raised.uuid))) return false;
  try {
    await deps.publisher.publish(raised.alert);
  } catch (error) {
    await deps.claims.release(raised.ruleId, raised.uuid);
    throw error;
  }
  return true;
};

const findingOf = (stream: LogStreamSummary | undefined): StreamFinding => {
  if (stream === undefined) return { status: 'MISSING' };
  if (stream.status === 'ACTIVE') return { status: 'ACTIVE', id: stream.id };
  return { status: 'INACTIVE', id: stream.id, lastUpdated: stream.lastUpdated };
};

interface PageOutcome {
  readonly backfill: QueueMessage[];
  readonly alerts: QueueMessage[];
  /** Detector-queue messages of the missing events a stateful rule's pre-filter matches. */
  readonly detections: QueueMessage[];
  /** The latest `published` of the page's valid events (epoch ms). */
  readonly latest: number;
}

/** Which events of one page the stream did not deliver, as ingest and alert-queue messages. */
const checkPage = async (
  page: readonly object[],
  deps: Pick<WatchdogDeps, 'staged' | 'rules'>,
  settings: WatchdogSettings,
): Promise<PageOutcome> => {
  const keyed: Array<{ event: object; key?: { pk: string; sk: string }; core?: OktaEventCore }> = [];
  let latest = Number.NEGATIVE_INFINITY;
  for (const event of page) {
    const core = OktaEventCore.safeParse(event);
    if (!core.success) {
      // Ingest quarantines it with the reason: the archive's quarantine, not silence, is where a bad event goes.
      keyed.push({ event });
      continue;
    }
    const key = stagedKeyOf(core.data, event, settings.staging);
    latest = Math.max(latest, key.publishedMs);
    keyed.push({ event, key: { pk: key.pk, sk: key.sk }, core: core.data });
  }
  const keys = keyed.flatMap((entry) => (entry.key === undefined ? [] : [entry.key]));
  const found = new Set((await deps.staged.lookupStaged(keys)).map((staged) => `${staged.pk}|${staged.sk}`));

  const backfill: QueueMessage[] = [];
  const alerts: QueueMessage[] = [];
  const detections: QueueMessage[] = [];
  for (const entry of keyed) {
    const record = entry.event as Record<string, unknown>;
    const missing = entry.key === undefined || !found.has(`${entry.key.pk}|${entry.key.sk}`);
    const logStreamEvent = entry.core?.eventType.startsWith(LOG_STREAM_EVENT_TYPES) === true;
    if (!missing && !logStreamEvent) continue;
    const { envelope, text } = wrapEvent(record, JSON.stringify(entry.event), settings.envelope);
    if (missing) backfill.push({ body: text, attributes: { [ORIGIN_ATTRIBUTE]: 'backfill' } });
    if (entry.core !== undefined) {
      const routed = routeEvent(deps.rules, envelope);
      alerts.push(...routed.alerts.map((body) => ({ body })));
      // Only missing events: the stream's copy of the others has reached the detectors already.
      if (missing) detections.push(...routed.detections.map((body) => ({ body })));
    }
  }
  return { backfill, alerts, detections, latest };
};

/**
 * After reactivating a stream the watchdog waits this long before doing it again: a stream that fails again at once
 * has a cause reactivation does not fix, and flapping would page twice every few minutes.
 */
export const REACTIVATION_BACKOFF_MS = 60 * 60 * 1000;

export const runWatchdog = async (deps: WatchdogDeps, settings: WatchdogSettings): Promise<WatchdogReport> => {
  const now = deps.now();
  const raisedAt = new Date(now).toISOString();
  const stored = await deps.state.read();
  let version = stored?.version;
  let state: WatchdogState = stored?.state ?? initialState(now - settings.checkDelayMs);
  const progress = { checked: 0, backfilled: 0, alertMessages: 0, moreToDo: false };
  const alerts: string[] = [];
  let reactivated = false;
  let skipped: WatchdogReport['skipped'];
  const raise = async (raised: WatchdogAlert) => {
    if (await raiseOnce(deps, raised)) alerts.push(raised.ruleId);
  };
  const save = async (next: WatchdogState): Promise<boolean> => {
    if (!(await deps.state.write(next, version))) return false;
    version = (version ?? 0) + 1;
    state = next;
    return true;
  };
  const report = (lostRace: boolean): WatchdogReport => ({
    status: finding.status,
    alerts,
    reactivated,
    ...progress,
    checkedBefore: state.checkedBefore,
    lostRace,
    ...(skipped === undefined ? {} : { skipped }),
  });

  // 1. The stream.
  const stream = await deps.okta.findStream();
  const finding = findingOf(stream);
  let { episode, opened } = nextEpisode(state, finding, now);
  if (opened && episode !== undefined) {
    await raise(
      stream === undefined
        ? streamMissingAlert(settings.envelope.source, episode.since, raisedAt)
        : streamInactiveAlert(stream, episode, raisedAt),
    );
  }
  const backedOff = state.lastReactivatedAt !== undefined && now - state.lastReactivatedAt < REACTIVATION_BACKOFF_MS;
  if (
    settings.autoReactivate &&
    !backedOff &&
    stream !== undefined &&
    finding.status === 'INACTIVE' &&
    episode !== undefined &&
    episode.reactivatedAt === undefined
  ) {
    await deps.okta.activate(stream.id);
    reactivated = true;
    episode = { ...episode, reactivatedAt: raisedAt };
    await raise(streamReactivatedAlert(stream, episode, raisedAt));
  }
  const { episode: _closed, ...rest } = state;
  const statusState: WatchdogState = {
    ...rest,
    lastStatus: finding.status,
    ...(episode === undefined ? {} : { episode }),
    ...(reactivated ? { lastReactivatedAt: now } : {}),
    totals: { ...state.totals, episodes: state.totals.episodes + (opened ? 1 : 0) },
  };
  if (!(await save(statusState))) return report(true);

  // 2. The gap check, from the cursor to `checkDelay` ago, never further back than the dedupe retention allows.
  const oldest = now - settings.maxCheckAgeMs;
  if (state.checkedBefore < oldest) {
    skipped = { from: new Date(state.checkedBefore).toISOString(), to: new Date(oldest).toISOString() };
    await raise(rangeUncheckedAlert(skipped.from, skipped.to, raisedAt));
    if (!(await save({ ...state, checkedBefore: oldest }))) return report(true);
  }
  const until = now - settings.checkDelayMs;
  if (until <= state.checkedBefore) return report(false);
  let pages = 0;
  for await (const page of deps.okta.readPages(new Date(state.checkedBefore), new Date(until))) {
    // Checked when a page arrives, so that a run whose last page was its limit still finishes the range.
    if (pages >= settings.maxPagesPerRun || deps.remainingMs() < settings.stopBeforeDeadlineMs) {
      progress.moreToDo = true;
      return report(false);
    }
    const outcome = await checkPage(page, deps, settings);
    // Sent before the cursor moves past them: a crash here re-reads the page, and ingest dedupes the copies.
    await deps.ingestQueue.send(outcome.backfill);
    await deps.alertQueue.send(outcome.alerts);
    await deps.detectorQueue.send(outcome.detections);
    progress.checked += page.length;
    progress.backfilled += outcome.backfill.length;
    progress.alertMessages += outcome.alerts.length;
    pages++;
    // Events published at the page's last instant may continue on the next page: the next read starts at it.
    const next: WatchdogState = {
      ...state,
      checkedBefore: Math.max(state.checkedBefore, Math.min(outcome.latest, until)),
      totals: {
        ...state.totals,
        checked: state.totals.checked + page.length,
        backfilled: state.totals.backfilled + outcome.backfill.length,
      },
    };
    if (!(await save(next))) return report(true);
  }
  if (!(await save({ ...state, checkedBefore: until }))) return report(true);
  return report(false);
};
