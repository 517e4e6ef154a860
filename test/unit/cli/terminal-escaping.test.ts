import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { envelopeWith } from '../../support/events.ts';
import { linesOf, runOlp, tempDir } from '../../support/run-cli.ts';

/** Anything a terminal would act on or reorder (the output's own line breaks aside). */
const RAW_CONTROL = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const rawControlIn = (text: string): boolean => RAW_CONTROL.test(text.replaceAll('\n', ''));

/** An ESC sequence that would clear the screen and turn the text red, and a right-to-left override. */
const CLEAR = '\u001b[2J\u001b[31m';
const RLO = '\u202e';

describe('olp commands never echo control or bidi characters from their input', () => {
  let dir: string;
  let remove: () => void;

  beforeEach(() => {
    ({ dir, remove } = tempDir('escape'));
  });

  afterEach(() => remove());

  const write = (name: string, content: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('olp rules test escapes unusable lines and the fields it prints', async () => {
    // Prepare
    const forged = envelopeWith({
      uuid: `x${CLEAR}`,
      published: `${RLO}2026-11-01`,
      eventType: `user.session${CLEAR}`,
    });
    const events = write('events.jsonl', `${CLEAR}garbage\n${JSON.stringify(forged)}\n`);

    // Act
    const text = await runOlp(['rules', 'test', '--events', events]);
    const json = await runOlp(['rules', 'test', '--events', events, '--json']);

    // Assess
    expect(text.code).toBe(0);
    expect(rawControlIn(text.stdout) || rawControlIn(text.stderr)).toBe(false);
    expect(linesOf(text.stderr)[0]).toMatch(/^.*events\.jsonl:1: not JSON: .*\\u001b\[2J\\u001b\[31m/);
    expect(linesOf(text.stdout)).toEqual([
      '\\u202e2026-11-01  user.session\\u001b[2J\\u001b[31m  x\\u001b[2J\\u001b[31m  -> (no rule)',
    ]);
    expect(json.code).toBe(0);
    expect(rawControlIn(json.stdout)).toBe(false);
    expect(linesOf(json.stdout).map((line) => JSON.parse(line))).toEqual([
      { line: 1, error: expect.stringContaining(CLEAR) },
      { uuid: `x${CLEAR}`, eventType: `user.session${CLEAR}`, rules: [] },
    ]);
  });

  it('olp pattern test escapes the parser messages that quote its input, in text and in JSON', async () => {
    // Prepare
    const cases = write('cases.jsonl', `${RLO}\u0085{"pattern"\n`);

    // Act
    const single = await runOlp(['pattern', 'test', '--pattern', '{"source":["x"]}', '--event', `${CLEAR}{`]);
    const batch = await runOlp(['pattern', 'test', '--cases', cases]);

    // Assess
    expect(single.code).toBe(2);
    expect(rawControlIn(single.stderr)).toBe(false);
    expect(single.stderr).toContain('the event is not valid JSON (');
    expect(single.stderr).toContain('\\u001b[2J');
    expect(batch.code).toBe(0);
    expect(rawControlIn(batch.stdout)).toBe(false);
    const [result] = linesOf(batch.stdout).map((line) => JSON.parse(line));
    expect(result).toEqual({ error: expect.stringContaining(`line 1: not valid JSON (`) });
    expect(result.error).toContain(RLO);
  });

  it('a fatal error that quotes its input, such as a file name, is escaped too', async () => {
    // Act
    const run = await runOlp(['local', '--events', join(dir, `missing${CLEAR}${RLO}.jsonl`), '--archive-dir', dir]);

    // Assess
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('no such file');
    expect(rawControlIn(run.stderr)).toBe(false);
  });
});
