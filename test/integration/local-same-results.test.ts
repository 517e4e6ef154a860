import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateAuth0Sample } from '../../lib/local/auth0-sample.ts';
import { generateSample } from '../../lib/local/sample-stream.ts';
import { linesOf, runOlp, tempDir } from '../support/run-cli.ts';

/**
 * `olp local` on its in-process store and on the stand-ins (dynalite and fauxqs, `--stand-ins`): one input that
 * exercises every path (Okta events and Auth0 logs, redeliveries, events late for windows already sealed, one uuid
 * with two contents, lines that are not events) gives the same archive byte for byte, the same quarantine records,
 * the same counts and the same alerts.
 */
const temp = tempDir('local-same-results');
afterAll(() => temp.remove());

/** A seeded Fisher-Yates shuffle. */
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

/** Every file under a directory, by its path relative to it. */
const filesOf = async (dir: string): Promise<Map<string, Buffer>> => {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path).split(sep).join('/'), await readFile(path));
  }
  return files;
};

/**
 * A quarantine record without what names the run (its id and key carry the run's start, `receivedAt` the wall
 * clock); everything else, reason and raw input included, must match.
 */
const quarantineRecord = (bytes: Buffer) => {
  const {
    receivedAt: _at,
    origin,
    ...record
  } = JSON.parse(bytes.toString('utf8')) as {
    receivedAt: string;
    origin: Record<string, unknown>;
  };
  const { id: _id, messageId: _messageId, ...where } = origin;
  return { ...record, origin: where };
};

/** The summary without what differs by nature: elapsed time, progress lines, the store's name, the directory. */
const summaryOf = (text: string, archiveDir: string) =>
  linesOf(text)
    .filter((line) => !/^(?:Summary \(|olp local: |\s*store:)/.test(line))
    .map((line) => line.replace(archiveDir, '<archive>'));

describe('olp local on the in-process store and on the stand-ins', () => {
  it('writes the same archive, quarantine, counts and alerts', { timeout: 120_000 }, async () => {
    // Prepare: a few chunks of input, fully shuffled, in short windows with no allowed lateness, so that many events
    // arrive after their window was sealed.
    const okta = generateSample({ count: 900, seed: 17 });
    const auth0 = generateAuth0Sample({ count: 120, seed: 5 });
    const [first] = okta.uniqueEvents as Array<Record<string, unknown>>;
    const conflicting = { ...first, displayMessage: 'the same uuid with other content' };
    const deliveries = shuffled(
      [...okta.deliveries, ...okta.deliveries.filter((_, i) => i % 4 === 0), ...auth0.deliveries, conflicting],
      23,
    ).map((record) => JSON.stringify(record));
    const bad = ['{"uuid": "truncated', '42', JSON.stringify({ ...first, published: 'yesterday' })];
    const lines = [...deliveries.slice(0, 1100), ...bad, ...deliveries.slice(1100)];
    const input = join(temp.dir, 'mixed.jsonl');
    await writeFile(input, `${lines.join('\n')}\n`);
    const options = ['--json', '--window', '10', '--lateness', '0'];
    const run = (store: string, extra: string[]) =>
      runOlp(['local', '--events', input, ...options, '--archive-dir', join(temp.dir, store), ...extra]);

    // Act
    const inProcess = await run('in-process', []);
    const standIns = await run('stand-ins', ['--stand-ins']);

    // Assess
    expect([inProcess.code, standIns.code]).toEqual([0, 0]);
    expect(linesOf(inProcess.stdout).sort()).toEqual(linesOf(standIns.stdout).sort());
    expect(linesOf(inProcess.stdout).length).toBeGreaterThan(0);
    expect(summaryOf(inProcess.stderr, join(temp.dir, 'in-process'))).toEqual(
      summaryOf(standIns.stderr, join(temp.dir, 'stand-ins')),
    );
    expect(inProcess.stderr).toMatch(/\(\+[1-9][\d,]* late supplements\)/);

    const [ours, theirs] = await Promise.all([
      filesOf(join(temp.dir, 'in-process')),
      filesOf(join(temp.dir, 'stand-ins')),
    ]);
    const archived = (files: Map<string, Buffer>) =>
      new Map([...files].filter(([key]) => !/^(?:auth0\/)?quarantine\//.test(key)));
    const quarantined = (files: Map<string, Buffer>) =>
      [...files]
        .filter(([key]) => /^(?:auth0\/)?quarantine\//.test(key))
        .map(([, bytes]) => quarantineRecord(bytes))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect([...archived(ours).keys()].sort()).toEqual([...archived(theirs).keys()].sort());
    for (const [key, bytes] of archived(ours))
      expect({ key, same: bytes.equals(theirs.get(key) ?? Buffer.of()) }).toEqual({ key, same: true });
    expect([...archived(ours).keys()].some((key) => key.includes('late'))).toBe(true);
    expect([...archived(ours).keys()].some((key) => key.startsWith('auth0/'))).toBe(true);
    expect([...archived(ours).keys()].some((key) => key.includes('digests/'))).toBe(true);
    expect(quarantined(ours)).toEqual(quarantined(theirs));
    expect(quarantined(ours).length).toBeGreaterThanOrEqual(bad.length);
  });
});
