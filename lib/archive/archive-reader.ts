import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { GetObjectCommand, NoSuchKey, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { sha256Hex } from '../../lambdas/sequencer/window-part.ts';
import { type ArchivePart, WindowManifest, windowPrefix } from '../../lambdas/shared/archive-layout.ts';
import { ArchiveDirStore } from '../local/archive-dir-store.ts';
import {
  type ArchivedEvent,
  type ArchiveProblem,
  type ArchiveRange,
  compareKeys,
  linesOf,
  partEvents,
} from './archive-part.ts';

export {
  type ArchivedEvent,
  type ArchiveProblem,
  type ArchiveRange,
  compareKeys,
  eventOf,
  partEvents,
  partLinesSync,
} from './archive-part.ts';

/**
 * Reads a sealed archive (the S3 bucket, or a local `--archive-dir`) back: the windows whose manifests overlap a time
 * range, and the events of their parts, each part checked against the SHA-256 its manifest lists. The archive holds
 * exactly what its manifests list: a window folder without a manifest (a seal interrupted after its main part) holds
 * nothing yet. What cannot be trusted (a part missing or altered, a manifest unreadable) is reported as a problem with
 * its key, never thrown, so a reader of a large archive sees every problem at once. Errors reaching the storage itself
 * (no such bucket, access denied) are thrown.
 *
 * Shared by `olp audit`, `olp hunt` and `olp archive verify|export` (verify-archive.ts, export-archive.ts); decoding
 * a part's bytes is archive-part.ts's.
 */

/** Where an archive's objects are: keys are the layout's (`archive/dt=.../manifest.json`), relative to the root. */
export interface ArchiveSource {
  /** Names the archive in messages: a directory, or `s3://bucket/prefix`. */
  readonly name: string;
  /** Every key that starts with `prefix`, in ascending order, as S3 lists them. */
  list(prefix: string): AsyncIterable<string>;
  /** The object's bytes, or undefined when there is no such object. */
  get(key: string): Promise<Uint8Array | undefined>;
}

/** An archive in a local directory, as `olp local --archive-dir` writes it. */
export class DirArchiveSource implements ArchiveSource {
  readonly name: string;
  private readonly root: string;
  private readonly store: ArchiveDirStore;

  constructor(root: string) {
    this.root = resolve(root);
    this.name = this.root;
    this.store = new ArchiveDirStore(this.root);
  }

  async *list(prefix: string): AsyncIterable<string> {
    // Walk the deepest folder the prefix names, then keep the keys that start with the whole prefix.
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const path = resolve(join(this.root, folder));
    if (path !== this.root && !path.startsWith(this.root + sep)) return;
    let entries: Dirent[];
    try {
      entries = await readdir(path, { recursive: true, withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    const keys: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const key = folder + relative(path, join(entry.parentPath, entry.name)).split(sep).join('/');
      // A `.tmp` file is an object being written (ArchiveDirStore renames it into place), not an object yet.
      if (key.startsWith(prefix) && !key.endsWith('.tmp')) keys.push(key);
    }
    yield* keys.sort(compareKeys);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.store.get(key);
  }
}

/** An archive in an S3 bucket, under an optional key prefix (in front of `archive/`). */
export class S3ArchiveSource implements ArchiveSource {
  readonly name: string;
  private readonly prefix: string;

  /** `prefix` names a folder: a `/` is added when it has none. */
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    prefix = '',
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.name = `s3://${bucket}/${this.prefix}`;
  }

  async *list(prefix: string): AsyncIterable<string> {
    const pages = paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: `${this.prefix}${prefix}` },
    );
    for await (const page of pages) {
      for (const { Key } of page.Contents ?? []) {
        if (Key?.startsWith(this.prefix)) yield Key.slice(this.prefix.length);
      }
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const { Body } = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${key}` }),
      );
      return Body === undefined ? undefined : await Body.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }
}

/** A half-open range of `published` time, [since, until), epoch ms. */
/** A sealed window: its manifest, read and checked against its key. */
export interface ArchiveWindow {
  readonly manifestKey: string;
  readonly start: number;
  readonly end: number;
  readonly manifest: WindowManifest;
  /** SHA-256 (hex) of the manifest's bytes as stored, which the integrity chain's digest records list. */
  readonly sha256: string;
}

export interface WindowListing {
  /** Windows whose manifests overlap the range, by start. */
  readonly windows: ArchiveWindow[];
  readonly problems: ArchiveProblem[];
  /** Folders (`archive/dt=.../window=.../`) of windows in the range that hold objects but no manifest. */
  readonly withoutManifest: string[];
  /** Every object of the window folders listed (those starting in the range's hours), by folder, in key order. */
  readonly objects: ReadonlyMap<string, readonly string[]>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Reads in flight at once: enough to hide S3's latency, few enough to stay far below its request rates. */
const CONCURRENCY = 16;
const MANIFEST_KEY =
  /^archive\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/window=(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z\/manifest\.json$/;
const WINDOW_FOLDER =
  /^(archive\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/window=(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})Z\/)/;

/** The window folder an archive key is in, with the window's start, or undefined for a key outside any window. */
export const windowOfKey = (key: string): { folder: string; start: number } | undefined => {
  const folder = WINDOW_FOLDER.exec(key);
  if (folder?.[1] === undefined) return undefined;
  const start = startOfFolder(folder[2] ?? '', folder[3] ?? '', folder[4] ?? '', folder[5] ?? '');
  return Number.isFinite(start) ? { folder: folder[1], start } : undefined;
};

/** The first instant whose windows `listWindows` lists for a range: the hour `since` is in. */
export const earliestListed = (range: ArchiveRange): number => Math.floor(range.since / HOUR_MS) * HOUR_MS;

/** Past this many days, one listing of `archive/` costs fewer requests than one listing per day. */
const MOST_DAY_LISTINGS = 3660;

/**
 * The `archive/dt=YYYY-MM-DD/` prefixes of the days the range touches. A window never crosses a whole hour (every
 * window length divides an hour), so the windows overlapping the range all start on these days. An unbounded range
 * (the whole archive), or one of more than ten years, is `archive/` itself.
 */
export const dayPrefixes = (range: ArchiveRange): string[] => {
  if (!Number.isFinite(range.since) || !Number.isFinite(range.until)) return ['archive/'];
  if ((range.until - range.since) / DAY_MS > MOST_DAY_LISTINGS) return ['archive/'];
  const prefixes: string[] = [];
  for (let day = Math.floor(range.since / DAY_MS) * DAY_MS; day < range.until; day += DAY_MS) {
    prefixes.push(`archive/dt=${new Date(day).toISOString().slice(0, 10)}/`);
  }
  return prefixes;
};

/** The window start a folder name says, or NaN. */
const startOfFolder = (date: string, hh: string, mm: string, ss: string): number =>
  Date.parse(`${date}T${hh}:${mm}:${ss}Z`);

/**
 * The windows whose manifests overlap the range, each manifest read and checked; listed day by day, so a bucket holding
 * years costs only the days asked for. A manifest that cannot be read is a problem, and its window holds nothing.
 */
export async function listWindows(source: ArchiveSource, range: ArchiveRange): Promise<WindowListing> {
  // The window holding `since` starts within its hour; the manifest says where it ends.
  const earliest = earliestListed(range);
  const candidates: Array<{ key: string; start: number }> = [];
  const folders = new Map<string, boolean>();
  const objects = new Map<string, string[]>();
  for (const prefix of dayPrefixes(range)) {
    for await (const key of source.list(prefix)) {
      const window = windowOfKey(key);
      if (window === undefined) continue;
      const { folder, start } = window;
      if (!(start >= earliest && start < range.until)) continue;
      const manifest = MANIFEST_KEY.exec(key);
      if (manifest !== null) candidates.push({ key, start });
      folders.set(folder, (folders.get(folder) ?? false) || manifest !== null);
      const inFolder = objects.get(folder) ?? [];
      inFolder.push(key);
      objects.set(folder, inFolder);
    }
  }
  const read = await mapLimited(candidates, CONCURRENCY, ({ key, start }) => readManifest(source, key, start));
  const windows: ArchiveWindow[] = [];
  const problems: ArchiveProblem[] = [];
  for (const result of read) {
    if ('reason' in result) problems.push(result);
    else if (result.start < range.until && result.end > range.since) windows.push(result);
  }
  return {
    windows: windows.sort((a, b) => a.start - b.start),
    problems,
    withoutManifest: [...folders]
      .filter(([, hasManifest]) => !hasManifest)
      .map(([folder]) => folder)
      .sort(compareKeys),
    objects,
  };
}

const readManifest = async (
  source: ArchiveSource,
  key: string,
  start: number,
): Promise<ArchiveWindow | ArchiveProblem> => {
  const bytes = await source.get(key);
  if (bytes === undefined) return { key, reason: 'listed, but gone when read' };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { key, reason: 'the manifest is not JSON' };
  }
  const parsed = WindowManifest.safeParse(json);
  if (!parsed.success) return { key, reason: 'the manifest does not follow the manifest schema' };
  const manifest = parsed.data;
  const end = Date.parse(manifest.window.end);
  if (Date.parse(manifest.window.start) !== start || !(end > start) || !key.startsWith(windowPrefix(start))) {
    return { key, reason: `the manifest's window (${manifest.window.start}) is not the one its key names` };
  }
  return { manifestKey: key, start, end, manifest, sha256: sha256Hex(bytes) };
};

const gunzipAsync = promisify(gunzip);

/**
 * The events of one part, after checking its bytes against the manifest's SHA-256 and its line count against the
 * manifest's. A part missing or altered yields no events, only its problem: the archive cannot vouch for it.
 */
export async function readPart(
  source: ArchiveSource,
  window: ArchiveWindow,
  part: ArchivePart,
): Promise<{ events: ArchivedEvent[]; problems: ArchiveProblem[] }> {
  const fetched = await fetchPart(source, window, part);
  if ('problem' in fetched) return { events: [], problems: [fetched.problem] };
  return partEvents(part, await partLines(fetched.bytes));
}

/** A part's bytes as its manifest lists them, or why they cannot be trusted: the half of `readPart` that reads. */
export async function fetchPart(
  source: ArchiveSource,
  window: ArchiveWindow,
  part: ArchivePart,
): Promise<{ readonly bytes: Uint8Array } | { readonly problem: ArchiveProblem }> {
  const key = part.key;
  // A manifest names only its own window's objects; anything else is not the sequencer's and is not read.
  if (!key.startsWith(windowPrefix(window.start)) || key.split('/').includes('..')) {
    return { problem: { key: window.manifestKey, reason: `lists a part outside its window: ${key}` } };
  }
  const bytes = await source.get(key);
  if (bytes === undefined) return { problem: { key, reason: 'listed in its manifest but missing' } };
  if (sha256Hex(bytes) !== part.sha256) {
    return { problem: { key, reason: 'does not match the SHA-256 its manifest lists' } };
  }
  return { bytes };
}

/** A part's lines, gunzipped, without the empty string after the last newline; undefined when it is not gzip. */
export async function partLines(bytes: Uint8Array): Promise<string[] | undefined> {
  let text: string;
  try {
    text = (await gunzipAsync(bytes)).toString('utf8');
  } catch {
    return undefined;
  }
  return linesOf(text);
}

/** What `readArchive` yields: the windows as listed, then, window by window, the events and problems of each part. */
export type ArchiveItem =
  | { readonly kind: 'listing'; readonly listing: WindowListing }
  | { readonly kind: 'window'; readonly window: ArchiveWindow; readonly events: ArchivedEvent[] }
  | { readonly kind: 'problem'; readonly problem: ArchiveProblem };

/**
 * The archive's contents for a range: its listing (with the manifests' problems), then every event of the main and
 * late parts of each window that overlaps the range, a window at a time, in window order. Events of those windows
 * published outside the range are included; callers that want only the range filter by `published`.
 */
export async function* readArchive(source: ArchiveSource, range: ArchiveRange): AsyncGenerator<ArchiveItem> {
  const listing = await listWindows(source, range);
  yield { kind: 'listing', listing };
  for (const problem of listing.problems) yield { kind: 'problem', problem };
  for (let i = 0; i < listing.windows.length; i += CONCURRENCY) {
    const batch = listing.windows.slice(i, i + CONCURRENCY);
    const read = await mapLimited(batch, CONCURRENCY, async (window) => {
      const parts = await Promise.all(window.manifest.parts.map((part) => readPart(source, window, part)));
      return { window, events: parts.flatMap((part) => part.events), problems: parts.flatMap((part) => part.problems) };
    });
    for (const { window, events, problems } of read) {
      for (const problem of problems) yield { kind: 'problem', problem };
      yield { kind: 'window', window, events };
    }
  }
}

/** `task` over `items`, at most `limit` at a time, results in the items' order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
