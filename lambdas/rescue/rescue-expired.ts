import { isAtRisk, isSealed } from '../sequencer/sequencer-state.ts';
import type { EventStore } from '../shared/ports.ts';
import type { StagedEvent } from '../shared/staged-event.ts';
import { archiveWindowAt } from '../shared/window.ts';

export type RescueDeps = {
  readonly events: Pick<EventStore, 'getSequencerState' | 'stage' | 'putLateMarker'>;
  readonly newToken: () => string;
  readonly now: () => number;
};

export type RescueOutcome = 'rescued' | 'archived' | 'sealed';

/**
 * Decides, for staged events DynamoDB's TTL deleted, which the archive may still be missing, and stages those again.
 *
 * An event is safe to let go when it is flagged archived, or when it had its TTL from ingest (on time) and its window
 * was sealed before the TTL could have passed: the close guarantees the seal read it. Otherwise (the window is not
 * sealed, set aside, or was sealed at risk after an outage) it is staged again as a late event: a marker, then the
 * item without TTL, so the sequencer archives it unless a part already holds it (docs/design.md).
 */
export const rescueExpired = async (expired: readonly StagedEvent[], deps: RescueDeps): Promise<RescueOutcome[]> => {
  const state = await deps.events.getSequencerState();
  const outcomes: RescueOutcome[] = [];
  for (const event of expired) {
    if (event.archived === true) {
      outcomes.push('archived');
      continue;
    }
    if (state !== undefined) {
      const window = archiveWindowAt(event.publishedMs, state.windowSizes);
      if (isSealed(state, window.start) && !isAtRisk(state, event.publishedMs)) {
        outcomes.push('sealed');
        continue;
      }
    }
    await deps.events.putLateMarker({
      publishedMs: event.publishedMs,
      pk: event.pk,
      sk: event.sk,
      token: deps.newToken(),
      writtenAt: deps.now(),
    });
    const { expiresAt: _expired, ...rest } = event;
    await deps.events.stage({ ...rest, late: true });
    outcomes.push('rescued');
  }
  return outcomes;
};
