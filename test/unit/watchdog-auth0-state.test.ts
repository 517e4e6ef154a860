import { describe, expect, it } from 'vitest';
import {
  type Auth0ResumeOutcome,
  type Auth0StreamFinding,
  type Auth0WatchdogState,
  checkpointAdvanced,
  downAlertRaised,
  initialAuth0State,
  logAge,
  observeAuth0Stream,
  resumeAttempted,
  uncheckedRangeReported,
} from '../../lambdas/watchdog/auth0-watchdog-state.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const RUN_EVERY = 5 * MINUTE;
const T0 = Date.parse('2026-11-02T08:00:00.000Z');

/**
 * The watchdog's runs on a simulated clock, as run-auth0-watchdog.ts applies the state machine's effects: the
 * episode alert and the follow-ups are claimed per (alert, episode key), as the alert claims do deployed, so only the
 * first raise of each is published.
 */
const simulate = (options: {
  readonly autoReactivate: boolean;
  /** What Auth0 says of the stream at each run; `resume` is what the watchdog asked, if it did. */
  readonly stream: (at: number) => Auth0StreamFinding;
  readonly resume?: (at: number) => Auth0ResumeOutcome;
  readonly from?: number;
  readonly until: number;
}) => {
  let state: Auth0WatchdogState = initialAuth0State();
  const claimed = new Set<string>();
  const published: Array<{ alert: string; at: number; episode: string }> = [];
  const resumes: number[] = [];
  const raise = (alert: string, at: number) => {
    const episode = state.episode?.key ?? 'none';
    if (claimed.has(`${alert}|${episode}`)) return;
    claimed.add(`${alert}|${episode}`);
    published.push({ alert, at, episode });
  };
  for (let at = options.from ?? T0; at < options.until; at += RUN_EVERY) {
    const step = observeAuth0Stream(state, options.stream(at), at, {
      autoReactivate: options.autoReactivate,
      resumeBackoffMs: HOUR,
    });
    state = step.state;
    for (const effect of step.effects) {
      if (effect.kind === 'alert-down') {
        raise(state.episode?.status === 'missing' ? 'missing' : 'down', at);
        state = downAlertRaised(state);
      } else {
        resumes.push(at);
        const after = resumeAttempted(state, options.resume?.(at) ?? { ok: true }, at);
        state = after.state;
        for (const followUp of after.effects) raise(followUp.kind, at);
      }
    }
  }
  return { state, published, resumes };
};

const paused = { status: 'paused', id: 'lst_1' } as const;
const suspended = { status: 'suspended', id: 'lst_1' } as const;
const active = { status: 'active', id: 'lst_1' } as const;

