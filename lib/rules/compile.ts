import { OKTA_DETAIL_TYPE, OKTA_SOURCE_PREFIX } from '../../lambdas/shared/okta-event.ts';
import { compilePattern, DEFAULT_MAX_PATTERN_SIZE, validatePattern } from '../pattern/index.ts';
import { RuleCompileError, TooManyAlertRulesError } from './errors.ts';
import { type AlertRule, type Auth0AlertRule, type OktaAlertRule, ruleSourceOf } from './schema.ts';
import { durationSeconds, type Suppress } from './stateful-schema.ts';
import type { AlertRuleSummary, CompiledAlertRule, DetectSpec, RuleSource, Suppression } from './types.ts';

/**
 * EventBridge quota "Event pattern size": 2,048 characters by default (adjustable to 4,096 on request), counted on the
 * compact JSON the CDK submits.
 */
export const EVENT_PATTERN_MAX_CHARS = DEFAULT_MAX_PATTERN_SIZE;

/**
 * What the deployed rule adds to the compiled pattern: the stack pins each rule to its own account
 * (lib/constructs/alerting.ts), which the local runner cannot know; the size check leaves room for it.
 */
export const ACCOUNT_PIN_CHARS = ',"account":["123456789012"]'.length;

export interface CompileOptions {
  /** For accounts whose "Event pattern size" quota was raised; defaults to {@link EVENT_PATTERN_MAX_CHARS}. */
  readonly maxPatternChars?: number;
}

/**
 * EventBridge allows 300 rules per event bus by default. Every alert rule becomes one rule on the partner bus, and the
 * pipeline's own rules (ingest, archive, dead-letter plumbing) live on that bus too, so user alert rules stop well
 * short of the quota.
 */
export const MAX_ALERT_RULES = 250;

/**
 * A glob that is a plain name followed by `.*` (`user.session.*`) becomes `{ prefix: 'user.session.' }`: EventBridge
 * evaluates prefixes more cheaply than wildcards, and every real event type under `user.session.` matches both. Any
 * other glob (`*.lifecycle.deactivate`, `app.oauth2.*token.detect_reuse`) becomes `{ wildcard }`, where `*` also
 * spans dots.
 */
export function eventTypeMatcher(entry: string): string | { prefix: string } | { wildcard: string } {
  if (!entry.includes('*')) return entry;
  const stem = entry.slice(0, -1);
  return entry.endsWith('.*') && !stem.includes('*') ? { prefix: stem } : { wildcard: entry };
}

/** An Auth0 log type code is written as itself; `gd_*` becomes `{ prefix: 'gd_' }` (the schema allows no other glob). */
export function auth0TypeMatcher(entry: string): string | { prefix: string } {
  return entry.endsWith('*') ? { prefix: entry.slice(0, -1) } : entry;
}

/**
 * Auth0's log stream to EventBridge: every log arrives with this `detail-type`, from a partner event source named
 * `aws.partner/auth0.com/<tenant>-<id>/auth0.logs`, with `detail` = `{ log_id, data }`. Logs the pipeline receives
 * from Auth0's HTTP sink are wrapped in the same envelope, under a source name of the pipeline's choosing.
 */
export const AUTH0_DETAIL_TYPE = 'Auth0 log';
export const AUTH0_PARTNER_SOURCE_PREFIX = 'aws.partner/auth0.com/';

/** EventBridge PutEvents: a custom `source` is 1-256 characters and must not start with `aws.`. */
const CUSTOM_SOURCE_MAX_CHARS = 256;

/** The event source names of one deployment (or one local run), per log source. */
export interface EventSourceNames {
  /** The Okta partner event source, `aws.partner/okta.com/<org>/<name>`. Okta rules are skipped without it. */
  readonly okta?: string | undefined;
  /**
   * Where Auth0 logs come from: the Auth0 partner event source (`aws.partner/auth0.com/<tenant>-<id>/auth0.logs`),
   * or the source the pipeline gives logs from Auth0's HTTP sink. Auth0 rules are skipped without it.
   */
  readonly auth0?: string | undefined;
}

