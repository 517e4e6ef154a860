import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type IngestOutcome, ingestEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { rescueExpired } from '../../lambdas/rescue/rescue-expired.ts';
import { expiredStagedEvent } from '../../lambdas/rescue/stream-record.ts';
import { runSequencer, type SequencerReport, type SequencerSettings } from '../../lambdas/sequencer/run-sequencer.ts';
import { WindowManifest } from '../../lambdas/shared/archive-layout.ts';
import { DynamoEventStore } from '../../lambdas/shared/dynamo-event-store.ts';
import type { SourcePin } from '../../lambdas/shared/okta-event.ts';
import {
  type ArchiveStore,
  type EventStore,
  LATE_MARKER_SHARDS,
  type LateMarker,
  type PendingBucket,
} from '../../lambdas/shared/ports.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { createKeyTable, standInClientConfig } from '../../lib/local/stand-ins.ts';
import type { DynamoStandIn, MessagingStandIn } from './stand-ins.ts';
import { sweepExpired } from './ttl-sweeper.ts';

/** An S3 client for fauxqs: path-style, since its virtual-host names do not resolve. */
export const s3Client = (fauxqs: MessagingStandIn): S3Client =>
  new S3Client({ ...standInClientConfig(fauxqs.endpoint), forcePathStyle: true });

/** Every object in a bucket, key -> bytes. */
export const readBucket = async (s3: S3Client, bucket: string): Promise<Map<string, Uint8Array>> => {
  const objects = new Map<string, Uint8Array>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const { Key } of page.Contents ?? []) {
      if (Key === undefined) continue;
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      if (Body !== undefined) objects.set(Key, await Body.transformToByteArray());
    }
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return objects;
};

export const SETTINGS: SequencerSettings = {
  windowSeconds: 60,
  allowedLatenessSeconds: 120,
  windowShards: 4,
  dedupeRetentionDays: 7,
  sealGuardSeconds: 30,
  maxWindowsPerRun: 10_000,
  maxLateMarkersPerRun: 100_000,
};

/** The ingest and sequencer use cases wired to a fresh table in dynalite and a fresh bucket in fauxqs. */
export interface PipelineUnderTest {
  readonly bucket: string;
  readonly table: string;
  readonly settings: SequencerSettings;
  readonly events: EventStore;
  readonly archive: ArchiveStore;
  ingest(raw: string, id: string, now: number): Promise<IngestOutcome>;
  /**
   * The sequencer as it runs deployed, where runs follow each other: one run a guard before `now` (it closes what it
   * may), one at `now` (it seals what the first closed). Reports of both, merged.
   */
  seal(now: number): Promise<SequencerReport>;
  /** One sequencer run at `now`. */
  run(now: number): Promise<SequencerReport>;
  /** DynamoDB's TTL at `now` (test/support/ttl-sweeper.ts), each deletion handed to the rescue use case. */
  sweep(now: number): Promise<{ deleted: number; rescued: number }>;
  read(): Promise<ArchiveContents>;
}

export interface PipelineOptions {
  /** Wraps the real stores, e.g. to inject faults. */
  readonly wrap?: <T extends object>(store: T, name: 'events' | 'archive') => T;
  /** An existing archive bucket to write to, instead of a new one. */
  readonly bucket?: string;
  /** An existing events table, instead of a new one. */
  readonly table?: string;
  readonly settings?: SequencerSettings;
  readonly pin?: SourcePin;
}

export const newPipeline = async (
  dynamo: DynamoStandIn,
  s3: S3Client,
  options: PipelineOptions = {},
): Promise<PipelineUnderTest> => {
  const name = options.table ?? `events-${randomUUID()}`;
  const bucket = options.bucket ?? `archive-${randomUUID()}`;
  const settings = options.settings ?? SETTINGS;
  if (options.table === undefined) await createKeyTable(dynamo.client, name, { sortKey: true });
  if (options.bucket === undefined) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const wrap = options.wrap ?? ((store) => store);
  const events = wrap(new DynamoEventStore(dynamo.client, name), 'events');
  const archive = wrap(new S3ArchiveStore(s3, bucket), 'archive');
  return {
    bucket,
    table: name,
    settings,
    events,
    archive,
    ingest: (raw, id, now) =>
      ingestEnvelope(
        raw,
        { id },
        {
          events,
          closedBefore: () => events.readClose(),
          quarantine: archive,
          now: () => now,
          newToken: randomUUID,
          pin: options.pin ?? {},
        },
        settings,
      ),
    seal: async (now) => {
      const first = await runSequencer({ events, archive }, settings, now - settings.sealGuardSeconds * 1000);
      const second = await runSequencer({ events, archive }, settings, now);
      return {
        ...second,
        sealed: [...first.sealed, ...second.sealed],
        setAside: [...first.setAside, ...second.setAside],
      };
    },
    run: (now) => runSequencer({ events, archive }, settings, now),
    sweep: async (now) => {
      let rescued = 0;
      const deleted = await sweepExpired(dynamo.client, name, now, async (record) => {
        const expired = expiredStagedEvent(record);
        if (expired === undefined) return;
        const [outcome] = await rescueExpired([expired], { events, newToken: randomUUID, now: () => now });
        if (outcome === 'rescued') rescued++;
      });
      return { deleted, rescued };
    },
    read: () => readArchive(s3, bucket),
  };
};

