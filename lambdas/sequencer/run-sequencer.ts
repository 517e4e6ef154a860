import { gunzipSync } from 'node:zlib';
import { type ArchivePart, latePartKey, mainPartKey, manifestKey, WindowManifest } from '../shared/archive-layout.ts';
import { type LogSource, OKTA } from '../shared/log-sources.ts';
import type { Redaction } from '../shared/pii.ts';
import type { ArchiveSigner, ArchiveStore, EventStore } from '../shared/ports.ts';
import {
  LATE_MARKER_SHARDS,
  type LateMarker,
  type PendingBucket,
  type SequencerState,
  type SetAsideRecord,
} from '../shared/ports.ts';
import { contentHash, type StagedEvent, type StagingSettings, windowPartitionKey } from '../shared/staged-event.ts';
import { archiveWindowAt, formatWindow } from '../shared/window.ts';
import { archivedForms } from './archived-form.ts';
import { RunWrites, recordDigest, type WrittenDigest } from './digest-chain.ts';
import {
  BEGINNING,
  type ClockSettings,
  initialState,
  openRun,
  pruneAtRisk,
  sealedAtRisk,
  withAtRisk,
} from './sequencer-state.ts';
import { type BuiltPart, buildPart, conflictingUuids, sha256Hex } from './window-part.ts';

export interface SequencerSettings extends StagingSettings, ClockSettings {
  /** Bounds one run's sealing; the next run continues where this one stopped. */
  readonly maxWindowsPerRun: number;
  /** Bounds one run's late supplements, counted in markers read; the next run continues. */
  readonly maxLateMarkersPerRun: number;
  /**
   * Bounds one run's late supplements, counted in windows: every window a run may write to is journaled in the state
   * item before it writes (the integrity chain), and the item must stay far below DynamoDB's 400 KB. @default no bound
   */
  readonly maxSupplementWindowsPerRun?: number;
}

export interface SequencerDeps {
  readonly events: EventStore;
  readonly archive: ArchiveStore;
  /** Signs the run's digest record; without it the integrity chain is unsigned. */
  readonly signer?: ArchiveSigner;
  /** The kind of log the archive holds, which says each archived line's id. @default OKTA */
  readonly source?: LogSource;
  /** Redacts each event's PII before its line is archived (archived-form.ts). @default - lines as received */
  readonly redact?: Redaction;
}

export interface SealedWindow {
  readonly window: string;
  readonly kind: ArchivePart['kind'];
  readonly eventCount: number;
  readonly conflicts: readonly string[];
}

export interface SetAsideWindow {
  readonly window: string;
  readonly reason: string;
}

export interface SequencerReport {
  readonly sealed: SealedWindow[];
  /** Windows this run could not seal, with why; they are retried every run. */
  readonly setAside: SetAsideWindow[];
  /** Start of the first window not yet sealed. */
  readonly nextWindow: number;
  /** How long ago the oldest window not yet sealed (or set aside) started; 0 before the first seal. */
  readonly oldestUnsealedAgeMs: number;
  readonly setAsideCount: number;
  /** Whether this run stopped at its bounds with work left for the next. */
  readonly moreToDo: boolean;
  /** The digest record this run appended to the integrity chain, if it wrote one. */
  readonly digest?: WrittenDigest;
}

export class ArchiveCorruptError extends Error {
  override readonly name = 'ArchiveCorruptError';
}

/**
 * One sequencer run (docs/design.md argues each step):
 * 1. publish the close: ingest stages events of windows that ended `allowedLatenessSeconds` ago as late;
 * 2. seal the windows of pending buckets whose close is older than the guard: part, manifest, then progress;
 * 3. archive late events of sealed windows, found through their markers, as supplements;
 * 4. append a digest record covering what steps 2 and 3 wrote to the integrity chain (digest-chain.ts). Before
 *    either step writes, the windows it may write to are journaled in the state, so a run that stops before its
 *    record is covered by the next run's.
 * A window that cannot be sealed as planned is set aside with its reason and retried on every run; nothing else
 * waits for it. Archived objects are never replaced: a window whose manifest exists only gains supplements, and a
 * part is written to a key only if the key is free or holds exactly that part.
 *
 * `now` is the clock (deployed) or the event-time watermark (local).
 */
