import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_PIN_CHARS,
  compileRule,
  compileRules,
  EVENT_PATTERN_MAX_CHARS,
  eventTypeMatcher,
  MAX_ALERT_RULES,
  matchingRules,
} from '../../../lib/rules/compile.ts';
import { RuleCompileError, TooManyAlertRulesError } from '../../../lib/rules/errors.ts';
import type { AlertRule } from '../../../lib/rules/schema.ts';
import { envelopeWith } from '../../support/events.ts';

const SOURCE = 'aws.partner/okta.com/evership/evershipsecuritylake';

const rule = (overrides: Partial<AlertRule> = {}, match: Partial<AlertRule['match']> = {}): AlertRule => ({
  id: 'admin-app-access',
  title: 'Admin app accessed',
  severity: 'info',
  description: 'Someone opened the Okta Admin Console.',
  runbook: 'Nothing to do unless the actor is unexpected.',
  ...overrides,
  match: { eventType: ['user.session.access_admin_app'], ...match },
});

describe('eventTypeMatcher', () => {
  it.each([
    { entry: 'user.session.start', matcher: 'user.session.start' },
    { entry: 'user.session.*', matcher: { prefix: 'user.session.' } },
    { entry: 'system.log_stream.lifecycle.*', matcher: { prefix: 'system.log_stream.lifecycle.' } },
    { entry: '*.lifecycle.deactivate', matcher: { wildcard: '*.lifecycle.deactivate' } },
    { entry: 'app.oauth2.*token.detect_reuse', matcher: { wildcard: 'app.oauth2.*token.detect_reuse' } },
    { entry: 'user.*.lifecycle.*', matcher: { wildcard: 'user.*.lifecycle.*' } },
  ])('turns $entry into $matcher', ({ entry, matcher }) => {
    expect(eventTypeMatcher(entry)).toEqual(matcher);
  });
});

