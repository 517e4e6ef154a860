import { type ArchivePart, latePartKey, mainPartKey, manifestKey, WindowManifest } from '../shared/archive-layout.ts';
import type { ArchiveStore, EventStore, LateMarker } from '../shared/ports.ts';
import { type StagedEvent, type StagingSettings, windowPartitionKey } from '../shared/staged-event.ts';
import { formatWindow, windowEndOf, windowStartOf } from '../shared/window.ts';
import { buildPart, conflictingUuids } from './window-part.ts';

export interface SequencerSettings extends StagingSettings {
  /**
   * Extra wait before sealing, beyond the allowed lateness: the longest an ingest invocation can take between reading
   * its clock (deciding an event is on time) and its write landing. Zero locally, where ingest and sealing alternate.
   */
  readonly sealGuardSeconds: number;
  /** On the first run, how far back to start sealing, so events staged before the sequencer first ran are sealed. */
  readonly backfillSeconds: number;
  /** Bounds one run's work; the next run continues where this one stopped. */
  readonly maxWindowsPerRun: number;
}

export interface SequencerDeps {
  readonly events: EventStore;
  readonly archive: ArchiveStore;
}

export interface SealedWindow {
  readonly window: string;
  readonly kind: ArchivePart['kind'];
  readonly eventCount: number;
  readonly conflicts: readonly string[];
}

export interface SequencerReport {
  readonly sealed: SealedWindow[];
  /** Start of the first window not yet sealed. */
  readonly nextWindow: number;
}

export class ArchiveCorruptError extends Error {
  override readonly name = 'ArchiveCorruptError';
}

/** The archive already holds the window with other events: sealing stops rather than overwrite archived data. */
export class ArchiveConflictError extends Error {
  override readonly name = 'ArchiveConflictError';
}

/**
 * One sequencer run: seal every window whose end plus lateness plus guard has passed, then archive late events of
 * sealed windows as supplements. The order of writes is what makes the archive exactly-once (docs/design.md):
 * part object, then manifest, then progress (state or marker deletion); each step is idempotent on retry.
 *
 * `now` is the clock (deployed) or the event-time watermark (local; at the end of a finite input, a watermark past the
 * last event seals everything).
 * `startFrom` sets where a first run starts when no state exists yet.
 */
export const runSequencer = async (
  deps: SequencerDeps,
  settings: SequencerSettings,
  now: number,
  startFrom?: number,
): Promise<SequencerReport> => {
  const sealed: SealedWindow[] = [];
  const windowMs = settings.windowSeconds * 1000;
  const horizon = now - (settings.allowedLatenessSeconds + settings.sealGuardSeconds) * 1000;
  const state = await deps.events.getSequencerState();
  let nextWindow =
    state?.nextWindow ?? windowStartOf(startFrom ?? now - settings.backfillSeconds * 1000, settings.windowSeconds);

  for (let count = 0; count < settings.maxWindowsPerRun; count++) {
    if (windowEndOf(nextWindow, settings.windowSeconds) > horizon) break;
    const result = await sealWindow(deps, settings, nextWindow);
    if (result !== undefined) sealed.push(result);
    nextWindow += windowMs;
    await deps.events.putSequencerState({ nextWindow });
  }

  sealed.push(...(await archiveLateEvents(deps, settings, nextWindow)));
  return { sealed, nextWindow };
};

const windowEvents = async (deps: SequencerDeps, settings: StagingSettings, windowStart: number) => {
  const partitions = Array.from({ length: settings.windowShards }, (_, shard) =>
    deps.events.queryPartition(windowPartitionKey(windowStart, shard)),
  );
  return (await Promise.all(partitions)).flat();
};

/** Seals the on-time events of one window. Late events are left to their markers, so a re-seal gives the same part. */
const sealWindow = async (
  deps: SequencerDeps,
  settings: StagingSettings,
  windowStart: number,
): Promise<SealedWindow | undefined> => {
  const all = await windowEvents(deps, settings, windowStart);
  const onTime = all.filter((event) => !event.late);
  if (onTime.length === 0) return undefined;
  const key = mainPartKey(windowStart);
  const { bytes, part } = buildPart('main', key, onTime);
  const conflicts = conflictingUuids(all);
  const sealed = { window: formatWindow(windowStart), kind: 'main', eventCount: part.eventCount, conflicts } as const;
  const existing = (await readManifest(deps.archive, windowStart))?.parts.find((p) => p.kind === 'main');
  // A run that stopped after the manifest: the window is sealed already, with exactly these bytes.
  if (existing?.sha256 === part.sha256) return sealed;
  if (existing !== undefined) {
    throw new ArchiveConflictError(
      `${manifestKey(windowStart)} already lists other events for window ${formatWindow(windowStart)} ` +
        `(sha256 ${existing.sha256}, not ${part.sha256}); the archive is left as it is`,
    );
  }
  await deps.archive.put(key, bytes, 'application/gzip');
  await writeManifest(deps.archive, windowStart, settings.windowSeconds, [part], conflicts);
  return sealed;
};

