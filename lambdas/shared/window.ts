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

export const windowStartOf = (epochMs: number, windowSeconds: number): number => {
  const size = windowSeconds * 1000;
  return Math.floor(epochMs / size) * size;
};

export const windowEndOf = (windowStart: number, windowSeconds: number): number => windowStart + windowSeconds * 1000;

/**
 * An event is late when, at the moment it is staged, its window may already be sealed: the window's end plus the
 * allowed lateness is not in the future. `now` is the stager's clock (deployed) or the event-time watermark (local).
 */
export const isLate = (windowStart: number, now: number, settings: WindowSettings): boolean =>
  windowEndOf(windowStart, settings.windowSeconds) + settings.allowedLatenessSeconds * 1000 <= now;

/** `2026-11-22T00:05:00Z`: the window's start as an ISO instant without milliseconds. */
export const formatWindow = (windowStart: number): string => `${new Date(windowStart).toISOString().slice(0, 19)}Z`;
