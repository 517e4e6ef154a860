import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnvelope } from '../../lib/local/event-input.ts';
import { generateSample } from '../../lib/local/sample-stream.ts';
import { compileRules, loadRules, matchingRules } from '../../lib/rules/index.ts';
import { FAKE_OKTA_TOKEN, type FakeOkta, startFakeOkta } from '../support/fake-okta.ts';
import { partsAreSorted, readArchiveDir } from '../support/pipeline.ts';
import { linesOf, runOlp, tempDir } from '../support/run-cli.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const temp = tempDir('local');
afterAll(() => temp.remove());
let n = 0;
const dir = (name: string) => join(temp.dir, `${name}-${n++}`);

/** A seeded Fisher-Yates shuffle: a stream fully out of order, not just locally. */
const shuffled = <T>(items: readonly T[], seed: number): T[] => {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) | 0;
    const j = (state >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};

const jsonl = (records: readonly unknown[]) => `${records.map((record) => JSON.stringify(record)).join('\n')}\n`;

/** The summary's counts, read back from its text. */
const summaryCounts = (text: string) => {
  const count = (label: string) => Number(new RegExp(`${label}\\s+([\\d,]+)`).exec(text)?.[1]?.replaceAll(',', ''));
  return {
    read: count('events read'),
    staged: count('unique \\(staged\\)'),
    duplicates: count('duplicates dropped'),
    quarantined: count('quarantined'),
    alerts: count('alerts'),
    archived: count('events archived'),
  };
};

/** Each scenario runs on the in-process store (the default) and on the stand-ins, dynalite and fauxqs. */
const STORES = [
  ['in-process', [], 'store: in this process'],
  ['stand-ins', ['--stand-ins'], 'store: dynalite and fauxqs'],
] as const;

