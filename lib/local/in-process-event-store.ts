import {
  type EventStore,
  LATE_MARKER_SHARDS,
  type LateMarker,
  type PendingBucket,
  type SequencerState,
  type SetAsideRecord,
  type StagedKey,
} from '../../lambdas/shared/ports.ts';
import { type StagedEvent, shardOf, splitEventKey, windowPartitionKey } from '../../lambdas/shared/staged-event.ts';
import { KeyOrderedItems } from './key-ordered-items.ts';

/**
 * The events table in this process, for `olp local`: the same items under the same keys as DynamoEventStore
 * (lambdas/shared/dynamo-event-store.ts), with the semantics the pipeline relies on there (docs/design.md):
 *
 * - a staged event is written only if no item has its key, so each content is staged once (the dedupe record);
 * - a late marker is deleted only while it still carries the token the sequencer read;
 * - the archived flag is set only on an item that exists;
 * - queries return a partition ascending by sort key, the keys being DynamoDB's, so lists come in the same order;
 * - `expiresAt` is DynamoDB's TTL attribute: nothing expires until `sweepExpired` runs, as DynamoDB deletes expired
 *   items in the background, whenever it gets to them.
 *
 * Reads hand out items as stored: they are frozen, and every write replaces an item rather than changing it.
 */
export class InProcessEventStore implements EventStore {
  private readonly staged = new KeyOrderedItems<StagedEvent>();
  private readonly pending = new KeyOrderedItems<PendingBucket>();
  private readonly markers = new KeyOrderedItems<LateMarker>();
  private readonly setAside = new Map<string, string>();
  private state: { readonly closedBefore: number; readonly json: string } | undefined;

  constructor(
    private readonly options: {
      /**
       * Drop an event's body once it is archived and keep its key, so memory follows the unsealed events rather than
       * every event seen. Only for a store whose items never expire while it lives (the local pipeline: no TTL, no
       * rescue), since the rescue function stages an expired event again from its body.
       */
      readonly forgetArchivedBodies?: boolean;
    } = {},
  ) {}

  async stage(event: StagedEvent): Promise<'staged' | 'duplicate'> {
    if (this.staged.get(event.pk, event.sk) !== undefined) return 'duplicate';
    this.staged.put(event.pk, event.sk, storedEvent(event));
    return 'staged';
  }

  async announce(bucket: PendingBucket): Promise<void> {
    this.pending.put(PENDING, pendingSortKey(bucket), Object.freeze(bucketOf(bucket)));
  }

  async putLateMarker(marker: LateMarker): Promise<void> {
    const { pk, sk } = markerKey(marker);
    this.markers.put(
      pk,
      sk,
      Object.freeze({
        publishedMs: marker.publishedMs,
        pk: marker.pk,
        sk: marker.sk,
        token: marker.token,
        writtenAt: marker.writtenAt,
      }),
    );
  }

  async readClose(): Promise<number | undefined> {
    return this.state?.closedBefore;
  }

  async getSequencerState(): Promise<SequencerState | undefined> {
    // Stored as JSON, as DynamoEventStore stores it: a reader gets what JSON keeps of the state, and its own copy.
    return this.state === undefined ? undefined : (JSON.parse(this.state.json) as SequencerState);
  }

  async putSequencerState(state: SequencerState): Promise<void> {
    this.state = { closedBefore: state.closedBefore, json: JSON.stringify(state) };
  }

  async listPending(before: number, limit: number): Promise<PendingBucket[]> {
    return this.pending.query(PENDING, { before: sortableTime(before), limit });
  }

  async deletePending(bucket: PendingBucket): Promise<void> {
    this.pending.delete(PENDING, pendingSortKey(bucket));
    if (this.options.forgetArchivedBodies === true) this.forgetSealedBucket(bucket);
  }

  async queryPartition(pk: string): Promise<StagedEvent[]> {
    return this.staged.query(pk);
  }

  async getStaged(keys: ReadonlyArray<{ readonly pk: string; readonly sk: string }>): Promise<StagedEvent[]> {
    return keys.flatMap((key) => this.staged.get(key.pk, key.sk) ?? []);
  }

  async lookupStaged(keys: ReadonlyArray<StagedKey>): Promise<StagedKey[]> {
    return keys.flatMap((key) => (this.staged.get(key.pk, key.sk) === undefined ? [] : [{ pk: key.pk, sk: key.sk }]));
  }

  async markArchived(event: StagedEvent): Promise<void> {
    const stored = this.staged.get(event.pk, event.sk);
    // Never recreates an item that is gone, as the conditional update in DynamoDB does not.
    if (stored === undefined) return;
    const flagged = { ...withoutBody(stored), archived: true, expiresAt: event.dedupeUntil };
    this.staged.put(
      event.pk,
      event.sk,
      this.options.forgetArchivedBodies === true
        ? new DedupeRecord(flagged)
        : storedEvent({ ...flagged, body: stored.body }),
    );
  }

  async listLateMarkers(shard: number, before: number, limit: number): Promise<LateMarker[]> {
    return this.markers.query(lateMarkerPartition(shard), { before: sortableTime(before), limit });
  }

  async deleteLateMarker(marker: LateMarker): Promise<boolean> {
    const { pk, sk } = markerKey(marker);
    if (this.markers.get(pk, sk)?.token !== marker.token) return false;
    return this.markers.delete(pk, sk);
  }

  async putSetAside(record: SetAsideRecord): Promise<void> {
    this.setAside.set(sortableTime(record.windowStart), JSON.stringify(record));
  }

  async getSetAside(windowStart: number): Promise<SetAsideRecord | undefined> {
    const json = this.setAside.get(sortableTime(windowStart));
    return json === undefined ? undefined : (JSON.parse(json) as SetAsideRecord);
  }