describe('the Auth0 stream episode', () => {
  it('alerts once for a stream paused for days, and never resumes it without autoReactivate', () => {
    // Act: three days paused, then active again.
    const run = simulate({
      autoReactivate: false,
      stream: (at) => (at < T0 + 3 * DAY ? paused : active),
      until: T0 + 3 * DAY + HOUR,
    });

    // Assert
    expect(run.published).toEqual([{ alert: 'down', at: T0, episode: `lst_1@${new Date(T0).toISOString()}` }]);
    expect(run.resumes).toEqual([]);
    expect(run.state.episode).toBeUndefined();
    expect(run.state.lastStatus).toBe('active');
    expect(run.state.totals.episodes).toBe(1);
  });

  it('with autoReactivate resumes at once, and says so once', () => {
    // Auth0 suspends the stream; the resume works, so the next run finds it active.
    let status: Auth0StreamFinding = suspended;
    const run = simulate({
      autoReactivate: true,
      stream: () => status,
      resume: () => {
        status = active;
        return { ok: true };
      },
      until: T0 + HOUR,
    });
    expect(run.published.map((p) => p.alert)).toEqual(['down', 'alert-resumed']);
    expect(run.resumes).toEqual([T0]);
    expect(run.state).toMatchObject({ lastStatus: 'active', lastResumeAt: T0, totals: { episodes: 1, resumes: 1 } });
  });

  it('resumes at most once an hour when Auth0 refuses, and reports the refusal once per episode', () => {
    const run = simulate({
      autoReactivate: true,
      stream: () => paused,
      resume: () => ({ ok: false, rateLimited: false, reason: 'HTTP 403 Forbidden (insufficient_scope)' }),
      until: T0 + 3 * DAY,
    });
    // One attempt per hour over three days, and two alerts in all.
    expect(run.resumes).toHaveLength(72);
    expect(run.resumes.every((at, i) => at === T0 + i * HOUR)).toBe(true);
    expect(run.published.map((p) => p.alert)).toEqual(['down', 'alert-resume-failed']);
    expect(run.state.episode).toMatchObject({
      status: 'paused',
      resumeFailed: 'HTTP 403 Forbidden (insufficient_scope)',
    });
    expect(run.state.totals).toMatchObject({ episodes: 1, resumes: 0 });
  });

  it('treats a flapping stream as new episodes, alerting for each, but resumes it only once an hour', () => {
    // Suspended at 0, resumed; suspended again 10 minutes after each resume: the cause is still there.
    let lastResume = Number.NEGATIVE_INFINITY;
    const run = simulate({
      autoReactivate: true,
      stream: (at) => (at - lastResume >= 10 * MINUTE ? suspended : active),
      resume: (at) => {
        lastResume = at;
        return { ok: true };
      },
      until: T0 + 2 * HOUR + MINUTE,
    });
    // Resumed at 0, 60 and 120 minutes; down again at 10, 70 and 130 (the last after the window ends).
    expect(run.resumes).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    const downs = run.published.filter((p) => p.alert === 'down');
    expect(downs.map((p) => p.at)).toEqual([T0, T0 + 10 * MINUTE, T0 + 70 * MINUTE]);
    expect(new Set(downs.map((p) => p.episode)).size).toBe(3);
    // The second episode waits for the backoff and is then resumed, with its own follow-up alert.
    expect(run.published.filter((p) => p.alert === 'alert-resumed').map((p) => p.at)).toEqual([
      T0,
      T0 + HOUR,
      T0 + 2 * HOUR,
    ]);
    expect(run.state.totals).toMatchObject({ episodes: 3, resumes: 3 });
  });

  it('changes nothing while Auth0 rate-limits the stream read, and retries a rate-limited resume at the next run', () => {
    // Prepare: suspended at T0, the run alerts and its resume is rate-limited.
    let step = observeAuth0Stream(initialAuth0State(), suspended, T0, { autoReactivate: true, resumeBackoffMs: HOUR });
    expect(step.effects.map((e) => e.kind)).toEqual(['alert-down', 'resume']);
    let state = downAlertRaised(step.state);
    const limited = resumeAttempted(state, { ok: false, rateLimited: true }, T0);
    expect(limited.effects).toEqual([]);
    expect(limited.state).toEqual(state);
    state = limited.state;

    // Act: the next run cannot read the stream at all; the one after can.
    const unknown = observeAuth0Stream(state, { status: 'unknown', reason: '429' }, T0 + RUN_EVERY, {
      autoReactivate: true,
      resumeBackoffMs: HOUR,
    });
    step = observeAuth0Stream(unknown.state, suspended, T0 + 2 * RUN_EVERY, {
      autoReactivate: true,
      resumeBackoffMs: HOUR,
    });

    // Assert: nothing raised or resumed while unknown; then a resume, not an hour later, and no second alert.
    expect(unknown).toEqual({ state, effects: [] });
    expect(step.effects).toEqual([{ kind: 'resume', streamId: 'lst_1' }]);
    expect(step.state.episode?.key).toBe(state.episode?.key);
  });

  it('still owes the alert of an episode whose alert was not raised, even while the stream cannot be read', () => {
    const opened = observeAuth0Stream(initialAuth0State(), paused, T0, {
      autoReactivate: false,
      resumeBackoffMs: HOUR,
    });
    // The run failed to publish: the state says not alerted.
    const unknown = observeAuth0Stream(opened.state, { status: 'unknown', reason: '429' }, T0 + RUN_EVERY, {
      autoReactivate: false,
      resumeBackoffMs: HOUR,
    });
    expect(unknown.effects).toEqual([{ kind: 'alert-down' }]);
  });

  it('alerts once for a missing stream, never resumes it, and opens a new episode when another stream goes down', () => {
    const policy = { autoReactivate: true, resumeBackoffMs: HOUR };
    const missing = observeAuth0Stream(initialAuth0State(), { status: 'missing' }, T0, policy);
    expect(missing.effects).toEqual([{ kind: 'alert-down' }]);
    expect(missing.state.episode).toMatchObject({ status: 'missing', key: `missing@${new Date(T0).toISOString()}` });
    const still = observeAuth0Stream(downAlertRaised(missing.state), { status: 'missing' }, T0 + DAY, policy);
    expect(still.effects).toEqual([]);
    // A new stream is created, and is suspended: that is a new episode.
    const other = observeAuth0Stream(still.state, { status: 'suspended', id: 'lst_2' }, T0 + DAY + RUN_EVERY, policy);
    expect(other.effects.map((e) => e.kind)).toEqual(['alert-down', 'resume']);
    expect(other.state.episode?.streamId).toBe('lst_2');
    expect(other.state.totals.episodes).toBe(2);
  });

  it('keeps one episode from paused to suspended', () => {
    const policy = { autoReactivate: false, resumeBackoffMs: HOUR };
    const first = observeAuth0Stream(initialAuth0State(), paused, T0, policy);
    const second = observeAuth0Stream(downAlertRaised(first.state), suspended, T0 + RUN_EVERY, policy);
    expect(second.effects).toEqual([]);
    expect(second.state.episode).toMatchObject({ key: first.state.episode?.key, status: 'suspended', alerted: true });
  });
});