export const runSequencer = async (
  deps: SequencerDeps,
  settings: SequencerSettings,
  now: number,
): Promise<SequencerReport> => {
  const loaded = (await deps.events.getSequencerState()) ?? initialState(settings.windowSeconds);
  let state = openRun(loaded, now, settings);
  await deps.events.putSequencerState(state);

  const carried = new Set(state.undigested ?? []);
  const journal = new Journal(deps.events, carried);
  const writes = new RunWrites();
  const sealing = await sealPending(deps, settings, state, now, journal, writes);
  state = journal.into(sealing.state);
  await deps.events.putSequencerState(state);

  const late = await archiveLateEvents(deps, settings, state, now, journal, writes);
  state = journal.into({ ...late.state, atRisk: pruneAtRisk(late.state.atRisk, now, settings) });
  await deps.events.putSequencerState(state);

  // A window whose step failed may have been written in part (a part, or a manifest whose put failed only to
  // answer): what the archive holds for it is read back and listed, as for a run that stopped.
  const failed = journal.added().filter((start) => state.setAside.includes(start));
  const digest = await recordDigest(
    deps,
    state,
    {
      writes,
      carried: new Set([...carried, ...failed]),
      firstFrom: loaded.nextWindow,
      readManifest: async (start) => {
        const bytes = await deps.archive.get(manifestKey(start));
        if (bytes === undefined) return undefined;
        try {
          return { bytes, parts: parseManifest(bytes, start).parts };
        } catch (error) {
          // A damaged manifest (the window is set aside for it) lists nothing the chain could vouch for; the run that
          // seals the window once it is repaired records what it holds then.
          if (error instanceof ArchiveCorruptError) return undefined;
          throw error;
        }
      },
    },
    now,
  );
  if (digest.state !== state) {
    state = digest.state;
    await deps.events.putSequencerState(state);
  }

  const oldest = Math.min(state.nextWindow, ...state.setAside);
  return {
    sealed: [...sealing.sealed, ...late.sealed],
    setAside: [...sealing.setAside, ...late.setAside],
    nextWindow: state.nextWindow,
    oldestUnsealedAgeMs: oldest === BEGINNING ? 0 : Math.max(0, now - oldest),
    setAsideCount: state.setAside.length,
    moreToDo: sealing.moreToDo || late.moreToDo,
    ...(digest.written === undefined ? {} : { digest: digest.written }),
  };
};

/**
 * The windows a run may write to, saved in the state item before it writes them; the digest step covers them and
 * clears the journal. A run that stops in between leaves them for the next run's record.
 */
class Journal {
  private readonly windows: Set<number>;
  private readonly fresh: number[] = [];

  constructor(
    private readonly events: EventStore,
    carried: ReadonlySet<number>,
  ) {
    this.windows = new Set(carried);
  }

  /** Saves `state` with these windows added, unless all of them are journaled already. */
  async add(state: SequencerState, starts: readonly number[]): Promise<void> {
    const fresh = starts.filter((start) => !this.windows.has(start));
    if (fresh.length === 0) return;
    for (const start of fresh) this.windows.add(start);
    this.fresh.push(...fresh);
    await this.events.putSequencerState(this.into(state));
  }

  /** The windows this run journaled. */
  added(): number[] {
    return [...this.fresh];
  }

  into(state: SequencerState): SequencerState {
    return { ...state, undigested: [...this.windows].sort((a, b) => a - b) };
  }
}

interface PlannedWindow {
  readonly start: number;
  readonly end: number;
  readonly partitions: Set<string>;
}

