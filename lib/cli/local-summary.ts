import { escapeForTerminal, shortForTerminal } from '../../lambdas/shared/escape-text.ts';
import type { LocalStore } from '../local/pipeline-stack.ts';

/** Quarantined inputs of one kind of reason: how many, and the first few line numbers. */
export interface ReasonGroup {
  readonly count: number;
  readonly lines: readonly number[];
}

/** An alert that could not be raised, and why. */
export interface AlertFailure {
  readonly ruleId: string;
  readonly uuid: string;
  readonly reason: string;
}

/** What `olp local` counted; the local pipeline's counts satisfy it. */
export interface SummaryCounts {
  readonly read: number;
  readonly staged: number;
  readonly duplicates: number;
  readonly late: number;
  readonly quarantined: number;
  readonly windowsSealed: number;
  readonly lateSupplements: number;
  readonly archived: number;
  /** Reason kind -> how many inputs and their first line numbers. */
  readonly quarantineReasons: ReadonlyMap<string, ReasonGroup>;
  readonly alertsByRule: ReadonlyMap<string, number>;
  readonly alertFailures: readonly AlertFailure[];
  readonly conflicts: ReadonlySet<string>;
  /** The one partner event source accepted, or undefined for any Okta source. */
  readonly sourcePin: string | undefined;
}

/** A reason or a failure is one summary line, however long the input that caused it. */
const MAX_REASON_CHARS = 300;
/** Failed alerts listed one by one; more are counted. */
const MAX_FAILURES_LISTED = 20;

const n = (value: number) => value.toLocaleString('en-US');
const plural = (count: number, noun: string) => `${n(count)} ${noun}${count === 1 ? '' : 's'}`;

/** `30 lines: not JSON (lines 3, 4, 9, 12, 13, ...)`: every part escaped, since reasons quote the input. */
const reasonLine = (reason: string, group: ReasonGroup): string => {
  const more = group.count > group.lines.length ? ', ...' : '';
  const where =
    group.lines.length === 0
      ? ''
      : ` (${group.lines.length === 1 && more === '' ? 'line' : 'lines'} ${group.lines.join(', ')}${more})`;
  return `      ${plural(group.count, 'line')}: ${shortForTerminal(reason, MAX_REASON_CHARS)}${where}`;
};

const reasonLines = (reasons: ReadonlyMap<string, ReasonGroup>): string[] =>
  [...reasons]
    .sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b))
    .map(([reason, group]) => reasonLine(reason, group));

const failureLines = (failures: readonly AlertFailure[]): string[] => {
  if (failures.length === 0) return [];
  const listed = failures
    .slice(0, MAX_FAILURES_LISTED)
    .map(
      (f) =>
        `      ${shortForTerminal(f.ruleId, 80)} for ${shortForTerminal(f.uuid, 80)}: ` +
        shortForTerminal(f.reason, MAX_REASON_CHARS),
    );
  const rest = failures.length - listed.length;
  return [
    `  alerts not raised      ${n(failures.length)}`,
    ...listed,
    ...(rest > 0 ? [`      ... ${plural(rest, 'more failed alert')} not shown`] : []),
  ];
};

const STORES: Readonly<Record<LocalStore, string>> = {
  'in-process': 'store: in this process (--stand-ins for dynalite and fauxqs)',
  'stand-ins': 'store: dynalite and fauxqs',
};

/**
 * The summary `olp local` prints at the end: what was read, kept, dropped, quarantined, alerted and archived, and
 * where the tables and queues were.
 */
export const formatSummary = (c: SummaryCounts, archiveDir: string, elapsedMs: number, store?: LocalStore): string => {
  const source =
    c.sourcePin === undefined
      ? 'source: any Okta source (pin with --event-source-name)'
      : `source: pinned to ${escapeForTerminal(c.sourcePin)}`;
  const rows = [
    '',
    `Summary (${(elapsedMs / 1000).toFixed(1)} s)`,
    `  ${source}`,
    ...(store === undefined ? [] : [`  ${STORES[store]}`]),
    `  events read            ${n(c.read)}`,
    `    unique (staged)      ${n(c.staged)}`,
    `      late               ${n(c.late)}  (arrived after their window closed; in a supplement unless its seal read them)`,
    `    duplicates dropped   ${n(c.duplicates)}`,
    `    quarantined          ${n(c.quarantined)}`,
    ...reasonLines(c.quarantineReasons),
    `  conflicts              ${n(c.conflicts.size)}  (same uuid, other content; both kept)`,
    `  alerts                 ${n([...c.alertsByRule.values()].reduce((sum, count) => sum + count, 0))}`,
    ...[...c.alertsByRule]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([rule, count]) => `      ${n(count)} x ${escapeForTerminal(rule)}`),
    ...failureLines(c.alertFailures),
    `  windows sealed         ${n(c.windowsSealed)}  (+${n(c.lateSupplements)} late supplements)`,
    `  events archived        ${n(c.archived)}  in ${escapeForTerminal(archiveDir)}`,
    '',
  ];
  return rows.join('\n');
};
