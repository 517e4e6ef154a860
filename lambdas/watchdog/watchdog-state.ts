import { z } from 'zod';

/**
 * What the watchdog remembers between runs, in one item of the events table (`pk = watchdog`, `sk = state`), written
 * only if nobody wrote it since it was read (`version`), so two overlapping runs never both move it.
 */
export const WatchdogState = z.object({
  /**
   * System Log events published before this instant (epoch ms) have been checked against what the stream delivered,
   * and the missing ones refilled. The next run reads the System Log from here.
   */
  checkedBefore: z.number(),
  /** The stream as the last run found it: ACTIVE, INACTIVE, or MISSING (no stream has the configured source). */
  lastStatus: z.enum(['ACTIVE', 'INACTIVE', 'MISSING']).optional(),
  /** The deactivation episode in progress: from the run that found the stream not ACTIVE to one that finds it ACTIVE. */
  episode: z
    .object({
      /** Identifies the episode across runs and retries: the stream id and when Okta last changed the stream. */
      key: z.string(),
      /** When the stream was deactivated as Okta reports it (its `lastUpdated`), else when a run first saw it. */
      since: z.string(),
      /** When the watchdog reactivated the stream (autoReactivate), if it did. */
      reactivatedAt: z.string().optional(),
    })
    .optional(),
  /** When the watchdog last reactivated the stream (epoch ms): it backs off before doing it again. */
  lastReactivatedAt: z.number().optional(),
  /** Totals since the watchdog started: shown in its log and useful in a post-incident review. */
  totals: z.object({ checked: z.number(), backfilled: z.number(), episodes: z.number() }),
});
export type WatchdogState = z.infer<typeof WatchdogState>;

/** A stored state and the version it was read at. */
export interface VersionedState {
  readonly state: WatchdogState;
  readonly version: number;
}

/** The first run checks from `checkDelay` before now: earlier events are `olp audit`'s to prove. */
export const initialState = (checkedBefore: number): WatchdogState => ({
  checkedBefore,
  totals: { checked: 0, backfilled: 0, episodes: 0 },
});

/** What a run found the stream to be. */
export type StreamFinding =
  | { readonly status: 'ACTIVE'; readonly id: string }
  | { readonly status: 'INACTIVE'; readonly id: string; readonly lastUpdated: string }
  | { readonly status: 'MISSING' };

/**
 * The episode after a run's finding: kept while the stream stays down, opened when it goes down (or goes down again
 * after a change Okta recorded), closed when it is ACTIVE. `opened` tells the run to alert.
 */
export const nextEpisode = (
  state: WatchdogState,
  finding: StreamFinding,
  now: number,
): { readonly episode: WatchdogState['episode']; readonly opened: boolean } => {
  if (finding.status === 'ACTIVE') return { episode: undefined, opened: false };
  const key = finding.status === 'MISSING' ? 'missing' : `${finding.id}@${finding.lastUpdated}`;
  if (state.episode?.key === key) return { episode: state.episode, opened: false };
  const since =
    finding.status === 'INACTIVE' && Number.isFinite(Date.parse(finding.lastUpdated))
      ? new Date(Date.parse(finding.lastUpdated)).toISOString()
      : new Date(now).toISOString();
  return { episode: { key, since }, opened: true };
};