interface StepResult {
  readonly state: SequencerState;
  readonly sealed: SealedWindow[];
  readonly setAside: SetAsideWindow[];
  readonly moreToDo: boolean;
}

/** The archive windows a pending bucket overlaps, before `until`. */
const windowsOf = (bucket: PendingBucket, until: number, state: SequencerState) => {
  const windows: Array<{ start: number; end: number }> = [];
  const end = Math.min(bucket.bucketStart + bucket.bucketSeconds * 1000, until);
  for (let w = archiveWindowAt(bucket.bucketStart, state.windowSizes); w.start < end; ) {
    windows.push(w);
    w = archiveWindowAt(w.end, state.windowSizes);
  }
  return windows;
};

const sealPending = async (
  deps: SequencerDeps,
  settings: SequencerSettings,
  state: SequencerState,
  now: number,
  journal: Journal,
  writes: RunWrites,
): Promise<StepResult> => {
  const limit = settings.maxWindowsPerRun;
  const buckets = await deps.events.listPending(state.sealableBefore, Number.isFinite(limit) ? limit * 4 : limit);
  const listedAll = buckets.length < limit * 4;
  // Listing stopped early: a later bucket may still overlap the last windows, so only windows before its start count.
  const listedUntil = listedAll ? state.sealableBefore : (buckets.at(-1)?.bucketStart ?? state.sealableBefore);

  const planned = new Map<number, PlannedWindow>();
  for (const bucket of buckets) {
    for (const window of windowsOf(bucket, listedUntil, state)) {
      const plan = planned.get(window.start) ?? { ...window, partitions: new Set<string>() };
      for (let shard = 0; shard < bucket.shards; shard++) {
        plan.partitions.add(windowPartitionKey(bucket.bucketStart, shard));
      }
      planned.set(window.start, plan);
    }
  }
  const windows = [...planned.values()].sort((a, b) => a.start - b.start);
  const chosen = windows.slice(0, limit);
  await journal.add(
    state,
    chosen.map((window) => window.start),
  );

  const sealed: SealedWindow[] = [];
  const setAside: SetAsideWindow[] = [];
  const failed = new Set<number>();
  let next = state;
  for (const window of chosen) {
    try {
      const events = await windowEvents(deps.events, window);
      const result = await sealWindow(deps, window, events, writes);
      if (result !== undefined) sealed.push(result);
      if (sealedAtRisk(window.start, now, settings)) {
        next = { ...next, atRisk: withAtRisk(next.atRisk, window.start, window.end, now) };
      }
      next = await clearSetAside(deps.events, next, window.start, 'seal');
    } catch (error) {
      failed.add(window.start);
      const reason = describeError(error);
      setAside.push({ window: formatWindow(window.start), reason });
      next = await recordSetAside(deps.events, next, window.start, reason, now, 'seal');
    }
  }

  // A bucket is done once every window it overlaps is sealed; set-aside windows keep theirs, to be retried.
  const lastChosen = chosen.at(-1)?.end ?? Number.NEGATIVE_INFINITY;
  for (const bucket of buckets) {
    const overlapped = windowsOf(bucket, Number.POSITIVE_INFINITY, state);
    const done = overlapped.every((w) => w.end <= Math.min(lastChosen, state.sealableBefore) && !failed.has(w.start));
    if (done) await deps.events.deletePending(bucket);
  }

  const moreToDo = windows.length > chosen.length || !listedAll;
  const reached = moreToDo ? (windows[chosen.length]?.start ?? listedUntil) : state.sealableBefore;
  return { state: { ...next, nextWindow: Math.max(next.nextWindow, reached) }, sealed, setAside, moreToDo };
};

