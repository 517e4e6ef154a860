import type { KeyObject } from 'node:crypto';
import {
  DIGEST_PREFIX,
  type DigestObject,
  type DigestRecord,
  digestKey,
  sequenceOfDigestKey,
  windowPrefix,
} from '../../lambdas/shared/archive-layout.ts';
import { DigestRecordError, parseRecord, sha256Hex, signedByOneOf } from '../../lambdas/shared/digest-record.ts';
import { contentHash } from '../../lambdas/shared/staged-event.ts';
import {
  type ArchiveRange,
  type ArchiveSource,
  type ArchiveWindow,
  compareKeys,
  earliestListed,
  eventOf,
  listWindows,
  mapLimited,
  partLines,
  windowOfKey,
} from './archive-reader.ts';

/**
 * `olp archive verify`: checks an archive against its integrity chain (docs/design.md, invariant 9), as CloudTrail's
 * `validate-logs` checks log files against digest files. Every digest record is read in order and its link to the one
 * before, its stretch of sealed windows and (with public keys) its signature checked; then every manifest and part of
 * the windows in the range is read, hashed and compared with what the latest record listing it says, and every line
 * of every part is checked: a System Log event, in its window, in (published, uuid) order, once. What a record lists
 * and the archive lacks is `missing`; what the archive holds and no record lists is `uncovered`.
 *
 * Memory holds the chain's listing of the range (key, SHA-256, count per object) and one batch of windows; parts are
 * read one at a time per window.
 */

export type FindingKind =
  /** Listed (by a digest record or a manifest), and not in the archive. */
  | 'missing'
  /** Its bytes do not match the SHA-256 a digest record or its manifest lists. */
  | 'altered'
  /** In the archive, and in no digest record: added, or written by a run whose record is gone or not written yet. */
  | 'uncovered'
  /** A part's lines are not in (published, uuid) order. */
  | 'order'
  /** Event counts disagree: lines, manifest, digest record. */
  | 'count'
  /** A line that is not a System Log event, lies outside its window, or repeats another. */
  | 'event'
  /** A manifest that cannot be read, names another window, or disagrees with its parts or the chain. */
  | 'manifest'
  /** A digest record missing from the sequence, unreadable, or not chained to the one before. */
  | 'chain'
  /** Two records' stretches of sealed windows do not meet. */
  | 'gap'
  /** A record not signed, or not signed by a key given. */
  | 'signature'
  /** The record named with --head is not in the chain. */
  | 'head';

export interface Finding {
  readonly kind: FindingKind;
  readonly key: string;
  readonly detail: string;
}

export interface ChainSummary {
  /** Records read (a --since range starts at the first record that sealed windows of it, plus the one before). */
  readonly read: number;
  readonly first?: number;
  readonly last?: number;
  /** The last record's `sealed.to`: the chain vouches for windows before it. */
  readonly sealedTo?: string | null;
  readonly signed: number;
  readonly unsigned: number;
  readonly keyIds: string[];
  /** SHA-256 of the last record's bytes: pass it to a later verify as --head. */
  readonly headSha256?: string;
  /** Whether signatures were checked (public keys given). */
  readonly signaturesChecked: boolean;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** Objects read and checked: digest records, manifests, parts. */
  readonly objects: number;
  /** Events in the parts checked (the whole windows overlapping the range). */
  readonly events: number;
  readonly findings: Finding[];
  readonly chain: ChainSummary;
  /** What is worth knowing and is not wrong: windows before the chain began, a window awaiting its seal. */
  readonly notes: string[];
  /** The SHA-256 of each manifest of the range as verified, by key: an export checks nothing changed since. */
  readonly manifests: ReadonlyMap<string, string>;
}

export interface VerifyInput {
  readonly source: ArchiveSource;
  readonly range: ArchiveRange;
  /** Public keys one of which must have signed every record; without any, signatures are not checked. */
  readonly publicKeys?: readonly KeyObject[];
  /** SHA-256 of a record known from elsewhere (the sequencer's logs or state) that the chain must hold. */
  readonly head?: string;
  readonly onProgress?: (progress: { records: number; windows: number; events: number; done: boolean }) => void;
}

/** One object the chain lists: what the latest record listing it (for a manifest) or the first (a part) says. */
interface Covered extends DigestObject {
  readonly sequence: number;
  readonly windowStart: number;
}

