import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSample } from '../../lib/local/sample-stream.ts';
import { partsAreSorted, readArchiveDir } from '../support/pipeline.ts';
import { linesOf, runOlp, tempDir } from '../support/run-cli.ts';

/** `olp local` on input a demanding user or an attacker brings: years-wide times, odd shapes, other sources, digits. */
const temp = tempDir('local-input');
afterAll(() => temp.remove());
let n = 0;
const dir = (name: string) => join(temp.dir, `${name}-${n++}`);
const jsonl = (records: readonly unknown[]) => `${records.map((record) => JSON.stringify(record)).join('\n')}\n`;
type SystemLogEvent = Record<string, unknown> & { uuid: string; published: string };

const sample = generateSample({ count: 200, seed: 13 });
const events = sample.uniqueEvents as SystemLogEvent[];
const uuidsOf = (list: readonly { uuid: string }[]) => list.map((event) => event.uuid).sort();

/** Each scenario runs on the in-process store (the default) and on the stand-ins, dynalite and fauxqs. */
const STORES = [
  ['in-process', []],
  ['stand-ins', ['--stand-ins']],
] as const;

describe.each(STORES)('olp local input on the %s store', (_, storeArgs) => {
  it('archives events published from 2020 to 2026, duplicated and shuffled, each once and in order', async () => {
    // Prepare: a few events a year, every one delivered twice, in an order unrelated to time.
    const spread = events.slice(0, 42).map((event, i) => ({
      ...event,
      published: new Date(Date.parse('2020-01-15T08:00:00Z') + i * 53 * 86_400_000 + i * 7_919).toISOString(),
    }));
    const deliveries = [...spread, ...spread].sort((a, b) => a.uuid.localeCompare(b.uuid));
    const file = join(temp.dir, 'years.jsonl');
    await writeFile(file, jsonl(deliveries));
    const archiveDir = dir('archive');

    // Act
    const run = await runOlp(['local', ...storeArgs, '--events', file, '--archive-dir', archiveDir]);

    // Assess
    expect(run.code).toBe(0);
    const archive = await readArchiveDir(archiveDir);
    expect(archive.lines.map((line) => JSON.parse(line).uuid).sort()).toEqual(uuidsOf(spread));
    expect(new Set(archive.lines).size).toBe(spread.length);
    expect(partsAreSorted(archive)).toBe(true);
    expect([...archive.windows.keys()].sort()[0]).toMatch(/^archive\/dt=2020-01-15\//);
  });

  it('keeps every digit and key of an event as written, from a JSON array too', async () => {
    // Prepare: a number beyond 2^53 and keys in no sorted order, as an array document.
    const [event] = events;
    const text = JSON.stringify({ ...event, zz: 1 }).replace('"zz":1', '"zz":12345678901234567890,"aa":1.50');
    const file = join(temp.dir, 'digits.json');
    await writeFile(file, `[\n  ${text}\n]\n`);
    const archiveDir = dir('archive');

    // Act
    const run = await runOlp(['local', ...storeArgs, '--events', file, '--archive-dir', archiveDir]);

    // Assess
    expect(run.code).toBe(0);
    expect((await readArchiveDir(archiveDir)).lines).toEqual([text]);
  });

  it('pins the source with --event-source-name: other sources are quarantined with the reason', async () => {
    // Prepare: envelopes from the sample's source and from another org.
    const [own, other] = sample.deliveries as Array<Record<string, unknown>>;
    const forged = { ...other, source: 'aws.partner/okta.com/evil/okta-logs' };
    const file = join(temp.dir, 'pinned.jsonl');
    await writeFile(file, jsonl([own, forged]));
    const archiveDir = dir('archive');

    // Act
    const run = await runOlp([
      'local',
      ...storeArgs,
      '--events',
      file,
      '--archive-dir',
      archiveDir,
      '--event-source-name',
      'aws.partner/okta.com/acme/okta-logs',
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('pinned to aws.partner/okta.com/acme/okta-logs');
    const archive = await readArchiveDir(archiveDir);
    expect(archive.lines).toHaveLength(1);
    expect(archive.quarantine.map((q) => q.record.reason)).toEqual([
      expect.stringContaining('source: must be aws.partner/okta.com/acme/okta-logs'),
    ]);
  });

  it('rejects a malformed --event-source-name in one line', async () => {
    const run = await runOlp(['local', ...storeArgs, '--event-source-name', 'acme', '--archive-dir', dir('archive')]);
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([expect.stringContaining('--event-source-name must look like')]);
  });

  it('ends on events of any JSON shape, each archived or quarantined, each alert printed or reported', async () => {
    // Prepare: the sample with its non-core fields replaced by random JSON (a string for a number, an object for a
    // list...), plus the shapes that once hung the runner: target as one object, geolocation.lat as a string.
    const shapes = fc.sample(fc.jsonValue({ maxDepth: 3 }), { numRuns: events.length, seed: 42 });
    const fields = ['actor', 'client', 'target', 'outcome', 'displayMessage', 'debugContext', 'securityContext'];
    const odd = events.map((event, i) => ({ ...event, [fields[i % fields.length] as string]: shapes[i] }));
    odd[0] = { ...(events[0] as SystemLogEvent), target: { id: 'x', displayName: 'one target' } };
    odd[1] = {
      ...(events[1] as SystemLogEvent),
      client: { geographicalContext: { geolocation: { lat: '41.1', lon: {} } } },
    };
    const file = join(temp.dir, 'shapes.jsonl');
    await writeFile(file, jsonl(odd));
    const archiveDir = dir('archive');

    // Act
    const run = await runOlp(['local', ...storeArgs, '--events', file, '--archive-dir', archiveDir, '--json']);

    // Assess
    expect(run.code).toBe(0);
    const archive = await readArchiveDir(archiveDir);
    expect(archive.lines.length + archive.quarantine.length).toBe(odd.length);
    expect(run.stderr).not.toMatch(/alerts not raised/);
    expect(linesOf(run.stdout).length).toBeGreaterThan(0);
  });
});