export interface ArchivedWindow {
  readonly manifest: WindowManifest;
  /** Each part's events, in stored order, parsed. */
  readonly parts: Array<Array<Record<string, unknown> & { uuid: string; published: string }>>;
}

export interface ArchiveContents {
  readonly windows: Map<string, ArchivedWindow>;
  /** Every archived line, as stored (the event as received). */
  readonly lines: string[];
  readonly quarantine: Array<{ key: string; record: Record<string, unknown> }>;
  /** Objects not listed in any manifest, nor digest records (there should be none). */
  readonly orphans: string[];
}

/** Reads the archive as an auditor would: through the manifests, checking each part's SHA-256 and count. */
export const readArchive = async (s3: S3Client, bucket: string): Promise<ArchiveContents> =>
  archiveContents(await readBucket(s3, bucket));

/** Every file under a local archive directory, keyed by its path relative to the directory (the S3 key). */
export const readArchiveDir = async (dir: string): Promise<ArchiveContents> => {
  const objects = new Map<string, Uint8Array>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    objects.set(relative(dir, path).split(sep).join('/'), await readFile(path));
  }
  return archiveContents(objects);
};

const archiveContents = (objects: Map<string, Uint8Array>): ArchiveContents => {
  const windows = new Map<string, ArchivedWindow>();
  const lines: string[] = [];
  const listed = new Set<string>();
  const quarantine: ArchiveContents['quarantine'] = [];
  for (const [key, bytes] of objects) {
    // A source's archive may sit under a prefix (Auth0's under `auth0/`); its manifests name keys below that prefix.
    const root = /^(?:[a-z0-9]+\/)?(?=archive\/|digests\/|quarantine\/)/.exec(key)?.[0] ?? '';
    const inRoot = key.slice(root.length);
    // The integrity chain's digest records list objects; `olp archive verify` checks them (archive-chain tests).
    if (inRoot.startsWith('digests/')) {
      listed.add(key);
      continue;
    }
    if (inRoot.startsWith('quarantine/')) {
      listed.add(key);
      quarantine.push({ key, record: JSON.parse(Buffer.from(bytes).toString('utf8')) });
      continue;
    }
    if (!key.endsWith('manifest.json')) continue;
    listed.add(key);
    const manifest = WindowManifest.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    const parts: ArchivedWindow['parts'] = [];
    for (const part of manifest.parts) {
      listed.add(`${root}${part.key}`);
      const stored = objects.get(`${root}${part.key}`);
      if (stored === undefined) throw new Error(`${key} lists missing ${root}${part.key}`);
      const sha = createHash('sha256').update(stored).digest('hex');
      if (sha !== part.sha256) throw new Error(`${part.key}: sha256 ${sha} but the manifest says ${part.sha256}`);
      const partLines = gunzipSync(stored).toString('utf8').trimEnd().split('\n');
      if (partLines.length !== part.eventCount)
        throw new Error(`${part.key}: ${partLines.length} lines, manifest says ${part.eventCount}`);
      lines.push(...partLines);
      parts.push(partLines.map((line) => JSON.parse(line)));
    }
    windows.set(key.slice(0, -'manifest.json'.length), { manifest, parts });
  }
  return { windows, lines, quarantine, orphans: [...objects.keys()].filter((key) => !listed.has(key)) };
};

/** True when every part of every window is ordered by (`published`, uuid). */
export const partsAreSorted = (contents: ArchiveContents): boolean =>
  [...contents.windows.values()].every(({ parts }) =>
    parts.every((events) =>
      events.every((event, i) => {
        const previous = events[i - 1];
        if (previous === undefined) return true;
        const order = Date.parse(previous.published) - Date.parse(event.published);
        return order < 0 || (order === 0 && previous.uuid.toLowerCase() <= event.uuid.toLowerCase());
      }),
    ),
  );

/** Work the sequencer has not finished: late markers (every partition) and pending buckets, whatever their time. */
export const leftovers = async (events: EventStore): Promise<{ markers: LateMarker[]; pending: PendingBucket[] }> => {
  const markers = await Promise.all(
    Array.from({ length: LATE_MARKER_SHARDS }, (_, shard) =>
      events.listLateMarkers(shard, 8_640_000_000_000_000, Number.POSITIVE_INFINITY),
    ),
  );
  return {
    markers: markers.flat(),
    pending: await events.listPending(8_640_000_000_000_000, Number.POSITIVE_INFINITY),
  };
};