/** The staged events of one archive window: its partitions, filtered to its time, each content once. */
const windowEvents = async (events: EventStore, window: PlannedWindow): Promise<StagedEvent[]> => {
  const found = new Map<string, StagedEvent>();
  const partitions = await Promise.all([...window.partitions].map((pk) => events.queryPartition(pk)));
  for (const event of partitions.flat()) {
    // The same content may sit in two partitions when the layout changed between two deliveries of it.
    if (event.publishedMs >= window.start && event.publishedMs < window.end && !found.has(event.sk)) {
      found.set(event.sk, event);
    }
  }
  return [...found.values()];
};

/**
 * Seals one window. Without a manifest, its staged events become the main part. With one (a run that stopped after
 * the manifest, a lost state, a second local run into the same directory), the events it does not list yet become a
 * supplement: archived objects are never replaced.
 */
const sealWindow = async (
  deps: SequencerDeps,
  window: PlannedWindow,
  events: readonly StagedEvent[],
  writes: RunWrites,
): Promise<SealedWindow | undefined> => {
  if (events.length === 0) return undefined;
  const manifest = await readManifest(deps.archive, window.start);
  if (manifest === undefined) {
    const forms = archivedForms(events, deps.redact);
    const parts = await placeParts(deps.archive, window.start, 'main', 0, forms, deps.source ?? OKTA);
    const conflicts = conflictingUuids(forms);
    await writeManifest(deps.archive, window, parts, parts, conflicts, writes);
    await markArchived(deps.events, events);
    // Normally one main part; late parts too only when a run that stopped before the manifest left a part to take over.
    return { window: formatWindow(window.start), kind: 'main', eventCount: forms.length, conflicts };
  }
  return supplement(deps, window, manifest, events, writes);
};

/** Writes the events the manifest does not list yet as the window's next late part; at most one per call. */
const supplement = async (
  deps: SequencerDeps,
  window: { readonly start: number; readonly end: number },
  manifest: WindowManifest | undefined,
  events: readonly StagedEvent[],
  writes: RunWrites,
): Promise<SealedWindow | undefined> => {
  const archived =
    manifest === undefined ? new Set<string>() : await archivedKeys(deps.archive, manifest, deps.source ?? OKTA);
  // One content once, even when a layout change staged it under two partitions; compared as the archive holds it.
  const forms = archivedForms(events, deps.redact);
  const fresh = [...new Map(forms.map((event) => [event.sk, event])).values()].filter(
    (event) => !archived.has(event.sk),
  );
  let result: SealedWindow | undefined;
  if (fresh.length > 0) {
    const parts = manifest?.parts ?? [];
    const lateParts = parts.filter((part) => part.kind === 'late').length;
    const added = await placeParts(deps.archive, window.start, 'late', lateParts, fresh, deps.source ?? OKTA);
    const keys = [...archived, ...fresh.map((event) => event.sk)];
    const conflicts = [...new Set([...(manifest?.conflicts ?? []), ...conflictingKeys(keys)])].sort();
    await writeManifest(deps.archive, window, [...parts, ...added], added, conflicts, writes);
    result = { window: formatWindow(window.start), kind: 'late', eventCount: fresh.length, conflicts };
  }
  await markArchived(deps.events, events);
  return result;
};

/**
 * Writes `events` as the window's next part: the main part (`kind` main), or late part `lateParts + 1`. A part key
 * that already holds an object (a run wrote the part, then stopped before the manifest) is never written over with
 * other content. The object is taken over when it is exactly the part that the events it holds make (built again
 * here from the staged events, byte for byte: so it is the sequencer's, not a forgery), and the remaining events go
 * into the next late part; anything else there sets the window aside.
 */
const placeParts = async (
  archive: ArchiveStore,
  windowStart: number,
  kind: ArchivePart['kind'],
  lateParts: number,
  events: readonly StagedEvent[],
  source: LogSource,
): Promise<ArchivePart[]> => {
  const parts: ArchivePart[] = [];
  let remaining = events;
  let late = lateParts;
  for (let partKind = kind; remaining.length > 0; partKind = 'late') {
    const key = partKind === 'main' ? mainPartKey(windowStart) : latePartKey(windowStart, ++late);
    const built = buildPart(partKind, key, remaining);
    const existing = await archive.get(key);
    if (existing === undefined) {
      await archive.put(key, built.bytes, 'application/gzip');
      parts.push(built.part);
      break;
    }
    const taken = takeOver(partKind, key, existing, remaining, built, source);
    parts.push(taken.part);
    remaining = remaining.filter((event) => !taken.holds.has(event.sk));
  }
  return parts;
};

