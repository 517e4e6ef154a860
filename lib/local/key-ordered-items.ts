/**
 * Items under a partition key and a sort key, kept in this process, read back in DynamoDB's order: a query returns
 * one partition ascending by sort key, compared as UTF-8 bytes as DynamoDB compares string keys.
 */
export class KeyOrderedItems<V> {
  private readonly partitions = new Map<string, Map<string, V>>();

  get(pk: string, sk: string): V | undefined {
    return this.partitions.get(pk)?.get(sk);
  }

  put(pk: string, sk: string, item: V): void {
    let partition = this.partitions.get(pk);
    if (partition === undefined) {
      partition = new Map();
      this.partitions.set(pk, partition);
    }
    partition.set(sk, item);
  }

  /** Removes the item; returns whether there was one. */
  delete(pk: string, sk: string): boolean {
    const partition = this.partitions.get(pk);
    if (partition === undefined || !partition.delete(sk)) return false;
    if (partition.size === 0) this.partitions.delete(pk);
    return true;
  }

  /** One partition's items ascending by sort key, those whose sort key is below `before` if given, at most `limit`. */
  query(pk: string, options: { readonly before?: string; readonly limit?: number } = {}): V[] {
    const partition = this.partitions.get(pk);
    if (partition === undefined) return [];
    const { before, limit = Number.POSITIVE_INFINITY } = options;
    const keys = [...partition.keys()];
    const chosen = (before === undefined ? keys : keys.filter((sk) => compareKeys(sk, before) < 0)).sort(compareKeys);
    return chosen.slice(0, Math.min(chosen.length, limit)).map((sk) => partition.get(sk) as V);
  }

  /** Every item of one partition with its sort key, in no particular order. */
  *entriesOf(pk: string): Generator<[string, V]> {
    const partition = this.partitions.get(pk);
    if (partition !== undefined) yield* partition;
  }

  /** Every item with its keys, in no particular order. */
  *entries(): Generator<[string, string, V]> {
    for (const [pk, partition] of this.partitions) {
      for (const [sk, item] of partition) yield [pk, sk, item];
    }
  }
}

/**
 * Orders strings as their UTF-8 bytes do. UTF-16 code units agree with UTF-8 bytes except that surrogates (the halves
 * of characters above U+FFFF, whose UTF-8 form starts with F0-F4) sort before U+E000-U+FFFF (EE-EF) in UTF-16.
 */
export const compareKeys = (a: string, b: string): number => {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    return x >= 0xd800 && y >= 0xd800 ? utf8Rank(x) - utf8Rank(y) : x - y;
  }
  return a.length - b.length;
};

/** A code unit at or above U+D800, renumbered so surrogates come after U+E000-U+FFFF. */
const utf8Rank = (unit: number): number => (unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);
