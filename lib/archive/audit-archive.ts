import { type ArchiveProblem, type ArchiveRange, type ArchiveSource, readArchive } from './archive-reader.ts';

/**
 * The audit of an archive against the Okta System Log: which events Okta holds for a range that the archive does not.
 * Compared by uuid, lowercased as the pipeline dedupes. The archive is read before the System Log (after its first
 * page), keeping only its uuids, then the System Log is streamed past them, keeping only the events the archive
 * lacks: memory follows the uuids and the missing events, not the size of the events.
 */

/** A System Log event the archive does not hold, as the System Log API returned it. */
export interface MissingEvent {
  /** Lowercased. */
  readonly uuid: string;
  readonly published: string;
  readonly event: Readonly<Record<string, unknown>>;
}

/** A sealed window of the range: where a filled event of its time belongs, and with what window length. */
export interface AuditedWindow {
  readonly start: number;
  readonly end: number;
}

export interface AuditResult {
  /** Distinct uuids the System Log returned for the range. */
  readonly okta: number;
  /** How many of those the archive holds. */
  readonly archived: number;
  /** The System Log events the archive does not hold, sorted by uuid. */
  readonly missing: MissingEvent[];
  /** What in the archive could not be trusted: missing or altered parts, unreadable manifests. */
  readonly problems: ArchiveProblem[];
  /** The sealed windows that overlap the range. */
  readonly windows: AuditedWindow[];
  /** Window folders in the range with objects but no manifest: an interrupted seal; they count as holding nothing. */
  readonly withoutManifest: string[];
  /** System Log records without a string uuid and published: not events the pipeline would archive. */
  readonly unreadable: number;
}

export interface AuditInput {
  readonly archive: ArchiveSource;
  readonly range: ArchiveRange;
  /** The System Log's events published in the range, as the API returns them. */
  readonly systemLog: () => AsyncIterable<unknown>;
  /** After each window read, and once more when the archive is read (`done`): windows and events read so far. */
  readonly onArchiveProgress?: (progress: { windows: number; events: number; done: boolean }) => void;
}

export async function auditArchive(input: AuditInput): Promise<AuditResult> {
  const systemLog = input.systemLog()[Symbol.asyncIterator]();
  try {
    // Okta is asked first: bad credentials or an unreachable org fail before a long read of the archive. Only the
    // first page waits meanwhile.
    const first = await systemLog.next();
    const archive = await readHeld(input);
    const seen = new Set<string>();
    const missing: MissingEvent[] = [];
    let archived = 0;
    let unreadable = 0;
    for (let next = first; next.done !== true; next = await systemLog.next()) {
      const event = systemLogEvent(next.value);
      if (event === undefined) {
        unreadable++;
        continue;
      }
      // Okta may hand out an event twice across pages; it is one event.
      if (seen.has(event.uuid)) continue;
      seen.add(event.uuid);
      if (archive.held.has(event.uuid)) archived++;
      else missing.push(event);
    }
    missing.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
    const { problems, windows, withoutManifest } = archive;
    return { okta: seen.size, archived, missing, problems, windows, withoutManifest, unreadable };
  } finally {
    await systemLog.return?.();
  }
}

/** The uuids the archive holds for the range, with what could not be trusted and the windows read. */
async function readHeld(input: AuditInput) {
  const held = new Set<string>();
  const problems: ArchiveProblem[] = [];
  let windows: AuditedWindow[] = [];
  let withoutManifest: string[] = [];
  let windowsRead = 0;
  let eventsRead = 0;
  for await (const item of readArchive(input.archive, input.range)) {
    if (item.kind === 'listing') {
      windows = item.listing.windows.map(({ start, end }) => ({ start, end }));
      withoutManifest = item.listing.withoutManifest;
    } else if (item.kind === 'problem') {
      problems.push(item.problem);
    } else {
      for (const event of item.events) held.add(event.uuid);
      windowsRead++;
      eventsRead += item.events.length;
      input.onArchiveProgress?.({ windows: windowsRead, events: eventsRead, done: false });
    }
  }
  input.onArchiveProgress?.({ windows: windowsRead, events: eventsRead, done: true });
  return { held, problems, windows, withoutManifest };
}

const systemLogEvent = (record: unknown): MissingEvent | undefined => {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const event = record as Record<string, unknown>;
  if (typeof event.uuid !== 'string' || typeof event.published !== 'string') return undefined;
  return { uuid: event.uuid.toLowerCase(), published: event.published, event };
};
