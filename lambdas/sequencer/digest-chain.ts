import {
  type ArchivePart,
  type DigestObject,
  type DigestRecord,
  digestKey,
  manifestKey,
} from '../shared/archive-layout.ts';
import { DigestRecordError, parseRecord, serializeRecord, sha256Hex, signRecord } from '../shared/digest-record.ts';
import type { ArchiveSigner, ArchiveStore, DigestHead, SequencerState } from '../shared/ports.ts';
import { archiveWindowAt, HOUR_MS } from '../shared/window.ts';
import { BEGINNING } from './sequencer-state.ts';

/**
 * The archive's integrity chain (docs/design.md, invariant 9): after each run that wrote to the archive, one digest
 * record listing the SHA-256 of every part and manifest it wrote, chained to the record before it and signed.
 */

/** A run that wrote nothing still records the stretch it sealed once the stretch is this long, so the chain keeps up. */
export const EMPTY_STRETCH_MS = HOUR_MS;

/** The chain cannot be continued: the next record's key holds a record that does not follow the head. */
export class DigestChainError extends Error {
  override readonly name = 'DigestChainError';
}

/** What one run wrote (or found written and took over), window by window: parts, and the manifest's last version. */
export class RunWrites {
  private readonly windows = new Map<number, { parts: DigestObject[]; manifest?: ManifestWrite }>();

  part(windowStart: number, part: ArchivePart): void {
    this.windowOf(windowStart).parts.push({
      key: part.key,
      kind: part.kind,
      sha256: part.sha256,
      eventCount: part.eventCount,
    });
  }

  /** The manifest as written; a later version written in the same run replaces it. */
  manifest(windowStart: number, manifest: ManifestWrite): void {
    this.windowOf(windowStart).manifest = manifest;
  }

  get(windowStart: number) {
    return this.windows.get(windowStart);
  }

  starts(): number[] {
    return [...this.windows.keys()];
  }

  private windowOf(windowStart: number) {
    let window = this.windows.get(windowStart);
    if (window === undefined) {
      window = { parts: [] };
      this.windows.set(windowStart, window);
    }
    return window;
  }
}

export interface ManifestWrite {
  readonly bytes: Uint8Array;
  readonly parts: readonly ArchivePart[];
  readonly eventCount: number;
}

export interface DigestInput {
  readonly writes: RunWrites;
  /** Windows a run before this one journaled and no record covers: their objects are unknown, so all are listed. */
  readonly carried: ReadonlySet<number>;
  /** Where the first record's stretch starts when there is no chain yet: the state's `nextWindow` when the run began. */
  readonly firstFrom: number;
  /** Reads a window's manifest as stored (for carried windows this run did not write). */
  readonly readManifest: (
    windowStart: number,
  ) => Promise<{ bytes: Uint8Array; parts: readonly ArchivePart[] } | undefined>;
}

export interface WrittenDigest {
  readonly sequence: number;
  readonly key: string;
  readonly sha256: string;
  /** Objects the record lists. */
  readonly objects: number;
  readonly bytes: number;
}

/**
 * The digest step of a run: finds the head (the state's, else the archive's), takes over a record a crashed run wrote
 * after the head, and appends one record covering what this run and any crashed run wrote, when there is anything
 * to cover or the sealed stretch since the last record reached EMPTY_STRETCH_MS. Returns the state with the new head
 * and an empty journal. A record is never written over another: the next key is read first.
 */
export const recordDigest = async (
  deps: { readonly archive: ArchiveStore; readonly signer?: ArchiveSigner },
  state: SequencerState,
  input: DigestInput,
  now: number,
): Promise<{ state: SequencerState; written?: WrittenDigest }> => {
  // A record the state does not know (found by findHead, or after the state's head): a run wrote it and stopped before
  // saving the state. It is the chain's, so it is kept, and what it covers need not be listed again.
  const coveredByFound = new Set<string>();
  const cover = (record: DigestRecord) => {
    for (const window of record.windows) for (const object of window.objects) coveredByFound.add(entryId(object));
  };
  let head: DigestHead | undefined = state.digestHead;
  if (head === undefined) {
    const found = await findHeadRecord(deps.archive);
    if (found !== undefined) cover(found.record);
    head = found?.head;
  }
  for (;;) {
    const sequence = (head?.sequence ?? 0) + 1;
    const bytes = await deps.archive.get(digestKey(sequence));
    if (bytes === undefined) break;
    const record = readRecord(sequence, bytes);
    if ((record.previous?.sha256 ?? null) !== (head?.sha256 ?? null) || record.sequence !== sequence) {
      throw new DigestChainError(
        `${digestKey(sequence)} exists and does not follow ${head === undefined ? 'the start' : digestKey(head.sequence)}`,
      );
    }
    cover(record);
    head = { sequence, sha256: sha256Hex(bytes), sealedTo: instantOf(record.sealed.to) };
  }

  const windows = await coveredWindows(state, input, coveredByFound);
  const from = head?.sealedTo ?? input.firstFrom;
  const to = Math.max(from, state.nextWindow);
  const stretch = to === from ? 0 : from === BEGINNING ? Number.POSITIVE_INFINITY : to - from;
  if (windows.length === 0 && stretch < EMPTY_STRETCH_MS) {
    const { undigested: _done, ...rest } = state;
    return { state: head === undefined ? rest : { ...rest, digestHead: head } };
  }

  const sequence = (head?.sequence ?? 0) + 1;
  const record = await signRecord(
    {
      version: 1,
      sequence,
      previous: head === undefined ? null : { sequence: head.sequence, sha256: head.sha256 },
      runAt: new Date(now).toISOString(),
      sealed: { from: isoOrNull(from), to: isoOrNull(to) },
      setAside: state.setAside.filter((start) => start < to).map((start) => new Date(start).toISOString()),
      windows,
    },
    deps.signer,
  );
  const bytes = serializeRecord(record);
  await deps.archive.put(digestKey(sequence), bytes, 'application/json');
  const digestHead: DigestHead = { sequence, sha256: sha256Hex(bytes), sealedTo: to };
  const { undigested: _done, ...rest } = state;
  return {
    state: { ...rest, digestHead },
    written: {
      sequence,
      key: digestKey(sequence),
      sha256: digestHead.sha256,
      objects: windows.reduce((sum, window) => sum + window.objects.length, 0),
      bytes: bytes.length,
    },
  };
};

