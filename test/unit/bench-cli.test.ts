import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * `npm run bench`'s command line. The benchmark itself is not run here (it measures, it does not assert): only the
 * answers it gives before doing any work.
 */
const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const bench = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', bench, ...args], {
      env: { PATH: process.env.PATH, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

describe('npm run bench', () => {
  it('refuses a bad flag or size with one line naming it, and exit code 2', async () => {
    const [unknown, size] = await Promise.all([run(['--jsn']), run(['--json'], { BENCH_LOCAL_EVENTS: '0' })]);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/^bench: Unknown option '--jsn'.* \(see --help\)\n$/);
    expect(size).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'bench: BENCH_LOCAL_EVENTS must be a whole number from 1 to 10,000,000, got "0" (see --help)\n',
    });
  });

  it('prints its usage on --help, and nothing else', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run bench -- \[options\]/);
    expect(help.stdout).toContain('--json');
    expect(help.stdout).toContain('--events <n>');
    expect(help.stderr).toBe('');
  });
});
