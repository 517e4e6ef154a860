import { detect } from '../../lambdas/detector/detect.ts';
import {
  type ArchiveProblem,
  type ArchiveRange,
  type ArchiveSource,
  type ArchiveWindow,
  fetchPart,
  listWindows,
} from '../archive/archive-reader.ts';
import { MemoryDetectorStore } from '../local/memory-detector-store.ts';
import type { CompiledAlertRule } from '../rules/types.ts';
import { type HuntAlert, type HuntedWindow, huntAlertOf, huntedEvent, type WindowJob } from './hunt-window.ts';
import { inlineHunter, threadHunter, threadsFor, type WindowHunter } from './hunt-workers.ts';

export { HUNT_SOURCES, type HuntAlert } from './hunt-window.ts';

/**
 * `olp hunt`: runs alert rules, single-event and stateful, over archived events in `published` order, as the pipeline
 * would have run them had the rules been deployed when the events arrived. Windows are read here, in order, and
 * hunted (decoded, ordered, matched) on other threads when the archive is large enough to repay them; alerts are
 * raised here in event order, once per rule and claim key, as the alert path's claims would: suppression and
 * detection keys included. Stateful rules run here, on the events their pre-filters matched, through the detector's
 * own code with its state in memory.
 */

export interface HuntInput {
  readonly source: ArchiveSource;
  readonly range: ArchiveRange;
  /** Compiled for {@link HUNT_SOURCES}. */
  readonly rules: readonly CompiledAlertRule[];
  readonly onAlert: (alert: HuntAlert) => void;
  readonly onProgress?: (progress: { readonly windows: number; readonly events: number }) => void;
  /** Threads to hunt windows on; by default one per core for a large archive, none (this thread) for a small one. */
  readonly threads?: number;
}

export interface HuntResult {
  readonly events: number;
  readonly alerts: number;
  /** Lines that are neither an Okta System Log event nor an Auth0 log (counted, not hunted). */
  readonly unreadable: number;
  /** What could not be read from the archive. */
  readonly problems: readonly ArchiveProblem[];
}

/** How long detector state is kept behind the hunt's event time: the longest window allowed, and a day. */
const KEEP_SECONDS = 86_400;
/** Expired detector state is dropped every this many events, so a year-long hunt stays small. */
const SWEEP_EVERY = 50_000;
/** Windows read and hunted ahead of the one whose alerts are raised, per thread. */
const AHEAD_PER_THREAD = 3;

/** A window's parts, fetched and checked against its manifest: what a hunt thread needs, and nothing to read. */
async function jobOf(source: ArchiveSource, window: ArchiveWindow, range: ArchiveRange): Promise<WindowJob> {
  const parts = await Promise.all(
    window.manifest.parts.map(async (part) => {
      const fetched = await fetchPart(source, window, part);
      return 'problem' in fetched ? fetched : { part, bytes: fetched.bytes };
    }),
  );
  return { parts, range };
}

export async function huntArchive(input: HuntInput): Promise<HuntResult> {
  const { source, range, rules } = input;
  const listing = await listWindows(source, range);
  const problems: ArchiveProblem[] = [...listing.problems];
  const listed = listing.windows.reduce(
    (sum, window) => sum + window.manifest.parts.reduce((count, part) => count + part.eventCount, 0),
    0,
  );
  const threads = input.threads ?? threadsFor(listed);
  const hunter: WindowHunter = threads > 0 ? threadHunter(rules, threads) : inlineHunter(rules);

  const store = new MemoryDetectorStore();
  const claimed = new Set<string>();
  let events = 0;
  let alerts = 0;
  let unreadable = 0;
  let sinceSweep = 0;
  let latestSeconds = Number.NEGATIVE_INFINITY;

  const raise = ({ claim, alert }: { claim: string; alert: HuntAlert }): void => {
    if (claimed.has(claim)) return;
    claimed.add(claim);
    alerts++;
    input.onAlert(alert);
  };

  const raiseAll = async (window: HuntedWindow): Promise<void> => {
    problems.push(...window.problems);
    events += window.events;
    unreadable += window.unreadable;
    const parsed = new Map<number, ReturnType<typeof huntedEvent>>();
    for (const step of window.steps) {
      if ('claim' in step) {
        raise(step);
        continue;
      }
      const rule = rules[step.rule];
      if (rule?.detect === undefined) continue;
      if (!parsed.has(step.event))
        parsed.set(step.event, huntedEvent(JSON.parse(window.detectorLines[step.event] ?? '')));
      const hunted = parsed.get(step.event);
      if (hunted === undefined) continue;
      const record = hunted.source.ruleRecord(hunted.envelope.detail as Record<string, unknown>);
      const time = Date.parse(hunted.identity.published);
      latestSeconds = Math.max(latestSeconds, Math.floor(time / 1000));
      const outcome = await detect(
        rule.id,
        rule.detect,
        {
          id: hunted.identity.id.toLowerCase(),
          time,
          envelope: hunted.envelope,
          record,
          location: hunted.source.location(record),
        },
        store,
        { keepSeconds: KEEP_SECONDS },
      );
      if (outcome.kind === 'counted') {
        for (const found of outcome.detections) raise(huntAlertOf(rule, hunted, found));
      }
    }
    sinceSweep += window.events;
    if (sinceSweep >= SWEEP_EVERY) {
      sinceSweep = 0;
      store.sweep(latestSeconds - KEEP_SECONDS);
    }
  };

  // Windows are fetched and hunted ahead, in order; their alerts are raised strictly in window order.
  const windows = listing.windows;
  const ahead = AHEAD_PER_THREAD * Math.max(threads, 1);
  const inFlight: Array<Promise<HuntedWindow>> = [];
  let next = 0;
  const startNext = () => {
    while (next < windows.length && inFlight.length < ahead) {
      const window = windows[next++] as ArchiveWindow;
      inFlight.push(jobOf(source, window, range).then((job) => hunter.hunt(job)));
    }
  };
  let done = 0;
  try {
    startNext();
    while (inFlight.length > 0) {
      const window = await (inFlight.shift() as Promise<HuntedWindow>);
      startNext();
      await raiseAll(window);
      done++;
      input.onProgress?.({ windows: done, events });
    }
  } finally {
    // Leaving on an error: the windows still in flight are not wanted.
    for (const pending of inFlight) pending.catch(() => {});
    await hunter.close();
  }
  return { events, alerts, unreadable, problems };
}
