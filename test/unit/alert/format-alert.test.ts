import { describe, expect, it } from 'vitest';
import {
  formatAlert,
  MAX_EVENT_TEXT_BYTES,
  MAX_SUBJECT_CHARS,
  sanitizeSubject,
  snsMessage,
} from '../../../lambdas/alert/format-alert.ts';
import { OktaEventCore } from '../../../lambdas/shared/okta-event.ts';
import type { AlertRuleSummary } from '../../../lib/rules/types.ts';
import { fixtureEnvelope } from '../../support/events.ts';
import { publishBytes } from './alert-checks.ts';

const rule: AlertRuleSummary = {
  id: 'admin-role-granted-to-user',
  title: 'Admin role granted to a user',
  severity: 'high',
  description: 'A user was given an Okta admin role.',
  runbook: '1. Confirm the grant with the actor.\n2. Remove the role if nobody vouches for it.',
  subject: 'Admin role granted to {target} by {actor}',
};

const JANE = { id: '00u9z8y7x6w5v4u3t2s1', type: 'User', alternateId: 'jane@acme.com', displayName: 'Jane Doe' };
const BOB = { id: '00u1a2b3c4d5e6f7g8h9', type: 'User', alternateId: 'bob@acme.com', displayName: 'Bob Admin' };

/** The fixture's System Log event with the given fields changed; only the core is validated, as the alert Lambda does. */
const eventWith = (fields: Record<string, unknown>): OktaEventCore =>
  OktaEventCore.parse({
    ...fixtureEnvelope().detail,
    eventType: 'user.account.privilege.grant',
    displayMessage: 'Grant user privilege',
    actor: BOB,
    target: [JANE],
    debugContext: { debugData: { privilegeGranted: 'Super administrator' } },
    ...fields,
  });