describe('compileRule', () => {
  it('scopes the pattern to the Okta source and SystemLog, with where merged into detail', () => {
    // Prepare
    const where = { outcome: { result: ['SUCCESS'] }, target: { type: ['User'] } };

    // Act
    const compiled = compileRule(
      rule(
        { subject: '{title} by {actor}' },
        { eventType: ['user.session.access_admin_app', 'user.session.*'], where },
      ),
      SOURCE,
    );

    // Assess
    expect(compiled).toEqual({
      id: 'admin-app-access',
      title: 'Admin app accessed',
      severity: 'info',
      description: 'Someone opened the Okta Admin Console.',
      runbook: 'Nothing to do unless the actor is unexpected.',
      subject: '{title} by {actor}',
      pattern: {
        source: [SOURCE],
        'detail-type': ['SystemLog'],
        detail: {
          outcome: { result: ['SUCCESS'] },
          target: { type: ['User'] },
          eventType: ['user.session.access_admin_app', { prefix: 'user.session.' }],
        },
      },
    });
  });

  it('matches the fixture event, and not the same event from another org', () => {
    // Prepare
    const [compiled] = compileRules([rule()], SOURCE);
    const other = envelopeWith({}, { source: 'aws.partner/okta.com/other-org/okta-logs' });

    // Act
    const ours = matchingRules(compiled ? [compiled] : [], envelopeWith({}));
    const theirs = matchingRules(compiled ? [compiled] : [], other);

    // Assess
    expect(ours.map((r) => r.id)).toEqual(['admin-app-access']);
    expect(theirs).toEqual([]);
  });

  it('refuses an event source that is not an Okta partner source', () => {
    expect(() => compileRule(rule(), 'aws.partner/auth0.com/acme/auth0.logs')).toThrow(
      /rule admin-app-access: event source name "aws\.partner\/auth0\.com\/acme\/auth0\.logs" must start with aws\.partner\/okta\.com\//,
    );
  });

  it('refuses eventType inside where even when the schema was bypassed', () => {
    // Prepare
    const bad = rule({}, { where: { eventType: ['user.session.start'] } });

    // Act
    const compile = () => compileRule(bad, SOURCE);

    // Assess
    expect(compile).toThrow(RuleCompileError);
    expect(compile).toThrow('match.where must not hold eventType');
  });

  it('refuses a pattern EventBridge would refuse', () => {
    // Prepare
    const bad = rule({}, { where: { outcome: { result: [{ 'no-such-operator': 1 }] } } });

    // Act
    const compile = () => compileRule(bad, SOURCE);

    // Assess
    expect(compile).toThrow(RuleCompileError);
    expect(compile).toThrow(/rule admin-app-access: invalid event pattern: /);
  });

  it(`refuses a pattern over the ${EVENT_PATTERN_MAX_CHARS}-character quota, unless the quota was raised`, () => {
    // Prepare
    const eventTypes = Array.from({ length: 80 }, (_, i) => `user.custom.event_number_${i}`);
    const big = rule({}, { eventType: eventTypes });

    // Act
    const compile = () => compileRule(big, SOURCE);
    const raised = compileRule(big, SOURCE, { maxPatternChars: 4096 });

    // Assess
    expect(compile).toThrow(RuleCompileError);
    expect(compile).toThrow(
      /rule admin-app-access: event pattern is \d+ characters with its account pin; EventBridge accepts at most 2048 \(quota "Event pattern size"/,
    );
    expect(JSON.stringify(raised.pattern).length).toBeGreaterThan(EVENT_PATTERN_MAX_CHARS);
  });

  it('leaves room for the account pin the deployed rule adds', () => {
    // Prepare: a rule whose compiled pattern fits the quota on its own but not with the account pin.
    const base = JSON.stringify(compileRule(rule({}, { eventType: ['user.a'] }), SOURCE).pattern).length;
    const room = EVENT_PATTERN_MAX_CHARS - base;
    const filler = 'x'.repeat(room - ACCOUNT_PIN_CHARS + 1 - ',""'.length);
    const tight = rule({}, { eventType: ['user.a', `user.${filler}`] });

    // Act
    const pattern = JSON.stringify({ ...compileRule(tight, SOURCE, { maxPatternChars: 4096 }).pattern });

    // Assess
    expect(pattern.length).toBeLessThanOrEqual(EVENT_PATTERN_MAX_CHARS);
    expect(pattern.length + ACCOUNT_PIN_CHARS).toBeGreaterThan(EVENT_PATTERN_MAX_CHARS);
    expect(() => compileRule(tight, SOURCE)).toThrow(/with its account pin/);
  });
});

describe('compileRules', () => {
  it(`accepts ${MAX_ALERT_RULES} rules and refuses one more, explaining the quota`, () => {
    // Prepare
    const rules = Array.from({ length: MAX_ALERT_RULES + 1 }, (_, i) => rule({ id: `rule-${i}` }));

    // Act
    const atLimit = compileRules(rules.slice(0, MAX_ALERT_RULES), SOURCE);
    const overLimit = () => compileRules(rules, SOURCE);

    // Assess
    expect(atLimit).toHaveLength(MAX_ALERT_RULES);
    expect(overLimit).toThrow(TooManyAlertRulesError);
    expect(overLimit).toThrow(/251 alert rules; at most 250 fit.*300 rules by default \(quota "Rules per event bus"\)/);
  });
});

describe('matchingRules', () => {
  it('returns every matching rule in rule order, and reuses its matchers', () => {
    // Prepare
    const compiled = compileRules(
      [
        rule({ id: 'any-session' }, { eventType: ['user.session.*'] }),
        rule({ id: 'logins' }, { eventType: ['user.session.start'] }),
        rule({ id: 'admin-success' }, { where: { outcome: { result: ['SUCCESS'] } } }),
      ],
      SOURCE,
    );
    const adminAccess = envelopeWith({});
    const failedAdminAccess = envelopeWith({ outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } });

    // Act
    const first = matchingRules(compiled, adminAccess).map((r) => r.id);
    const again = matchingRules(compiled, adminAccess).map((r) => r.id);
    const failed = matchingRules(compiled, failedAdminAccess).map((r) => r.id);

    // Assess
    expect(first).toEqual(['any-session', 'admin-success']);
    expect(again).toEqual(first);
    expect(failed).toEqual(['any-session']);
  });
});
