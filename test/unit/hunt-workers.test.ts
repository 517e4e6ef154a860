import { describe, expect, it } from 'vitest';
import { threadHunter } from '../../lib/hunt/hunt-workers.ts';

/** A window with no parts, over all time. */
const EMPTY_WINDOW = { parts: [], range: { since: 0, until: Number.MAX_SAFE_INTEGER } };

describe('threadHunter', () => {
  it('hunts a window on a thread: an empty window gives no events and no steps', async () => {
    const hunter = threadHunter([], 1);
    try {
      const hunted = await hunter.hunt(EMPTY_WINDOW);
      expect(hunted.events).toBe(0);
      expect(hunted.steps).toEqual([]);
    } finally {
      await hunter.close();
    }
  });

  it('refuses a window at once when its thread has exited, rather than leaving it waiting', async () => {
    const hunter = threadHunter([], 1);
    await hunter.close();
    const outcome = await Promise.race([
      hunter.hunt(EMPTY_WINDOW).then(
        () => 'hunted',
        (error: Error) => error.message,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2_000)),
    ]);
    expect(outcome).toMatch(/a hunt thread exited/);
  });
});