describe.each(STORES)('olp local on the %s store', (_, storeArgs, storeLine) => {
  const sample = generateSample({ count: 400, seed: 11 });

  it('alerts once per rule and event and archives each event once, however shuffled and redelivered', async () => {
    // Prepare: every event 1-4 times (the sample's duplicates plus more copies), fully shuffled, over more than one
    // chunk of the runner's input; with no allowed lateness, events first seen after a chunk arrive after their
    // window was sealed.
    const deliveries = shuffled(
      [
        ...sample.deliveries,
        ...sample.deliveries.filter((_, i) => i % 3 === 0),
        ...sample.deliveries,
        ...sample.deliveries.filter((_, i) => i % 2 === 0),
      ],
      5,
    );
    const events = join(temp.dir, 'shuffled.jsonl');
    await writeFile(events, jsonl(deliveries));
    const archiveDir = dir('archive');
    // Single-event rules: one alert per rule and event. Stateful rules are checked below for once per group and window.
    const rules = compileRules(loadRules(), SOURCE).filter((rule) => rule.detect === undefined);
    const stateful = new Set(loadRules().flatMap((rule) => (rule.kind === undefined ? [] : [rule.id])));
    const expected = sample.uniqueEvents.flatMap((event) => {
      const wrapped = toEnvelope(event, SOURCE);
      const uuid = (event as { uuid: string }).uuid;
      return 'envelope' in wrapped ? matchingRules(rules, wrapped.envelope).map((rule) => `${rule.id} ${uuid}`) : [];
    });

    // Act
    const run = await runOlp([
      'local',
      ...storeArgs,
      '--events',
      events,
      '--json',
      '--lateness',
      '0',
      '--archive-dir',
      archiveDir,
    ]);

    // Assess
    expect(run.code).toBe(0);
    const alerts = linesOf(run.stdout).map((line) => JSON.parse(line));
    for (const alert of alerts) {
      expect(Object.keys(alert).sort()).toEqual(['eventType', 'published', 'ruleId', 'severity', 'subject', 'uuid']);
    }
    const single = alerts.filter((alert) => !stateful.has(alert.ruleId));
    expect(single.map((alert) => `${alert.ruleId} ${alert.uuid}`).sort()).toEqual(expected.sort());
    const detections = alerts.filter((alert) => stateful.has(alert.ruleId)).map((a) => `${a.ruleId} ${a.uuid}`);
    expect(new Set(detections).size).toBe(detections.length);
    expect(alerts.some((alert) => alert.ruleId === 'log-stream-deactivated' && alert.severity === 'critical')).toBe(
      true,
    );
    const archive = await readArchiveDir(archiveDir);
    expect(archive.lines.map((line) => JSON.parse(line).uuid).sort()).toEqual(
      sample.uniqueEvents.map((event) => (event as { uuid: string }).uuid).sort(),
    );
    expect(new Set(archive.lines).size).toBe(sample.uniqueEvents.length);
    expect(partsAreSorted(archive)).toBe(true);
    expect(archive.orphans).toEqual([]);
    expect([...archive.windows.values()].some((w) => w.manifest.parts.some((part) => part.kind === 'late'))).toBe(true);
    const counts = summaryCounts(run.stderr);
    expect(counts).toMatchObject({ read: deliveries.length, staged: 400, quarantined: 0, archived: 400 });
    expect(counts.staged + counts.duplicates + counts.quarantined).toBe(counts.read);
  });

  it('reads gzipped JSON Lines and prints readable alerts and a summary whose counts add up', async () => {
    // Prepare
    const events = join(temp.dir, 'sample.jsonl.gz');
    await writeFile(events, gzipSync(jsonl(sample.deliveries)));

    // Act
    const run = await runOlp(['local', ...storeArgs, '--events', events, '--archive-dir', dir('archive')]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\[CRITICAL\] Okta: Log stream .* deactivated .*\(log-stream-deactivated\)/);
    const counts = summaryCounts(run.stdout);
    expect(counts.read).toBe(sample.deliveries.length);
    expect(counts.staged).toBe(400);
    expect(counts.staged + counts.duplicates + counts.quarantined).toBe(counts.read);
    expect(counts.archived).toBe(counts.staged);
    expect(run.stdout).toContain(storeLine);
  });

  it('reads stdin and quarantines bad lines with their line numbers, exit code 0', async () => {
    // Prepare
    const [first, second] = sample.uniqueEvents as Array<Record<string, unknown>>;
    const input = [
      JSON.stringify(first),
      '{"uuid": "truncated',
      JSON.stringify({ ...second, published: 'last tuesday' }),
      '',
      JSON.stringify(second),
      '42',
    ].join('\n');
    const archiveDir = dir('archive');

    // Act
    const run = await runOlp(['local', ...storeArgs, '--events', '-', '--archive-dir', archiveDir], { stdin: input });

    // Assess
    expect(run.code).toBe(0);
    const counts = summaryCounts(run.stdout);
    expect(counts).toMatchObject({ read: 5, staged: 2, duplicates: 0, quarantined: 3, archived: 2 });
    const archive = await readArchiveDir(archiveDir);
    const quarantined = archive.quarantine
      .map((q) => q.record)
      .sort((a, b) => Number((a.origin as { line: number }).line) - Number((b.origin as { line: number }).line));
    expect(quarantined.map((q) => (q.origin as { line: number }).line)).toEqual([2, 3, 6]);
    expect(quarantined[0]?.reason).toMatch(/JSON/);
    expect(quarantined[1]?.reason).toContain('published');
    expect(quarantined[1]?.raw).toContain('last tuesday');
  });

  it('keeps dedupe records and alert claims in --data-dir between runs', async () => {
    // Prepare
    const events = join(temp.dir, 'twice.jsonl');
    await writeFile(events, jsonl(sample.deliveries.slice(0, 300)));
    const dataDir = dir('data');
    const archiveDir = dir('archive');
    const args = [
      'local',
      ...storeArgs,
      '--events',
      events,
      '--json',
      '--archive-dir',
      archiveDir,
      '--data-dir',
      dataDir,
    ];

    // Act
    const first = await runOlp(args);
    const second = await runOlp(args);

    // Assess
    expect(summaryCounts(first.stderr).staged).toBeGreaterThan(0);
    expect(summaryCounts(second.stderr)).toMatchObject({ staged: 0, quarantined: 0 });
    expect(summaryCounts(second.stderr).duplicates).toBe(300);
    expect(second.stdout).toBe('');
    // Dedupe records live in dynalite's files there, whichever store was asked for.
    expect(second.stderr).toContain('store: dynalite and fauxqs');
  });

  it('adds to an archive directory that holds other events for the same windows, never rewriting what it holds', async () => {
    // Prepare
    const archiveDir = dir('archive');
    const [first, second] = [sample.uniqueEvents.slice(0, 20), sample.uniqueEvents.slice(5, 25)];
    await writeFile(join(temp.dir, 'first.jsonl'), jsonl(first ?? []));
    await writeFile(join(temp.dir, 'second.jsonl'), jsonl(second ?? []));
    await runOlp(['local', ...storeArgs, '--events', join(temp.dir, 'first.jsonl'), '--archive-dir', archiveDir]);
    const before = await readArchiveDir(archiveDir);

    // Act
    const run = await runOlp([
      'local',
      ...storeArgs,
      '--events',
      join(temp.dir, 'second.jsonl'),
      '--archive-dir',
      archiveDir,
    ]);

    // Assess: the second run's new events are supplements; every part the first run wrote is untouched.
    expect(run.code).toBe(0);
    const after = await readArchiveDir(archiveDir);
    expect(after.lines.map((line) => JSON.parse(line).uuid).sort()).toEqual(
      sample.uniqueEvents
        .slice(0, 25)
        .map((event) => (event as { uuid: string }).uuid)
        .sort(),
    );
    for (const [prefix, window] of before.windows) {
      expect(after.windows.get(prefix)?.manifest.parts.slice(0, window.manifest.parts.length)).toEqual(
        window.manifest.parts,
      );
    }
  });

  it('stops with one line naming the window when the archive directory holds a damaged manifest', async () => {
    // Prepare
    const archiveDir = dir('archive');
    const events = join(temp.dir, 'few.jsonl');
    await writeFile(events, jsonl(sample.uniqueEvents.slice(0, 3)));
    await runOlp(['local', ...storeArgs, '--events', events, '--archive-dir', archiveDir]);
    const [prefix] = (await readArchiveDir(archiveDir)).windows.keys();
    await writeFile(join(archiveDir, `${prefix}manifest.json`), '{"damaged": true}');
    await writeFile(events, jsonl(sample.uniqueEvents.slice(3, 6)));

    // Act
    const run = await runOlp(['local', ...storeArgs, '--events', events, '--archive-dir', archiveDir]);

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr).at(-1)).toMatch(
      /window .* set aside: ArchiveCorruptError: .*manifest.json is not a valid manifest/,
    );
  });

  it.each([
    [['--events', '/no/such/file.jsonl'], 1, '/no/such/file.jsonl'],
    [['--window', '7'], 2, '--window'],
    [['--events', 'a', '--okta-org', 'https://acme.okta.com'], 2, 'either --events or --okta-org'],
    [['--okta-org', 'https://acme.okta.com', '--since', '24h'], 2, 'OKTA_API_TOKEN'],
    [['--rules', '/no/such/rules'], 2, '/no/such/rules'],
    [['--bogus'], 2, 'bogus'],
  ])('fails %j with exit code %i and one line naming the problem', async (args, code, message) => {
    const run = await runOlp(['local', ...storeArgs, '--archive-dir', dir('archive'), ...args]);
    expect(run.code).toBe(code);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(message);
  });
});

