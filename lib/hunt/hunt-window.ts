import { formatAlert } from '../../lambdas/alert/format-alert.ts';
import { claimKeyOf } from '../../lambdas/alert/process-alert.ts';
import type { AlertQueueMessage, Detection } from '../../lambdas/shared/alert-message.ts';
import type { ArchivePart } from '../../lambdas/shared/archive-layout.ts';
import { AUTH0, type EventIdentity, type LogSource, OKTA } from '../../lambdas/shared/log-sources.ts';
import { envelopeIdOf, envelopeTimeOf } from '../../lambdas/shared/system-log-envelope.ts';
import {
  type ArchiveProblem,
  type ArchiveRange,
  orderWindow,
  partEvents,
  partLinesSync,
} from '../archive/archive-part.ts';
import type { LocalAlert } from '../local/local-pipeline.ts';
import { type EventSourceNames, matchingRules, ruleSummary } from '../rules/compile.ts';
import type { CompiledAlertRule } from '../rules/types.ts';

/**
 * One archive window hunted: its parts decoded and ordered as `olp archive export` orders them, each event put back
 * in the envelope its source's stream would have used and matched against the rules. Single-event rules are raised
 * here, as alerts with their claim keys; events a stateful rule's pre-filter matches are handed back for the
 * detector, which needs every window before them and so runs in one place, in order. Nothing here does I/O or keeps
 * state between windows, so windows can be hunted on several threads at once (see hunt-workers.ts).
 */

/** The event source names hunted events are put under; the rules are compiled for them. */
export const HUNT_SOURCES = {
  okta: 'aws.partner/okta.com/olp-hunt/archive',
  auth0: 'aws.partner/auth0.com/olp-hunt-archive/auth0.logs',
} as const satisfies EventSourceNames;

const ORIGIN = { account: '000000000000', region: 'us-east-1' };

/** One alert as `olp local --json` prints it. */
export type HuntAlert = LocalAlert;

/** A window to hunt: each of its parts as fetched (its bytes checked against the manifest), or why it could not be. */
export interface WindowJob {
  readonly parts: ReadonlyArray<
    { readonly part: ArchivePart; readonly bytes: Uint8Array } | { readonly problem: ArchiveProblem }
  >;
  readonly range: ArchiveRange;
}

/** What one rule did with one event, in event order, then rule order. */
export type HuntStep =
  /** A single-event rule matched: the alert, raised unless its claim was raised before. */
  | { readonly claim: string; readonly alert: HuntAlert }
  /** A stateful rule's pre-filter matched `events[event]` (its line as archived): the detector decides. */
  | { readonly rule: number; readonly event: number };

export interface HuntedWindow {
  readonly events: number;
  /** Lines that are neither an Okta System Log event nor an Auth0 log (counted, not hunted). */
  readonly unreadable: number;
  readonly problems: readonly ArchiveProblem[];
  readonly steps: readonly HuntStep[];
  /** The lines of the events `steps` hand to the detector. */
  readonly detectorLines: readonly string[];
}

/** A hunted event: where it came from and what it says it is. */
export interface HuntedEvent {
  readonly source: LogSource;
  readonly identity: EventIdentity;
  readonly envelope: Record<string, unknown>;
}

const sourceOfLine = (event: Readonly<Record<string, unknown>>): LogSource | undefined =>
  OKTA.isBareEvent(event) ? OKTA : AUTH0.isBareEvent(event) ? AUTH0 : undefined;

/**
 * An archived event as the hunt matches it, or undefined for a line that does not even say its id, time and type.
 * The archive holds only events ingest validated (and `olp archive verify` proves it unaltered), so the hunt reads
 * them as they say, without validating each again: its speed is in how little it does per event.
 */
export function huntedEvent(event: Readonly<Record<string, unknown>>): HuntedEvent | undefined {
  const source = sourceOfLine(event);
  if (source === undefined) return undefined;
  const { id, published, type } = source.claimedIdentity(event);
  if (typeof id !== 'string' || typeof published !== 'string' || typeof type !== 'string') return undefined;
  if (!Number.isFinite(Date.parse(published))) return undefined;
  const identity = { id, published, type };
  return { source, identity, envelope: huntEnvelope(event, source, identity) };
}

/**
 * The envelope the source's stream would have delivered the event in, as `olp local` wraps a bare event, except that
 * its `id` (a UUIDv5 of the event id) is computed only if something reads it: no rule does, and hashing every event
 * of a year-long hunt for it would cost more than matching it.
 */
function huntEnvelope(
  detail: Readonly<Record<string, unknown>>,
  source: LogSource,
  identity: EventIdentity,
): Record<string, unknown> {
  let id: string | undefined;
  return {
    version: '0',
    get id() {
      id ??= envelopeIdOf(identity.id);
      return id;
    },
    'detail-type': source.detailType,
    source: HUNT_SOURCES[source.name],
    account: ORIGIN.account,
    time: envelopeTimeOf(identity.published),
    region: ORIGIN.region,
    resources: [],
    detail,
  };
}

/** The alert a rule raises on an event, and the key the alert path would claim it under. */
export function huntAlertOf(
  rule: CompiledAlertRule,
  { source, identity, envelope }: HuntedEvent,
  detection?: Detection,
): { readonly claim: string; readonly alert: HuntAlert } {
  const event = source.alertView(envelope.detail as Record<string, unknown>, identity);
  const summary = ruleSummary(rule);
  const message = { rule: summary, event: envelope, ...(detection === undefined ? {} : { detection }) };
  const claim = `${rule.id}#${claimKeyOf(message as AlertQueueMessage, event, source).toLowerCase()}`;
  const { json } = formatAlert(summary, event, {
    sourceLabel: source.label,
    ...(detection === undefined ? {} : { detection }),
  });
  const alert = {
    ruleId: json.ruleId,
    severity: json.severity,
    eventType: json.eventType,
    uuid: json.uuid,
    published: json.published,
    subject: json.subject,
  };
  return { claim, alert };
}

/** Hunts one window: decodes its parts, orders its events, and matches each against `rules`. */
export function huntWindow(job: WindowJob, rules: readonly CompiledAlertRule[]): HuntedWindow {
  const reads = job.parts.map((fetched) =>
    'problem' in fetched
      ? { events: [], problems: [fetched.problem] }
      : partEvents(fetched.part, partLinesSync(fetched.bytes)),
  );
  const { lines, problems } = orderWindow(reads, job.range);
  const positions = new Map(rules.map((rule, position) => [rule, position]));
  const steps: HuntStep[] = [];
  const detected: string[] = [];
  let events = 0;
  let unreadable = 0;
  for (const { text, value } of lines) {
    const hunted = huntedEvent(value);
    if (hunted === undefined) {
      unreadable++;
      continue;
    }
    events++;
    let line: number | undefined;
    for (const rule of matchingRules(rules, hunted.envelope)) {
      if (rule.detect === undefined) {
        steps.push(huntAlertOf(rule, hunted));
        continue;
      }
      line ??= detected.push(text) - 1;
      steps.push({ rule: positions.get(rule) ?? -1, event: line });
    }
  }
  return { events, unreadable, problems, steps, detectorLines: detected };
}
