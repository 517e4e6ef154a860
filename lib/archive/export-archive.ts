import { orderWindow, type WindowLine } from './archive-part.ts';
import {
  type ArchivedEvent,
  type ArchiveProblem,
  type ArchiveRange,
  type ArchiveSource,
  type ArchiveWindow,
  listWindows,
  mapLimited,
  readPart,
} from './archive-reader.ts';

/**
 * `olp archive export`: every archived event published in a range, once, in (`published`, uuid) order, each line the
 * event exactly as archived, late supplements merged. Windows never overlap and are read in order, so sorting one
 * window's events at a time (its main part and supplements merged) orders the whole output: memory holds a few
 * windows, never the archive.
 */

export interface ExportInput {
  readonly source: ArchiveSource;
  readonly range: ArchiveRange;
  /**
   * The SHA-256 of each manifest as `verifyArchive` checked it: a window whose manifest is not among them, or differs,
   * stops the export (the archive changed since it was verified). Without it, nothing is compared (--no-verify).
   */
  readonly verified?: ReadonlyMap<string, string>;
  /**
   * Writes one line (the event parsed beside it, for readers that look into it); resolves to false once nobody reads
   * any more, which ends the export quietly.
   */
  readonly write: (line: string, event: Readonly<Record<string, unknown>>) => Promise<boolean>;
  readonly onProgress?: (progress: { windows: number; events: number; done: boolean }) => void;
}

export interface ExportResult {
  readonly windows: number;
  readonly events: number;
  /** What could not be read and was left out (only without `verified`: with it, any problem stops the export). */
  readonly problems: ArchiveProblem[];
  /** The reader went away before the end. */
  readonly stopped: boolean;
}

/** The archive is not what was verified, or a part cannot be trusted: the export stops. */
export class ExportIntegrityError extends Error {
  override readonly name = 'ExportIntegrityError';
  constructor(readonly problems: readonly ArchiveProblem[]) {
    super(problems.map((problem) => `${problem.key}: ${problem.reason}`).join('; '));
  }
}

/** Windows read ahead while the current one is written. */
const READ_AHEAD = 4;

export async function exportArchive(input: ExportInput): Promise<ExportResult> {
  const { source, range, verified } = input;
  const listing = await listWindows(source, range);
  const problems: ArchiveProblem[] = [...listing.problems];
  if (verified !== undefined) {
    const changed = listing.windows.filter((window) => verified.get(window.manifestKey) !== window.sha256);
    const gone = [...verified.keys()].filter((key) => !listing.windows.some((window) => window.manifestKey === key));
    const found = [
      ...problems,
      ...changed.map((window) => ({ key: window.manifestKey, reason: 'changed since it was verified' })),
      ...gone.map((key) => ({ key, reason: 'gone since it was verified' })),
    ];
    if (found.length > 0) throw new ExportIntegrityError(found);
  }

  let windows = 0;
  let events = 0;
  const readBatch = (from: number) =>
    mapLimited(listing.windows.slice(from, from + READ_AHEAD), READ_AHEAD, (window) =>
      windowEvents(source, window, range),
    );
  // The next batch is read (fetched and gunzipped on other threads) while this one is written.
  let next = listing.windows.length > 0 ? readBatch(0) : undefined;
  try {
    for (let i = 0; next !== undefined; i += READ_AHEAD) {
      const read = await next;
      next = i + READ_AHEAD < listing.windows.length ? readBatch(i + READ_AHEAD) : undefined;
      for (const result of read) {
        if (result.problems.length > 0) {
          if (verified !== undefined) throw new ExportIntegrityError(result.problems);
          problems.push(...result.problems);
        }
        for (const { text, value } of result.lines) {
          if (!(await input.write(text, value))) return { windows, events, problems, stopped: true };
          events++;
        }
        windows++;
      }
      input.onProgress?.({ windows, events, done: false });
    }
  } finally {
    // Leaving early (the reader went away, or the archive failed its check): the batch read ahead is not wanted.
    next?.catch(() => {});
  }
  input.onProgress?.({ windows, events, done: true });
  return { windows, events, problems, stopped: false };
}

/** One window's events in the range, from all its parts, each content once, in archive order. */
async function windowEvents(
  source: ArchiveSource,
  window: ArchiveWindow,
  range: ArchiveRange,
): Promise<{ lines: WindowLine[]; problems: ArchiveProblem[] }> {
  const reads: Array<{ events: ArchivedEvent[]; problems: ArchiveProblem[] }> = [];
  for (const part of window.manifest.parts) reads.push(await readPart(source, window, part));
  return orderWindow(reads, range);
}
