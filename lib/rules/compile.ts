import { OKTA_DETAIL_TYPE, OKTA_SOURCE_PREFIX } from '../../lambdas/shared/okta-event.ts';
import { compilePattern, DEFAULT_MAX_PATTERN_SIZE, validatePattern } from '../pattern/index.ts';
import { RuleCompileError, TooManyAlertRulesError } from './errors.ts';
import type { AlertRule } from './schema.ts';
import type { AlertRuleSummary, CompiledAlertRule } from './types.ts';

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

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The EventBridge event pattern of one alert rule, scoped to one Okta partner event source. */
export function compileRule(rule: AlertRule, eventSourceName: string, options: CompileOptions = {}): CompiledAlertRule {
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
  const pattern = {
    source: [eventSourceName],
    'detail-type': [OKTA_DETAIL_TYPE],
    detail: { ...where, eventType: rule.match.eventType.map(eventTypeMatcher) },
  };
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
  return { ...ruleSummary(rule), pattern };
}

/** What travels with each matched event to the alert Lambda: the rule without its pattern. */
export const ruleSummary = (rule: AlertRuleSummary): AlertRuleSummary => ({
  id: rule.id,
  title: rule.title,
  severity: rule.severity,
  description: rule.description,
  runbook: rule.runbook,
  ...(rule.subject === undefined ? {} : { subject: rule.subject }),
});

/** Compiles every rule, refusing more rules than the partner bus can hold. */
export function compileRules(
  rules: readonly AlertRule[],
  eventSourceName: string,
  options: CompileOptions = {},
): CompiledAlertRule[] {
  if (rules.length > MAX_ALERT_RULES) {
    throw new TooManyAlertRulesError(
      `${rules.length} alert rules; at most ${MAX_ALERT_RULES} fit. Each alert rule is one EventBridge rule on the ` +
        'partner event bus, which holds 300 rules by default (quota "Rules per event bus"), and the pipeline keeps ' +
        'some of them for itself. Merge rules (list several event types in one rule) or remove some.',
    );
  }
  return rules.map((rule) => compileRule(rule, eventSourceName, options));
}

const matchers = new WeakMap<CompiledAlertRule, (event: unknown) => boolean>();

const matcherOf = (rule: CompiledAlertRule): ((event: unknown) => boolean) => {
  let matcher = matchers.get(rule);
  if (matcher === undefined) {
    matcher = compilePattern(rule.pattern);
    matchers.set(rule, matcher);
  }
  return matcher;
};

/** The rules whose pattern matches one EventBridge envelope, in rule order; each rule's matcher is built once. */
export function matchingRules<T extends CompiledAlertRule>(compiled: readonly T[], envelope: unknown): T[] {
  return compiled.filter((rule) => matcherOf(rule)(envelope));
}
