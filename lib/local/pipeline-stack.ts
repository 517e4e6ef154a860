import { mkdir } from 'node:fs/promises';
import type { AlertClaims, AlertPublisher } from '../../lambdas/alert/process-alert.ts';
import { withStagingMemory } from '../../lambdas/ingest/staging-memory.ts';
import { AUTH0, type LogSource, OKTA } from '../../lambdas/shared/log-sources.ts';
import type { ArchiveStore, EventStager, EventStore } from '../../lambdas/shared/ports.ts';
import { prefixedArchive } from '../../lambdas/shared/prefixed-archive.ts';
import type { WatchdogStateStore } from '../../lambdas/watchdog/run-watchdog.ts';
import { ArchiveDirStore } from './archive-dir-store.ts';
import { createInProcessAlertClaims } from './in-process-alert-claims.ts';
import { InProcessEventStore } from './in-process-event-store.ts';
import { InProcessTopic } from './in-process-topic.ts';
import { InProcessWatchdogStore } from './in-process-watchdog-store.ts';
import { InProcessQueue, type LocalQueue } from './local-queues.ts';

/**
 * What the local pipeline keeps its tables and queues in: `in-process` (maps and arrays in this process, behind the
 * Lambdas' ports) or `stand-ins` (dynalite for DynamoDB, fauxqs for SQS, SNS and S3, through the AWS SDK).
 */
export type LocalStore = 'in-process' | 'stand-ins';

/** Where one log source's events go: its ingest queue, its events table (and ingest's memory of it), its archive. */
export interface Lane {
  readonly source: LogSource;
  readonly queue: LocalQueue;
  readonly events: EventStore;
  readonly stager: EventStager;
  readonly archive: ArchiveStore;
}

/** The deployed stack's tables, queues, topic and bucket, on one of the local stores. */
export interface PipelineStack {
  readonly store: LocalStore;
  readonly okta: Lane;
  readonly lanes: readonly Lane[];
  readonly alertQueue: LocalQueue;
  /** The alert topic, and a queue subscribed to it: what subscribers receive. */
  readonly topic: AlertPublisher;
  readonly subscriber: LocalQueue;
  readonly claims: AlertClaims;
  readonly watchdogState: WatchdogStateStore;
  /** The whole archive (every source's prefix), for quarantined input and alert messages. */
  readonly archive: ArchiveStore;
  stop(): Promise<void>;
}

/** A store asked for what it cannot do: the in-process store keeps nothing between runs. */
export class LocalStoreError extends Error {
  override readonly name = 'LocalStoreError';
}

export interface StackOptions {
  readonly archiveDir: string;
  /** dynalite's files, kept between runs (stand-ins only). */
  readonly dataDir?: string;
  readonly alertDedupeRetentionDays: number;
}

/** One lane per log source, as deployed: its own ingest queue and events table, its part of the archive. */
export const laneOf = (source: LogSource, queue: LocalQueue, events: EventStore, archive: ArchiveStore): Lane => ({
  source,
  queue,
  events,
  stager: withStagingMemory(events),
  archive: prefixedArchive(archive, source.archivePrefix),
});

/**
 * Everything in this process. Nothing outlives the run, so the events store forgets an event's body once it is
 * archived (its key stays, as the dedupe record) and memory follows the unsealed windows, not the input.
 */
export const startInProcessStack = async (options: StackOptions): Promise<PipelineStack> => {
  await mkdir(options.archiveDir, { recursive: true });
  const archive = new ArchiveDirStore(options.archiveDir);
  const events = () => new InProcessEventStore({ forgetArchivedBodies: true });
  const okta = laneOf(OKTA, new InProcessQueue('ingest'), events(), archive);
  const subscriber = new InProcessQueue('alert-subscriber');
  return {
    store: 'in-process',
    okta,
    lanes: [okta, laneOf(AUTH0, new InProcessQueue('ingest-auth0'), events(), archive)],
    alertQueue: new InProcessQueue('alert'),
    topic: new InProcessTopic([subscriber]),
    subscriber,
    claims: createInProcessAlertClaims({ retentionDays: options.alertDedupeRetentionDays, now: Date.now }),
    watchdogState: new InProcessWatchdogStore(),
    archive,
    stop: async () => {},
  };
};

/**
 * dynalite and fauxqs on 127.0.0.1, with the tables, queues, topic and bucket of the deployed stack. The AWS SDK,
 * dynalite and fauxqs are loaded only when asked for: an in-process run is spared their start-up time and memory.
 */
export const startStandInStack = async (options: StackOptions): Promise<PipelineStack> =>
  (await import('./stand-in-stack.ts')).startStandIns(options);
