import type { EventStager, PendingBucket } from '../shared/ports.ts';

/** About 100 bytes a key: the default remembers the last 10,000 events in about a megabyte. */
const DEFAULT_CAPACITY = 10_000;
/** Buckets announced lately; a bucket is a minute by default, so this covers hours of out-of-order arrivals. */
const BUCKET_CAPACITY = 1_000;

/**
 * Remembers what this process wrote lately, so repeats cost no request.
 *
 * Events: Okta's duplicates often arrive seconds apart, in the same batch or the next one on the same warm Lambda,
 * and each copy sent to DynamoDB would cost a conditional write that fails. A copy that arrives while the first is
 * still being written waits for it; if that write fails, the key is forgotten and the copies fail with it, to be
 * redelivered. DynamoDB's conditional put stays the authority: a key forgotten (evicted, or another process) is
 * checked there.
 *
 * Buckets: one announcement per pending bucket and process is enough, because the sequencer deletes a bucket's
 * announcement only after sealing every window it overlaps, and by then no on-time write for it can still come.
 */
export const withStagingMemory = (events: EventStager, capacity = DEFAULT_CAPACITY): EventStager => {
  const staged = new Map<string, Promise<'staged' | 'duplicate'>>();
  const announced = new Map<string, Promise<void>>();
  return {
    putLateMarker: (marker) => events.putLateMarker(marker),
    announce: (bucket: PendingBucket) =>
      remember(announced, `${bucket.bucketStart}#${bucket.bucketSeconds}#${bucket.shards}`, BUCKET_CAPACITY, () =>
        events.announce(bucket),
      ).then(() => undefined),
    stage: async (event) => {
      const key = `${event.pk}|${event.sk}`;
      const first = staged.get(key);
      if (first !== undefined) {
        await first;
        return 'duplicate';
      }
      return remember(staged, key, capacity, () => events.stage(event));
    },
  };
};

/** Runs `write` once per key while the key is remembered; a failed write is forgotten so a retry writes again. */
const remember = async <T>(memory: Map<string, Promise<T>>, key: string, capacity: number, write: () => Promise<T>) => {
  const first = memory.get(key);
  if (first !== undefined) return first;
  const result = write();
  memory.set(key, result);
  // Oldest first: a Map iterates in insertion order.
  for (const oldest of memory.keys()) {
    if (memory.size <= capacity) break;
    memory.delete(oldest);
  }
  try {
    return await result;
  } catch (error) {
    memory.delete(key);
    throw error;
  }
};
