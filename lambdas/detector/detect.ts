import { createHash } from 'node:crypto';
import { compilePattern } from '../../lib/pattern/index.ts';
import type { DetectPart, DetectSpec } from '../../lib/rules/types.ts';
import type { Detection } from '../shared/alert-message.ts';
import { valueAt } from '../shared/field-path.ts';
import { nameUuid } from '../shared/name-uuid.ts';

/**
 * A stateful rule's detector: the events its pre-filter lets through are grouped by a field and cut into windows of
 * `published` time. Every decision depends only on the set of events, never on the order they arrived in or on how
 * often: each event is written once under its own key (a redelivery overwrites it with the same item), and the
 * detector then reads back what the window holds. So the alerts of a shuffled, duplicated stream are the alerts of
 * the ordered, unique one:
 * - threshold and distinct: windows are aligned (multiples of the window since the epoch). A window's count only
 *   grows, so the event that makes it reach `atLeast` (whichever arrives last of them) sees it, and the alert is keyed
 *   by (rule, group, window).
 * - sequence: a chain of events matching the steps in order, first to last within one window. Each event looks for
 *   every chain it completes among its group's events within a window either side; the chain's alert is keyed by
 *   (rule, group, the aligned window its first step fell in).
 * Writes come before reads, so two events handled at once cannot both miss each other: the later read sees both.
 */

/** One member of a group's state: an event's key, and what the detector needs of it again. */
export interface StoredMember {
  readonly member: string;
  readonly fields: Readonly<Record<string, string | number>>;
}

/** Where detector state lives: sets of members, each with a few fields and an expiry (DynamoDB deployed). */
export interface DetectorStore {
  /** Writes a member (idempotent: the same member is written with the same fields). */
  put(set: string, member: string, fields: Readonly<Record<string, string | number>>, expiresAt: number): Promise<void>;
  /** Members of a set in member order: those starting with `prefix`, or those from `from` to `to`; at most `limit`. */
  members(
    set: string,
    range: { readonly prefix: string } | { readonly from: string; readonly to: string },
    limit: number,
  ): Promise<StoredMember[]>;
}

/** The event as the detector sees it: its identity, its record (where field paths point) and the whole envelope. */
export interface DetectedEvent {
  readonly id: string;
  /** Epoch milliseconds of the event's own time (`published`, Auth0's `date`). */
  readonly time: number;
  readonly envelope: unknown;
  readonly record: unknown;
  readonly location: { readonly lat: number; readonly lon: number } | undefined;
}

export interface DetectSettings {
  /** How long state outlives its window, in seconds: the allowed lateness and then some. */
  readonly keepSeconds: number;
}

/** What one event did: detections it completed, or why it counted for nothing. */
export type DetectOutcome =
  | { readonly kind: 'counted'; readonly detections: readonly Detection[] }
  | { readonly kind: 'ungrouped' }
  | { readonly kind: 'unmatched' };

/** A sequence reads at most this many of a group's events around one event: a user's sign-ins in a day, with room. */
export const SEQUENCE_READ_LIMIT = 500;
/** How many distinct values an alert lists. */
const VALUES_SHOWN = 10;
const MAX_VALUE_CHARS = 256;

const DETECTION_NAMESPACE = Buffer.from('7b2d9c4e1f0a4e8b9a63c5d7e2f41a08', 'hex');

const digest = (text: string): string => createHash('sha256').update(text).digest('base64url').slice(0, 22);

const matchers = new Map<string, (event: unknown) => boolean>();

