import { gunzipSync } from 'node:zlib';
import type { ArchivePart } from '../../lambdas/shared/archive-layout.ts';
import { AUTH0, OKTA } from '../../lambdas/shared/log-sources.ts';
import { contentHash } from '../../lambdas/shared/staged-event.ts';

/**
 * An archive part's contents: its lines decoded into events, and a window's parts merged into its events in archive
 * order. Nothing here reads: the readers (archive-reader.ts) fetch and check the bytes, and a hunt thread decodes
 * them with no more than this module loaded.
 */

/** Events published at or after `since` and before `until` (milliseconds). */
export interface ArchiveRange {
  readonly since: number;
  readonly until: number;
}

/** Something in the archive that cannot be trusted, by key: the reader goes on with the rest. */
export interface ArchiveProblem {
  readonly key: string;
  readonly reason: string;
}

export const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One archived event: its line as stored, where it is, and the fields the archive is ordered and deduped by. */
export interface ArchivedEvent {
  /** Lowercased, as the pipeline dedupes. */
  readonly uuid: string;
  readonly published: string;
  /** The line as stored: the System Log event exactly as received. */
  readonly text: string;
  /** The line parsed, for readers that need more of it than its uuid and time. */
  readonly value: Readonly<Record<string, unknown>>;
  readonly partKey: string;
  /** 1-based line number in the part. */
  readonly line: number;
}

/**
 * The events of a part's lines (undefined: the bytes were not gzip), each line checked, the count against the
 * manifest's: the half of `readPart` that decodes, which needs no I/O.
 */
export function partEvents(
  part: ArchivePart,
  lines: readonly string[] | undefined,
): { events: ArchivedEvent[]; problems: ArchiveProblem[] } {
  const key = part.key;
  if (lines === undefined) return { events: [], problems: [{ key, reason: 'matches its SHA-256 but is not gzip' }] };
  const events: ArchivedEvent[] = [];
  const problems: ArchiveProblem[] = [];
  for (const [i, line] of lines.entries()) {
    const event = eventOf(line);
    if (event === undefined) {
      problems.push({ key, reason: `line ${i + 1} is not a System Log event with a uuid and published` });
      continue;
    }
    events.push({
      uuid: event.uuid,
      published: event.published,
      value: event.value,
      text: line,
      partKey: key,
      line: i + 1,
    });
  }
  if (lines.length !== part.eventCount) {
    problems.push({ key, reason: `holds ${lines.length} lines, its manifest lists ${part.eventCount} events` });
  }
  return { events, problems };
}

/** `partLines` on the calling thread, for a thread that has nothing else to do meanwhile. */
export function partLinesSync(bytes: Uint8Array): string[] | undefined {
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch {
    return undefined;
  }
  return linesOf(text);
}

export const linesOf = (text: string): string[] => {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
};

/** The uuid (lowercased) and `published` of an archived line, or undefined when it is no System Log event. */
export const eventOf = (
  line: string,
): { uuid: string; published: string; value: Readonly<Record<string, unknown>> } | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  // An Okta System Log event carries uuid and published; an Auth0 log (archived under auth0/) log_id and data.date.
  const { id, published } = Object.hasOwn(record, 'uuid')
    ? OKTA.claimedIdentity(record)
    : AUTH0.claimedIdentity(record);
  if (typeof id !== 'string' || typeof published !== 'string') return undefined;
  return { uuid: id.toLowerCase(), published, value: record };
};

export interface WindowLine {
  readonly text: string;
  readonly value: Readonly<Record<string, unknown>>;
}

/**
 * A window's events in the range from its parts as read: each content once (a uuid held twice with the same content
 * is one event; with different contents, both are kept, as the archive holds them), ordered by `published`, then
 * uuid, then content.
 */
export function orderWindow(
  reads: ReadonlyArray<{ readonly events: readonly ArchivedEvent[]; readonly problems: readonly ArchiveProblem[] }>,
  range: ArchiveRange,
): { lines: WindowLine[]; problems: ArchiveProblem[] } {
  const problems: ArchiveProblem[] = [];
  const inRange: Array<{ event: ArchivedEvent; publishedMs: number }> = [];
  const copies = new Map<string, number>();
  for (const read of reads) {
    problems.push(...read.problems);
    for (const event of read.events) {
      const publishedMs = Date.parse(event.published);
      if (!(publishedMs >= range.since && publishedMs < range.until)) continue;
      inRange.push({ event, publishedMs });
      copies.set(event.uuid, (copies.get(event.uuid) ?? 0) + 1);
    }
  }
  // Only a uuid the window holds more than once needs its contents compared: most events are hashed never.
  const byKey = new Map<string, { publishedMs: number; event: ArchivedEvent; hash: string }>();
  for (const { event, publishedMs } of inRange) {
    const hash = (copies.get(event.uuid) ?? 0) > 1 ? contentHash(event.value) : '';
    const key = `${event.uuid}#${hash}`;
    if (!byKey.has(key)) byKey.set(key, { publishedMs, event, hash });
  }
  const sorted = [...byKey.values()].sort(
    (a, b) => a.publishedMs - b.publishedMs || compareKeys(a.event.uuid, b.event.uuid) || compareKeys(a.hash, b.hash),
  );
  return { lines: sorted.map(({ event }) => ({ text: event.text, value: event.value })), problems };
}
