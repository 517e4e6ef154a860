import { hash } from 'node:crypto';
import { isLate, type WindowSettings, windowStartOf } from './window.ts';

/**
 * An event staged in the events table, waiting for its window to be sealed into the archive.
 *
 * The item is also the dedupe record: its key is derived from the event's content, so a redelivery (same uuid, same
 * content) maps to the same key and one conditional put rejects it, with no read before the write. The same uuid
 * with different content gets another key: it is kept, and the sequencer flags it as a conflict.
 */
export interface StagedEvent {
  /** `w#<window start ms>#<shard>`: the uuid picks one of `windowShards` partitions so no key takes a window's writes. */
  readonly pk: string;
  /** `<lowercase uuid>#<content hash>`. */
  readonly sk: string;
  readonly uuid: string;
  readonly hash: string;
  readonly windowStart: number;
  readonly publishedMs: number;
  /** The System Log event exactly as received in the envelope's `detail`, serialized. */
  readonly body: string;
  /** Staged when its window may already have been sealed: archived in a late supplement, not in the window's main part. */
  readonly late: boolean;
  /** Epoch seconds after which DynamoDB may delete the item (dedupe retention). */
  readonly expiresAt: number;
}

export interface StagingSettings extends WindowSettings {
  readonly windowShards: number;
  readonly dedupeRetentionDays: number;
}

/** The first 132 bits of SHA-256 over the event's text, base64url: enough to tell contents apart, short in a key. */
export const contentHash = (body: string): string => hash('sha256', body, 'base64url').slice(0, 22);

/** FNV-1a over the uuid: a cheap, stable spread of uuids over shards. */
export const shardOf = (uuid: string, shards: number): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < uuid.length; i++) {
    hash ^= uuid.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
};

export const windowPartitionKey = (windowStart: number, shard: number): string => `w#${windowStart}#${shard}`;

export const stageEvent = (
  event: { readonly uuid: string; readonly published: string },
  body: string,
  settings: StagingSettings,
  now: number,
): StagedEvent => {
  const uuid = event.uuid.toLowerCase();
  const publishedMs = Date.parse(event.published);
  const windowStart = windowStartOf(publishedMs, settings.windowSeconds);
  const hash = contentHash(body);
  // Retention counts from the later of arrival and publication, so a replayed old event is still deduped for the
  // full period after it arrived.
  const from = Math.max(now, publishedMs);
  return {
    pk: windowPartitionKey(windowStart, shardOf(uuid, settings.windowShards)),
    sk: `${uuid}#${hash}`,
    uuid,
    hash,
    windowStart,
    publishedMs,
    body,
    late: isLate(windowStart, now, settings),
    expiresAt: Math.ceil(from / 1000) + settings.dedupeRetentionDays * 86_400,
  };
};

/** Archive order: by `published`, ties broken by uuid, then by content hash so the order is total. */
export const compareStaged = (a: StagedEvent, b: StagedEvent): number =>
  a.publishedMs - b.publishedMs ||
  (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0) ||
  (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);
