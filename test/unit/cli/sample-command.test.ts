import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OktaEnvelope } from '../../../lambdas/shared/okta-event.ts';
import { runCli } from '../../../lib/cli/main.ts';
import { generateSample } from '../../../lib/local/sample-stream.ts';
import { linesOf, runOlp } from '../../support/run-cli.ts';

const expectedOutput = (count: number, seed: number): string =>
  generateSample({ count, seed })
    .deliveries.map((delivery) => `${JSON.stringify(delivery)}\n`)
    .join('');

/** A stdout whose reader goes away after `lines` lines, as `olp sample | head -n <lines>` does. */
class ClosingPipe extends Writable {
  received = 0;

  constructor(private readonly lines: number) {
    super();
  }

  override _write(_chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received += 1;
    if (this.received <= this.lines) {
      callback();
      return;
    }
    callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  }
}

describe('olp sample', () => {
  it('writes 1000 events from seed 1 as JSON Lines of EventBridge envelopes by default', async () => {
    // Act
    const run = await runOlp(['sample']);

    // Assess
    expect(run).toEqual({ code: 0, stdout: expectedOutput(1000, 1), stderr: '' });
    const envelopes = linesOf(run.stdout).map((line) => OktaEnvelope.safeParse(JSON.parse(line)).success);
    expect(envelopes.every(Boolean)).toBe(true);
    expect(envelopes.length).toBeGreaterThan(1000);
  });

  it('honours --count and --seed, and gives the same sample for the same seed', async () => {
    // Act
    const first = await runOlp(['sample', '--count', '25', '--seed', '7']);
    const again = await runOlp(['sample', '--seed=7', '--count=25']);
    const other = await runOlp(['sample', '--count', '25', '--seed', '8']);

    // Assess
    expect(first).toEqual({ code: 0, stdout: expectedOutput(25, 7), stderr: '' });
    expect(again.stdout).toBe(first.stdout);
    expect(other.stdout).not.toBe(first.stdout);
  });

  it.each([
    [['--count', '0'], '--count must be a whole number from 1 to 1,000,000, got "0"'],
    [['--count', '1.5'], '--count must be a whole number from 1 to 1,000,000, got "1.5"'],
    [['--count', '1000001'], '--count must be a whole number from 1 to 1,000,000, got "1000001"'],
    [['--count', '12abc'], '--count must be a whole number from 1 to 1,000,000, got "12abc"'],
    [['--seed', 'abc'], '--seed must be a whole number from 1 to 4,294,967,295, got "abc"'],
    [['--seed', '4294967296'], '--seed must be a whole number from 1 to 4,294,967,295, got "4294967296"'],
    [['--count'], "Option '--count <value>' argument missing (see --help)"],
    [['--count', '-1'], "Option '--count' argument is ambiguous."],
    [['--verbose'], "Unknown option '--verbose' (see --help)"],
    [['extra'], "Unexpected argument 'extra'."],
  ])('refuses %j with one line and exit 2', async (args, message) => {
    // Act
    const run = await runOlp(['sample', ...args]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(linesOf(run.stderr)).toEqual([expect.stringContaining(`olp sample: ${message}`)]);
  });

  it('prints its usage for --help and exits 0', async () => {
    // Act
    const run = await runOlp(['sample', '--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: olp sample \[--count N\] \[--seed S\]/);
    expect(run.stderr).toBe('');
  });

  it('waits for a slow reader instead of buffering its whole output', async () => {
    // Prepare
    const stdout = new PassThrough({ highWaterMark: 16 * 1024 });
    const expected = expectedOutput(2000, 3);
    let settled = false;

    // Act
    const running = runCli(['sample', '--count', '2000', '--seed', '3'], {
      stdin: new PassThrough(),
      stdout,
      stderr: new PassThrough(),
      env: {},
    }).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const bufferedWhileUnread = stdout.readableLength + stdout.writableLength;
    const settledWhileUnread = settled;
    const chunks: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const code = await running;

    // Assess
    expect(settledWhileUnread).toBe(false);
    expect(bufferedWhileUnread).toBeLessThan(expected.length / 10);
    expect(code).toBe(0);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(expected);
  });

  it('stops quietly with exit 0 when the reader goes away (EPIPE)', async () => {
    // Prepare
    const pipe = new ClosingPipe(3);

    // Act
    const run = await runOlp(['sample', '--count', '5000'], { stdout: pipe });

    // Assess
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
    // It stopped writing soon after the pipe broke rather than generating into the void.
    expect(pipe.received).toBeLessThan(10);
  });
});
