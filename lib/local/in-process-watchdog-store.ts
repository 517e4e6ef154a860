import type { WatchdogStateStore } from '../../lambdas/watchdog/run-watchdog.ts';
import { type VersionedState, WatchdogState } from '../../lambdas/watchdog/watchdog-state.ts';

/**
 * The feed watchdog's state in this process, as DynamoWatchdogStore keeps it: the state as JSON and a version that
 * every write increments, written only if the stored version is still the one the writer read.
 */
export class InProcessWatchdogStore implements WatchdogStateStore {
  private stored: { readonly json: string; readonly version: number } | undefined;

  async read(): Promise<VersionedState | undefined> {
    if (this.stored === undefined) return undefined;
    return { state: WatchdogState.parse(JSON.parse(this.stored.json)), version: this.stored.version };
  }

  async write(state: WatchdogState, expected: number | undefined): Promise<boolean> {
    if (this.stored?.version !== expected) return false;
    this.stored = { json: JSON.stringify(state), version: (expected ?? 0) + 1 };
    return true;
  }
}
