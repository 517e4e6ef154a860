/**
 * Windows of `published` time. A window is identified by its start (epoch ms); windows are aligned to the epoch so
 * that every component computes the same window for an event without coordination.
 */
export interface WindowSettings {
  /** Window length in seconds; divides an hour. */
  readonly windowSeconds: number;
  /** How long after a window's end events for it may still arrive and be archived in it (not as late). */
  readonly allowedLatenessSeconds: number;
}

export const HOUR_MS = 3_600_000;

export const windowStartOf = (epochMs: number, windowSeconds: number): number => {
  const size = windowSeconds * 1000;
  return Math.floor(epochMs / size) * size;
};

export const windowEndOf = (windowStart: number, windowSeconds: number): number => windowStart + windowSeconds * 1000;

/** `2026-11-22T00:05:00Z`: the window's start as an ISO instant without milliseconds. */
export const formatWindow = (windowStart: number): string => `${new Date(windowStart).toISOString().slice(0, 19)}Z`;

/**
 * The archive's window length from `from` on. The first entry of a history applies from the beginning of time; a
 * change of `windowSeconds` takes effect at a whole hour, which every allowed length divides, so no archive window
 * straddles a change and every component computes the same window for an instant.
 */
export interface WindowSize {
  readonly from: number;
  readonly seconds: number;
}

const sizeAt = (at: number, sizes: readonly WindowSize[]): number => {
  let seconds = sizes[0]?.seconds;
  for (const size of sizes) if (size.from <= at) seconds = size.seconds;
  if (seconds === undefined) throw new RangeError('a window size history needs at least one entry');
  return seconds;
};

/** The archive window that holds instant `at`: its start and end. */
export const archiveWindowAt = (at: number, sizes: readonly WindowSize[]): { start: number; end: number } => {
  const seconds = sizeAt(at, sizes);
  const start = windowStartOf(at, seconds);
  return { start, end: windowEndOf(start, seconds) };
};

/**
 * The history with `seconds` as the current length: unchanged when it already is, else with a new entry from the
 * first whole hour at or after `notBefore` (the start of the first window not yet sealed or closed).
 */
export const withWindowSize = (sizes: readonly WindowSize[], seconds: number, notBefore: number): WindowSize[] => {
  const last = sizes.at(-1);
  if (last === undefined) return [{ from: Number.NEGATIVE_INFINITY, seconds }];
  if (last.seconds === seconds) return [...sizes];
  const from = Math.max(Math.ceil(notBefore / HOUR_MS) * HOUR_MS, last.from);
  // A change that has not taken effect yet is replaced rather than stacked.
  const kept = sizes.filter((size) => size.from < from);
  return [...kept, { from, seconds }];
};
