import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirArchiveSource } from '../../lib/archive/archive-reader.ts';
import { HUNT_SOURCES, type HuntAlert, huntArchive } from '../../lib/hunt/hunt-archive.ts';
import { generateAuth0Sample } from '../../lib/local/auth0-sample.ts';
import { generateSample } from '../../lib/local/sample-stream.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import { linesOf, runOlp, tempDir } from '../support/run-cli.ts';

/**
 * `olp hunt` over an archive that `olp local` wrote: the single-event alerts are the ones `olp local` raised on the
 * same input, and stateful rules find the attacks planted in it.
 */

const EVENT_SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const workspace = tempDir('hunt');
const archiveDir = join(workspace.dir, 'archive');
const stateful = new Set(
  loadRules()
    .filter((rule) => rule.kind !== undefined)
    .map((rule) => rule.id),
);

/** Ten failed sign-ins of one user from one IP, a minute apart, inside one aligned ten-minute window, after the sample. */
const bruteForce = Array.from({ length: 10 }, (_, i) => {
  const published = new Date(Date.parse('2026-11-01T11:20:30Z') + i * 60_000).toISOString();
  return {
    version: '0',
    id: `4d1d0c7e-0000-4000-8000-${String(i).padStart(12, '0')}`,
    'detail-type': 'SystemLog',
    source: EVENT_SOURCE,
    account: '123456789012',
    time: published,
    region: 'us-east-1',
    resources: [],
    detail: {
      uuid: `9e3a1c52-0000-4000-8000-${String(i).padStart(12, '0')}`,
      published,
      eventType: 'user.session.start',
      displayMessage: 'User login to Okta',
      actor: { id: '00u9', type: 'User', alternateId: 'target@acme.com', displayName: 'Target' },
      client: { ipAddress: '198.51.100.66' },
      outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' },
    },
  };
});

let localAlerts: string[] = [];

beforeAll(async () => {
  const sample = generateSample({ count: 3000, seed: 11 });
  const input = join(workspace.dir, 'events.jsonl');
  writeFileSync(input, [...sample.deliveries, ...bruteForce].map((d) => JSON.stringify(d)).join('\n'));
  const local = await runOlp(['local', '--events', input, '--archive-dir', archiveDir, '--json']);
  expect(local.code, local.stderr).toBe(0);
  localAlerts = linesOf(local.stdout);
}, 120_000);

afterAll(() => workspace.remove());

const singleEvent = (lines: readonly string[]) =>
  lines
    .map((line) => JSON.parse(line) as { ruleId: string; uuid: string })
    .filter((alert) => !stateful.has(alert.ruleId))
    .map((alert) => `${alert.ruleId} ${alert.uuid}`)
    .sort();

describe('olp hunt', () => {
  it('raises the single-event alerts olp local raised on the same input', async () => {
    const hunt = await runOlp(['hunt', '--archive-dir', archiveDir, '--json']);
    expect(hunt.code, hunt.stderr).toBe(0);
    const expected = singleEvent(localAlerts);
    expect(expected.length).toBeGreaterThan(0);
    expect(singleEvent(linesOf(hunt.stdout))).toEqual(expected);
  });

  it('finds what stateful rules detect across events: the planted brute force, once', async () => {
    const hunt = await runOlp(['hunt', '--archive-dir', archiveDir, '--json']);
    const detections = linesOf(hunt.stdout)
      .map((line) => JSON.parse(line) as { ruleId: string; subject: string; published: string })
      .filter((alert) => alert.ruleId === 'brute-force-by-user' && alert.subject.includes('target@acme.com'));
    expect(detections).toEqual([
      expect.objectContaining({
        published: '2026-11-01T11:20:00.000Z',
        subject: expect.stringContaining('target@acme.com'),
      }),
    ]);
  });

  it('hunts an Auth0 archive (its lines are logs with log_id and data.date) as olp local alerted on it', async () => {
    const auth0Dir = join(workspace.dir, 'auth0-archive');
    const input = join(workspace.dir, 'auth0.jsonl');
    writeFileSync(
      input,
      generateAuth0Sample({ count: 400, seed: 5 })
        .deliveries.map((d) => JSON.stringify(d))
        .join('\n'),
    );
    const local = await runOlp(['local', '--events', input, '--archive-dir', auth0Dir, '--json']);
    expect(local.code, local.stderr).toBe(0);
    const hunt = await runOlp(['hunt', '--archive-dir', join(auth0Dir, 'auth0'), '--json']);
    expect(hunt.code, hunt.stderr).toBe(0);
    expect(hunt.stderr).toMatch(/olp hunt: 400 events/);
    const expected = singleEvent(linesOf(local.stdout));
    expect(expected.length).toBeGreaterThan(0);
    expect(singleEvent(linesOf(hunt.stdout))).toEqual(expected);
  });

  it('hunts windows on threads exactly as on this thread: the same alerts in the same order, the same problems', async () => {
    // A copy of the archive with one part altered, so that a problem is reported too.
    const copy = join(workspace.dir, 'threads-archive');
    cpSync(archiveDir, copy, { recursive: true });
    const parts = readdirSync(copy, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.jsonl.gz'));
    const altered = join(copy, parts.sort()[0] as string);
    const bytes = readFileSync(altered);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
    writeFileSync(altered, bytes);

    const rules = compileRules(loadRules(), HUNT_SOURCES);
    const hunt = async (threads: number) => {
      const alerts: HuntAlert[] = [];
      const result = await huntArchive({
        source: new DirArchiveSource(copy),
        range: { since: Number.NEGATIVE_INFINITY, until: Number.POSITIVE_INFINITY },
        rules,
        onAlert: (alert) => alerts.push(alert),
        threads,
      });
      return { result, alerts };
    };
    const [here, threaded] = [await hunt(0), await hunt(2)];
    expect(here.result.problems).toEqual([expect.objectContaining({ reason: expect.stringMatching(/SHA-256/) })]);
    expect(here.alerts.some((alert) => alert.ruleId === 'brute-force-by-user')).toBe(true);
    expect(here.alerts.some((alert) => !stateful.has(alert.ruleId))).toBe(true);
    expect(threaded).toEqual(here);
  });

  it('hunts only the range asked for', async () => {
    const hunt = await runOlp(['hunt', '--archive-dir', archiveDir, '--json', '--since', '2027-01-01T00:00:00Z']);
    expect(hunt.code, hunt.stderr).toBe(0);
    expect(hunt.stdout).toBe('');
    expect(hunt.stderr).toMatch(/olp hunt: 0 events/);
  });

  it('refuses a missing archive and bad dates with a clear error', async () => {
    const missing = await runOlp(['hunt', '--archive-dir', join(workspace.dir, 'nowhere')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/nowhere/);
    const badDate = await runOlp(['hunt', '--archive-dir', archiveDir, '--since', 'yesterday']);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toMatch(/--since must be an ISO-8601/);
  });
});
