/** How long a warm ingest Lambda trusts the close it read; the sequencer's seal guard is longer than this. */
export const CLOSE_CACHE_MS = 10_000;

/**
 * Reads the sequencer's close at most once per `maxAgeMs` and shares one read among concurrent callers. A failed
 * read is not cached, so the next event tries again (and this one is redelivered).
 */
export const cachedClose = (
  read: () => Promise<number | undefined>,
  now: () => number,
  maxAgeMs = CLOSE_CACHE_MS,
): (() => Promise<number | undefined>) => {
  let cached: { at: number; value: Promise<number | undefined> } | undefined;
  return () => {
    const at = now();
    if (cached === undefined || at - cached.at >= maxAgeMs) {
      const value = read();
      cached = { at, value };
      value.catch(() => {
        if (cached?.value === value) cached = undefined;
      });
    }
    return cached.value;
  };
};
