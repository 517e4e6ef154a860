import type { DetectorStore, StoredMember } from '../../lambdas/detector/detect.ts';

interface StoredSet {
  /** Member keys in order, as a DynamoDB sort key orders them (UTF-16 code units agree with UTF-8 for these keys). */
  keys: string[];
  readonly members: Map<string, StoredMember & { readonly expiresAt: number }>;
}

/** The index of the first key not below `key` (binary search). */
function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((keys[mid] ?? '') < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Detector state in memory, for `olp hunt` and the local runner: the same sets, members and order as the DynamoDB
 * store. Each set keeps its keys sorted, so a read costs what DynamoDB's does (a seek and at most `limit` members),
 * not a pass over the set: a brute force from one IP puts thousands of events in one window. Expired members stay
 * until `sweep`, as DynamoDB's TTL sweeper may leave them for days; a detector never relies on them being gone.
 */
export class MemoryDetectorStore implements DetectorStore {
  private readonly sets = new Map<string, StoredSet>();

  async put(
    set: string,
    member: string,
    fields: Readonly<Record<string, string | number>>,
    expiresAt: number,
  ): Promise<void> {
    let stored = this.sets.get(set);
    if (stored === undefined) {
      stored = { keys: [], members: new Map() };
      this.sets.set(set, stored);
    }
    if (!stored.members.has(member)) stored.keys.splice(lowerBound(stored.keys, member), 0, member);
    stored.members.set(member, { member, fields: { ...fields }, expiresAt });
  }

  async members(
    set: string,
    range: { readonly prefix: string } | { readonly from: string; readonly to: string },
    limit: number,
  ): Promise<StoredMember[]> {
    const stored = this.sets.get(set);
    if (stored === undefined) return [];
    const inRange =
      'prefix' in range ? (key: string) => key.startsWith(range.prefix) : (key: string) => key <= range.to;
    const found: StoredMember[] = [];
    for (let i = lowerBound(stored.keys, ('prefix' in range) ? range.prefix : range.from); found.length < limit; i++) {
      const key = stored.keys[i];
      if (key === undefined || !inRange(key)) break;
      const member = stored.members.get(key);
      if (member !== undefined) found.push({ member: member.member, fields: member.fields });
    }
    return found;
  }

  /** Deletes the members that expired before `nowSeconds`, as DynamoDB's TTL sweeper does; keeps long hunts small. */
  sweep(nowSeconds: number): void {
    for (const [name, stored] of this.sets) {
      const kept: string[] = [];
      for (const key of stored.keys) {
        if ((stored.members.get(key)?.expiresAt ?? 0) >= nowSeconds) kept.push(key);
        else stored.members.delete(key);
      }
      if (kept.length === 0) this.sets.delete(name);
      else stored.keys = kept;
    }
  }
}