const CONCURRENCY = 16;
const BEGINNING = Number.NEGATIVE_INFINITY;

class Findings {
  private readonly byId = new Map<string, Finding>();

  add(kind: FindingKind, key: string, detail: string): void {
    const id = `${kind}|${key}`;
    const found = this.byId.get(id);
    this.byId.set(id, { kind, key, detail: found === undefined ? detail : `${found.detail}; ${detail}` });
  }

  sorted(): Finding[] {
    return [...this.byId.values()].sort((a, b) => compareKeys(a.key, b.key) || compareKeys(a.kind, b.kind));
  }
}

export async function verifyArchive(input: VerifyInput): Promise<VerifyResult> {
  const findings = new Findings();
  const notes: string[] = [];
  const chain = await readChain(input, findings);
  const { range, source } = input;
  const earliest = earliestListed(range);
  const inRange = (start: number, end: number) => start >= earliest && start < range.until && end > range.since;
  /** Before the chain began (an archive sealed before the integrity chain existed): nothing covers it, by design. */
  const preChain = (start: number) => start < chain.startsAt;
  const awaitingSeal = (start: number) => start >= chain.sealedTo || chain.setAside.has(start);

  const listing = await listWindows(source, range);
  for (const problem of listing.problems) {
    findings.add(problem.reason === 'listed, but gone when read' ? 'missing' : 'manifest', problem.key, problem.reason);
  }
  const present = new Set([...listing.objects.values()].flat());
  let objects = chain.read;
  let events = 0;
  let windowsRead = 0;
  const preChainWindows = new Set<number>();
  const manifests = new Map<string, string>();

  for (let i = 0; i < listing.windows.length; i += CONCURRENCY) {
    const batch = listing.windows.slice(i, i + CONCURRENCY);
    const checked = await mapLimited(batch, CONCURRENCY, (window) =>
      checkWindow(source, window, chain.covered, listing.objects.get(windowPrefix(window.start)) ?? []),
    );
    for (const [j, result] of checked.entries()) {
      const window = batch[j] as ArchiveWindow;
      manifests.set(window.manifestKey, window.sha256);
      objects += result.objects;
      events += result.events;
      for (const finding of result.findings) {
        if (finding.kind === 'uncovered' && preChain(window.start)) preChainWindows.add(window.start);
        else findings.add(finding.kind, finding.key, finding.detail);
      }
    }
    windowsRead += batch.length;
    input.onProgress?.({ records: chain.read, windows: windowsRead, events, done: false });
  }

  // Folders with objects but no manifest: a seal that has not finished (a crashed run, awaiting the next), or objects
  // added to a window the chain says was sealed empty, or a window whose manifest is gone (reported as missing).
  for (const folder of listing.withoutManifest) {
    const start = windowOfKey(folder)?.start ?? Number.NaN;
    for (const key of listing.objects.get(folder) ?? []) {
      objects++;
      const covered = chain.covered.get(key);
      if (covered !== undefined) {
        const bytes = await source.get(key);
        if (bytes !== undefined && sha256Hex(bytes) !== covered.sha256) {
          findings.add('altered', key, `does not match the SHA-256 ${digestKey(covered.sequence)} lists`);
        }
      } else if (preChain(start)) preChainWindows.add(start);
      else if (awaitingSeal(start)) {
        notes.push(`${folder} holds objects of a seal not finished yet (the next sequencer run completes it)`);
      } else {
        findings.add('uncovered', key, 'in a window the chain says was sealed, with no manifest and no digest record');
      }
    }
  }

  // What the chain lists for the range and the archive does not hold: a removed object or a removed window.
  for (const [key, covered] of chain.covered) {
    const window = windowOfKey(key);
    if (window === undefined || !inRange(window.start, chain.windowEnds.get(window.start) ?? window.start + 1))
      continue;
    if (!present.has(key)) findings.add('missing', key, `listed in ${digestKey(covered.sequence)}, not in the archive`);
  }
  if (preChainWindows.size > 0) {
    notes.push(
      `${preChainWindows.size.toLocaleString('en-US')} windows were sealed before the integrity chain began ` +
        `(${chain.startsAtIso}): checked against their manifests only`,
    );
  }
  input.onProgress?.({ records: chain.read, windows: windowsRead, events, done: true });
  const sorted = findings.sorted();
  return { ok: sorted.length === 0, objects, events, findings: sorted, chain: chain.summary, notes, manifests };
}

