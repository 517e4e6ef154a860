import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FormattedAlert } from '../../../lambdas/alert/format-alert.ts';
import { handleAlertMessage } from '../../../lambdas/alert/process-alert.ts';
import type { ArchiveStore } from '../../../lambdas/shared/ports.ts';

/**
 * Auth0 logs through the alert path: the same message shape, claimed per (rule, log_id), formatted from the log's own
 * fields. Claims, topic and quarantine are in memory here (the handler tests cover their DynamoDB, SNS and S3 adapters
 * on the stand-ins).
 */

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/auth0/auth0-failed-login.json', import.meta.url), 'utf8'),
) as {
  matches: Array<{
    envelope: Record<string, unknown> & { source: string; account: string; detail: { log_id: string } };
  }>;
};
const envelope = fixture.matches[0]?.envelope;
if (envelope === undefined) throw new Error('the fixture has no matching envelope');
const OKTA_SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const RULE = {
  id: 'auth0-failed-login',
  title: 'Auth0 failed login',
  severity: 'info' as const,
  description: 'A login failed.',
  runbook: 'Look at the user.',
};

const deps = () => {
  const claims = new Set<string>();
  const published: FormattedAlert[] = [];
  const quarantined: string[] = [];
  const store: ArchiveStore = {
    put: async (key) => {
      quarantined.push(key);
    },
    get: async () => undefined,
  };
  return {
    published,
    quarantined,
    deps: {
      claims: {
        claim: async (ruleId: string, uuid: string) =>
          !claims.has(`${ruleId}#${uuid}`) && Boolean(claims.add(`${ruleId}#${uuid}`)),
        release: async (ruleId: string, uuid: string) => {
          claims.delete(`${ruleId}#${uuid}`);
        },
      },
      publisher: { publish: async (alert: FormattedAlert) => void published.push(alert) },
      quarantine: store,
      pin: { source: [OKTA_SOURCE, envelope.source], account: envelope.account },
      now: () => Date.parse('2026-11-08T09:01:05Z'),
    },
  };
};

describe('an Auth0 log on the alert path', () => {
  it('alerts once per rule and log_id, named from the log: Auth0 in the subject, the user, the app, the IP', async () => {
    const { deps: d, published } = deps();
    const body = JSON.stringify({ rule: RULE, event: envelope });

    const first = await handleAlertMessage(body, 'm1', d);
    const again = await handleAlertMessage(body, 'm2', d);

    expect(first).toEqual({ kind: 'published', ruleId: RULE.id, uuid: envelope.detail.log_id });
    expect(again.kind).toBe('duplicate');
    expect(published).toHaveLength(1);
    const [alert] = published;
    expect(alert?.subject).toBe('[INFO] Auth0: Auth0 failed login: Acme Web by jane@acme.example');
    expect(alert?.json).toMatchObject({
      eventType: 'fp',
      uuid: envelope.detail.log_id,
      published: '2026-11-08T09:01:00.125Z',
    });
    expect(alert?.text).toContain('203.0.113.45');
  });

  it('quarantines an Auth0 log from a tenant that is not pinned, and an invalid one, without alerting', async () => {
    const { deps: d, published, quarantined } = deps();
    const otherTenant = { ...envelope, source: 'aws.partner/auth0.com/other-tenant/auth0.logs' };
    const noDate = { ...envelope, detail: { ...envelope.detail, data: { type: 'fp' } } };

    const outcomes = [
      await handleAlertMessage(JSON.stringify({ rule: RULE, event: otherTenant }), 'm1', d),
      await handleAlertMessage(JSON.stringify({ rule: RULE, event: noDate }), 'm2', d),
    ];

    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['rejected', 'rejected']);
    expect(outcomes[0]).toMatchObject({
      reason: expect.stringContaining('not from the pinned source: source: must be'),
    });
    expect(outcomes[1]).toMatchObject({ reason: expect.stringContaining('invalid Auth0 log in detail: data.date') });
    expect(published).toEqual([]);
    expect(quarantined).toHaveLength(2);
  });
});
