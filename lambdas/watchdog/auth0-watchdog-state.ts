import { z } from 'zod';

/**
 * What the watchdog remembers of the Auth0 log stream between runs: one item in the Auth0 events table (`pk =
 * watchdog`, as Okta's is in Okta's), written only over the version it was read at. Pure: each function takes the
 * state, what a run found and the time, and returns the next state and what the run must do.
 */

export const Auth0WatchdogState = z.object({
  /**
   * The checkpoint: the `log_id` of the last log checked against the events table (found staged, or refilled).
   * `GET /api/v2/logs?from=<checkpoint>` returns the logs after it in `log_id` order, which is the order Auth0
   * indexed them in, so every log up to it has been checked. Absent until a run finds where to start.
   */
  checkpoint: z.string().optional(),
  /** The checkpoint log's `data.date` (epoch ms). */
  checkpointDate: z.number().optional(),
  /**
   * Logs the gap check passed without checking, being older than the dedupe retention allows (the watchdog was
   * stopped for days): one range, alerted on once the check reaches logs it can check again.
   */
  unchecked: z
    .object({ fromId: z.string(), fromDate: z.number(), toId: z.string(), toDate: z.number(), count: z.number() })
    .optional(),
  /** The stream as the last run that could read it found it; `missing` when no stream feeds this deployment. */
  lastStatus: z.enum(['active', 'paused', 'suspended', 'missing']).optional(),
  /** The episode in progress: from the run that finds the stream not active to the one that finds it active. */
  episode: z
    .object({
      /** The stream and when a run first found it down: the episode's alerts are claimed under it. */
      key: z.string(),
      streamId: z.string().optional(),
      status: z.enum(['paused', 'suspended', 'missing']),
      /** When a run first found it down (ISO): Auth0 does not say when a stream was paused or suspended. */
      since: z.string(),
      /** Whether the episode's alert has been raised (it is claimed, so raising it again sends nothing). */
      alerted: z.boolean(),
      resumedAt: z.string().optional(),
      /** Why the last resume failed, if it did. */
      resumeFailed: z.string().optional(),
    })
    .optional(),
  /** When the watchdog last asked Auth0 to resume the stream (epoch ms): at most one attempt per backoff. */
  lastResumeAt: z.number().optional(),
  totals: z.object({ checked: z.number(), backfilled: z.number(), episodes: z.number(), resumes: z.number() }),
});
export type Auth0WatchdogState = z.infer<typeof Auth0WatchdogState>;
export type Auth0Episode = NonNullable<Auth0WatchdogState['episode']>;

export const initialAuth0State = (): Auth0WatchdogState => ({
  totals: { checked: 0, backfilled: 0, episodes: 0, resumes: 0 },
});

/** What a run found the stream to be; `unknown` when Auth0 could not be asked (it kept answering 429). */
export type Auth0StreamFinding =
  | { readonly status: 'active'; readonly id: string }
  | { readonly status: 'paused' | 'suspended'; readonly id: string }
  | { readonly status: 'missing' }
  | { readonly status: 'unknown'; readonly reason: string };

export interface Auth0EpisodePolicy {
  readonly autoReactivate: boolean;
  /** After one attempt to resume, the next waits this long: a stream that stops again at once needs a person. */
  readonly resumeBackoffMs: number;
}

/** What a run does after reading the stream: raise the episode's alert, ask Auth0 to resume the stream. */
export type Auth0StreamEffect =
  | { readonly kind: 'alert-down' }
  | { readonly kind: 'resume'; readonly streamId: string };

export interface Auth0Step {
  readonly state: Auth0WatchdogState;
  readonly effects: readonly Auth0StreamEffect[];
}

const resumeDue = (state: Auth0WatchdogState, now: number, policy: Auth0EpisodePolicy): boolean =>
  state.lastResumeAt === undefined || now - state.lastResumeAt >= policy.resumeBackoffMs;

/**
 * The state after a run's finding. An active stream closes the episode. A stream found down opens one (a stream
 * found down while another one was, a new one too) and keeps it while it stays down, paused or suspended alike. The
 * episode's alert is owed until raised; with autoReactivate, a resume is due once per backoff while it is down.
 * Not knowing (Auth0 rate-limited every try) changes nothing.
 */
export const observeAuth0Stream = (
  state: Auth0WatchdogState,
  finding: Auth0StreamFinding,
  now: number,
  policy: Auth0EpisodePolicy,
): Auth0Step => {
  if (finding.status === 'unknown') {
    return { state, effects: state.episode !== undefined && !state.episode.alerted ? [{ kind: 'alert-down' }] : [] };
  }
  if (finding.status === 'active') {
    const { episode: _closed, ...rest } = state;
    return { state: { ...rest, lastStatus: 'active' }, effects: [] };
  }
  const streamId = finding.status === 'missing' ? undefined : finding.id;
  const since = new Date(now).toISOString();
  const continued = state.episode !== undefined && state.episode.streamId === streamId;
  const episode: Auth0Episode =
    continued && state.episode !== undefined
      ? { ...state.episode, status: finding.status }
      : {
          key: `${streamId ?? 'missing'}@${since}`,
          ...(streamId === undefined ? {} : { streamId }),
          status: finding.status,
          since,
          alerted: false,
        };
  const next: Auth0WatchdogState = {
    ...state,
    lastStatus: finding.status,
    episode,
    totals: { ...state.totals, episodes: state.totals.episodes + (continued ? 0 : 1) },
  };
  const effects: Auth0StreamEffect[] = [];
  if (!episode.alerted) effects.push({ kind: 'alert-down' });
  if (policy.autoReactivate && streamId !== undefined && resumeDue(state, now, policy)) {
    effects.push({ kind: 'resume', streamId });
  }
  return { state: next, effects };
};

