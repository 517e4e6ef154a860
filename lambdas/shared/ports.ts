import type { StagedEvent } from './staged-event.ts';

/**
 * A marker for a late event, written before the event itself. The sequencer finds late events through markers
 * because their windows may already be sealed. `token` changes on every write, so the sequencer deletes only a marker
 * it has seen, never one an ingest retry rewrote in the meantime.
 */
export interface LateMarker {
  readonly windowStart: number;
  readonly pk: string;
  readonly sk: string;
  readonly token: string;
  readonly expiresAt: number;
}

/** Where the sequencer has got to: every window that starts before `nextWindow` is sealed. */
export interface SequencerState {
  readonly nextWindow: number;
}

/** The events table: dedupe records that are also the staging area of unsealed windows. */
export interface EventStore {
  /** One conditional write: `staged`, or `duplicate` when an item with the same key (same uuid, same content) exists. */
  stage(event: StagedEvent): Promise<'staged' | 'duplicate'>;
  putLateMarker(marker: LateMarker): Promise<void>;
  /** Every staged event of one window partition (strongly consistent). */
  queryPartition(pk: string): Promise<StagedEvent[]>;
  /** The staged versions of one uuid in one window partition. */
  queryVersions(pk: string, uuid: string): Promise<StagedEvent[]>;
  getStaged(pk: string, sk: string): Promise<StagedEvent | undefined>;
  listLateMarkers(): Promise<LateMarker[]>;
  /** Deletes the marker only if its token is still `token`; returns whether it did. */
  deleteLateMarker(marker: LateMarker): Promise<boolean>;
  getSequencerState(): Promise<SequencerState | undefined>;
  putSequencerState(state: SequencerState): Promise<void>;
}

/** The archive (S3 bucket, or a directory locally). Keys are relative to the bucket or directory. */
export interface ArchiveStore {
  put(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
}