describe('formatAlert subject', () => {
  it('reads at a glance: severity, Okta, and the rule template filled in', () => {
    // Act
    const { subject } = formatAlert(rule, eventWith({}));

    // Assess
    expect(subject).toBe('[HIGH] Okta: Admin role granted to jane@acme.com by bob@acme.com');
  });

  it('falls back to title, target and actor without a template', () => {
    // Act
    const { subject } = formatAlert({ ...rule, subject: undefined }, eventWith({}));

    // Assess
    expect(subject).toBe('[HIGH] Okta: Admin role granted to a user: jane@acme.com by bob@acme.com');
  });

  it('fills every placeholder', () => {
    // Prepare
    const placeholders = { ...rule, subject: '{severity}|{title}|{eventType}|{outcome}|{ip}' };
    const message = { ...rule, subject: '{displayMessage} ({actor} -> {target})' };

    // Act
    const first = formatAlert(placeholders, eventWith({})).subject;
    const second = formatAlert(message, eventWith({})).subject;

    // Assess
    expect(first).toBe('[HIGH] Okta: HIGH|Admin role granted to a user|user.account.privilege.grant|SUCCESS|127.0.0.1');
    expect(second).toBe('[HIGH] Okta: Grant user privilege (bob@acme.com -> jane@acme.com)');
  });

  it(`cuts a long subject to ${MAX_SUBJECT_CHARS} characters with an ellipsis`, () => {
    // Prepare
    const longName = `${'very-long-service-account-name-'.repeat(5)}@acme.com`;

    // Act
    const { subject } = formatAlert(rule, eventWith({ target: [{ ...JANE, alternateId: longName }] }));

    // Assess
    expect(subject).toHaveLength(MAX_SUBJECT_CHARS);
    expect(subject.startsWith('[HIGH] Okta: Admin role granted to very-long-service-account-name-')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('keeps to ASCII: accents dropped, other characters replaced', () => {
    // Prepare
    const actor = { ...BOB, alternateId: 'josé.müller@acme.com' };
    const target = [{ ...JANE, alternateId: '张伟@acme.cn' }];

    // Act
    const { subject } = formatAlert(rule, eventWith({ actor, target }));

    // Assess
    expect(subject).toBe('[HIGH] Okta: Admin role granted to ??@acme.cn by jose.muller@acme.com');
  });

  it.each([
    { raw: 'line one\nline two\r\n\tthree', expected: 'line one line two three' },
    { raw: '  \u0007bell and\u0000null  ', expected: 'bell and null' },
    { raw: 'emoji 🚨 alert', expected: 'emoji ? alert' },
    { raw: 'ﬁle Ⅻ', expected: 'file XII' },
    { raw: '\n\n', expected: 'Okta alert' },
  ])('sanitizes $raw', ({ raw, expected }) => {
    expect(sanitizeSubject(raw)).toBe(expected);
  });

  it('copes with nulls, "null" strings, {} and missing fields', () => {
    // Prepare
    const event = eventWith({
      actor: { id: null, type: 'null', alternateId: 'unknown', displayName: null },
      target: null,
      client: {},
      outcome: null,
      displayMessage: 'null',
      request: {},
      debugContext: {},
    });

    // Act
    const alert = formatAlert({ ...rule, subject: '{target} {actor} {outcome} {ip} {displayMessage}' }, event);

    // Assess
    expect(alert.subject).toBe(
      '[HIGH] Okta: unknown target unknown actor unknown outcome unknown IP user.account.privilege.grant',
    );
    expect(alert.text).toContain('Who:      (unknown)');
    expect(alert.text).toContain('To whom:  (no targets)');
    expect(alert.text).toContain('From:     (unknown)');
    expect(alert.text).toContain('Outcome:  (unknown)');
    expect(alert.text).toContain('What:     user.account.privilege.grant\n');
    expect(alert.json.actor).toBeNull();
    expect(alert.json.targets).toEqual([]);
  });
});

describe('formatAlert text and JSON', () => {
  it('says who, what, to whom, when, from where, the outcome, why, what to do, then the whole event', () => {
    // Prepare
    const event = eventWith({ outcome: { result: 'SUCCESS', reason: 'granted by policy' } });

    // Act
    const { text } = formatAlert(rule, event, { raisedAt: '2026-11-01T09:00:05.000Z' });

    // Assess
    const lines = text.split('\n');
    expect(lines.slice(0, 12)).toEqual([
      'HIGH: Admin role granted to a user',
      '',
      'Who:      Bob Admin <bob@acme.com> (User)',
      'What:     user.account.privilege.grant - Grant user privilege',
      'To whom:  Jane Doe <jane@acme.com> (User)',
      'When:     2023-05-30T14:17:58.126Z',
      'From:     127.0.0.1 - Fictionville, Pennsylvania, United States',
      'Outcome:  SUCCESS - granted by policy',
      'Rule:     admin-role-granted-to-user (high)',
      'Raised:   2026-11-01T09:00:05.000Z',
      '',
      'Why this matters',
    ]);
    expect(text).toContain('What to do\n1. Confirm the grant with the actor.\n2. Remove the role');
    expect(text).toContain(`System Log event ${event.uuid}\n${JSON.stringify(event, null, 2)}`);
  });

  it('gives machines the rule, the event summary and the whole event', () => {
    // Prepare
    const event = eventWith({
      target: [JANE, { id: '00g1', type: 'UserGroup', alternateId: 'null', displayName: 'Admins' }],
    });

    // Act
    const alert = formatAlert(rule, event);

    // Assess
    expect(alert.json).toEqual({
      ruleId: 'admin-role-granted-to-user',
      severity: 'high',
      title: 'Admin role granted to a user',
      eventType: 'user.account.privilege.grant',
      uuid: event.uuid,
      published: event.published,
      subject: alert.subject,
      actor: { id: BOB.id, type: 'User', alternateId: 'bob@acme.com', displayName: 'Bob Admin' },
      targets: [
        { id: JANE.id, type: 'User', alternateId: 'jane@acme.com', displayName: 'Jane Doe' },
        { id: '00g1', type: 'UserGroup', alternateId: null, displayName: 'Admins' },
      ],
      targetsNotShown: 0,
      runbook: rule.runbook,
      event,
      eventLeftOut: false,
    });
    expect(alert.attributes).toEqual({
      severity: 'high',
      eventType: 'user.account.privilege.grant',
      ruleId: 'admin-role-granted-to-user',
    });
  });
});

describe('snsMessage', () => {
  it('builds a JSON message structure: text for people, subject for SMS, JSON for machines', () => {
    // Prepare
    const alert = formatAlert(rule, eventWith({}));

    // Act
    const message = snsMessage(alert);

    // Assess
    const structure = JSON.parse(message.Message);
    expect(message.Subject).toBe(alert.subject);
    expect(message.MessageStructure).toBe('json');
    expect(Object.keys(structure).sort()).toEqual(['default', 'email', 'http', 'https', 'lambda', 'sms', 'sqs']);
    expect(structure.default).toBe(alert.text);
    expect(structure.email).toBe(alert.text);
    expect(structure.sms).toBe(alert.subject);
    for (const protocol of ['sqs', 'lambda', 'https', 'http']) {
      expect(JSON.parse(structure[protocol])).toEqual(JSON.parse(JSON.stringify(alert.json)));
    }
    expect(JSON.parse(structure.sqs)).toMatchObject({
      ruleId: 'admin-role-granted-to-user',
      severity: 'high',
      title: 'Admin role granted to a user',
      eventType: 'user.account.privilege.grant',
      subject: alert.subject,
      runbook: rule.runbook,
    });
    expect(message.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'high' },
      eventType: { DataType: 'String', StringValue: 'user.account.privilege.grant' },
      ruleId: { DataType: 'String', StringValue: 'admin-role-granted-to-user' },
    });
  });

  it('leaves an oversized event out of the JSON copies, says so, and keeps the text whole', () => {
    // Prepare
    const bulky = 'x'.repeat(120_000);
    const alert = formatAlert(rule, eventWith({ debugContext: { debugData: { bulky } } }));

    // Act
    const message = snsMessage(alert);

    // Assess
    const structure = JSON.parse(message.Message);
    expect(publishBytes(message)).toBeLessThanOrEqual(262_144);
    expect(JSON.parse(structure.sqs)).toMatchObject({ uuid: alert.json.uuid, event: null, eventLeftOut: true });
    expect(structure.default).toBe(alert.text);
    expect(structure.default).toContain(`cut at ${MAX_EVENT_TEXT_BYTES} bytes; the archive holds the whole event`);
  });
});