/** The episode's alert was raised. */
export const downAlertRaised = (state: Auth0WatchdogState): Auth0WatchdogState =>
  state.episode === undefined ? state : { ...state, episode: { ...state.episode, alerted: true } };

/** How asking Auth0 to resume the stream went. */
export type Auth0ResumeOutcome =
  | { readonly ok: true }
  /** Auth0 kept answering 429: the request did not count, the next run asks again. */
  | { readonly ok: false; readonly rateLimited: true }
  | { readonly ok: false; readonly rateLimited: false; readonly reason: string };

/** What a run reports after a resume: the follow-up alert, or the alert that it failed. */
export type Auth0ResumeEffect = { readonly kind: 'alert-resumed' } | { readonly kind: 'alert-resume-failed' };

/**
 * The state after asking Auth0 to resume the stream. Done or refused, the attempt counts towards the backoff; a
 * rate-limited request does not (it was never made). Each outcome is reported once per episode (claimed alerts).
 */
export const resumeAttempted = (
  state: Auth0WatchdogState,
  outcome: Auth0ResumeOutcome,
  now: number,
): { readonly state: Auth0WatchdogState; readonly effects: readonly Auth0ResumeEffect[] } => {
  if (!outcome.ok && outcome.rateLimited) return { state, effects: [] };
  const at = new Date(now).toISOString();
  if (outcome.ok) {
    const episode =
      state.episode === undefined ? undefined : { ...state.episode, resumedAt: state.episode.resumedAt ?? at };
    return {
      state: {
        ...state,
        ...(episode === undefined ? {} : { episode }),
        lastResumeAt: now,
        totals: { ...state.totals, resumes: state.totals.resumes + 1 },
      },
      effects: [{ kind: 'alert-resumed' }],
    };
  }
  const episode = state.episode === undefined ? undefined : { ...state.episode, resumeFailed: outcome.reason };
  return {
    state: { ...state, ...(episode === undefined ? {} : { episode }), lastResumeAt: now },
    effects: [{ kind: 'alert-resume-failed' }],
  };
};

/** A log by its id and `data.date` (epoch ms). */
export interface LogMark {
  readonly id: string;
  readonly dateMs: number;
}

export type UncheckedRange = NonNullable<Auth0WatchdogState['unchecked']>;

/**
 * Where the gap check stands after a page: its last log (the checkpoint), what the page added to the totals, and the
 * logs it passed as too old, added to the unchecked range.
 */
export const checkpointAdvanced = (
  state: Auth0WatchdogState,
  page: {
    readonly last: LogMark;
    readonly checked: number;
    readonly backfilled: number;
    readonly tooOld: readonly LogMark[];
  },
): Auth0WatchdogState => {
  let unchecked = state.unchecked;
  for (const log of page.tooOld) {
    unchecked =
      unchecked === undefined
        ? { fromId: log.id, fromDate: log.dateMs, toId: log.id, toDate: log.dateMs, count: 1 }
        : { ...unchecked, toId: log.id, toDate: log.dateMs, count: unchecked.count + 1 };
  }
  return {
    ...state,
    checkpoint: page.last.id,
    checkpointDate: page.last.dateMs,
    ...(unchecked === undefined ? {} : { unchecked }),
    totals: {
      ...state.totals,
      checked: state.totals.checked + page.checked,
      backfilled: state.totals.backfilled + page.backfilled,
    },
  };
};

/** The unchecked range was alerted on. */
export const uncheckedRangeReported = (state: Auth0WatchdogState): Auth0WatchdogState => {
  const { unchecked: _reported, ...rest } = state;
  return rest;
};

/** Which part of the gap check a log falls in, by its `data.date`. */
export type LogAge = 'future' | 'too-young' | 'checkable' | 'too-old';

export interface LogAgeLimits {
  /** How long after its date a log is checked: the allowed lateness plus Auth0's delay in indexing it. */
  readonly checkDelayMs: number;
  /** The oldest log that may be checked: newer than the dedupe retention, so a delivered log is still in the table. */
  readonly maxCheckAgeMs: number;
  /**
   * How far ahead of the clock a date may be. A log dated further ahead is broken (ingest quarantines it); waiting
   * for it to come of age would stop the gap check until then.
   */
  readonly maxFutureMs: number;
}

export const logAge = (dateMs: number, now: number, limits: LogAgeLimits): LogAge => {
  if (dateMs > now + limits.maxFutureMs) return 'future';
  if (dateMs > now - limits.checkDelayMs) return 'too-young';
  if (dateMs < now - limits.maxCheckAgeMs) return 'too-old';
  return 'checkable';
};
