import type { StagedEvent } from './staged-event.ts';
import type { WindowSize } from './window.ts';

/**
 * A staging bucket that holds on-time events not yet sealed: ingest announces it before staging its first on-time
 * event there, the sequencer deletes it once every archive window it overlaps is sealed. The sequencer finds the
 * windows to seal through these, so its work follows events, not the span of time, and it queries exactly the
 * partitions ingest wrote, whatever `windowSeconds` and `windowShards` were when it did.
 */
/** An item's key in the events table. */
export interface StagedKey {
  readonly pk: string;
  readonly sk: string;
}

export interface PendingBucket {
  readonly bucketStart: number;
  readonly bucketSeconds: number;
  readonly shards: number;
}

/**
 * A marker for a late event, written before the event itself. The sequencer finds late events through markers
 * because their windows may already be sealed. `token` changes on every write, so the sequencer deletes only a marker
 * it has seen, never one an ingest retry rewrote in the meantime.
 */
export interface LateMarker {
  readonly publishedMs: number;
  readonly pk: string;
  readonly sk: string;
  readonly token: string;
  /** When the writer wrote it (epoch ms): a marker whose event is missing after the guard has nothing left to do. */
  readonly writtenAt: number;
}

/** Markers are spread over this many partitions (by uuid), so no partition key takes every late event. */
export const LATE_MARKER_SHARDS = 16;

/** Archive windows sealed when some of their staged events could already have expired (see docs/design.md). */
export interface AtRiskRange {
  readonly from: number;
  readonly to: number;
  readonly sealedAt: number;
}

/** Where the sequencer has got to. Times are epoch ms. */
export interface SequencerState {
  /** Every archive window that starts before this is sealed, or set aside. */
  readonly nextWindow: number;
  /** Published to ingest: an event published before this is staged late. */
  readonly closedBefore: number;
  /** Closes that ingest may not have seen yet: a window is sealed only once its close is older than the guard. */
  readonly closes: ReadonlyArray<{ readonly before: number; readonly at: number }>;
  /** Windows ending at or before this may be sealed: every on-time write for them has landed. */
  readonly sealableBefore: number;
  readonly windowSizes: readonly WindowSize[];
  /** Starts of windows that could not be sealed as planned; retried every run. */
  readonly setAside: readonly number[];
  readonly atRisk: readonly AtRiskRange[];
  /** The last digest record of the archive's integrity chain; absent before the first (or with the state lost). */
  readonly digestHead?: DigestHead;
  /**
   * Starts of windows whose objects a run may have written and no digest record covers yet: recorded before the
   * objects are written, cleared once a digest record covers them, so a run that crashed in between is covered by the
   * next.
   */
  readonly undigested?: readonly number[];
}

/** Where the integrity chain ends: the sequencer appends the next record after it. */
export interface DigestHead {
  readonly sequence: number;
  /** SHA-256 (hex) of the record's bytes as stored: the next record's `previous.sha256`. */
  readonly sha256: string;
  /** The record's `sealed.to` (epoch ms); the next record's stretch starts there. */
  readonly sealedTo: number;
}

/** What an operator reads about a window the sequencer set aside. */
export interface SetAsideRecord {
  readonly windowStart: number;
  readonly window: string;
  readonly reason: string;
  /**
   * Which step failed: sealing the window (retried through its pending buckets) or a late supplement (retried through
   * its markers). A window that failed to seal stays set aside until it seals.
   */
  readonly step: 'seal' | 'supplement';
  readonly firstSetAsideAt: string;
  readonly lastTriedAt: string;
  readonly attempts: number;
}

/** The part of the events table ingest uses: writes, and a cached read of the sequencer's close. */
export interface EventStager {
  /** One conditional write: `staged`, or `duplicate` when an item with the same key (same uuid, same content) exists. */
  stage(event: StagedEvent): Promise<'staged' | 'duplicate'>;
  announce(bucket: PendingBucket): Promise<void>;
  putLateMarker(marker: LateMarker): Promise<void>;
}

/** The events table: dedupe records that are also the staging area of unsealed windows, and the sequencer's state. */
export interface EventStore extends EventStager {
  /** The sequencer's `closedBefore` (strongly consistent); undefined before its first run. */
  readClose(): Promise<number | undefined>;
  getSequencerState(): Promise<SequencerState | undefined>;
  putSequencerState(state: SequencerState): Promise<void>;
  /** Pending buckets that start before `before`, oldest first, at most `limit`. */
  listPending(before: number, limit: number): Promise<PendingBucket[]>;
  deletePending(bucket: PendingBucket): Promise<void>;
  /** Every staged event of one partition (strongly consistent). */
  queryPartition(pk: string): Promise<StagedEvent[]>;
  /** The staged events with these keys that exist (strongly consistent, batched). */
  getStaged(keys: ReadonlyArray<{ readonly pk: string; readonly sk: string }>): Promise<StagedEvent[]>;
  /**
   * The keys among these that are staged, read eventually consistent (half the read units of `getStaged`): for a
   * check that a stale miss only repeats harmlessly, as the watchdog's (docs/design.md, invariant 9); never for the
   * sequencer.
   */
  lookupStaged(keys: ReadonlyArray<StagedKey>): Promise<StagedKey[]>;
  /** Flags an archived event and starts its TTL at `dedupeUntil`. */
  markArchived(event: StagedEvent): Promise<void>;
  /** Markers of one marker partition for events published before `before`, oldest first, at most `limit`. */
  listLateMarkers(shard: number, before: number, limit: number): Promise<LateMarker[]>;
  /** Deletes the marker only if its token is still `token`; returns whether it did. */
  deleteLateMarker(marker: LateMarker): Promise<boolean>;
  putSetAside(record: SetAsideRecord): Promise<void>;
  getSetAside(windowStart: number): Promise<SetAsideRecord | undefined>;
  deleteSetAside(windowStart: number): Promise<void>;
}

/**
 * Signs digest records: ECDSA P-256 with SHA-256, DER-encoded, as KMS `Sign` returns for ECDSA_SHA_256. Deployed, a
 * KMS asymmetric key (the message is hashed in the Lambda and only its SHA-256 is sent, MessageType DIGEST); locally,
 * a key file. The sequencer without a signer writes an unsigned chain.
 */
export interface ArchiveSigner {
  /** Names the key in each record: the KMS key ARN, or a local key's fingerprint. */
  readonly keyId: string;
  /** The signature over `message` (SHA-256 is taken of it). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** The archive (S3 bucket, or a directory locally). Keys are relative to the bucket or directory. */
export interface ArchiveStore {
  put(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
}
