import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { windowStartOf } from './window.ts';

/**
 * An event staged in the events table, waiting for its window to be sealed into the archive.
 *
 * The item is also the dedupe record: its key is derived from the event's content, so a redelivery (same uuid, same
 * content) maps to the same key and one conditional put rejects it, with no read before the write. The same uuid
 * with different content gets another key: it is kept, and the sequencer flags it as a conflict.
 */
export interface StagedEvent {
  /** `w#<bucket start ms>#<shard>`: the uuid picks one of `windowShards` partitions so no key takes a bucket's writes. */
  readonly pk: string;
  /** `<lowercase uuid>#<content hash>`. */
  readonly sk: string;
  readonly uuid: string;
  readonly hash: string;
  /** Start of the staging bucket (ingest's `windowSeconds`); archive windows are the sequencer's (docs/design.md). */
  readonly windowStart: number;
  readonly publishedMs: number;
  /** The System Log event exactly as received in the envelope's `detail`. */
  readonly body: string;
  /**
   * Staged after its window was closed: it has a late marker, and no TTL until the sequencer has archived it.
   * Staged on time, it carries its TTL from the start.
   */
  readonly late: boolean;
  /** Epoch seconds until which a redelivery must still be recognised as a duplicate. */
  readonly dedupeUntil: number;
  /**
   * Epoch seconds after which DynamoDB may delete the item (TTL). Set on time by ingest; on late items only once they
   * are archived. An item deleted before its window is sealed is staged again by the rescue function.
   */
  readonly expiresAt?: number;
  /** Set by the sequencer once the event is in a part listed by its window's manifest. */
  readonly archived?: boolean;
  /** How the event reached the pipeline; absent means `stream`. */
  readonly origin?: 'backfill';
}

/**
 * How an event reached the pipeline: delivered by the Okta log stream, or refilled from the System Log API (by the
 * watchdog or `olp audit --fill`) because the stream never delivered it. Shown in metrics and in manifests.
 */
export type EventOrigin = 'stream' | 'backfill';

/** The ingest-queue message attribute that carries a backfilled event's origin. */
export const ORIGIN_ATTRIBUTE = 'origin';

export interface StagingSettings {
  readonly windowSeconds: number;
  readonly allowedLatenessSeconds: number;
  readonly windowShards: number;
  readonly dedupeRetentionDays: number;
}

/**
 * The first 132 bits of SHA-256 over the event's canonical JSON (canonical-json.ts), base64url: enough to tell
 * contents apart, short in a key. Over the parsed content, not the text, so the same event serialised another way
 * (the System Log API's key order, spacing or escapes against EventBridge's) is the same content: a duplicate, never a
 * conflict.
 */
export const contentHash = (content: unknown): string =>
  hash('sha256', canonicalJson(content), 'base64url').slice(0, 22);

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

/** `uuid#hash` back into its parts. */
export const splitEventKey = (sk: string): { uuid: string; hash: string } => {
  const split = sk.lastIndexOf('#');
  return { uuid: sk.slice(0, split), hash: sk.slice(split + 1) };
};

/**
 * Where an event is staged: its partition (from `published` and the uuid) and its sort key (uuid and content hash).
 * A copy of the event from anywhere (the stream, the System Log API) maps to the same key under the same settings.
 */
export const stagedKeyOf = (
  event: { readonly uuid: string; readonly published: string },
  content: unknown,
  settings: Pick<StagingSettings, 'windowSeconds' | 'windowShards'>,
) => {
  const uuid = event.uuid.toLowerCase();
  const publishedMs = Date.parse(event.published);
  const windowStart = windowStartOf(publishedMs, settings.windowSeconds);
  const hash = contentHash(content);
  return {
    pk: windowPartitionKey(windowStart, shardOf(uuid, settings.windowShards)),
    sk: `${uuid}#${hash}`,
    uuid,
    hash,
    windowStart,
    publishedMs,
  };
};

/**
 * The item for one event. `closedBefore` is the sequencer's published close: an event published before it may find
 * its window sealed, so it is staged late (with a marker, without TTL); otherwise the sequencer is certain to read it
 * when it seals the window, and its TTL starts now.
 */
export const stageEvent = (
  event: { readonly uuid: string; readonly published: string },
  body: string,
  settings: StagingSettings,
  now: number,
  closedBefore: number,
  /** The event parsed, when the caller has it; else `body` is parsed. */
  content: unknown = JSON.parse(body),
  origin: EventOrigin = 'stream',
): StagedEvent => {
  const key = stagedKeyOf(event, content, settings);
  const { publishedMs } = key;
  // Retention counts from the later of arrival and publication, so a replayed old event is still deduped for the
  // full period after it arrived.
  const dedupeUntil = Math.ceil(Math.max(now, publishedMs) / 1000) + settings.dedupeRetentionDays * 86_400;
  const late = publishedMs < closedBefore;
  return {
    ...key,
    body,
    late,
    dedupeUntil,
    ...(late ? {} : { expiresAt: dedupeUntil }),
    ...(origin === 'backfill' ? { origin } : {}),
  };
};

/** Archive order: by `published`, ties broken by uuid, then by content hash so the order is total. */
export const compareStaged = (
  a: Pick<StagedEvent, 'publishedMs' | 'uuid' | 'hash'>,
  b: Pick<StagedEvent, 'publishedMs' | 'uuid' | 'hash'>,
): number =>
  a.publishedMs - b.publishedMs ||
  (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0) ||
  (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);