/**
 * The windows the record lists, by start: for a window this run wrote, the parts it wrote and the manifest's last
 * version; for a window a crashed run may have written, its manifest and every part it lists. Objects a record found
 * after the head already covers (same key, same SHA-256) are left out.
 */
const coveredWindows = async (
  state: SequencerState,
  input: DigestInput,
  coveredByFound: ReadonlySet<string>,
): Promise<DigestRecord['windows']> => {
  const starts = [...new Set([...input.writes.starts(), ...input.carried])].sort((a, b) => a - b);
  const windows: DigestRecord['windows'] = [];
  for (const start of starts) {
    const written = input.writes.get(start);
    let objects: DigestObject[];
    if (input.carried.has(start)) {
      const manifest = written?.manifest ?? (await input.readManifest(start));
      if (manifest === undefined) continue;
      objects = [
        ...manifest.parts.map((part) => ({
          key: part.key,
          kind: part.kind,
          sha256: part.sha256,
          eventCount: part.eventCount,
        })),
        manifestObject(start, manifest.bytes, manifest.parts),
      ];
    } else {
      if (written?.manifest === undefined) continue;
      objects = [...written.parts, manifestObject(start, written.manifest.bytes, written.manifest.parts)];
    }
    const fresh = objects.filter((object) => !coveredByFound.has(entryId(object)));
    if (fresh.length === 0) continue;
    const { end } = archiveWindowAt(start, state.windowSizes);
    windows.push({ start: new Date(start).toISOString(), end: new Date(end).toISOString(), objects: fresh });
  }
  return windows;
};

const manifestObject = (start: number, bytes: Uint8Array, parts: readonly ArchivePart[]): DigestObject => ({
  key: manifestKey(start),
  kind: 'manifest',
  sha256: sha256Hex(bytes),
  eventCount: parts.reduce((sum, part) => sum + part.eventCount, 0),
});

const entryId = (object: DigestObject): string => `${object.key}|${object.sha256}`;

const readRecord = (sequence: number, bytes: Uint8Array): DigestRecord => {
  try {
    return parseRecord(bytes);
  } catch (error) {
    if (error instanceof DigestRecordError) throw new DigestChainError(`${digestKey(sequence)} ${error.message}`);
    throw error;
  }
};

const instantOf = (iso: string | null): number => (iso === null ? BEGINNING : Date.parse(iso));
const isoOrNull = (at: number): string | null => (at === BEGINNING ? null : new Date(at).toISOString());

/**
 * The last record of the archive's chain, when the state does not know it (the first run of this release, a lost
 * state item, a fresh local run into an existing directory): records are numbered from 1 without gaps, so doubling
 * then halving finds the last one in about 2 log2(n) reads, with the archive's own get.
 */
export const findHead = async (archive: ArchiveStore): Promise<DigestHead | undefined> =>
  (await findHeadRecord(archive))?.head;

const findHeadRecord = async (
  archive: ArchiveStore,
): Promise<{ head: DigestHead; record: DigestRecord } | undefined> => {
  const read = async (sequence: number) => {
    const bytes = await archive.get(digestKey(sequence));
    return bytes === undefined ? undefined : { sequence, bytes };
  };
  let last = await read(1);
  if (last === undefined) return undefined;
  let high = 2;
  for (let found = await read(high); found !== undefined; found = await read(high)) {
    last = found;
    high *= 2;
  }
  // last exists, high does not: the end is in between.
  let low = last.sequence;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const found = await read(middle);
    if (found === undefined) high = middle;
    else {
      low = middle;
      last = found;
    }
  }
  const record = readRecord(last.sequence, last.bytes);
  return {
    head: { sequence: last.sequence, sha256: sha256Hex(last.bytes), sealedTo: instantOf(record.sealed.to) },
    record,
  };
};
