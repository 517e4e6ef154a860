import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAlert, MAX_SUBJECT_CHARS } from '../../../lambdas/alert/format-alert.ts';
import { OktaEnvelope, OktaEventCore } from '../../../lambdas/shared/okta-event.ts';
import { matchesPattern } from '../../../lib/pattern/index.ts';
import { compileRules } from '../../../lib/rules/compile.ts';
import { loadRules } from '../../../lib/rules/load.ts';
import { ruleSourceOf } from '../../../lib/rules/schema.ts';

/**
 * Recorded-style events for one default Okta rule: some it must alert on, some close calls it must leave alone. The
 * Auth0 rules have their own cases (auth0-pack.test.ts).
 */
interface RuleCase {
  readonly ruleId: string;
  readonly matches: readonly { why: string; envelope: Record<string, unknown> }[];
  readonly nearMisses: readonly { why: string; envelope: Record<string, unknown> }[];
}

const CASES_DIR = new URL('../../fixtures/rule-cases/', import.meta.url);
const SOURCE = 'aws.partner/okta.com/acme/okta-logs';

const cases: RuleCase[] = readdirSync(CASES_DIR)
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(new URL(name, CASES_DIR), 'utf8')));
// Single-event rules; the stateful ones (kind set) are tested on their scenarios in test/unit/detector/.
const rules = loadRules().filter((rule) => ruleSourceOf(rule) === 'okta' && rule.kind === undefined);
// The bare Okta source name, as before Auth0: the Auth0 rules of the pack are skipped.
const compiled = new Map(
  compileRules(loadRules(), SOURCE)
    .filter((rule) => rule.detect === undefined)
    .map((rule) => [rule.id, rule]),
);

const ruleOf = (id: string) => {
  const rule = compiled.get(id);
  if (rule === undefined) throw new Error(`no default rule ${id}`);
  return rule;
};

const matchRows = cases.flatMap((c) => c.matches.map((m) => ({ ruleId: c.ruleId, ...m })));
const nearMissRows = cases.flatMap((c) => c.nearMisses.map((m) => ({ ruleId: c.ruleId, ...m })));

describe('default rule pack (Okta)', () => {
  it('compiles only the Okta rules for a bare Okta source name', () => {
    // Assess
    expect([...compiled.keys()].sort()).toEqual(rules.map((rule) => rule.id).sort());
    expect([...compiled.values()].every((rule) => rule.source === 'okta')).toBe(true);
  });

  it('has one case file per rule, each with at least one match and one near miss', () => {
    // Prepare
    const files = readdirSync(CASES_DIR).map((name) => basename(name, '.json'));

    // Assess
    expect([...files].sort()).toEqual(rules.map((rule) => rule.id).sort());
    for (const c of cases) {
      expect(c.matches.length, c.ruleId).toBeGreaterThan(0);
      expect(c.nearMisses.length, c.ruleId).toBeGreaterThan(0);
    }
  });

  it.each(matchRows)('$ruleId alerts on: $why', ({ ruleId, envelope }) => {
    // Prepare
    const rule = ruleOf(ruleId);

    // Act
    const matched = matchesPattern(rule.pattern, envelope);

    // Assess
    expect(matched).toBe(true);
    expect(OktaEnvelope.safeParse(envelope).success).toBe(true);
    expect(OktaEventCore.safeParse(envelope.detail).success).toBe(true);
  });

  it.each(nearMissRows)('$ruleId stays quiet on: $why', ({ ruleId, envelope }) => {
    // Prepare
    const rule = ruleOf(ruleId);

    // Act
    const matched = matchesPattern(rule.pattern, envelope);

    // Assess
    expect(matched).toBe(false);
  });

  it.each(matchRows)('$ruleId writes a valid SNS subject for: $why', ({ ruleId, envelope }) => {
    // Prepare
    const rule = ruleOf(ruleId);
    const event = OktaEventCore.parse(envelope.detail);

    // Act
    const { subject } = formatAlert(rule, event);

    // Assess
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
    expect(subject).toMatch(/^\[(INFO|LOW|MEDIUM|HIGH|CRITICAL)\] Okta: [\x20-\x7E]+$/);
    expect(subject).not.toContain('{');
  });

  it('makes log stream deactivation critical and says how to check AWS and reactivate', () => {
    // Prepare
    const rule = ruleOf('log-stream-deactivated');

    // Assess
    expect(rule.severity).toBe('critical');
    expect(rule.runbook).toContain('Reports > Log Streaming > the stream > Activate');
    expect(rule.runbook).toContain('POST /api/v1/logStreams/{logStreamId}/lifecycle/activate');
    expect(rule.runbook).toContain('okta.logStreams.manage');
    expect(rule.runbook).toContain('describe-event-source');
    expect(rule.runbook).toContain('two failed deliveries');
    expect(rules.filter((r) => r.match.eventType.some((t) => t.startsWith('system.log_stream.')))).toHaveLength(3);
  });
});
