import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_PIN_CHARS,
  auth0SourceNameProblem,
  auth0TypeMatcher,
  compileRule,
  compileRules,
  EVENT_PATTERN_MAX_CHARS,
  eventTypeMatcher,
  MAX_ALERT_RULES,
  matchingRules,
} from '../../../lib/rules/compile.ts';
import { RuleCompileError, TooManyAlertRulesError } from '../../../lib/rules/errors.ts';
import type { Auth0AlertRule, OktaAlertRule } from '../../../lib/rules/schema.ts';
import { envelopeWith } from '../../support/events.ts';

const SOURCE = 'aws.partner/okta.com/evership/evershipsecuritylake';

const rule = (overrides: Partial<OktaAlertRule> = {}, match: Partial<OktaAlertRule['match']> = {}): OktaAlertRule => ({
  id: 'admin-app-access',
  title: 'Admin app accessed',
  severity: 'info',
  description: 'Someone opened the Okta Admin Console.',
  runbook: 'Nothing to do unless the actor is unexpected.',
  ...overrides,
  match: { eventType: ['user.session.access_admin_app'], ...match },
});

const AUTH0_SOURCE = 'aws.partner/auth0.com/acme-prod-7d0f3b6a/auth0.logs';
const BOTH = { okta: SOURCE, auth0: AUTH0_SOURCE };

const auth0Rule = (
  overrides: Partial<Auth0AlertRule> = {},
  match: Partial<Auth0AlertRule['match']> = {},
): Auth0AlertRule => ({
  source: 'auth0',
  id: 'auth0-wrong-password',
  title: 'Auth0 wrong password',
  severity: 'info',
  description: 'A login failed with a wrong password.',
  runbook: 'Nothing to do unless it repeats.',
  ...overrides,
  match: { eventType: ['fp'], ...match },
});