interface ChainReading {
  readonly covered: Map<string, Covered>;
  readonly windowEnds: Map<number, number>;
  readonly read: number;
  /** The first record's `sealed.from` when the range reaches back to it: windows before it predate the chain. */
  readonly startsAt: number;
  readonly startsAtIso: string;
  /** The last record's `sealed.to` (epoch ms); windows from there on are not sealed yet. */
  readonly sealedTo: number;
  /** Windows the last record lists as set aside. */
  readonly setAside: ReadonlySet<number>;
  readonly summary: ChainSummary;
}

/** Reads the chain (from the record that matters for the range on), checking each record and link. */
async function readChain(input: VerifyInput, findings: Findings): Promise<ChainReading> {
  const { source, range } = input;
  const keys = input.publicKeys ?? [];
  const sequences: number[] = [];
  for await (const key of source.list(DIGEST_PREFIX)) {
    const sequence = sequenceOfDigestKey(key);
    if (sequence === undefined) findings.add('uncovered', key, 'in digests/, and not a digest record');
    else sequences.push(sequence);
  }
  sequences.sort((a, b) => a - b);
  let expected = 1;
  for (const sequence of sequences) {
    if (sequence > expected) {
      const which = sequence - 1 === expected ? `${expected} is` : `${expected} to ${sequence - 1} are`;
      findings.add('chain', digestKey(expected), `digest record ${which} missing: the chain is cut there`);
    }
    expected = sequence + 1;
  }

  const begin = await firstToRead(source, sequences, earliestListed(range));
  const covered = new Map<string, Covered>();
  const windowEnds = new Map<number, number>();
  let previous: { sequence: number; sha256: string; to: number } | undefined;
  let startsAt = BEGINNING;
  let startsAtIso = 'the beginning';
  let last: { record: DigestRecord; sha256: string } | undefined;
  let read = 0;
  let signed = 0;
  let unsigned = 0;
  const keyIds = new Set<string>();
  let headFound = false;

  const toRead = sequences.slice(begin);
  for (let i = 0; i < toRead.length; i += CONCURRENCY * 4) {
    const batch = toRead.slice(i, i + CONCURRENCY * 4);
    const fetched = await mapLimited(batch, CONCURRENCY, async (sequence) => ({
      sequence,
      bytes: await source.get(digestKey(sequence)),
    }));
    for (const { sequence, bytes } of fetched) {
      const key = digestKey(sequence);
      if (bytes === undefined) {
        findings.add('chain', key, 'listed, but gone when read');
        previous = undefined;
        continue;
      }
      read++;
      let record: DigestRecord;
      try {
        record = parseRecord(bytes);
      } catch (error) {
        if (!(error instanceof DigestRecordError)) throw error;
        findings.add('chain', key, error.message);
        previous = undefined;
        continue;
      }
      const sha256 = sha256Hex(bytes);
      if (input.head !== undefined && sha256 === input.head) headFound = true;
      const from = instantOf(record.sealed.from);
      const to = instantOf(record.sealed.to);
      if (record.sequence !== sequence) findings.add('chain', key, `says it is record ${record.sequence}`);
      if (sequence === 1) {
        if (record.previous !== null) findings.add('chain', key, 'is the first record, yet names a previous one');
        startsAt = from;
        startsAtIso = record.sealed.from ?? 'the beginning';
      } else if (record.previous === null) {
        findings.add('chain', key, 'names no previous record');
      } else if (previous !== undefined && previous.sequence === sequence - 1) {
        if (record.previous.sequence !== sequence - 1 || record.previous.sha256 !== previous.sha256) {
          findings.add('chain', key, `does not chain to ${digestKey(sequence - 1)}: the SHA-256 it names differs`);
        }
        if (from !== previous.to) {
          findings.add(
            'gap',
            key,
            `its stretch of sealed windows starts at ${record.sealed.from ?? 'the beginning'}, where ` +
              `${digestKey(sequence - 1)}'s ended at ${isoOf(previous.to)}`,
          );
        }
      }
      if (to < from) findings.add('gap', key, 'its stretch of sealed windows ends before it starts');
      if (record.signature === undefined) unsigned++;
      else {
        signed++;
        keyIds.add(record.signature.keyId);
      }
      if (keys.length > 0) {
        if (record.signature === undefined) findings.add('signature', key, 'is not signed');
        else if (!signedByOneOf(record, keys)) {
          findings.add(
            'signature',
            key,
            `its signature (key ${record.signature.keyId}) does not verify with the public key given`,
          );
        }
      }
      for (const window of record.windows) {
        const start = Date.parse(window.start);
        const end = Date.parse(window.end);
        if (!(end > range.since && start < range.until)) continue;
        windowEnds.set(start, end);
        for (const object of window.objects) {
          const known = covered.get(object.key);
          if (object.kind === 'manifest' || known === undefined) {
            covered.set(object.key, { ...object, sequence, windowStart: start });
          } else if (known.sha256 !== object.sha256) {
            findings.add(
              'altered',
              object.key,
              `${digestKey(known.sequence)} and ${key} list different SHA-256s for this part, which never changes`,
            );
          }
        }
      }
      previous = { sequence, sha256, to };
      last = { record, sha256 };
    }
    input.onProgress?.({ records: read, windows: 0, events: 0, done: false });
  }
  if (input.head !== undefined && !headFound) {
    findings.add(
      'head',
      DIGEST_PREFIX,
      `no digest record has the SHA-256 given with --head (${input.head}): records after it were removed, or the ` +
        'chain was rewritten',
    );
  }
  if (sequences.length === 0) {
    findings.add('chain', DIGEST_PREFIX, 'no digest records: nothing vouches for the archive');
  }
  const setAside = new Set((last?.record.setAside ?? []).map((iso) => Date.parse(iso)));
  return {
    covered,
    windowEnds,
    read,
    startsAt: sequences.length === 0 ? Number.POSITIVE_INFINITY : startsAt,
    startsAtIso,
    sealedTo: last === undefined ? BEGINNING : instantOf(last.record.sealed.to),
    setAside,
    summary: {
      read,
      ...(sequences[0] === undefined ? {} : { first: sequences[0] }),
      ...(last === undefined
        ? {}
        : { last: last.record.sequence, sealedTo: last.record.sealed.to, headSha256: last.sha256 }),
      signed,
      unsigned,
      keyIds: [...keyIds].sort(),
      signaturesChecked: keys.length > 0,
    },
  };
}