describe.each(STORES)('olp local --okta-org on the %s store', (_, storeArgs) => {
  let okta: FakeOkta;
  const { uniqueEvents } = generateSample({ count: 230, seed: 4 });

  beforeAll(async () => {
    okta = await startFakeOkta({ events: uniqueEvents, pageLimitMax: 50, rateLimit: { every: 3 } });
  });
  afterAll(async () => {
    await okta.stop();
  });

  it('reads the System Log API page by page, waits out a 429 and archives every event', async () => {
    // Prepare
    const archiveDir = dir('archive');
    const published = uniqueEvents.map((event) => Date.parse((event as { published: string }).published));

    // Act
    const run = await runOlp(
      [
        'local',
        ...storeArgs,
        '--okta-org',
        okta.url,
        '--since',
        new Date(Math.min(...published)).toISOString(),
        '--until',
        new Date(Math.max(...published) + 1).toISOString(),
        '--json',
        '--archive-dir',
        archiveDir,
      ],
      { env: { OKTA_API_TOKEN: FAKE_OKTA_TOKEN } },
    );

    // Assess
    expect(run.code).toBe(0);
    expect(okta.requests.filter((request) => request.status === 429).length).toBeGreaterThan(0);
    expect(run.stderr).toContain('rate limited');
    expect(run.stderr).not.toContain(FAKE_OKTA_TOKEN);
    expect(summaryCounts(run.stderr)).toMatchObject({ read: 230, staged: 230, archived: 230 });
    const archive = await readArchiveDir(archiveDir);
    expect(archive.lines).toHaveLength(230);
    expect(linesOf(run.stdout).some((line) => JSON.parse(line).ruleId === 'log-stream-deactivated')).toBe(true);
  });
});