/** Why `name` cannot be where Auth0 logs come from, or undefined when it can. */
export function auth0SourceNameProblem(name: string): string | undefined {
  if (name.startsWith(AUTH0_PARTNER_SOURCE_PREFIX)) {
    return name.length > AUTH0_PARTNER_SOURCE_PREFIX.length ? undefined : 'names no Auth0 partner event source';
  }
  if (name.length === 0 || name.length > CUSTOM_SOURCE_MAX_CHARS || name.startsWith('aws.')) {
    return (
      `must be an Auth0 partner event source, ${AUTH0_PARTNER_SOURCE_PREFIX}<tenant>-<id>/auth0.logs, or a ` +
      `custom source name of 1-${CUSTOM_SOURCE_MAX_CHARS} characters that does not start with "aws."`
    );
  }
  return undefined;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A bare name is the Okta source (the signature before Auth0): Auth0 rules are then skipped. */
const namesOf = (sources: string | EventSourceNames): EventSourceNames =>
  typeof sources === 'string' ? { okta: sources } : sources;

/** The pattern of an Okta rule: the System Log event is the whole `detail`. */
function oktaPattern(rule: OktaAlertRule, eventSourceName: string): Record<string, unknown> {
  if (!eventSourceName.startsWith(OKTA_SOURCE_PREFIX)) {
    throw new RuleCompileError(
      rule.id,
      `event source name "${eventSourceName}" must start with ${OKTA_SOURCE_PREFIX} (the Okta partner event source)`,
    );
  }
  const { where = {} } = rule.match;
  if (Object.hasOwn(where, 'eventType')) {
    throw new RuleCompileError(rule.id, 'match.where must not hold eventType; list event types in match.eventType');
  }
  return {
    source: [eventSourceName],
    'detail-type': [OKTA_DETAIL_TYPE],
    detail: { ...where, eventType: rule.match.eventType.map(eventTypeMatcher) },
  };
}

/** The pattern of an Auth0 rule: the log is `detail.data`, its type code `detail.data.type`. */
function auth0Pattern(rule: Auth0AlertRule, eventSourceName: string): Record<string, unknown> {
  const problem = auth0SourceNameProblem(eventSourceName);
  if (problem !== undefined) {
    throw new RuleCompileError(rule.id, `Auth0 event source name "${eventSourceName}" ${problem}`);
  }
  const { where = {} } = rule.match;
  if (Object.hasOwn(where, 'type')) {
    throw new RuleCompileError(rule.id, 'match.where must not hold type; list Auth0 log type codes in match.eventType');
  }
  return {
    source: [eventSourceName],
    'detail-type': [AUTH0_DETAIL_TYPE],
    detail: { data: { ...where, type: rule.match.eventType.map(auth0TypeMatcher) } },
  };
}

const SOURCE_LABELS: Record<RuleSource, string> = { okta: 'Okta', auth0: 'Auth0' };

/**
 * The EventBridge event pattern of one alert rule, scoped to the event source of the rule's log source. A bare
 * string names the Okta source, as before Auth0; an Auth0 rule then cannot compile.
 */
export function compileRule(
  rule: AlertRule,
  sources: string | EventSourceNames,
  options: CompileOptions = {},
): CompiledAlertRule {
  const source = ruleSourceOf(rule);
  const eventSourceName = namesOf(sources)[source];
  if (eventSourceName === undefined) {
    throw new RuleCompileError(
      rule.id,
      `an ${SOURCE_LABELS[source]} rule needs the ${SOURCE_LABELS[source]} event source name, and none was given`,
    );
  }
  const pattern = rule.source === 'auth0' ? auth0Pattern(rule, eventSourceName) : oktaPattern(rule, eventSourceName);
  // Size first, with the rule's own words: the engine would otherwise refuse it as a generic invalid pattern.
  const maxChars = options.maxPatternChars ?? EVENT_PATTERN_MAX_CHARS;
  const size = Array.from(JSON.stringify(pattern)).length + ACCOUNT_PIN_CHARS;
  if (size > maxChars) {
    throw new RuleCompileError(
      rule.id,
      `event pattern is ${size} characters with its account pin; EventBridge accepts at most ${maxChars} ` +
        '(quota "Event pattern size", ' +
        'adjustable). List fewer event types or conditions, or split the rule in two.',
    );
  }
  try {
    validatePattern(pattern, { maxPatternSize: maxChars });
  } catch (error) {
    throw new RuleCompileError(rule.id, `invalid event pattern: ${describe(error)}`, { cause: error });
  }
  const detect = rule.kind === undefined ? undefined : detectSpec(rule);
  const suppress = rule.suppress === undefined ? undefined : suppressionOf(rule.suppress);
  const summary = ruleSummary({ ...rule, suppress });
  return { ...summary, source, pattern, ...(detect === undefined ? {} : { detect }) };
}

const suppressionOf = (suppress: Suppress): Suppression => ({
  by: suppress.by,
  forSeconds: durationSeconds(suppress.for) ?? 0,
});

/** What travels with each matched event to the alert Lambda: the rule without its pattern. */
export const ruleSummary = (rule: AlertRuleSummary): AlertRuleSummary => ({
  id: rule.id,
  title: rule.title,
  severity: rule.severity,
  description: rule.description,
  runbook: rule.runbook,
  ...(rule.subject === undefined ? {} : { subject: rule.subject }),
  ...(rule.suppress === undefined ? {} : { suppress: { by: rule.suppress.by, forSeconds: rule.suppress.forSeconds } }),
});

/** The pattern of a count's or step's `when`, over the whole event, as the rule's own match would place it. */
function whenPattern(
  rule: AlertRule,
  when:
    | { readonly eventType?: readonly string[] | undefined; readonly where?: Record<string, unknown> | undefined }
    | undefined,
  at: string,
): Record<string, unknown> | null {
  if (when === undefined) return null;
  const { where = {} } = when;
  const pattern =
    rule.source === 'auth0'
      ? {
          detail: {
            data: { ...where, ...(when.eventType === undefined ? {} : { type: when.eventType.map(auth0TypeMatcher) }) },
          },
        }
      : {
          detail: {
            ...where,
            ...(when.eventType === undefined ? {} : { eventType: when.eventType.map(eventTypeMatcher) }),
          },
        };
  try {
    validatePattern(pattern);
  } catch (error) {
    throw new RuleCompileError(rule.id, `${at}.when is not a valid event pattern: ${describe(error)}`, {
      cause: error,
    });
  }
  return pattern;
}

/** A stateful rule's detector, from its YAML fields (the schema has checked which its kind has). */
function detectSpec(rule: AlertRule): DetectSpec {
  const kind = rule.kind;
  const missing = (field: string) => new RuleCompileError(rule.id, `kind ${kind} needs ${field}`);
  if (kind === undefined) throw missing('a kind');
  if (rule.groupBy === undefined) throw missing('groupBy');
  const windowSeconds = rule.window === undefined ? undefined : durationSeconds(rule.window);
  if (windowSeconds === undefined) throw missing('window');
  const base = { kind, groupBy: rule.groupBy, windowSeconds };
  switch (kind) {
    case 'threshold': {
      const counts =
        rule.anyOf?.map((count, index) => ({
          label: count.label,
          pattern: whenPattern(rule, count.when, `anyOf.${index}`),
          atLeast: count.atLeast,
        })) ?? (rule.atLeast === undefined ? undefined : [{ label: rule.title, pattern: null, atLeast: rule.atLeast }]);
      if (counts === undefined) throw missing('atLeast or anyOf');
      return { ...base, counts };
    }
    case 'distinct':
      if (rule.distinct === undefined || rule.atLeast === undefined) throw missing('distinct and atLeast');
      return { ...base, distinct: { field: rule.distinct, atLeast: rule.atLeast } };
    case 'sequence': {
      if (rule.steps === undefined) throw missing('steps');
      const steps = rule.steps.map((step, index) => ({
        label: step.label,
        pattern: whenPattern(rule, step.when, `steps.${index}`),
      }));
      return { ...base, steps, ...(rule.travel === undefined ? {} : { travel: rule.travel }) };
    }
  }
}

/**
 * Compiles the rules of every source that has an event source name, refusing more rules than fit, and skips the
 * others: a deployment without Auth0 still loads the Auth0 pack (so its rules are validated) but deploys none of it.
 * A bare string names the Okta source, as before Auth0.
 *
 * The cap counts the rules of both sources together, as if they shared one bus: with an HTTP sink, Auth0 logs may
 * be put on the same bus as Okta's, and a cap that holds on one bus holds on two.
 */
export function compileRules(
  rules: readonly AlertRule[],
  sources: string | EventSourceNames,
  options: CompileOptions = {},
): CompiledAlertRule[] {
  const names = namesOf(sources);
  if (names.okta === undefined && names.auth0 === undefined) {
    throw new TypeError('compileRules needs the event source name of at least one log source');
  }
  const deployed = rules.filter((rule) => names[ruleSourceOf(rule)] !== undefined);
  if (deployed.length > MAX_ALERT_RULES) {
    throw new TooManyAlertRulesError(
      `${deployed.length} alert rules; at most ${MAX_ALERT_RULES} fit. Each alert rule is one EventBridge rule on the ` +
        'partner event bus, which holds 300 rules by default (quota "Rules per event bus"), and the pipeline keeps ' +
        'some of them for itself. Merge rules (list several event types in one rule) or remove some.',
    );
  }
  return deployed.map((rule) => compileRule(rule, names, options));
}

const matchers = new WeakMap<CompiledAlertRule, (event: unknown) => boolean>();

/** The fields every rule names with a list of strings and prefixes: where a rule can be told "no" at a glance. */
const GATED_PATHS = [['source'], ['detail-type'], ['detail', 'eventType'], ['detail', 'data', 'type']] as const;

const memberOf = (value: unknown, path: readonly string[]): unknown => {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
};

/**
 * A quick "cannot match" for a rule: where its pattern lists only strings and prefixes for a field, an event whose
 * field is a plain string that none of them takes cannot match, whatever else the pattern says (the pattern is an AND
 * of its fields; `$or` branches sit beside them). Any other shape of value (absent, an array, a number) goes to the
 * full matcher, so the gate never decides what the engine would decide differently. Most rules are told "no" by
 * their event types: the engine then reads no event for them.
 */
function gateOf(pattern: Record<string, unknown>): (event: unknown) => boolean {
  const checks: Array<{ path: readonly string[]; takes: (value: string) => boolean }> = [];
  for (const path of GATED_PATHS) {
    const listed = memberOf(pattern, path);
    if (!Array.isArray(listed)) continue;
    const exact = new Set<string>();
    const prefixes: string[] = [];
    const simple = listed.every((entry) => {
      if (typeof entry === 'string') return exact.add(entry) !== undefined;
      const prefix = memberOf(entry, ['prefix']);
      if (typeof prefix === 'string' && Object.keys(entry as object).length === 1) return prefixes.push(prefix) > 0;
      return false;
    });
    if (simple) checks.push({ path, takes: (value) => exact.has(value) || prefixes.some((p) => value.startsWith(p)) });
  }
  return (event) =>
    checks.every(({ path, takes }) => {
      const value = memberOf(event, path);
      return typeof value !== 'string' || takes(value);
    });
}

const matcherOf = (rule: CompiledAlertRule): ((event: unknown) => boolean) => {
  let matcher = matchers.get(rule);
  if (matcher === undefined) {
    const gate = gateOf(rule.pattern);
    const full = compilePattern(rule.pattern);
    matcher = (event) => gate(event) && full(event);
    matchers.set(rule, matcher);
  }
  return matcher;
};

/** The paths rules name their event types at: Okta's `eventType`, Auth0's `data.type`. */
const TYPE_PATHS = [
  ['detail', 'eventType'],
  ['detail', 'data', 'type'],
] as const;

/**
 * Rules by the event types they list, so an event is matched against the few rules that name its type rather than
 * all of them: for each type path, the rules listing exact types (by type) or prefixes, and the rules that list none.
 */
interface RuleIndex {
  readonly byPath: ReadonlyArray<{
    readonly path: readonly string[];
    readonly exact: ReadonlyMap<string, readonly number[]>;
    readonly prefixed: ReadonlyArray<{ readonly prefix: string; readonly index: number }>;
    readonly all: readonly number[];
  }>;
  readonly ungated: readonly number[];
}

const indexes = new WeakMap<readonly CompiledAlertRule[], RuleIndex>();

function indexOf(rules: readonly CompiledAlertRule[]): RuleIndex {
  let index = indexes.get(rules);
  if (index !== undefined) return index;
  const ungated: number[] = [];
  const byPath = TYPE_PATHS.map((path) => ({
    path,
    exact: new Map<string, number[]>(),
    prefixed: [] as Array<{ prefix: string; index: number }>,
    all: [] as number[],
  }));
  rules.forEach((rule, position) => {
    for (const gate of byPath) {
      const listed = memberOf(rule.pattern, gate.path);
      if (!Array.isArray(listed)) continue;
      const prefixes = listed.map((entry) => (typeof entry === 'string' ? undefined : memberOf(entry, ['prefix'])));
      const simple = listed.every(
        (entry, i) =>
          typeof entry === 'string' || (typeof prefixes[i] === 'string' && Object.keys(entry as object).length === 1),
      );
      if (!simple) continue;
      listed.forEach((entry, i) => {
        if (typeof entry === 'string') gate.exact.set(entry, [...(gate.exact.get(entry) ?? []), position]);
        else gate.prefixed.push({ prefix: String(prefixes[i]), index: position });
      });
      gate.all.push(position);
      return;
    }
    ungated.push(position);
  });
  index = { byPath, ungated };
  indexes.set(rules, index);
  return index;
}

/**
 * The rules whose pattern matches one EventBridge envelope, in rule order; each rule's matcher is built once. Rules
 * that list event types are only tried on events of those types: a pattern listing strings (or prefixes) for a field
 * cannot match an event whose field is another string, or absent; an event whose field is any other shape (an array)
 * is tried against all of them, so the index never decides what the engine would decide differently.
 */
export function matchingRules<T extends CompiledAlertRule>(compiled: readonly T[], envelope: unknown): T[] {
  const index = indexOf(compiled);
  const candidates = index.ungated.length === 0 ? [] : [...index.ungated];
  for (const gate of index.byPath) {
    const value = memberOf(envelope, gate.path);
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      candidates.push(...gate.all);
      continue;
    }
    candidates.push(...(gate.exact.get(value) ?? []));
    for (const { prefix, index: position } of gate.prefixed) if (value.startsWith(prefix)) candidates.push(position);
  }
  if (candidates.length === 0) return [];
  const positions = candidates.length === 1 ? candidates : [...new Set(candidates)].sort((a, b) => a - b);
  return positions.flatMap((position) => {
    const rule = compiled[position];
    return rule !== undefined && matcherOf(rule)(envelope) ? [rule] : [];
  });
}
