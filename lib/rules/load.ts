import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { InvalidEventPatternError, validatePattern } from '../pattern/index.ts';
import {
  assertKnownDestinations,
  assertUniqueDestinationNames,
  Destination,
  forwardProblem,
  type LoadedDestination,
} from './destinations.ts';
import { DuplicateRuleIdError, type RuleIssue, RuleValidationError } from './errors.ts';
import { AlertRule, AlertRuleFile } from './schema.ts';

/**
 * A validated rule and the file it came from, so later errors can point at the file. (`source` is the rule's own
 * field, its log source; the file is `file`.)
 */
export type LoadedRule = AlertRule & { readonly file: string };

/** What rule files declare: alert rules, and the destinations rules forward matched events to. */
export interface RuleSet {
  readonly rules: LoadedRule[];
  readonly destinations: LoadedDestination[];
}

/** The rules shipped with the pipeline. */
export const DEFAULT_PACK_DIR = fileURLToPath(new URL('./pack/', import.meta.url));

const RULE_FILE = /\.ya?ml$/i;

const issuesOf = (error: z.ZodError, within: readonly (string | number)[] = []): RuleIssue[] =>
  error.issues.map((issue) => ({
    path: issue.path.length + within.length > 0 ? [...within, ...issue.path].join('.') : '(rule)',
    reason: issue.message,
  }));

/** The id to name a rule by in errors: its own id when it has a plausible one, else its position in the file. */
const ruleLabel = (candidate: unknown, index: number): string => {
  const id = typeof candidate === 'object' && candidate !== null && 'id' in candidate ? candidate.id : undefined;
  return typeof id === 'string' && id.length > 0 ? `${id} (#${index})` : `#${index}`;
};

/** Parses and validates the rules of one file's text. `file` only names the file in errors and results. */
export function parseRules(text: string, file: string): LoadedRule[] {
  return parseRuleFile(text, file).rules;
}

/** Parses and validates one file's rules and destinations. `file` only names the file in errors and results. */
export function parseRuleFile(text: string, file: string): RuleSet {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [syntaxError] = document.errors;
  if (syntaxError !== undefined) {
    // The first line says what and where ("... at line 3, column 1"); the rest is a drawing of the spot.
    const [summary = syntaxError.message] = syntaxError.message.split('\n');
    throw new RuleValidationError(file, undefined, [{ path: '(yaml)', reason: summary.replace(/:$/, '') }]);
  }
  const parsed = AlertRuleFile.safeParse(document.toJS());
  if (!parsed.success) {
    throw new RuleValidationError(file, undefined, issuesOf(parsed.error));
  }
  const rules = (parsed.data.rules ?? []).map((candidate, index) => {
    const rule = AlertRule.safeParse(candidate);
    if (!rule.success) {
      throw new RuleValidationError(file, ruleLabel(candidate, index), issuesOf(rule.error));
    }
    checkWhere(rule.data, file, index);
    const cannotForward = forwardProblem(rule.data);
    if (cannotForward !== undefined) {
      throw new RuleValidationError(file, ruleLabel(rule.data, index), [{ path: 'forward', reason: cannotForward }]);
    }
    return { ...rule.data, file };
  });
  const destinations = (parsed.data.destinations ?? []).map((candidate, index) => {
    const destination = Destination.safeParse(candidate);
    if (!destination.success) {
      throw new RuleValidationError(file, undefined, issuesOf(destination.error, ['destinations', index]));
    }
    return { ...destination.data, file };
  });
  return { rules, destinations };
}

/**
 * The `where` fragment must be valid EventBridge pattern syntax; checked here so the error names the file. It is
 * checked where it will sit in the compiled pattern: `detail` for Okta, `detail.data` for Auth0.
 */
function checkWhere(rule: AlertRule, file: string, index: number): void {
  if (rule.match.where === undefined) return;
  const auth0 = rule.source === 'auth0';
  const at = auth0 ? /^detail(?:\.data)?/ : /^detail/;
  try {
    // Wrapped, so every path the engine reports inside `where` starts with the wrapping (`detail`, `detail.data`).
    validatePattern(auth0 ? { detail: { data: rule.match.where } } : { detail: rule.match.where });
  } catch (error) {
    // The engine locates the problem in the pattern (`detail.outcome.result`); the author wrote `match.where...`.
    const issue =
      error instanceof InvalidEventPatternError
        ? { path: `match.where${error.path.replace(at, '')}`, reason: error.reason }
        : { path: 'match.where', reason: error instanceof Error ? error.message : String(error) };
    throw new RuleValidationError(file, ruleLabel(rule, index), [issue], { cause: error });
  }
}

/** Reads every `*.yaml` / `*.yml` file of a directory, in name order so the result does not depend on the disk. */
export function loadRuleDirectory(dir: string): LoadedRule[] {
  return readRuleDirectory(dir).rules;
}

/** The rules and destinations of every rule file of a directory, in file name order. */
function readRuleDirectory(dir: string): RuleSet {
  if (!existsSync(dir)) {
    throw new RuleValidationError(dir, undefined, [{ path: '(directory)', reason: 'rule directory does not exist' }]);
  }
  if (!statSync(dir).isDirectory()) {
    throw new RuleValidationError(dir, undefined, [{ path: '(directory)', reason: 'not a directory' }]);
  }
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && RULE_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const path = join(dir, name);
      return parseRuleFile(readFileSync(path, 'utf8'), path);
    });
  return { rules: files.flatMap((file) => file.rules), destinations: files.flatMap((file) => file.destinations) };
}

/** Refuses two rules with one id, naming both files. */
export function assertUniqueIds(rules: readonly LoadedRule[]): void {
  const seen = new Map<string, string>();
  for (const rule of rules) {
    const first = seen.get(rule.id);
    if (first !== undefined) throw new DuplicateRuleIdError(rule.id, first, rule.file);
    seen.set(rule.id, rule.file);
  }
}

/** The default pack, then the user's rules (`userDir`); ids are unique across both. */
export function loadRules(options: { userDir?: string; packDir?: string } = {}): LoadedRule[] {
  return loadRuleSet(options).rules;
}

/**
 * The default pack, then the user's rule files (`userDir`), with their destinations: rule ids and destination names
 * are unique across both, and every destination a rule forwards to is declared in one of them.
 */
export function loadRuleSet(options: { userDir?: string; packDir?: string } = {}): RuleSet {
  const pack = readRuleDirectory(options.packDir ?? DEFAULT_PACK_DIR);
  const user = options.userDir === undefined ? { rules: [], destinations: [] } : readRuleDirectory(options.userDir);
  const rules = [...pack.rules, ...user.rules];
  const destinations = [...pack.destinations, ...user.destinations];
  assertUniqueIds(rules);
  assertUniqueDestinationNames(destinations);
  assertKnownDestinations(rules, destinations);
  return { rules, destinations };
}