  async deleteSetAside(windowStart: number): Promise<void> {
    this.setAside.delete(sortableTime(windowStart));
  }

  /**
   * DynamoDB's TTL at `now` (epoch ms): removes every item whose `expiresAt` (epoch seconds) has passed and returns
   * the staged events among them, as DynamoDB Streams reports TTL deletions to the rescue function.
   */
  sweepExpired(now: number): StagedEvent[] {
    if (this.options.forgetArchivedBodies === true) {
      throw new ForgottenBodyError(
        'an events store that forgets archived bodies cannot hand expired events to the rescue',
      );
    }
    const nowSeconds = Math.floor(now / 1000);
    const expired: StagedEvent[] = [];
    for (const [pk, sk, event] of [...this.staged.entries()]) {
      if (event.expiresAt === undefined || event.expiresAt >= nowSeconds) continue;
      this.staged.delete(pk, sk);
      expired.push(event);
    }
    return expired;
  }

  /**
   * Once a bucket's announcement is deleted, every archive window it overlaps is sealed (ports.ts), so its on-time
   * events are archived and no seal reads their partitions again. A partition another pending bucket still covers
   * (the same start under another window length) keeps its bodies until that bucket is done too.
   */
  private forgetSealedBucket(bucket: PendingBucket): void {
    const stillPending = [...this.pending.entriesOf(PENDING)].map(([, other]) => other);
    for (let shard = 0; shard < bucket.shards; shard++) {
      if (stillPending.some((other) => other.bucketStart === bucket.bucketStart && other.shards > shard)) continue;
      const pk = windowPartitionKey(bucket.bucketStart, shard);
      for (const [sk, event] of [...this.staged.entriesOf(pk)]) {
        if (!event.late && !(event instanceof DedupeRecord)) this.staged.put(pk, sk, new DedupeRecord(event));
      }
    }
  }
}

/** Reading the body of an archived event from a store that no longer holds it. */
export class ForgottenBodyError extends Error {
  override readonly name = 'ForgottenBodyError';
}

/**
 * What is left of an archived event in a store that forgets bodies: its key and its fields, which keep recognising
 * redeliveries as duplicates. Its uuid and hash are read from the key, as DynamoEventStore reads them.
 */
class DedupeRecord implements StagedEvent {
  readonly pk: string;
  readonly sk: string;
  readonly windowStart: number;
  readonly publishedMs: number;
  readonly late: boolean;
  readonly dedupeUntil: number;
  readonly expiresAt?: number;
  readonly archived?: boolean;
  readonly origin?: 'backfill';

  constructor(event: Omit<StagedEvent, 'body' | 'uuid' | 'hash'>) {
    this.pk = event.pk;
    this.sk = event.sk;
    this.windowStart = event.windowStart;
    this.publishedMs = event.publishedMs;
    this.late = event.late;
    this.dedupeUntil = event.dedupeUntil;
    if (event.expiresAt !== undefined) this.expiresAt = event.expiresAt;
    if (event.archived === true) this.archived = true;
    if (event.origin === 'backfill') this.origin = 'backfill';
    Object.freeze(this);
  }

  get uuid(): string {
    return splitEventKey(this.sk).uuid;
  }

  get hash(): string {
    return splitEventKey(this.sk).hash;
  }

  get body(): string {
    throw new ForgottenBodyError(`the body of archived event ${this.sk} is no longer held`);
  }
}

const PENDING = 'pending';

/**
 * An epoch-ms instant as DynamoEventStore writes it in sort keys, a fixed-width string that sorts like the number.
 * Written out here, not imported, so that the in-process store does not load the AWS SDK.
 */
const sortableTime = (ms: number): string => String(ms + 1e16).padStart(17, '0');
const lateMarkerPartition = (shard: number): string => `late#${shard}`;

const bucketOf = (bucket: PendingBucket): PendingBucket => ({
  bucketStart: bucket.bucketStart,
  bucketSeconds: bucket.bucketSeconds,
  shards: bucket.shards,
});

const pendingSortKey = (bucket: PendingBucket): string =>
  `${sortableTime(bucket.bucketStart)}#${bucket.bucketSeconds}#${bucket.shards}`;

/** A marker's partition follows its event's uuid, so a rewrite of the marker lands on the same key. */
const markerKey = (marker: Pick<LateMarker, 'publishedMs' | 'pk' | 'sk'>) => ({
  pk: lateMarkerPartition(shardOf(splitEventKey(marker.sk).uuid, LATE_MARKER_SHARDS)),
  sk: `${sortableTime(marker.publishedMs)}#${marker.pk}|${marker.sk}`,
});

const withoutBody = (
  event: Omit<StagedEvent, 'body' | 'uuid' | 'hash'>,
): Omit<StagedEvent, 'body' | 'uuid' | 'hash'> => ({
  pk: event.pk,
  sk: event.sk,
  windowStart: event.windowStart,
  publishedMs: event.publishedMs,
  late: event.late,
  dedupeUntil: event.dedupeUntil,
  ...(event.expiresAt === undefined ? {} : { expiresAt: event.expiresAt }),
  ...(event.archived === true ? { archived: true } : {}),
  ...(event.origin === 'backfill' ? { origin: 'backfill' as const } : {}),
});

/** The item as DynamoEventStore writes and reads it back: these fields only, uuid and hash taken from the key. */
const storedEvent = (event: Omit<StagedEvent, 'uuid' | 'hash'>): StagedEvent =>
  Object.freeze({ ...withoutBody(event), ...splitEventKey(event.sk), body: event.body });