/** The part an unlisted object at `key` is, if the staged events it holds build exactly its bytes. */
const takeOver = (
  kind: ArchivePart['kind'],
  key: string,
  existing: Uint8Array,
  events: readonly StagedEvent[],
  built: BuiltPart,
  source: LogSource,
): { part: ArchivePart; holds: Set<string> } => {
  if (Buffer.from(existing).equals(Buffer.from(built.bytes))) {
    return { part: built.part, holds: new Set(events.map((event) => event.sk)) };
  }
  let holds: Set<string>;
  try {
    holds = eventKeysOf(existing, source);
  } catch {
    throw new ArchiveCorruptError(`${key} exists, is listed in no manifest and is not a part`);
  }
  const held = events.filter((event) => holds.has(event.sk));
  if (held.length === 0 || held.length !== holds.size) {
    throw new ArchiveCorruptError(`${key} exists, is listed in no manifest and holds events not staged for its window`);
  }
  const rebuilt = buildPart(kind, key, held);
  if (!Buffer.from(existing).equals(Buffer.from(rebuilt.bytes))) {
    throw new ArchiveCorruptError(`${key} exists, is listed in no manifest and is not the part its events make`);
  }
  return { part: rebuilt.part, holds };
};

/** uuids that appear with more than one content among `uuid#hash` keys. */
const conflictingKeys = (keys: readonly string[]): string[] =>
  conflictingUuids(
    keys.map((key) => {
      const split = key.lastIndexOf('#');
      return { uuid: key.slice(0, split), hash: key.slice(split + 1) };
    }),
  );

/** Late and rescued events carry no TTL until archived; the flag also tells the rescue function they are safe. */
const markArchived = async (events: EventStore, archived: readonly StagedEvent[]): Promise<void> => {
  const unflagged = archived.filter((event) => event.expiresAt === undefined && event.archived !== true);
  await forEachLimited(unflagged, 16, (event) => events.markArchived(event));
};

/** Every `uuid#hash` the window's parts hold, each part checked against the SHA-256 its manifest lists. */
const archivedKeys = async (
  archive: ArchiveStore,
  manifest: WindowManifest,
  source: LogSource,
): Promise<Set<string>> => {
  const keys = new Set<string>();
  for (const part of manifest.parts) {
    if (part.events !== undefined) {
      for (const key of part.events) keys.add(key);
      continue;
    }
    const bytes = await archive.get(part.key);
    if (bytes === undefined) throw new ArchiveCorruptError(`${part.key} is listed in its manifest but missing`);
    if (sha256Hex(bytes) !== part.sha256) {
      throw new ArchiveCorruptError(`${part.key} does not match the SHA-256 its manifest lists`);
    }
    for (const key of eventKeysOf(bytes, source)) keys.add(key);
  }
  return keys;
};

/** The `<id>#<hash>` of every event in a part's bytes, the id as the source names it (Okta's uuid, Auth0's log_id). */
const eventKeysOf = (bytes: Uint8Array, source: LogSource): Set<string> => {
  const keys = new Set<string>();
  for (const line of gunzipSync(bytes).toString('utf8').split('\n')) {
    if (line === '') continue;
    const event = JSON.parse(line) as Record<string, unknown>;
    keys.add(`${String(source.claimedIdentity(event).id).toLowerCase()}#${contentHash(event)}`);
  }
  return keys;
};

