import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../../bin/olp.js', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

const collect = (child: ChildProcess): (() => Promise<Exit>) => {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return async () => {
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stdout, stderr };
  };
};

/** Runs the real `olp` binary, as a user's shell would. */
const olp = (args: string[]): Promise<Exit> => collect(spawn(process.execPath, [BIN, ...args]))();

describe('bin/olp.js', () => {
  it('runs olp pattern test through tsx: true with exit 0, an invalid pattern with exit 2', async () => {
    // Prepare
    const event = JSON.stringify({
      source: 'aws.partner/okta.com/acme/okta-logs',
      detail: { eventType: 'user.session.start' },
    });

    // Act
    const [match, invalid] = await Promise.all([
      olp(['pattern', 'test', '--pattern', '{"detail":{"eventType":[{"prefix":"user.session."}]}}', '--event', event]),
      olp(['pattern', 'test', '--pattern', '{"detail":{"eventType":"user.session.start"}}', '--event', event]),
    ]);

    // Assess
    expect(match).toEqual({ code: 0, stdout: 'true\n', stderr: '' });
    expect(invalid).toEqual({
      code: 2,
      stdout: '',
      stderr: 'olp pattern: Invalid event pattern at detail.eventType: must be an object or an array\n',
    });
  });

  it('stops olp sample quietly with exit 0 when its reader closes the pipe, as `| head -n 1` does', async () => {
    // Prepare
    const child = spawn(process.execPath, [BIN, 'sample', '--count', '10000']);
    const exited = collect(child);
    const stdout = child.stdout;
    if (stdout === null) throw new Error('spawned without a stdout pipe');

    // Act
    const [firstChunk] = (await once(stdout, 'data')) as [string];
    stdout.destroy();
    const { code, stderr } = await exited();

    // Assess
    expect(firstChunk).toMatch(/^\{"version":"0"/);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});