const writeManifest = (
  archive: ArchiveStore,
  windowStart: number,
  windowSeconds: number,
  parts: ArchivePart[],
  conflicts: string[],
) => {
  const manifest: WindowManifest = {
    version: 1,
    window: {
      start: new Date(windowStart).toISOString(),
      end: new Date(windowEndOf(windowStart, windowSeconds)).toISOString(),
    },
    eventCount: parts.reduce((sum, part) => sum + part.eventCount, 0),
    parts,
    conflicts,
  };
  return archive.put(manifestKey(windowStart), `${JSON.stringify(manifest, null, 2)}\n`, 'application/json');
};

const readManifest = async (archive: ArchiveStore, windowStart: number): Promise<WindowManifest | undefined> => {
  const bytes = await archive.get(manifestKey(windowStart));
  if (bytes === undefined) return undefined;
  const parsed = WindowManifest.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  if (!parsed.success) throw new ArchiveCorruptError(`${manifestKey(windowStart)} is not a valid manifest`);
  return parsed.data;
};

/**
 * Archives late events of sealed windows as supplements recorded in the window's manifest. A marker is deleted only
 * after the manifest that lists its event is written, and only if no ingest retry rewrote it meanwhile.
 */
const archiveLateEvents = async (
  deps: SequencerDeps,
  settings: StagingSettings,
  nextWindow: number,
): Promise<SealedWindow[]> => {
  const byWindow = new Map<number, LateMarker[]>();
  for (const marker of await deps.events.listLateMarkers()) {
    // Windows not sealed yet will take their late events in a supplement once they are.
    if (marker.windowStart >= nextWindow) continue;
    byWindow.set(marker.windowStart, [...(byWindow.get(marker.windowStart) ?? []), marker]);
  }
  const sealed: SealedWindow[] = [];
  for (const [windowStart, markers] of [...byWindow].sort(([a], [b]) => a - b)) {
    const result = await supplementWindow(deps, settings, windowStart, markers);
    if (result !== undefined) sealed.push(result);
  }
  return sealed;
};

const supplementWindow = async (
  deps: SequencerDeps,
  settings: StagingSettings,
  windowStart: number,
  markers: readonly LateMarker[],
): Promise<SealedWindow | undefined> => {
  const manifest = await readManifest(deps.archive, windowStart);
  const archived = new Set(manifest?.parts.flatMap((part) => part.events ?? []));
  const pending = new Map<string, StagedEvent>();
  const done: LateMarker[] = [];
  for (const marker of markers) {
    const event = await deps.events.getStaged(marker.pk, marker.sk);
    // No event yet: the ingest attempt that wrote the marker failed before staging; its retry stages it.
    if (event === undefined) continue;
    // An event staged on time is in the main part; a redelivery after sealing only rewrote the marker.
    if (event.late && !archived.has(event.sk)) pending.set(event.sk, event);
    done.push(marker);
  }

  let result: SealedWindow | undefined;
  if (pending.size > 0) {
    // A window whose events all arrived late has no manifest yet: its supplement starts one.
    const parts = manifest?.parts ?? [];
    const sequence = parts.filter((part) => part.kind === 'late').length + 1;
    const late = [...pending.values()];
    const { bytes, part } = buildPart('late', latePartKey(windowStart, sequence), late);
    const conflicts = await withLateConflicts(deps.events, late, manifest?.conflicts ?? []);
    await deps.archive.put(part.key, bytes, 'application/gzip');
    await writeManifest(deps.archive, windowStart, settings.windowSeconds, [...parts, part], conflicts);
    result = { window: formatWindow(windowStart), kind: 'late', eventCount: part.eventCount, conflicts };
  }
  for (const marker of done) await deps.events.deleteLateMarker(marker);
  return result;
};

/** A late event conflicts when its window partition holds another content for its uuid (on time or late). */
const withLateConflicts = async (
  events: EventStore,
  late: readonly StagedEvent[],
  known: readonly string[],
): Promise<string[]> => {
  const conflicts = new Set(known);
  for (const event of late) {
    if (conflicts.has(event.uuid)) continue;
    if ((await events.queryVersions(event.pk, event.uuid)).length > 1) conflicts.add(event.uuid);
  }
  return [...conflicts].sort();
};
