import type { EventStager } from './ingest-envelope.ts';

/**
 * Within one batch, stages each (uuid, content) once: Okta's duplicates often arrive seconds apart, in the same batch,
 * and each one sent to DynamoDB would cost a conditional write that fails. The later copies wait for the first and
 * count as duplicates; if the first fails, they fail with it and are redelivered together.
 */
export const withBatchDedupe = (events: EventStager): EventStager => {
  const staging = new Map<string, Promise<'staged' | 'duplicate'>>();
  return {
    putLateMarker: (marker) => events.putLateMarker(marker),
    stage: async (event) => {
      const key = `${event.pk}|${event.sk}`;
      const first = staging.get(key);
      if (first !== undefined) {
        await first;
        return 'duplicate';
      }
      const result = events.stage(event);
      staging.set(key, result);
      return result;
    },
  };
};