/** An Auth0 log as its EventBridge stream delivers it. */
const auth0Envelope = (data: Record<string, unknown>, source = AUTH0_SOURCE) => ({
  version: '0',
  id: '6a4c2e0f-1b3d-4f5a-8c7e-9d0b1a2c3e4f',
  'detail-type': 'Auth0 log',
  source,
  account: '111122223333',
  time: '2026-11-08T09:01:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    log_id: '90020261108090100125000000000000001223372036854775807',
    data: { date: '2026-11-08T09:01:00.125Z', type: 'fp', description: 'Wrong email or password.', ...data },
  },
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
      source: 'okta',
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

describe('auth0TypeMatcher', () => {
  it.each([
    { entry: 'fp', matcher: 'fp' },
    { entry: 'gd_auth_failed', matcher: 'gd_auth_failed' },
    { entry: 'gd_*', matcher: { prefix: 'gd_' } },
    { entry: 'limit_*', matcher: { prefix: 'limit_' } },
  ])('turns $entry into $matcher', ({ entry, matcher }) => {
    expect(auth0TypeMatcher(entry)).toEqual(matcher);
  });
});

describe('auth0SourceNameProblem', () => {
  it.each(['aws.partner/auth0.com/acme-prod-7d0f3b6a/auth0.logs', 'olp.auth0/acme-prod', 'com.acme.auth0-sink'])(
    'accepts %s',
    (name) => {
      expect(auth0SourceNameProblem(name)).toBeUndefined();
    },
  );

  it.each([
    { label: 'the bare partner prefix', name: 'aws.partner/auth0.com/', reason: 'names no Auth0 partner event source' },
    { label: 'an Okta source', name: 'aws.partner/okta.com/acme/okta-logs', reason: 'does not start with "aws."' },
    { label: 'an AWS source', name: 'aws.events', reason: 'does not start with "aws."' },
    { label: 'an empty name', name: '', reason: '1-256 characters' },
    { label: 'a name over 256 characters', name: 'x'.repeat(257), reason: '1-256 characters' },
  ])('refuses $label', ({ name, reason }) => {
    expect(auth0SourceNameProblem(name)).toContain(reason);
  });
});

describe('compileRule for Auth0', () => {
  it('scopes the pattern to the Auth0 source and "Auth0 log", with type and where inside detail.data', () => {
    // Prepare
    const where = {
      connection: ['Username-Password-Authentication'],
      details: { error: { message: [{ exists: true }] } },
    };

    // Act
    const compiled = compileRule(
      auth0Rule({ subject: '{title} ({eventType})' }, { eventType: ['fp', 'gd_*'], where }),
      BOTH,
    );

    // Assess
    expect(compiled).toEqual({
      id: 'auth0-wrong-password',
      title: 'Auth0 wrong password',
      severity: 'info',
      description: 'A login failed with a wrong password.',
      runbook: 'Nothing to do unless it repeats.',
      subject: '{title} ({eventType})',
      source: 'auth0',
      pattern: {
        source: [AUTH0_SOURCE],
        'detail-type': ['Auth0 log'],
        detail: {
          data: {
            connection: ['Username-Password-Authentication'],
            details: { error: { message: [{ exists: true }] } },
            type: ['fp', { prefix: 'gd_' }],
          },
        },
      },
    });
  });

  it('matches the Auth0 log, and not the same log from another tenant, another detail-type or another type', () => {
    // Prepare
    const compiled = compileRules([auth0Rule({}, { eventType: ['fp', 'gd_*'] })], BOTH);

    // Act
    const ids = (envelope: unknown) => matchingRules(compiled, envelope).map((r) => r.id);

    // Assess
    expect(ids(auth0Envelope({}))).toEqual(['auth0-wrong-password']);
    expect(ids(auth0Envelope({ type: 'gd_auth_failed' }))).toEqual(['auth0-wrong-password']);
    expect(ids(auth0Envelope({}, 'aws.partner/auth0.com/other-tenant-1/auth0.logs'))).toEqual([]);
    expect(ids({ ...auth0Envelope({}), 'detail-type': 'SystemLog' })).toEqual([]);
    expect(ids(auth0Envelope({ type: 'fu' }))).toEqual([]);
    expect(ids(auth0Envelope({ type: 'sgd_x' }))).toEqual([]);
  });

  it("compiles for the HTTP sink's own source name too", () => {
    // Act
    const [compiled] = compileRules([auth0Rule()], { auth0: 'olp.auth0/acme-prod' });

    // Assess
    expect(compiled?.pattern.source).toEqual(['olp.auth0/acme-prod']);
    expect(matchingRules(compiled ? [compiled] : [], auth0Envelope({}, 'olp.auth0/acme-prod'))).toHaveLength(1);
  });

  it('refuses an Auth0 rule without an Auth0 source name, and a bad Auth0 source name', () => {
    expect(() => compileRule(auth0Rule(), SOURCE)).toThrow(
      'rule auth0-wrong-password: an Auth0 rule needs the Auth0 event source name, and none was given',
    );
    expect(() => compileRule(auth0Rule(), { auth0: 'aws.partner/okta.com/acme/okta-logs' })).toThrow(
      /rule auth0-wrong-password: Auth0 event source name "aws\.partner\/okta\.com\/acme\/okta-logs" must be an Auth0 partner event source/,
    );
    expect(() => compileRule(rule(), { auth0: AUTH0_SOURCE })).toThrow(
      'rule admin-app-access: an Okta rule needs the Okta event source name, and none was given',
    );
  });

  it('refuses type inside where even when the schema was bypassed, and a pattern EventBridge would refuse', () => {
    expect(() => compileRule(auth0Rule({}, { where: { type: ['fu'] } }), BOTH)).toThrow(
      'match.where must not hold type; list Auth0 log type codes in match.eventType',
    );
    expect(() => compileRule(auth0Rule({}, { where: { ip: [{ cidr: 'not-a-cidr' }] } }), BOTH)).toThrow(
      /rule auth0-wrong-password: invalid event pattern: /,
    );
  });
});

describe('compileRules with two sources', () => {
  const rules = [rule({ id: 'okta-one' }), auth0Rule({ id: 'auth0-one' }), rule({ id: 'okta-two' })];

  it('compiles the rules of every named source, in rule order', () => {
    // Act
    const compiled = compileRules(rules, BOTH);

    // Assess
    expect(compiled.map((r) => [r.id, r.source])).toEqual([
      ['okta-one', 'okta'],
      ['auth0-one', 'auth0'],
      ['okta-two', 'okta'],
    ]);
  });

  it('skips, not fails, the rules of a source without a name: Auth0 rules for a bare Okta name, and vice versa', () => {
    // Act
    const bare = compileRules(rules, SOURCE);
    const oktaOnly = compileRules(rules, { okta: SOURCE });
    const auth0Only = compileRules(rules, { auth0: AUTH0_SOURCE });

    // Assess
    expect(bare.map((r) => r.id)).toEqual(['okta-one', 'okta-two']);
    expect(oktaOnly).toEqual(bare);
    expect(auth0Only.map((r) => r.id)).toEqual(['auth0-one']);
  });

  it('refuses to compile for no source at all', () => {
    expect(() => compileRules(rules, {})).toThrow(
      'compileRules needs the event source name of at least one log source',
    );
  });

  it(`counts only the rules it deploys against the ${MAX_ALERT_RULES}-rule cap`, () => {
    // Prepare
    const many = [
      ...Array.from({ length: MAX_ALERT_RULES }, (_, i) => rule({ id: `okta-${i}` })),
      auth0Rule({ id: 'auth0-extra' }),
    ];

    // Act
    const oktaOnly = () => compileRules(many, SOURCE);
    const both = () => compileRules(many, BOTH);

    // Assess
    expect(oktaOnly()).toHaveLength(MAX_ALERT_RULES);
    expect(both).toThrow(TooManyAlertRulesError);
    expect(both).toThrow(/^251 alert rules; at most 250 fit/);
  });
});
