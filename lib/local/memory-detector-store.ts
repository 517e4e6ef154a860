import type { DetectorStore, StoredMember } from '../../lambdas/detector/detect.ts';

/**
 * Detector state in memory, for `olp hunt` and the local runner: the same sets, members and order as the DynamoDB
 * store. Expired members are left in place, as DynamoDB's TTL sweeper may leave them for days; a detector never
 * relies on them being gone.
 */
export class MemoryDetectorStore implements DetectorStore {
  private readonly sets = new Map<string, Map<string, StoredMember & { readonly expiresAt: number }>>();

  async put(
    set: string,
    member: string,
    fields: Readonly<Record<string, string | number>>,
    expiresAt: number,
  ): Promise<void> {
    let members = this.sets.get(set);
    if (members === undefined) {
      members = new Map();
      this.sets.set(set, members);
    }
    members.set(member, { member, fields: { ...fields }, expiresAt });
  }

  async members(
    set: string,
    range: { readonly prefix: string } | { readonly from: string; readonly to: string },
    limit: number,
  ): Promise<StoredMember[]> {
    const members = this.sets.get(set);
    if (members === undefined) return [];
    const inRange =
      'prefix' in range
        ? (key: string) => key.startsWith(range.prefix)
        : (key: string) => key >= range.from && key <= range.to;
    return [...members.keys()]
      .filter(inRange)
      .sort()
      .slice(0, limit)
      .flatMap((key) => {
        const stored = members.get(key);
        return stored === undefined ? [] : [{ member: stored.member, fields: stored.fields }];
      });
  }

  /** Deletes the members that expired before `nowSeconds`, as DynamoDB's TTL sweeper does; keeps long hunts small. */
  sweep(nowSeconds: number): void {
    for (const [set, members] of this.sets) {
      for (const [key, stored] of members) if (stored.expiresAt < nowSeconds) members.delete(key);
      if (members.size === 0) this.sets.delete(set);
    }
  }
}
