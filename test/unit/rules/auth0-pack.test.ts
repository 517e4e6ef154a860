import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRules, matchingRules } from '../../../lib/rules/compile.ts';
import { loadRules } from '../../../lib/rules/load.ts';
import { AUTH0_SUBJECT_PLACEHOLDERS, ruleSourceOf } from '../../../lib/rules/schema.ts';
import type { CompiledAlertRule } from '../../../lib/rules/types.ts';

/** Auth0 logs in their EventBridge envelope for one default Auth0 rule: some it must alert on, some close calls. */
interface RuleCase {
  readonly ruleId: string;
  readonly matches: readonly { why: string; envelope: Record<string, unknown> }[];
  readonly nearMisses: readonly { why: string; envelope: Record<string, unknown> }[];
}

const AUTH0_DIR = new URL('../../fixtures/auth0/', import.meta.url);
const OKTA_CASES_DIR = new URL('../../fixtures/rule-cases/', import.meta.url);
/** The partner event source every Auth0 fixture comes from. */
const AUTH0_SOURCE = 'aws.partner/auth0.com/acme-prod-7d0f3b6a-2c4e-4f5a-9b1c-3e2d1a0f9c8b/auth0.logs';
const OKTA_SOURCE = 'aws.partner/okta.com/acme/okta-logs';

const readCases = (dir: URL): RuleCase[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(new URL(name, dir), 'utf8')));

const cases = readCases(AUTH0_DIR);
const oktaCases = readCases(OKTA_CASES_DIR);
const pack = loadRules();
// Single-event rules; the stateful ones (kind set) are tested on their scenarios in test/unit/detector/.
const auth0Rules = pack.filter((rule) => ruleSourceOf(rule) === 'auth0' && rule.kind === undefined);

// As deployed with both sources, and with each alone.
const singleEvent = pack.filter((rule) => rule.kind === undefined);
const both = compileRules(singleEvent, { okta: OKTA_SOURCE, auth0: AUTH0_SOURCE });
const auth0Only = compileRules(singleEvent, { auth0: AUTH0_SOURCE });
const oktaOnly = compileRules(singleEvent, OKTA_SOURCE);

const byId = new Map(both.map((rule) => [rule.id, rule]));
const ruleOf = (id: string): CompiledAlertRule => {
  const rule = byId.get(id);
  if (rule === undefined) throw new Error(`no default rule ${id}`);
  return rule;
};

const matchRows = cases.flatMap((c) => c.matches.map((m) => ({ ruleId: c.ruleId, ...m })));
const nearMissRows = cases.flatMap((c) => c.nearMisses.map((m) => ({ ruleId: c.ruleId, ...m })));
const allAuth0Envelopes = cases.flatMap((c) => [...c.matches, ...c.nearMisses].map((m) => m.envelope));
const allOktaEnvelopes = oktaCases.flatMap((c) => [...c.matches, ...c.nearMisses].map((m) => m.envelope));

const ids = (rules: readonly CompiledAlertRule[], envelope: unknown): string[] =>
  matchingRules(rules, envelope).map((rule) => rule.id);

