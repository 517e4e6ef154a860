import { gzipSync } from 'node:zlib';
import type { ArchivePart } from '../shared/archive-layout.ts';
import { sha256Hex } from '../shared/digest-record.ts';
import { compareStaged, type StagedEvent } from '../shared/staged-event.ts';

export interface BuiltPart {
  readonly bytes: Uint8Array;
  readonly part: ArchivePart;
}

/**
 * One archive object: the events sorted by (`published`, uuid), one per line exactly as received, gzipped.
 * Deterministic: the same events give the same bytes, so rewriting a part after a crash is harmless.
 */
export const buildPart = (kind: ArchivePart['kind'], key: string, events: readonly StagedEvent[]): BuiltPart => {
  const sorted = [...events].sort(compareStaged);
  const first = sorted[0];
  const last = sorted.at(-1);
  if (first === undefined || last === undefined) throw new Error(`an archive part needs events: ${key}`);
  const bytes = gzipSync(sorted.map((event) => `${event.body}\n`).join(''));
  return {
    bytes,
    part: {
      kind,
      key,
      eventCount: sorted.length,
      firstPublished: new Date(first.publishedMs).toISOString(),
      lastPublished: new Date(last.publishedMs).toISOString(),
      sha256: sha256Hex(bytes),
      ...(kind === 'late' ? { events: sorted.map((event) => event.sk) } : {}),
      ...backfilled(sorted),
    },
  };
};

/** The keys of the events refilled from the System Log API rather than delivered by the stream, when there are any. */
const backfilled = (events: readonly StagedEvent[]): { backfilled?: string[] } => {
  const keys = events.filter((event) => event.origin === 'backfill').map((event) => event.sk);
  return keys.length === 0 ? {} : { backfilled: keys };
};

export { sha256Hex } from '../shared/digest-record.ts';

/** uuids that appear with more than one content among `events`. */
export const conflictingUuids = (events: ReadonlyArray<Pick<StagedEvent, 'uuid' | 'hash'>>): string[] => {
  const hashes = new Map<string, Set<string>>();
  for (const event of events) {
    const seen = hashes.get(event.uuid) ?? new Set<string>();
    seen.add(event.hash);
    hashes.set(event.uuid, seen);
  }
  return [...hashes]
    .filter(([, seen]) => seen.size > 1)
    .map(([uuid]) => uuid)
    .sort();
};