describe('the Auth0 gap check state', () => {
  const limits = { checkDelayMs: 7 * MINUTE, maxCheckAgeMs: 6 * DAY, maxFutureMs: HOUR };

  it('checks a log once it is checkDelay old, and not once it is older than the dedupe retention allows', () => {
    expect(logAge(T0 - 6 * MINUTE, T0, limits)).toBe('too-young');
    expect(logAge(T0 - 7 * MINUTE, T0, limits)).toBe('checkable');
    expect(logAge(T0 - 6 * DAY, T0, limits)).toBe('checkable');
    expect(logAge(T0 - 6 * DAY - 1, T0, limits)).toBe('too-old');
    // Dated beyond the clock skew ingest allows: broken, not young.
    expect(logAge(T0 + HOUR + 1, T0, limits)).toBe('future');
    expect(logAge(T0 + HOUR, T0, limits)).toBe('too-young');
  });

  it('moves the checkpoint page by page, adds to the totals, and gathers the logs it passed into one range', () => {
    let state = checkpointAdvanced(initialAuth0State(), {
      last: { id: '9001', dateMs: T0 },
      checked: 0,
      backfilled: 0,
      tooOld: [
        { id: '9000', dateMs: T0 - 1 },
        { id: '9001', dateMs: T0 },
      ],
    });
    state = checkpointAdvanced(state, {
      last: { id: '9105', dateMs: T0 + 5 },
      checked: 4,
      backfilled: 1,
      tooOld: [{ id: '9102', dateMs: T0 + 2 }],
    });
    expect(state).toMatchObject({
      checkpoint: '9105',
      checkpointDate: T0 + 5,
      unchecked: { fromId: '9000', fromDate: T0 - 1, toId: '9102', toDate: T0 + 2, count: 3 },
      totals: { checked: 4, backfilled: 1 },
    });
    expect(uncheckedRangeReported(state).unchecked).toBeUndefined();
    expect(uncheckedRangeReported(state).checkpoint).toBe('9105');
  });
});
