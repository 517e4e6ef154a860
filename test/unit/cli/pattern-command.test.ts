import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ec2StateChangeEvent } from '../../support/events.ts';
import { fixturePath, linesOf, runOlp, tempDir } from '../../support/run-cli.ts';

const EC2_EVENT = ec2StateChangeEvent();
const TERMINATED = { source: ['aws.ec2'], detail: { state: ['terminated'] } };
const RUNNING = { source: ['aws.ec2'], detail: { state: ['running'] } };

describe('olp pattern test', () => {
  let dir: string;
  let remove: () => void;

  beforeEach(() => {
    ({ dir, remove } = tempDir('pattern'));
  });

  afterEach(() => remove());

  const write = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  const testPattern = (pattern: unknown, event: unknown) =>
    runOlp([
      'pattern',
      'test',
      '--pattern',
      typeof pattern === 'string' ? pattern : JSON.stringify(pattern),
      '--event',
      typeof event === 'string' ? event : JSON.stringify(event),
    ]);

  it('prints true for a matching pattern and false for another, exit 0 both', async () => {
    // Act
    const match = await testPattern(TERMINATED, EC2_EVENT);
    const noMatch = await testPattern(RUNNING, EC2_EVENT);

    // Assess
    expect(match).toEqual({ code: 0, stdout: 'true\n', stderr: '' });
    expect(noMatch).toEqual({ code: 0, stdout: 'false\n', stderr: '' });
  });

  it('reads the pattern and the event from files named with @', async () => {
    // Prepare
    const pattern = write('pattern.json', JSON.stringify(TERMINATED, null, 2));
    const event = write('event.json', JSON.stringify(EC2_EVENT, null, 2));

    // Act
    const run = await testPattern(`@${pattern}`, `@${event}`);

    // Assess
    expect(run).toEqual({ code: 0, stdout: 'true\n', stderr: '' });
  });

  it.each([
    [{ source: 'aws.ec2' }, 'olp pattern: Invalid event pattern at source: must be an object or an array'],
    ['{"source": ["aws.ec2"]', 'olp pattern: Invalid event pattern: pattern is not valid JSON ('],
    [
      { detail: { count: [{ numeric: ['>', 'five'] }] } },
      'olp pattern: Invalid event pattern at detail.count[0]: numeric value for ">" must be a number',
    ],
  ])('explains why pattern %j is invalid on one line, exit 2', async (pattern, message) => {
    // Act
    const run = await testPattern(pattern, EC2_EVENT);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(linesOf(run.stderr)).toEqual([expect.stringContaining(message)]);
  });

  it('refuses an event that is not JSON and a file it cannot read, one line and exit 2 each', async () => {
    // Prepare
    const missing = join(dir, 'missing.json');

    // Act
    const notJson = await testPattern(TERMINATED, '{source: aws.ec2}');
    const unreadable = await testPattern(`@${missing}`, EC2_EVENT);

    // Assess
    expect(notJson.code).toBe(2);
    expect(linesOf(notJson.stderr)).toEqual([
      expect.stringMatching(/^olp pattern: the event is not valid JSON \(.+\)$/),
    ]);
    expect(unreadable.code).toBe(2);
    expect(linesOf(unreadable.stderr)).toEqual([`olp pattern: --pattern: cannot read ${missing}: no such file`]);
    expect(notJson.stdout + unreadable.stdout).toBe('');
  });

  it.each([
    [['pattern', 'test', '--pattern', '{}'], 'olp pattern: --event is required (see --help)'],
    [['pattern', 'test', '--event', '{}'], 'olp pattern: --pattern is required (see --help)'],
    [
      ['pattern', 'test', '--cases', 'x.jsonl', '--pattern', '{}'],
      'olp pattern: --cases does not combine with --pattern or --event (see --help)',
    ],
    [['pattern'], 'olp pattern: missing subcommand; use olp pattern test (see --help)'],
    [['pattern', 'match'], 'olp pattern: unknown subcommand "match"; use olp pattern test (see --help)'],
  ])('refuses %j as a usage error, exit 2', async (argv, message) => {
    // Act
    const run = await runOlp(argv);

    // Assess
    expect(run).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
  });

  it('prints its usage for --help, exit 0', async () => {
    // Act
    const runs = await Promise.all([runOlp(['pattern', '--help']), runOlp(['pattern', 'test', '-h'])]);

    // Assess
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage:\n {2}olp pattern test --pattern <json\|@file> --event <json\|@file>\n/);
    }
  });
});

describe('olp pattern test --cases', () => {
  let dir: string;
  let remove: () => void;

  beforeEach(() => {
    ({ dir, remove } = tempDir('pattern-cases'));
  });

  afterEach(() => remove());

  it('answers the EventBridge user guide cases one line each, in order', async () => {
    // Prepare
    const expected = readFileSync(fixturePath('pattern-cases.expected.jsonl'), 'utf8');

    // Act
    const run = await runOlp(['pattern', 'test', '--cases', fixturePath('pattern-cases.jsonl')]);

    // Assess
    expect(run).toEqual({ code: 0, stdout: expected, stderr: '' });
    for (const line of linesOf(run.stdout)) {
      const result: unknown = JSON.parse(line);
      expect(Object.keys(Object(result))).toHaveLength(1);
      expect(result).toSatisfy(
        (value: Record<string, unknown>) => typeof value.match === 'boolean' || typeof value.error === 'string',
      );
    }
  });

  it('names the line of a case that is not JSON or lacks pattern or event, and goes on', async () => {
    // Prepare
    const cases = [
      JSON.stringify({ pattern: TERMINATED, event: EC2_EVENT }),
      '',
      '{"pattern": {"source": ["aws.ec2"]},',
      JSON.stringify({ pattern: TERMINATED }),
      JSON.stringify({ event: EC2_EVENT }),
      '["pattern", "event"]',
      JSON.stringify({ pattern: RUNNING, event: EC2_EVENT }),
    ];
    const path = join(dir, 'cases.jsonl');
    writeFileSync(path, `${cases.join('\r\n')}\r\n`);

    // Act
    const run = await runOlp(['pattern', 'test', '--cases', path]);

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout).map((line) => JSON.parse(line))).toEqual([
      { match: true },
      { error: expect.stringMatching(/^line 3: not valid JSON \(.+\)$/) },
      { error: 'line 4: missing "event"' },
      { error: 'line 5: missing "pattern"' },
      { error: 'line 6: a case is an object {"pattern": ..., "event": ...}' },
      { match: false },
    ]);
  });

  it('reads the cases from stdin for "-"', async () => {
    // Prepare
    const stdin = `${JSON.stringify({ pattern: TERMINATED, event: EC2_EVENT })}\n`;

    // Act
    const run = await runOlp(['pattern', 'test', '--cases', '-'], { stdin });

    // Assess
    expect(run).toEqual({ code: 0, stdout: '{"match":true}\n', stderr: '' });
  });

  it('refuses a cases file it cannot read, exit 2', async () => {
    // Prepare
    const missing = join(dir, 'missing.jsonl');

    // Act
    const run = await runOlp(['pattern', 'test', '--cases', missing]);
    const directory = await runOlp(['pattern', 'test', '--cases', dir]);

    // Assess
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `olp pattern: --cases: cannot read ${missing}: no such file\n`,
    });
    expect(directory).toEqual({
      code: 2,
      stdout: '',
      stderr: `olp pattern: --cases: ${dir} is a directory, not a cases file\n`,
    });
  });
});
