import type { EventStager } from './ingest-envelope.ts';

/** About 100 bytes a key: the default remembers the last 10,000 events in about a megabyte. */
const DEFAULT_CAPACITY = 10_000;

/**
 * Remembers the events this process staged lately, so a copy of one is a duplicate without a request. Okta's
 * duplicates often arrive seconds apart, in the same batch or the next one on the same warm Lambda, and each copy
 * sent to DynamoDB would cost a conditional write that fails. A copy that arrives while the first is still being
 * written waits for it; if that write fails, the key is forgotten and the copies fail with it, to be redelivered.
 * DynamoDB's conditional put stays the authority: a key forgotten (evicted, or another process) is checked there.
 */
export const withStagingMemory = (events: EventStager, capacity = DEFAULT_CAPACITY): EventStager => {
  const staged = new Map<string, Promise<'staged' | 'duplicate'>>();
  return {
    putLateMarker: (marker) => events.putLateMarker(marker),
    stage: async (event) => {
      const key = `${event.pk}|${event.sk}`;
      const first = staged.get(key);
      if (first !== undefined) {
        await first;
        return 'duplicate';
      }
      const result = events.stage(event);
      staged.set(key, result);
      // Oldest first: a Map iterates in insertion order.
      for (const oldest of staged.keys()) {
        if (staged.size <= capacity) break;
        staged.delete(oldest);
      }
      try {
        return await result;
      } catch (error) {
        staged.delete(key);
        throw error;
      }
    },
  };
};