describe('default rule pack (Auth0)', () => {
  it('has Auth0 rules, each with one case file holding at least one match and one near miss', () => {
    // Prepare
    const files = readdirSync(AUTH0_DIR).map((name) => basename(name, '.json'));

    // Assess
    expect(auth0Rules.length).toBeGreaterThanOrEqual(15);
    expect([...files].sort()).toEqual(auth0Rules.map((rule) => rule.id).sort());
    for (const c of cases) {
      expect(c.matches.length, c.ruleId).toBeGreaterThan(0);
      expect(c.nearMisses.length, c.ruleId).toBeGreaterThan(0);
    }
  });

  it('gives every Auth0 rule an auth0- id, a runbook, a description and a subject without Okta-only placeholders', () => {
    for (const rule of auth0Rules) {
      expect(rule.id, rule.id).toMatch(/^auth0-/);
      expect(rule.file, rule.id).toMatch(/\/auth0-[a-z0-9-]+\.yaml$/);
      expect(rule.runbook.split('\n').length, rule.id).toBeGreaterThan(1);
      const placeholders = [...(rule.subject ?? '').matchAll(/\{([^{}]*)\}/g)].map(([, name]) => name);
      expect(placeholders.every((name) => (AUTH0_SUBJECT_PLACEHOLDERS as readonly unknown[]).includes(name))).toBe(
        true,
      );
    }
  });

  it.each(matchRows)('$ruleId alerts on: $why', ({ ruleId, envelope }) => {
    // Act
    const matched = ids(both, envelope);

    // Assess
    expect(matched).toContain(ruleId);
    expect(envelope).toMatchObject({
      'detail-type': 'Auth0 log',
      source: AUTH0_SOURCE,
      detail: { log_id: expect.any(String), data: { type: expect.any(String), date: expect.any(String) } },
    });
  });

  it.each(nearMissRows)('$ruleId stays quiet on: $why', ({ ruleId, envelope }) => {
    // Act
    const matched = ids(both, envelope);

    // Assess
    expect(matched).not.toContain(ruleId);
  });

  it('raises one alert per fixture log: the rules of the pack do not overlap on them', () => {
    for (const row of matchRows) {
      expect(ids(both, row.envelope), `${row.ruleId}: ${row.why}`).toEqual([row.ruleId]);
    }
  });

  it('matches its fixtures only from the Auth0 tenant it was compiled for', () => {
    // Prepare
    const elsewhere = matchRows.map((row) => ({
      ...row.envelope,
      source: 'aws.partner/auth0.com/other-tenant-0000/auth0.logs',
    }));

    // Assess
    expect(elsewhere.flatMap((envelope) => ids(both, envelope))).toEqual([]);
  });

  it('makes a paused log stream critical and says how to check AWS and resume it', () => {
    // Prepare
    const rule = ruleOf('auth0-log-stream-paused');

    // Assess
    expect(rule.severity).toBe('critical');
    expect(rule.runbook).toContain('describe-event-source');
    expect(rule.runbook).toContain('PATCH /api/v2/log-streams/{id} {"status": "active"}');
    expect(rule.runbook).toContain('update:log_streams');
    expect(rule.runbook).toContain('GET /api/v2/logs');
  });
});

describe('Okta and Auth0 rules keep to their own source', () => {
  it('compiles every Auth0 rule for the Auth0 source and "Auth0 log", and every Okta rule for Okta', () => {
    for (const rule of both) {
      const expected = rule.source === 'auth0' ? [AUTH0_SOURCE, 'Auth0 log'] : [OKTA_SOURCE, 'SystemLog'];
      expect([rule.pattern.source, rule.pattern['detail-type']], rule.id).toEqual(expected.map((value) => [value]));
    }
    expect(auth0Only.map((rule) => rule.id)).toEqual(auth0Rules.map((rule) => rule.id));
    expect(oktaOnly.every((rule) => rule.source === 'okta')).toBe(true);
    expect(oktaOnly.length + auth0Only.length).toBe(both.length);
  });

  it('never matches an Auth0 log with an Okta rule', () => {
    expect(allAuth0Envelopes.flatMap((envelope) => ids(oktaOnly, envelope))).toEqual([]);
  });

  it('never matches an Okta event with an Auth0 rule', () => {
    expect(allOktaEnvelopes.length).toBeGreaterThan(0);
    expect(allOktaEnvelopes.flatMap((envelope) => ids(auth0Only, envelope))).toEqual([]);
  });

  it('never matches an Auth0 log re-labelled as coming from the Okta source, nor the reverse', () => {
    // Prepare
    const auth0AsOkta = allAuth0Envelopes.map((envelope) => ({ ...envelope, source: OKTA_SOURCE }));
    const oktaAsAuth0 = allOktaEnvelopes.map((envelope) => ({ ...envelope, source: AUTH0_SOURCE }));

    // Assess
    expect(auth0AsOkta.flatMap((envelope) => ids(both, envelope))).toEqual([]);
    expect(oktaAsAuth0.flatMap((envelope) => ids(both, envelope))).toEqual([]);
  });

  it('leaves the Okta rules as they were: the same patterns whether or not Auth0 is configured', () => {
    // Prepare
    const oktaInBoth = both.filter((rule) => rule.source === 'okta');

    // Assess
    expect(oktaInBoth).toEqual(oktaOnly);
    for (const c of oktaCases) {
      for (const m of c.matches) expect(ids(both, m.envelope), `${c.ruleId}: ${m.why}`).toContain(c.ruleId);
      for (const m of c.nearMisses) expect(ids(both, m.envelope), `${c.ruleId}: ${m.why}`).not.toContain(c.ruleId);
    }
  });
});