/** Whether a count's or step's pattern takes the event; its matcher is compiled once per process. */
function partMatches(part: DetectPart, envelope: unknown): boolean {
  if (part.pattern === null) return true;
  const key = JSON.stringify(part.pattern);
  let matcher = matchers.get(key);
  if (matcher === undefined) {
    matcher = compilePattern(part.pattern);
    matchers.set(key, matcher);
  }
  return matcher(envelope);
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** Okta writes the string "null" and "unknown" where it has no value: those are no group either. */
const groupValueOf = (record: unknown, path: string): string | undefined => {
  const value = valueAt(record, path);
  return value === undefined || value === 'null' || value === 'unknown' ? undefined : value;
};

function detection(ruleId: string, spec: DetectSpec, group: string, windowStart: number, finding: string): Detection {
  return {
    key: nameUuid(DETECTION_NAMESPACE, `${ruleId}\n${group}\n${windowStart}`),
    groupBy: spec.groupBy,
    group: group.slice(0, 1024),
    windowStart: iso(windowStart),
    windowEnd: iso(windowStart + spec.windowSeconds),
    finding: finding.slice(0, 2048),
  };
}

/** Runs one event through a stateful rule's detector. */
export async function detect(
  ruleId: string,
  spec: DetectSpec,
  event: DetectedEvent,
  store: DetectorStore,
  settings: DetectSettings,
): Promise<DetectOutcome> {
  const group = groupValueOf(event.record, spec.groupBy);
  if (group === undefined) return { kind: 'ungrouped' };
  const seconds = Math.floor(event.time / 1000);
  const windowStart = Math.floor(seconds / spec.windowSeconds) * spec.windowSeconds;
  const groupSet = `${ruleId}#${digest(group)}`;
  const run: Run = { ruleId, spec, event, store, settings, group, set: `${groupSet}#${windowStart}`, windowStart };
  switch (spec.kind) {
    case 'threshold':
      return threshold(run);
    case 'distinct':
      return distinct(run);
    case 'sequence':
      return sequence({ ...run, set: groupSet });
  }
}

/** One event through one rule: the set is its group's window (threshold, distinct) or its group (sequence). */
interface Run {
  readonly ruleId: string;
  readonly spec: DetectSpec;
  readonly event: DetectedEvent;
  readonly store: DetectorStore;
  readonly settings: DetectSettings;
  readonly group: string;
  readonly set: string;
  readonly windowStart: number;
}

async function threshold({
  ruleId,
  spec,
  event,
  store,
  settings,
  group,
  set,
  windowStart,
}: Run): Promise<DetectOutcome> {
  const counts = (spec.counts ?? []).map((count, index) => ({ count, index }));
  const matched = counts.filter(({ count }) => partMatches(count, event.envelope));
  if (matched.length === 0) return { kind: 'unmatched' };
  const expiresAt = windowStart + spec.windowSeconds + settings.keepSeconds;
  const reached: string[] = [];
  for (const { count, index } of matched) {
    await store.put(set, `${index}#${event.id}`, {}, expiresAt);
    const atLeast = count.atLeast ?? 1;
    const members = await store.members(set, { prefix: `${index}#` }, atLeast);
    if (members.length >= atLeast) reached.push(`at least ${atLeast} of: ${count.label}`);
  }
  return {
    kind: 'counted',
    detections: reached.length === 0 ? [] : [detection(ruleId, spec, group, windowStart, reached.join('; '))],
  };
}

async function distinct({
  ruleId,
  spec,
  event,
  store,
  settings,
  group,
  set,
  windowStart,
}: Run): Promise<DetectOutcome> {
  const { field, atLeast } = spec.distinct ?? { field: '', atLeast: 1 };
  const value = groupValueOf(event.record, field);
  if (value === undefined) return { kind: 'ungrouped' };
  const expiresAt = windowStart + spec.windowSeconds + settings.keepSeconds;
  await store.put(set, `v#${digest(value)}`, { value: value.slice(0, MAX_VALUE_CHARS) }, expiresAt);
  const members = await store.members(set, { prefix: 'v#' }, atLeast);
  if (members.length < atLeast) return { kind: 'counted', detections: [] };
  const shown = members.slice(0, VALUES_SHOWN).map((member) => String(member.fields.value ?? '?'));
  const finding =
    `at least ${atLeast} distinct ${field}: ${shown.join(', ')}` +
    (members.length > VALUES_SHOWN ? `, ... (${members.length - VALUES_SHOWN} more)` : '');
  return { kind: 'counted', detections: [detection(ruleId, spec, group, windowStart, finding)] };
}

/** Sortable member key of a sequence event: its time (15 digits of milliseconds), then its id. */
const timeKey = (millis: number): string => String(Math.max(0, millis)).padStart(15, '0');

const EARTH_RADIUS_KM = 6371.0088;
const radians = (degrees: number): number => (degrees * Math.PI) / 180;

/** Great-circle distance (haversine). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const dLat = radians(b.lat - a.lat);
  const dLon = radians(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.lat)) * Math.cos(radians(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

interface SequenceEvent {
  readonly member: string;
  readonly time: number;
  readonly steps: ReadonlySet<number>;
  readonly location: { readonly lat: number; readonly lon: number } | undefined;
}

const toSequenceEvent = ({ member, fields }: StoredMember): SequenceEvent => ({
  member,
  time: Number(member.slice(0, 15)),
  steps: new Set(
    String(fields.steps ?? '')
      .split(',')
      .filter((step) => step !== '')
      .map(Number),
  ),
  location:
    typeof fields.lat === 'number' && typeof fields.lon === 'number' ? { lat: fields.lat, lon: fields.lon } : undefined,
});

async function sequence({ ruleId, spec, event, store, settings, group, set }: Run): Promise<DetectOutcome> {
  const steps = spec.steps ?? [];
  const matched = steps.flatMap((step, index) => (partMatches(step, event.envelope) ? [index] : []));
  if (matched.length === 0) return { kind: 'unmatched' };
  const windowMs = spec.windowSeconds * 1000;
  const own = `${timeKey(event.time)}#${event.id}`;
  const fields = {
    steps: matched.join(','),
    ...(event.location === undefined ? {} : { lat: event.location.lat, lon: event.location.lon }),
  };
  await store.put(set, own, fields, Math.floor((event.time + windowMs) / 1000) + settings.keepSeconds);
  const around = await store.members(
    set,
    { from: timeKey(event.time - windowMs), to: `${timeKey(event.time + windowMs)}~` },
    SEQUENCE_READ_LIMIT,
  );
  const firsts = chainStarts(around.map(toSequenceEvent), own, spec);
  const byWindow = new Map<number, SequenceEvent>();
  for (const first of firsts) {
    const windowStart = Math.floor(first.time / 1000 / spec.windowSeconds) * spec.windowSeconds;
    if (!byWindow.has(windowStart)) byWindow.set(windowStart, first);
  }
  const labels = steps.map((step) => step.label).join(' -> ');
  const travel =
    spec.travel === undefined
      ? ''
      : ` (locations at least ${spec.travel.ignoreUnderKm} km apart, faster than ${spec.travel.atLeastKmh} km/h)`;
  return {
    kind: 'counted',
    detections: [...byWindow.keys()].map((windowStart) =>
      detection(ruleId, spec, group, windowStart, `${steps.length} steps in order: ${labels}${travel}`),
    ),
  };
}

/** Whether `to` may follow `from` as the next step, by the rule's travel condition. */
function travelOk(spec: DetectSpec, from: SequenceEvent, to: SequenceEvent): boolean {
  if (spec.travel === undefined) return true;
  if (from.location === undefined || to.location === undefined) return false;
  const km = distanceKm(from.location, to.location);
  if (km < spec.travel.ignoreUnderKm) return false;
  const hours = (to.time - from.time) / 3_600_000;
  return hours <= 0 || km / hours >= spec.travel.atLeastKmh;
}

/**
 * The first events of every chain that holds `own`: events e0 < e1 < ... (member order) matching steps 0, 1, ...,
 * each travel-consistent with the one before, the last within one window of the first. Dynamic programming over the
 * events in member order, once per candidate first event, tracking whether the chain so far includes `own`.
 */
function chainStarts(events: readonly SequenceEvent[], own: string, spec: DetectSpec): SequenceEvent[] {
  const sorted = [...events].sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  const stepCount = spec.steps?.length ?? 0;
  const windowMs = spec.windowSeconds * 1000;
  if (stepCount === 2) return pairStarts(sorted, own, spec, windowMs);
  const starts: SequenceEvent[] = [];
  for (let f = 0; f < sorted.length; f += 1) {
    const first = sorted[f];
    if (first === undefined || !first.steps.has(0)) continue;
    // reach[j][k]: a chain from `first` ends at event j as step k; 1 without `own`, 2 with it (bit flags).
    const reach: number[][] = sorted.map(() => new Array<number>(stepCount).fill(0));
    const firstRow = reach[f];
    if (firstRow === undefined) continue;
    firstRow[0] = first.member === own ? 2 : 1;
    let found = false;
    for (let j = f + 1; j < sorted.length && !found; j += 1) {
      const next = sorted[j];
      const row = reach[j];
      if (next === undefined || row === undefined) continue;
      if (next.time - first.time > windowMs) break;
      for (let k = 1; k < stepCount; k += 1) {
        if (!next.steps.has(k)) continue;
        for (let i = f; i < j; i += 1) {
          const flags = reach[i]?.[k - 1] ?? 0;
          const previous = sorted[i];
          if (flags === 0 || previous === undefined || !travelOk(spec, previous, next)) continue;
          row[k] = (row[k] ?? 0) | (next.member === own ? 2 : flags);
        }
      }
      if (((row[stepCount - 1] ?? 0) & 2) !== 0) found = true;
    }
    if (found) starts.push(first);
  }
  return starts;
}

/**
 * Two steps (the common case: a pair of sign-ins): the chains holding `own` are `own` with a later second step, or an
 * earlier first step with `own`; one pass over the group's events, where the general search would take three.
 */
function pairStarts(
  sorted: readonly SequenceEvent[],
  own: string,
  spec: DetectSpec,
  windowMs: number,
): SequenceEvent[] {
  const at = sorted.findIndex((event) => event.member === own);
  const self = sorted[at];
  if (self === undefined) return [];
  const starts: SequenceEvent[] = [];
  if (self.steps.has(0)) {
    const completed = sorted
      .slice(at + 1)
      .some((next) => next.time - self.time <= windowMs && next.steps.has(1) && travelOk(spec, self, next));
    if (completed) starts.push(self);
  }
  if (self.steps.has(1)) {
    for (const first of sorted.slice(0, at)) {
      if (self.time - first.time <= windowMs && first.steps.has(0) && travelOk(spec, first, self)) starts.push(first);
    }
  }
  return starts;
}