const writeManifest = async (
  archive: ArchiveStore,
  window: { readonly start: number; readonly end: number },
  parts: ArchivePart[],
  /** The parts this manifest version adds: the digest record lists them with it. */
  added: readonly ArchivePart[],
  conflicts: string[],
  writes: RunWrites,
): Promise<void> => {
  const eventCount = parts.reduce((sum, part) => sum + part.eventCount, 0);
  const manifest: WindowManifest = {
    version: 1,
    window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
    eventCount,
    parts,
    conflicts,
  };
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  await archive.put(manifestKey(window.start), bytes, 'application/json');
  for (const part of added) writes.part(window.start, part);
  writes.manifest(window.start, { bytes, parts, eventCount });
};

const readManifest = async (archive: ArchiveStore, windowStart: number): Promise<WindowManifest | undefined> => {
  const bytes = await archive.get(manifestKey(windowStart));
  return bytes === undefined ? undefined : parseManifest(bytes, windowStart);
};

const parseManifest = (bytes: Uint8Array, windowStart: number): WindowManifest => {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new ArchiveCorruptError(`${manifestKey(windowStart)} is not JSON`);
  }
  const parsed = WindowManifest.safeParse(json);
  if (!parsed.success) throw new ArchiveCorruptError(`${manifestKey(windowStart)} is not a valid manifest`);
  return parsed.data;
};

/**
 * Archives late events of sealed windows as supplements recorded in the window's manifest. Markers are read from
 * every marker partition, oldest first and within the run's budget, grouped by window, their events read in
 * batches; a window gets at most one supplement per run. A marker is deleted only after its event is archived, and
 * only if no ingest retry rewrote it meanwhile.
 */
const archiveLateEvents = async (
  deps: SequencerDeps,
  settings: SequencerSettings,
  state: SequencerState,
  now: number,
  journal: Journal,
  writes: RunWrites,
): Promise<StepResult> => {
  const perShard = Math.ceil(settings.maxLateMarkersPerRun / LATE_MARKER_SHARDS);
  const lists = await Promise.all(
    Array.from({ length: LATE_MARKER_SHARDS }, (_, shard) =>
      deps.events.listLateMarkers(shard, state.nextWindow, perShard),
    ),
  );
  let moreToDo = lists.some((list) => list.length >= perShard);
  const byWindow = new Map<number, { start: number; end: number; markers: LateMarker[] }>();
  for (const marker of lists.flat()) {
    const window = archiveWindowAt(marker.publishedMs, state.windowSizes);
    const group = byWindow.get(window.start) ?? { ...window, markers: [] };
    group.markers.push(marker);
    byWindow.set(window.start, group);
  }

  const sealed: SealedWindow[] = [];
  const failed: Array<{ start: number; reason: string }> = [];
  const succeeded: number[] = [];
  const all = [...byWindow.values()].sort((a, b) => a.start - b.start);
  // The rest keep their markers for the next run.
  const groups = all.slice(0, settings.maxSupplementWindowsPerRun ?? all.length);
  moreToDo ||= groups.length < all.length;
  // One batched read for the events of every marker, whichever windows they belong to.
  const staged = new Map(
    (await deps.events.getStaged(groups.flatMap((group) => group.markers))).map((event) => [
      `${event.pk}|${event.sk}`,
      event,
    ]),
  );
  await journal.add(
    state,
    groups.filter((group) => pendingOf(group, staged).length > 0).map((group) => group.start),
  );
  // Windows are independent (each has its own manifest), so a few are supplemented at once.
  await forEachLimited(groups, 8, async (group) => {
    try {
      const result = await supplementFromMarkers(deps, group, staged, now - settings.sealGuardSeconds * 1000, writes);
      if (result !== undefined) sealed.push(result);
      succeeded.push(group.start);
    } catch (error) {
      failed.push({ start: group.start, reason: describeError(error) });
    }
  });
  sealed.sort((a, b) => a.window.localeCompare(b.window));
  let next = state;
  for (const start of succeeded) next = await clearSetAside(deps.events, next, start, 'supplement');
  for (const { start, reason } of failed.sort((a, b) => a.start - b.start)) {
    next = await recordSetAside(deps.events, next, start, reason, now, 'supplement');
  }
  const setAside = failed.map(({ start, reason }) => ({ window: formatWindow(start), reason }));
  return { state: next, sealed, setAside, moreToDo };
};

