import { describe, expect, it } from 'vitest';
import { rescueExpired } from '../../lambdas/rescue/rescue-expired.ts';
import {
  BEGINNING,
  initialState,
  isAtRisk,
  isSealed,
  openRun,
  pruneAtRisk,
  sealedAtRisk,
  withAtRisk,
} from '../../lambdas/sequencer/sequencer-state.ts';
import type { LateMarker, SequencerState } from '../../lambdas/shared/ports.ts';
import { type StagedEvent, stageEvent } from '../../lambdas/shared/staged-event.ts';

const T0 = Date.parse('2026-11-01T09:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;
const settings = {
  windowSeconds: 60,
  allowedLatenessSeconds: 120,
  sealGuardSeconds: 90,
  dedupeRetentionDays: 7,
  windowShards: 4,
};

describe('openRun', () => {
  it('closes windows that ended the lateness ago, and makes them sealable only a guard later', () => {
    // Act
    const first = openRun(initialState(60), T0 + 10 * MINUTE + 30_000, settings);
    const second = openRun(first, T0 + 11 * MINUTE + 30_000, settings);
    const third = openRun(second, T0 + 12 * MINUTE + 30_000, settings);

    // Assess: 09:10:30 - 2 min = 09:08:30, so everything before 09:08 is closed; sealable 90 s later.
    expect(first.closedBefore).toBe(T0 + 8 * MINUTE);
    expect(first.sealableBefore).toBe(BEGINNING);
    expect(second.closedBefore).toBe(T0 + 9 * MINUTE);
    expect(second.sealableBefore).toBe(BEGINNING);
    expect(third.sealableBefore).toBe(T0 + 8 * MINUTE);
    expect(third.closes.map((close) => close.before)).toEqual([T0 + 9 * MINUTE, T0 + 10 * MINUTE]);
  });

  it('never moves the close back, whatever the clock or the lateness says', () => {
    const state = openRun(initialState(60), T0 + 30 * MINUTE, settings);
    const earlier = openRun(state, T0 + 5 * MINUTE, { ...settings, allowedLatenessSeconds: 3600 });
    expect(earlier.closedBefore).toBe(state.closedBefore);
  });

  it('seals what it closes in the same run when there is no guard, as the local runner does', () => {
    const state = openRun(initialState(60), T0 + 10 * MINUTE, { ...settings, sealGuardSeconds: 0 });
    expect(state.sealableBefore).toBe(state.closedBefore);
  });

  it('takes a new window length from the next whole hour after what is closed', () => {
    const state = openRun(initialState(60), T0 + 10 * MINUTE, settings);
    const changed = openRun(state, T0 + 11 * MINUTE, { ...settings, windowSeconds: 300 });
    expect(changed.windowSizes).toEqual([
      { from: BEGINNING, seconds: 60 },
      { from: T0 + 60 * MINUTE, seconds: 300 },
    ]);
  });
});

describe('windows sealed at risk', () => {
  it('is at risk when its events could have expired before the seal read them', () => {
    expect(sealedAtRisk(T0, T0 + 7 * DAY - 3_600_001, settings)).toBe(false);
    expect(sealedAtRisk(T0, T0 + 7 * DAY - 3_600_000, settings)).toBe(true);
  });

  it('merges overlapping ranges and prunes them once their events have all expired', () => {
    const ranges = withAtRisk(
      withAtRisk([], T0, T0 + MINUTE, T0 + 8 * DAY),
      T0 + MINUTE,
      T0 + 2 * MINUTE,
      T0 + 9 * DAY,
    );
    expect(ranges).toEqual([{ from: T0, to: T0 + 2 * MINUTE, sealedAt: T0 + 9 * DAY }]);
    expect(pruneAtRisk(ranges, T0 + 45 * DAY, settings)).toEqual(ranges);
    expect(pruneAtRisk(ranges, T0 + 47 * DAY, settings)).toEqual([]);
  });
});

describe('rescueExpired', () => {
  const event = (published: number, extra: Partial<StagedEvent> = {}): StagedEvent => ({
    ...stageEvent(
      { uuid: 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', published: new Date(published).toISOString() },
      '{}',
      settings,
      published,
      Number.NEGATIVE_INFINITY,
    ),
    ...extra,
  });

  /** An in-memory stand-in for the two writes the use case makes; nothing else could observe them here. */
  const recorder = (state: SequencerState | undefined) => {
    const written: Array<{ kind: string; key: string; late?: boolean; expiresAt?: number }> = [];
    return {
      written,
      deps: {
        events: {
          getSequencerState: async () => state,
          putLateMarker: async (marker: LateMarker) => {
            written.push({ kind: 'marker', key: marker.sk });
          },
          stage: async (staged: StagedEvent) => {
            written.push({ kind: 'item', key: staged.sk, late: staged.late, expiresAt: staged.expiresAt });
            return 'staged' as const;
          },
        },
        newToken: () => 'token',
        now: () => T0 + 10 * DAY,
      },
    };
  };
  const sealedUpTo = (nextWindow: number, extra: Partial<SequencerState> = {}): SequencerState => ({
    ...initialState(60, nextWindow),
    ...extra,
  });

  it('lets an archived event, or an on-time one of a window sealed in time, go', async () => {
    const { written, deps } = recorder(sealedUpTo(T0 + 10 * MINUTE));
    const outcomes = await rescueExpired([event(T0, { archived: true }), event(T0 + MINUTE)], deps);
    expect(outcomes).toEqual(['archived', 'sealed']);
    expect(written).toEqual([]);
  });

  it.each([
    ['its window is not sealed yet', sealedUpTo(T0)],
    ['its window is set aside', sealedUpTo(T0 + 10 * MINUTE, { setAside: [T0] })],
    [
      'its window was sealed at risk',
      sealedUpTo(T0 + 10 * MINUTE, { atRisk: [{ from: T0, to: T0 + MINUTE, sealedAt: 0 }] }),
    ],
    ['the sequencer has no state', undefined],
  ])('stages an event again, late and without TTL, when %s', async (_name, state) => {
    const { written, deps } = recorder(state);
    const [outcome] = await rescueExpired([event(T0 + 5_000)], deps);
    expect(outcome).toBe('rescued');
    expect(written.map((w) => w.kind)).toEqual(['marker', 'item']);
    expect(written[1]).toMatchObject({ late: true, expiresAt: undefined });
  });

  it('reads sealed and set-aside windows from the state', () => {
    const state = sealedUpTo(T0 + 10 * MINUTE, { setAside: [T0 + 2 * MINUTE] });
    expect([isSealed(state, T0), isSealed(state, T0 + 2 * MINUTE), isSealed(state, T0 + 10 * MINUTE)]).toEqual([
      true,
      false,
      false,
    ]);
    expect(isAtRisk(state, T0)).toBe(false);
  });
});
