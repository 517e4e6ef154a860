import { describe, expect, it } from 'vitest';
import type { FormattedAlert } from '../../../lambdas/alert/format-alert.ts';
import { type AlertPublisher, handleAlertMessage } from '../../../lambdas/alert/process-alert.ts';
import type { AlertQueueMessage } from '../../../lambdas/shared/alert-message.ts';
import { fixtureEnvelope } from '../../support/events.ts';
import { expectDeliverable, FIELDS, MISSING, withField } from './alert-checks.ts';

const NOW = Date.parse('2026-11-01T09:00:05.000Z');
/** The fixture event's core, which every case keeps. */
const CORE = { uuid: 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', published: '2023-05-30T14:17:58.126Z' };

const RULE: AlertQueueMessage['rule'] = {
  id: 'admin-role-granted-to-user',
  title: 'Admin role granted to a user',
  severity: 'high',
  description: 'A user was given an Okta admin role.',
  runbook: '1. Confirm the grant with the actor.\n2. Remove the role if nobody vouches for it.',
  subject: 'Admin role granted to {target} by {actor} ({outcome}, {ip}, {displayMessage})',
};

/** The fixture's event, with a target list and an IP chain so that every documented path exists. */
const baseDetail = (): Record<string, unknown> => ({
  ...fixtureEnvelope().detail,
  eventType: 'user.account.privilege.grant',
  target: [{ id: '00u9z8y7x6w5v4u3t2s1', type: 'User', alternateId: 'jane@acme.com', displayName: 'Jane Doe' }],
  request: {
    ipChain: [{ ip: '127.0.0.1', geographicalContext: { city: 'Fictionville', country: 'United States' } }],
  },
});

/** What each field is replaced with; huge and multibyte strings also carry control and bidi characters. */
const SHAPES: ReadonlyArray<readonly [string, unknown]> = [
  ['missing', MISSING],
  ['a number', 41.1286],
  ['a string', 'plain text'],
  ['a boolean', true],
  ['null', null],
  ['an array', [1, 'two', { three: 3 }, null]],
  ['an object', { nested: { deeper: ['x', 2] }, reason: 'not a reason' }],
  ['a huge string', `${'x'.repeat(200_000)}\n\u001b[2J\u202e`],
  ['a multibyte string', '张伟😀é\u2066'.repeat(20_000)],
];

const message = (detail: Record<string, unknown>): AlertQueueMessage => ({
  rule: RULE,
  event: { ...fixtureEnvelope(), detail } as AlertQueueMessage['event'],
});

/**
 * Runs the alert use case on one event, as the Lambda does, and returns what it published. `body` replaces the
 * message text when it cannot be built with JSON.stringify (nesting too deep for it).
 */
async function publishedFor(
  detail: Record<string, unknown>,
  body = JSON.stringify(message(detail)),
): Promise<FormattedAlert> {
  const published: FormattedAlert[] = [];
  const publisher: AlertPublisher = { publish: async (alert) => void published.push(alert) };
  const claims = { claim: async () => true, release: async () => {} };
  const quarantine = { put: async () => {}, get: async () => undefined };
  const outcome = await handleAlertMessage(body, 'message-1', {
    claims,
    publisher,
    quarantine,
    pin: {},
    now: () => NOW,
  });
  expect(outcome.kind).toBe('published');
  expect(published).toHaveLength(1);
  const [alert] = published;
  if (alert === undefined) throw new Error('nothing published');
  return alert;
}

describe('alerts for events of any shape', () => {
  it.each(FIELDS.map((path) => ({ field: path.join('.'), path })))(
    'raises a deliverable alert whatever $field holds',
    async ({ path }) => {
      for (const [, value] of SHAPES) {
        // Prepare
        const detail = withField(baseDetail(), path, value);

        // Act
        const alert = await publishedFor(detail);

        // Assess
        expectDeliverable(alert, CORE);
        expect(alert.json).toMatchObject({ uuid: detail.uuid, eventType: 'user.account.privilege.grant' });
      }
    },
  );

  it('shows numbers where Okta writes strings, and a lone target object as the target', async () => {
    // Prepare
    const detail = {
      ...baseDetail(),
      actor: { id: 12345, type: 'User', alternateId: 'bob@acme.com', displayName: 678 },
      target: { id: '00g1', type: 'UserGroup', alternateId: 'null', displayName: 'Admins' },
      client: { ipAddress: '10.0.0.1', geographicalContext: { geolocation: { lat: '41.1', lon: '-73.4' } } },
      outcome: { result: 'SUCCESS', reason: { code: 'E0001', text: 'policy' } },
    };

    // Act
    const alert = await publishedFor(detail);

    // Assess
    expect(alert.text).toContain('Who:      678 <bob@acme.com> (User)\n');
    expect(alert.text).toContain('To whom:  Admins (UserGroup)\n');
    expect(alert.text).toContain('From:     10.0.0.1\n');
    expect(alert.text).toContain('Outcome:  SUCCESS\n');
    expect(alert.subject).toBe(
      '[HIGH] Okta: Admin role granted to Admins by bob@acme.com (SUCCESS, 10.0.0.1, User accessing Okt...',
    );
    expect(alert.json.actor).toEqual({ id: '12345', type: 'User', alternateId: 'bob@acme.com', displayName: '678' });
    expect(alert.json.targets).toEqual([{ id: '00g1', type: 'UserGroup', alternateId: null, displayName: 'Admins' }]);
  });

  it('cannot forge a line or a section: line breaks, ESC sequences and bidi overrides show escaped', async () => {
    // Prepare
    const forged = 'mallory@acme.com\nOutcome:  FAILURE - nothing happened\n\nWhat to do\nNothing; close this.';
    const detail = {
      ...baseDetail(),
      actor: { id: '00u1', type: 'User', alternateId: forged, displayName: 'Mallory\u001b[8m' },
      target: [{ id: '00u2', type: 'User', alternateId: 'jane@acme.com', displayName: 'Jane\u202e\u2066\u0085\u007f' }],
      displayMessage: 'Grant\r\nuser\u2028privilege',
    };

    // Act
    const alert = await publishedFor(detail);

    // Assess
    const lines = alert.text.split('\n');
    expect(lines.filter((line) => line.startsWith('Outcome:'))).toEqual(['Outcome:  SUCCESS']);
    expect(lines.filter((line) => line === 'What to do')).toHaveLength(1);
    expect(alert.text).toContain(
      'Who:      Mallory\\u001b[8m <mallory@acme.com\\nOutcome:  FAILURE - nothing happened\\n\\nWhat to do\\n' +
        'Nothing; close this.> (User)\n',
    );
    expect(alert.text).toContain('To whom:  Jane\\u202e\\u2066\\u0085\\u007f <jane@acme.com> (User)\n');
    expect(alert.text).toContain('What:     user.account.privilege.grant - Grant\\r\\nuser\\u2028privilege\n');
    expect(alert.text).toContain('"displayName": "Jane\\u202e\\u2066\\u0085\\u007f"');
    expect(alert.subject).toBe(
      '[HIGH] Okta: Admin role granted to jane@acme.com by mallory@acme.com\\nOutcome: FAILURE - nothing...',
    );
    expectDeliverable(alert, CORE);
  });

  it('lists ten targets in the text and says how many more there are; the JSON says how many it left out', async () => {
    // Prepare
    const target = Array.from({ length: 5_000 }, (_, i) => ({ id: `00u${i}`, type: 'User', displayName: `User ${i}` }));

    // Act
    const alert = await publishedFor({ ...baseDetail(), target });

    // Assess
    expect(alert.text).toMatch(
      /To whom: {2}User 0 \(User\); .*; User 9 \(User\); \.\.\. 4990 more targets not shown\n/,
    );
    expect(alert.json.targets).toHaveLength(100);
    expect(alert.json.targetsNotShown).toBe(4_900);
    const structure = expectDeliverable(alert, CORE);
    expect(JSON.parse(structure.sqs ?? '')).toMatchObject({ event: null, eventLeftOut: true });
  });

  it('cuts a long field with a note of how much it left out, never inside a surrogate pair', async () => {
    // Prepare
    const alternateId = `a${'😀'.repeat(300)}`;

    // Act
    const alert = await publishedFor({ ...baseDetail(), actor: { alternateId } });

    // Assess
    expect(alert.json.actor?.alternateId).toBe(`a${'😀'.repeat(127)}... (173 more characters)`);
    expect(alert.text).toContain(`Who:      (unnamed) <a${'😀'.repeat(127)}... (173 more characters)>\n`);
  });

  it('fits an event that fills an SQS message with multibyte text, cut with a note naming the uuid', async () => {
    // Prepare
    const detail = { ...baseDetail(), debugContext: { debugData: { note: '张😀\u202e'.repeat(26_000) } } };

    // Act
    const alert = await publishedFor(detail);

    // Assess
    const structure = expectDeliverable(alert, CORE);
    expect(structure.email).toContain('\\u202e');
    expect(structure.email).toMatch(/the archive holds the whole event, uuid c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b\)$/);
    expect(JSON.parse(structure.sqs ?? '')).toMatchObject({ event: null, eventLeftOut: true });
  });

  it('leaves out an event nested too deeply for JSON, and still alerts', async () => {
    // Prepare: 20,000 levels of arrays, written as text (JSON.parse reads it; JSON.stringify could not write it).
    const deep = `${'['.repeat(20_000)}"bottom"${']'.repeat(20_000)}`;
    const detail = { ...baseDetail(), debugContext: 'DEEP' };
    const body = JSON.stringify(message(detail)).replace('"debugContext":"DEEP"', `"debugContext":${deep}`);

    // Act
    const alert = await publishedFor(detail, body);

    // Assess
    expect(alert.text).toContain('(the event is nested too deeply to show here; the archive holds the whole event');
    expect(alert.json).toMatchObject({ event: null, eventLeftOut: true });
    expectDeliverable(alert, CORE);
  });
});