const supplementFromMarkers = async (
  deps: SequencerDeps,
  group: { start: number; end: number; markers: LateMarker[] },
  stagedByKey: ReadonlyMap<string, StagedEvent>,
  settledBefore: number,
  writes: RunWrites,
): Promise<SealedWindow | undefined> => {
  const found = new Set(
    group.markers.map((marker) => `${marker.pk}|${marker.sk}`).filter((key) => stagedByKey.has(key)),
  );
  const pending = pendingOf(group, stagedByKey);
  let result: SealedWindow | undefined;
  if (pending.length > 0) {
    const manifest = await readManifest(deps.archive, group.start);
    result = await supplement(deps, group, manifest, pending, writes);
  }
  // A marker whose event is missing: either the write that follows the marker is still in flight (younger than the
  // guard: keep it), or the event was archived and has since expired, or the writer failed before staging it and its
  // retry writes a new marker with the event. Either way, an old one has nothing left to do.
  const done = group.markers.filter(
    (marker) => found.has(`${marker.pk}|${marker.sk}`) || marker.writtenAt <= settledBefore,
  );
  await forEachLimited(done, 16, (marker) => deps.events.deleteLateMarker(marker));
  return result;
};

/**
 * The events of a window's markers still to archive. An on-time event (it has its TTL) in a sealed window is archived:
 * the close guarantees the seal read it, and had TTL removed it first, the rescue would have staged it again without
 * TTL. Late and rescued events carry no TTL until they are archived.
 */
const pendingOf = (
  group: { readonly markers: readonly LateMarker[] },
  stagedByKey: ReadonlyMap<string, StagedEvent>,
): StagedEvent[] =>
  group.markers
    .flatMap((marker) => stagedByKey.get(`${marker.pk}|${marker.sk}`) ?? [])
    .filter((event) => event.archived !== true && event.expiresAt === undefined);

const recordSetAside = async (
  events: EventStore,
  state: SequencerState,
  windowStart: number,
  reason: string,
  now: number,
  step: SetAsideRecord['step'],
): Promise<SequencerState> => {
  const previous = await events.getSetAside(windowStart);
  const at = new Date(now).toISOString();
  await events.putSetAside({
    windowStart,
    window: formatWindow(windowStart),
    reason,
    // A window that failed to seal stays recorded as such until it seals, whatever its supplements do.
    step: previous?.step === 'seal' ? 'seal' : step,
    firstSetAsideAt: previous?.firstSetAsideAt ?? at,
    lastTriedAt: at,
    attempts: (previous?.attempts ?? 0) + 1,
  });
  return state.setAside.includes(windowStart)
    ? state
    : { ...state, setAside: [...state.setAside, windowStart].sort((a, b) => a - b) };
};

/** Clears a window's set-aside record once `step` succeeded; a supplement does not clear a failed seal. */
const clearSetAside = async (
  events: EventStore,
  state: SequencerState,
  windowStart: number,
  step: SetAsideRecord['step'],
): Promise<SequencerState> => {
  if (!state.setAside.includes(windowStart)) return state;
  if (step === 'supplement' && (await events.getSetAside(windowStart))?.step === 'seal') return state;
  await events.deleteSetAside(windowStart);
  return { ...state, setAside: state.setAside.filter((start) => start !== windowStart) };
};

const describeError = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : `unexpected: ${String(error)}`;

/** Runs `task` over `items` with at most `limit` at a time; the first failure rejects after all have settled. */
const forEachLimited = async <T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>) => {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
};
