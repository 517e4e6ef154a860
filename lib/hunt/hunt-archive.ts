import { formatAlert } from '../../lambdas/alert/format-alert.ts';
import { claimKeyOf } from '../../lambdas/alert/process-alert.ts';
import { detect } from '../../lambdas/detector/detect.ts';
import type { AlertQueueMessage, Detection } from '../../lambdas/shared/alert-message.ts';
import { AUTH0, type EventIdentity, type LogSource, OKTA } from '../../lambdas/shared/log-sources.ts';
import { envelopeIdOf, envelopeTimeOf } from '../../lambdas/shared/system-log-envelope.ts';
import type { ArchiveProblem, ArchiveRange, ArchiveSource } from '../archive/archive-reader.ts';
import { exportArchive } from '../archive/export-archive.ts';
import type { LocalAlert } from '../local/local-pipeline.ts';
import { MemoryDetectorStore } from '../local/memory-detector-store.ts';
import { type EventSourceNames, matchingRules, ruleSummary } from '../rules/compile.ts';
import type { CompiledAlertRule } from '../rules/types.ts';

/**
 * `olp hunt`: runs alert rules, single-event and stateful, over archived events in `published` order, as the pipeline
 * would have run them had the rules been deployed when the events arrived. Each archived event is put back in the
 * envelope its source's stream would have used (a bare event as `olp local` wraps one), matched with the local
 * pattern engine, and, for stateful rules, run through the detector's own code with its state in memory. Alerts are
 * raised once per rule and claim key, as the alert path's claims would: suppression and detection keys included.
 */

/** The event source names hunted events are put under; the rules are compiled for them. */
export const HUNT_SOURCES = {
  okta: 'aws.partner/okta.com/olp-hunt/archive',
  auth0: 'aws.partner/auth0.com/olp-hunt-archive/auth0.logs',
} as const satisfies EventSourceNames;

const ORIGIN = { account: '000000000000', region: 'us-east-1' };

/** One alert as `olp local --json` prints it. */
export type HuntAlert = LocalAlert;

export interface HuntInput {
  readonly source: ArchiveSource;
  readonly range: ArchiveRange;
  /** Compiled for {@link HUNT_SOURCES}. */
  readonly rules: readonly CompiledAlertRule[];
  readonly onAlert: (alert: HuntAlert) => void;
  readonly onProgress?: (progress: { readonly windows: number; readonly events: number }) => void;
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

/**
 * An archived event's identity from its own fields. The archive holds only events ingest validated (and `olp archive
 * verify` proves it unaltered), so the hunt reads them as they say, without validating each again: its speed is in
 * how little it does per event. A line that does not even say its id, time and type is counted unreadable.
 */
function archivedIdentity(source: LogSource, event: Readonly<Record<string, unknown>>): EventIdentity | undefined {
  const { id, published, type } = source.claimedIdentity(event);
  if (typeof id !== 'string' || typeof published !== 'string' || typeof type !== 'string') return undefined;
  return Number.isFinite(Date.parse(published)) ? { id, published, type } : undefined;
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

const sourceOfLine = (event: Readonly<Record<string, unknown>>): LogSource | undefined =>
  OKTA.isBareEvent(event) ? OKTA : AUTH0.isBareEvent(event) ? AUTH0 : undefined;

export async function huntArchive(input: HuntInput): Promise<HuntResult> {
  const store = new MemoryDetectorStore();
  const claimed = new Set<string>();
  let events = 0;
  let alerts = 0;
  let unreadable = 0;

  const raise = (
    rule: CompiledAlertRule,
    envelope: Record<string, unknown>,
    source: LogSource,
    identity: EventIdentity,
    detection?: Detection,
  ): void => {
    const event = source.alertView(envelope.detail as Record<string, unknown>, identity);
    const summary = ruleSummary(rule);
    const message = { rule: summary, event: envelope, ...(detection === undefined ? {} : { detection }) };
    const key = `${rule.id}#${claimKeyOf(message as AlertQueueMessage, event, source).toLowerCase()}`;
    if (claimed.has(key)) return;
    claimed.add(key);
    const { json } = formatAlert(summary, event, {
      sourceLabel: source.label,
      ...(detection === undefined ? {} : { detection }),
    });
    alerts++;
    input.onAlert({
      ruleId: json.ruleId,
      severity: json.severity,
      eventType: json.eventType,
      uuid: json.uuid,
      published: json.published,
      subject: json.subject,
    });
  };

  const hunt = async (event: Readonly<Record<string, unknown>>): Promise<void> => {
    const source = sourceOfLine(event);
    const identity = source === undefined ? undefined : archivedIdentity(source, event);
    if (source === undefined || identity === undefined) {
      unreadable++;
      return;
    }
    const identified = { event: identity };
    const detail = event as Record<string, unknown>;
    const envelope = huntEnvelope(detail, source, identity);
    const time = Date.parse(identified.event.published);
    for (const rule of matchingRules(input.rules, envelope)) {
      if (rule.detect === undefined) {
        raise(rule, envelope, source, identified.event);
        continue;
      }
      const record = source.ruleRecord(detail);
      const outcome = await detect(
        rule.id,
        rule.detect,
        { id: identified.event.id.toLowerCase(), time, envelope, record, location: source.location(record) },
        store,
        { keepSeconds: KEEP_SECONDS },
      );
      if (outcome.kind === 'counted') {
        for (const found of outcome.detections) raise(rule, envelope, source, identified.event, found);
      }
    }
    events++;
    if (events % SWEEP_EVERY === 0) store.sweep(Math.floor(time / 1000) - KEEP_SECONDS);
  };

  const result = await exportArchive({
    source: input.source,
    range: input.range,
    write: async (_line, event) => {
      await hunt(event);
      return true;
    },
    ...(input.onProgress === undefined
      ? {}
      : { onProgress: ({ windows, events: read }) => input.onProgress?.({ windows, events: read }) }),
  });
  return { events, alerts, unreadable, problems: result.problems };
}
