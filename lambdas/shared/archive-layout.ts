import { z } from 'zod';
import { formatWindow } from './window.ts';

/**
 * The archive's key layout, shared by the S3 archive and the local `--archive-dir`:
 *
 *   archive/dt=YYYY-MM-DD/hour=HH/window=YYYY-MM-DDTHH-MM-SSZ/events.jsonl.gz     on-time events, sorted
 *   archive/dt=YYYY-MM-DD/hour=HH/window=YYYY-MM-DDTHH-MM-SSZ/late-0001.jsonl.gz  events that arrived after sealing
 *   archive/dt=YYYY-MM-DD/hour=HH/window=YYYY-MM-DDTHH-MM-SSZ/manifest.json       what the window holds
 *   quarantine/dt=YYYY-MM-DD/<id>.json                                             rejected input with its reason
 *   digests/0000000042.json                                                        digest record 42 of the chain
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
/** Where digest records live, beside `archive/`: one per sequencer run that recorded anything, numbered from 1. */
export const DIGEST_PREFIX = 'digests/';
/** Ten digits sort as numbers for 19,000 years of one record a minute. */
const DIGEST_DIGITS = 10;
export const digestKey = (sequence: number): string =>
  `${DIGEST_PREFIX}${String(sequence).padStart(DIGEST_DIGITS, '0')}.json`;
/** The sequence a digest record's key names, or undefined for any other key. */
export const sequenceOfDigestKey = (key: string): number | undefined => {
  const match = /^digests\/(\d{10})\.json$/.exec(key);
  const sequence = match === null ? Number.NaN : Number(match[1]);
  return Number.isSafeInteger(sequence) && sequence >= 1 ? sequence : undefined;
};
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

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Instant = z.iso.datetime();

/** One object a digest record covers: its key, kind, SHA-256 of its bytes as written, and the events it holds. */
const DigestObject = z.object({
  key: z.string(),
  kind: z.enum(['main', 'late', 'manifest']),
  sha256: Sha256,
  eventCount: z.number().int().nonnegative(),
});
export type DigestObject = z.infer<typeof DigestObject>;

/**
 * A digest record (docs/design.md, the integrity chain): what one sequencer run added to the archive, chained to the
 * record before it and signed. `sealed` is the stretch of windows the run sealed: every window starting in it that
 * has no object in any record was sealed empty (or is listed in `setAside`). The signature is over the canonical JSON
 * of the record without `signature` (digest-record.ts).
 */
export const DigestRecord = z.object({
  version: z.literal(1),
  sequence: z.number().int().positive(),
  /** The record before this one: its sequence and the SHA-256 of its bytes as stored; null for the first. */
  previous: z.object({ sequence: z.number().int().positive(), sha256: Sha256 }).nullable(),
  /** The sequencer's clock for the run (event time locally). */
  runAt: Instant,
  /** Windows starting in [from, to) are sealed; `from` null is the beginning of time. */
  sealed: z.object({ from: Instant.nullable(), to: Instant.nullable() }),
  /** Starts of the windows before `sealed.to` that are set aside (not sealed) at the end of the run. */
  setAside: z.array(Instant),
  /** The windows this run wrote to, each with the objects it wrote or found written: parts and the manifest. */
  windows: z.array(z.object({ start: Instant, end: Instant, objects: z.array(DigestObject) })),
  /** ECDSA P-256 with SHA-256 (KMS ECDSA_SHA_256), DER, base64; absent when the chain is unsigned. */
  signature: z.object({ algorithm: z.literal('ECDSA_SHA_256'), keyId: z.string(), value: z.base64() }).optional(),
});
export type DigestRecord = z.infer<typeof DigestRecord>;

/** What the quarantine holds for one rejected input: enough to understand and replay it. */
export interface QuarantineRecord {
  readonly reason: string;
  readonly receivedAt: string;
  /** Where the input came from: an SQS message id, or a file and line number locally. */
  readonly origin: Record<string, string | number>;
  readonly raw: string;
}
