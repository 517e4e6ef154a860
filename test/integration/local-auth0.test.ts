import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSample } from '../../lib/local/sample-stream.ts';
import { partsAreSorted, readArchiveDir } from '../support/pipeline.ts';
import { linesOf, runOlp, tempDir } from '../support/run-cli.ts';

/**
 * Okta events and Auth0 logs in one input, as a team with both would replay them: each source goes its own way
 * through the local pipeline (its own ingest and events table, its own part of the archive, its own chain), once each,
 * in order, and the Auth0 rules alert on the Auth0 logs with the same alert shape.
 */

const temp = tempDir('local-auth0');
afterAll(() => temp.remove());

const seeded = (seed: number) => {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) | 0;
    return (state >>> 0) / 2 ** 32;
  };
};

const failedLogin = (
  JSON.parse(readFileSync(new URL('../fixtures/auth0/auth0-failed-login.json', import.meta.url), 'utf8')) as {
    matches: Array<{ envelope: Record<string, unknown> & { detail: { data: Record<string, unknown> } } }>;
  }
).matches[0]?.envelope;

/** Each scenario runs on the in-process store (the default) and on the stand-ins, dynalite and fauxqs. */
const STORES = [
  ['in-process', []],
  ['stand-ins', ['--stand-ins']],
] as const;

describe.each(STORES)('olp local with Auth0 logs beside Okta events, on the %s store', (store, storeArgs) => {
  it('archives each Auth0 log once under auth0/, in order, and alerts on them once, however duplicated and shuffled', async () => {
    if (failedLogin === undefined) throw new Error('the fixture has no envelope');
    const okta = generateSample({ count: 200, seed: 21 });
    const start = Date.parse(String(okta.uniqueEvents[0] && (okta.uniqueEvents[0] as { published: string }).published));
    const logs = Array.from({ length: 60 }, (_, i) => ({
      log_id: `9002026${String(i).padStart(20, '0')}`,
      data: {
        ...failedLogin.detail.data,
        date: new Date(start + i * 7_000).toISOString(),
        type: i % 2 === 0 ? 'fp' : 's',
      },
    }));
    // Half as bare logs, half in their EventBridge envelope; each once to three times; all shuffled together.
    const records: unknown[] = [...okta.deliveries];
    for (const [i, log] of logs.entries()) {
      const record = i % 2 === 0 ? log : { ...failedLogin, id: `env-${i}`, detail: log };
      for (let copy = 0; copy <= i % 3; copy++) records.push(record);
    }
    const random = seeded(8);
    const shuffled = records
      .map((record) => ({ record, key: random() }))
      .sort((a, b) => a.key - b.key)
      .map(({ record }) => record);
    const input = join(temp.dir, `mixed-${store}.jsonl`);
    await writeFile(input, `${shuffled.map((record) => JSON.stringify(record)).join('\n')}\n`);
    const archiveDir = join(temp.dir, `archive-${store}`);

    const run = await runOlp([
      'local',
      ...storeArgs,
      '--events',
      input,
      '--json',
      '--lateness',
      '0',
      '--archive-dir',
      archiveDir,
    ]);

    expect(run.code).toBe(0);
    const contents = await readArchiveDir(archiveDir);
    const ids = contents.lines.map((line) => JSON.parse(line) as { uuid?: string; log_id?: string });
    const auth0Ids = ids.flatMap((event) => (event.log_id === undefined ? [] : [event.log_id]));
    expect(auth0Ids.sort()).toEqual(logs.map((log) => log.log_id).sort());
    const oktaIds = ids.flatMap((event) => (event.uuid === undefined ? [] : [event.uuid]));
    expect(new Set(oktaIds).size).toBe(oktaIds.length);
    expect(oktaIds).toHaveLength(okta.uniqueEvents.length);
    // Each source in its own part of the archive, with its own chain.
    const windows = [...contents.windows.keys()];
    expect(windows.filter((key) => key.startsWith('auth0/archive/')).length).toBeGreaterThan(0);
    expect(windows.every((key) => key.startsWith('archive/') || key.startsWith('auth0/archive/'))).toBe(true);
    for (const [key, window] of contents.windows) {
      const auth0Window = key.startsWith('auth0/');
      for (const part of window.parts) {
        expect(part.every((event) => 'log_id' in event === auth0Window)).toBe(true);
      }
    }
    expect(
      partsAreSorted({
        ...contents,
        windows: new Map([...contents.windows].filter(([key]) => !key.startsWith('auth0/'))),
      }),
    ).toBe(true);
    expect(contents.orphans.filter((key) => !key.startsWith('auth0/digests/') && !key.startsWith('digests/'))).toEqual(
      [],
    );
    // Auth0 alerts: once per failed login, keyed by log_id, typed by data.type.
    const alerts = linesOf(run.stdout).map(
      (line) => JSON.parse(line) as { ruleId: string; uuid: string; eventType: string },
    );
    const auth0Alerts = alerts.filter((alert) => alert.ruleId === 'auth0-failed-login');
    expect(auth0Alerts.map((alert) => alert.uuid).sort()).toEqual(
      logs
        .filter((log) => log.data.type === 'fp')
        .map((log) => log.log_id)
        .sort(),
    );
    expect(auth0Alerts.every((alert) => alert.eventType === 'fp')).toBe(true);
  }, 180_000);

  it('replays olp sample --source auth0 (duplicated, out of order) into auth0/, each log once', async () => {
    const sample = await runOlp(['sample', '--source', 'auth0', '--count', '300', '--seed', '3']);
    expect(sample.code).toBe(0);
    const deliveries = linesOf(sample.stdout).map((line) => JSON.parse(line) as { detail: { log_id: string } });
    const unique = new Set(deliveries.map((delivery) => delivery.detail.log_id));
    expect(unique.size).toBe(300);
    expect(deliveries.length).toBeGreaterThan(300);
    const input = join(temp.dir, `auth0-sample-${store}.jsonl`);
    await writeFile(input, sample.stdout);
    const archiveDir = join(temp.dir, `auth0-sample-archive-${store}`);

    const run = await runOlp(['local', ...storeArgs, '--events', input, '--json', '--archive-dir', archiveDir]);

    expect(run.code).toBe(0);
    const contents = await readArchiveDir(archiveDir);
    const archived = contents.lines.map((line) => (JSON.parse(line) as { log_id: string }).log_id);
    expect(archived.sort()).toEqual([...unique].sort());
    expect([...contents.windows.keys()].every((key) => key.startsWith('auth0/archive/'))).toBe(true);
    expect(await runOlp(['sample', '--source', 'constructor'])).toMatchObject({ code: 2 });
  }, 120_000);
});