/**
 * Where to start reading for a range: the first record whose stretch ends after the range's earliest window (every
 * window of the range was sealed by it or a later record), less one, to check that record's link. Found by halving
 * over the listed sequences, reading a record at each step; the whole chain when the range is unbounded.
 */
async function firstToRead(source: ArchiveSource, sequences: readonly number[], earliest: number): Promise<number> {
  if (!Number.isFinite(earliest) || sequences.length === 0) return 0;
  let low = 0;
  let high = sequences.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const bytes = await source.get(digestKey(sequences[middle] as number));
    let to: number;
    try {
      if (bytes === undefined) return 0;
      to = instantOf(parseRecord(bytes).sealed.to);
    } catch {
      // A damaged record: read everything, so it is reported where it is.
      return 0;
    }
    if (to > earliest) high = middle;
    else low = middle + 1;
  }
  return Math.max(0, low - 1);
}

const instantOf = (iso: string | null): number => (iso === null ? BEGINNING : Date.parse(iso));
const isoOf = (at: number): string => (Number.isFinite(at) ? new Date(at).toISOString() : 'the beginning');

interface WindowCheck {
  readonly objects: number;
  readonly events: number;
  readonly findings: Finding[];
}

/** Checks one window: its manifest and each part against the chain, and every line of every part. */
async function checkWindow(
  source: ArchiveSource,
  window: ArchiveWindow,
  covered: ReadonlyMap<string, Covered>,
  folderObjects: readonly string[],
): Promise<WindowCheck> {
  const findings: Finding[] = [];
  const add = (kind: FindingKind, key: string, detail: string) => findings.push({ kind, key, detail });
  const { manifest, manifestKey } = window;
  let objects = 1;
  let events = 0;

  const listing = covered.get(manifestKey);
  if (listing === undefined) add('uncovered', manifestKey, 'no digest record lists this manifest');
  else if (listing.sha256 !== window.sha256) {
    add(
      'altered',
      manifestKey,
      `does not match the SHA-256 ${digestKey(listing.sequence)} lists, the latest record listing it`,
    );
  } else if (listing.eventCount !== manifest.eventCount) {
    add(
      'count',
      manifestKey,
      `lists ${manifest.eventCount} events, ${digestKey(listing.sequence)} ${listing.eventCount}`,
    );
  }
  const sum = manifest.parts.reduce((total, part) => total + part.eventCount, 0);
  if (sum !== manifest.eventCount) {
    add('count', manifestKey, `says ${manifest.eventCount} events, its parts say ${sum}`);
  }

  const seen = new Map<string, string>();
  const listed = new Set([manifestKey]);
  for (const part of manifest.parts) {
    if (!part.key.startsWith(windowPrefix(window.start)) || part.key.split('/').includes('..')) {
      add('manifest', manifestKey, `lists a part outside its window: ${part.key}`);
      continue;
    }
    listed.add(part.key);
    objects++;
    const bytes = await source.get(part.key);
    if (bytes === undefined) {
      add('missing', part.key, 'listed in its manifest, not in the archive');
      continue;
    }
    const sha256 = sha256Hex(bytes);
    const chainListing = covered.get(part.key);
    const mismatches: string[] = [];
    if (sha256 !== part.sha256) mismatches.push('does not match the SHA-256 its manifest lists');
    if (chainListing !== undefined && chainListing.sha256 !== sha256) {
      mismatches.push(`does not match the SHA-256 ${digestKey(chainListing.sequence)} lists`);
    }
    if (mismatches.length > 0) add('altered', part.key, mismatches.join(', and '));
    if (chainListing === undefined) add('uncovered', part.key, 'no digest record lists this part');
    else if (chainListing.eventCount !== part.eventCount) {
      add(
        'count',
        part.key,
        `its manifest lists ${part.eventCount} events, ${digestKey(chainListing.sequence)} ${chainListing.eventCount}`,
      );
    }

    const lines = await partLines(bytes);
    if (lines === undefined) {
      add('event', part.key, 'is not gzip');
      continue;
    }
    if (lines.length !== part.eventCount) {
      add('count', part.key, `holds ${lines.length} lines, its manifest lists ${part.eventCount} events`);
    }
    let before: { publishedMs: number; uuid: string; hash: string } | undefined;
    let outOfOrder = false;
    for (const [i, line] of lines.entries()) {
      const event = eventOf(line);
      const publishedMs = event === undefined ? Number.NaN : Date.parse(event.published);
      if (event === undefined || Number.isNaN(publishedMs)) {
        add('event', part.key, `line ${i + 1} is not a System Log event with a uuid and published`);
        continue;
      }
      events++;
      const current = { publishedMs, uuid: event.uuid, hash: contentHash(JSON.parse(line)) };
      if (publishedMs < window.start || publishedMs >= window.end) {
        add('event', part.key, `line ${i + 1} was published at ${event.published}, outside its window`);
      }
      const id = `${current.uuid}#${current.hash}`;
      const first = seen.get(id);
      if (first !== undefined) add('event', part.key, `line ${i + 1} repeats an event of ${first}`);
      else seen.set(id, `${part.key} line ${i + 1}`);
      if (before !== undefined && !outOfOrder && compareEvents(before, current) > 0) {
        add('order', part.key, `line ${i + 1} sorts before line ${i} by (published, uuid)`);
        outOfOrder = true;
      }
      if (i === 0 && Date.parse(part.firstPublished) !== publishedMs) {
        add(
          'manifest',
          manifestKey,
          `says ${part.key} starts at ${part.firstPublished}, its first line at ${event.published}`,
        );
      }
      if (i === lines.length - 1 && Date.parse(part.lastPublished) !== publishedMs) {
        add(
          'manifest',
          manifestKey,
          `says ${part.key} ends at ${part.lastPublished}, its last line at ${event.published}`,
        );
      }
      before = current;
    }
  }

  for (const key of folderObjects) {
    if (listed.has(key)) continue;
    objects++;
    const chainListing = covered.get(key);
    if (chainListing !== undefined) {
      add('manifest', key, `listed in ${digestKey(chainListing.sequence)}, and not in its window's manifest`);
    } else {
      add('uncovered', key, "in the window's folder, and in neither its manifest nor any digest record");
    }
  }
  return { objects, events, findings };
}

/** Archive order: `published`, then uuid, then content hash (the sequencer's compareStaged). */
const compareEvents = (
  a: { publishedMs: number; uuid: string; hash: string },
  b: { publishedMs: number; uuid: string; hash: string },
): number => a.publishedMs - b.publishedMs || compareKeys(a.uuid, b.uuid) || compareKeys(a.hash, b.hash);
