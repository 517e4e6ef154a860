import type { AtRiskRange, SequencerState } from '../shared/ports.ts';
import { archiveWindowAt, type WindowSize, withWindowSize } from '../shared/window.ts';

/** Before any event: the earliest instant a JavaScript Date holds. */
export const BEGINNING = -8_640_000_000_000_000;

export interface ClockSettings {
  readonly windowSeconds: number;
  readonly allowedLatenessSeconds: number;
  /**
   * How long after a close the sequencer waits before sealing what it closed: the longest an ingest invocation can
   * take from reading the close (it caches it briefly) to its write landing. Zero locally.
   */
  readonly sealGuardSeconds: number;
  readonly dedupeRetentionDays: number;
}

export const initialState = (windowSeconds: number, nextWindow = BEGINNING): SequencerState => ({
  nextWindow,
  closedBefore: BEGINNING,
  closes: [],
  sealableBefore: BEGINNING,
  windowSizes: [{ from: BEGINNING, seconds: windowSeconds }],
  setAside: [],
  atRisk: [],
});

/**
 * The start of a run, pure: take the configured window length into the history, close every window that ended
 * `allowedLatenessSeconds` ago (ingest stages later arrivals for it as late), and make sealable what was closed at
 * least the guard ago.
 */
export const openRun = (state: SequencerState, now: number, settings: ClockSettings): SequencerState => {
  const windowSizes: WindowSize[] = withWindowSize(
    state.windowSizes,
    settings.windowSeconds,
    Math.max(state.nextWindow, state.closedBefore),
  );
  const target = archiveWindowAt(now - settings.allowedLatenessSeconds * 1000, windowSizes).start;
  const closes = target > state.closedBefore ? [...state.closes, { before: target, at: now }] : [...state.closes];
  const guard = settings.sealGuardSeconds * 1000;
  let sealableBefore = state.sealableBefore;
  for (const close of closes) if (close.at + guard <= now) sealableBefore = Math.max(sealableBefore, close.before);
  return {
    ...state,
    windowSizes,
    closedBefore: Math.max(state.closedBefore, target),
    closes: closes.filter((close) => close.at + guard > now),
    sealableBefore,
  };
};

/**
 * A window sealed at `now` is at risk when some of its on-time events could have expired already: their TTL starts
 * at arrival, no earlier than the window's start, so it cannot pass before `start + retention`. An hour of margin
 * covers clocks and a long run.
 */
export const sealedAtRisk = (windowStart: number, now: number, settings: ClockSettings): boolean =>
  now + 3_600_000 >= windowStart + settings.dedupeRetentionDays * 86_400_000;

/** Adds the windows `[from, to)` sealed at risk at `now`, merging overlapping or touching ranges. */
export const withAtRisk = (ranges: readonly AtRiskRange[], from: number, to: number, now: number): AtRiskRange[] => {
  const merged: AtRiskRange[] = [];
  let current: AtRiskRange = { from, to, sealedAt: now };
  for (const range of [...ranges].sort((a, b) => a.from - b.from)) {
    if (range.to < current.from || range.from > current.to) merged.push(range);
    else
      current = {
        from: Math.min(range.from, current.from),
        to: Math.max(range.to, current.to),
        sealedAt: Math.max(range.sealedAt, current.sealedAt),
      };
  }
  return [...merged, current].sort((a, b) => a.from - b.from);
};

/**
 * Ranges whose events have all expired and been handed to the rescue function: each event's TTL started before its
 * window was sealed, so it ends within the retention after `sealedAt`; DynamoDB deletes within days of that.
 */
export const pruneAtRisk = (ranges: readonly AtRiskRange[], now: number, settings: ClockSettings): AtRiskRange[] =>
  ranges.filter((range) => range.sealedAt + (settings.dedupeRetentionDays + 30) * 86_400_000 > now);

/** Whether an archive window's events are all archived: sealed, and not set aside. */
export const isSealed = (state: SequencerState, windowStart: number): boolean =>
  windowStart < state.nextWindow && !state.setAside.includes(windowStart);

export const isAtRisk = (state: SequencerState, at: number): boolean =>
  state.atRisk.some((range) => range.from <= at && at < range.to);
