import { z } from 'zod';
import { formatWindow } from './window.ts';

/**
 * The archive's key layout, shared by the S3 archive and the local `--archive-dir`:
 *
 *   archive/dt=YYYY-MM-DD/hour=HH/window=YYYY-MM-DDTHH-MM-SSZ/events.jsonl.gz     on-time events, sorted
 *   archive/dt=YYYY-MM-DD/hour=HH/window=YYYY-MM-DDTHH-MM-SSZ/late-0001.jsonl.gz  events that arrived after sealing
 *   archive/dt=YYYY-MM-DD/hour=HH/window=YYYY-MM-DDTHH-MM-SSZ/manifest.json       what the window holds
 *   quarantine/dt=YYYY-MM-DD/<id>.json                                             rejected input with its reason
 *
 * `dt` and `hour` are Hive-style partitions so Athena or Glue can query the archive in place; the window folder name
 * avoids `:` so the same layout works on any file system.
 */
export const windowPrefix = (windowStart: number): string => {
  const iso = formatWindow(windowStart); // 2026-11-22T00:05:00Z
  return `archive/dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/window=${iso.replaceAll(':', '-')}/`;
};

export const mainPartKey = (windowStart: number): string => `${windowPrefix(windowStart)}events.jsonl.gz`;
export const latePartKey = (windowStart: number, sequence: number): string =>
  `${windowPrefix(windowStart)}late-${String(sequence).padStart(4, '0')}.jsonl.gz`;
export const manifestKey = (windowStart: number): string => `${windowPrefix(windowStart)}manifest.json`;
export const quarantineKey = (receivedAt: number, id: string): string =>
  `quarantine/dt=${new Date(receivedAt).toISOString().slice(0, 10)}/${id.replaceAll(/[^A-Za-z0-9._-]/g, '_')}.json`;

const ArchivePart = z.object({
  kind: z.enum(['main', 'late']),
  key: z.string(),
  eventCount: z.number().int().positive(),
  firstPublished: z.string(),
  lastPublished: z.string(),
  /** SHA-256 (hex) of the object's bytes as stored, so an auditor can verify it was not altered. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** For late parts: the `<uuid>#<content hash>` of each event, so a retried supplement never archives one twice. */
  events: z.array(z.string()).optional(),
  /**
   * The `<uuid>#<content hash>` of each event in this part that the stream never delivered and that was refilled
   * from the System Log API (the watchdog, `olp audit --fill`); absent when the stream delivered them all.
   */
  backfilled: z.array(z.string()).optional(),
});
export type ArchivePart = z.infer<typeof ArchivePart>;

export const WindowManifest = z.object({
  version: z.literal(1),
  window: z.object({ start: z.string(), end: z.string() }),
  eventCount: z.number().int().nonnegative(),
  parts: z.array(ArchivePart),
  /** uuids archived with more than one content in this window: kept, never dropped, flagged for review. */
  conflicts: z.array(z.string()),
});
export type WindowManifest = z.infer<typeof WindowManifest>;

/** What the quarantine holds for one rejected input: enough to understand and replay it. */
export interface QuarantineRecord {
  readonly reason: string;
  readonly receivedAt: string;
  /** Where the input came from: an SQS message id, or a file and line number locally. */
  readonly origin: Record<string, string | number>;
  readonly raw: string;
}
