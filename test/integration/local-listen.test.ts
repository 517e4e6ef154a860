import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readArchiveDir } from '../support/pipeline.ts';
import { runOlp, tempDir } from '../support/run-cli.ts';

/**
 * `olp local --listen`: the real olp process runs the Auth0 HTTP sink on 127.0.0.1, takes POSTs as an Auth0 HTTP log
 * stream sends them, and on SIGTERM seals everything and exits 0; each log archived once under auth0/.
 */

const BIN = fileURLToPath(new URL('../../bin/olp.js', import.meta.url));
const SECRET = 'Bearer local-sink-token';
const temp = tempDir('local-listen');
afterAll(() => temp.remove());

const template = (
  JSON.parse(readFileSync(new URL('../fixtures/auth0/auth0-failed-login.json', import.meta.url), 'utf8')) as {
    matches: Array<{ envelope: { detail: { data: Record<string, unknown> } } }>;
  }
).matches[0]?.envelope.detail.data;

const log = (i: number) => ({
  log_id: `9002026${String(i).padStart(20, '0')}`,
  data: { ...template, date: new Date(Date.now() - 3_600_000 + i * 1000).toISOString(), type: 'fp' },
});

/** Each scenario runs on the in-process store (the default) and on the stand-ins, dynalite and fauxqs. */
const STORES = [
  ['in-process', []],
  ['stand-ins', ['--stand-ins']],
] as const;

describe.each(STORES)('olp local --listen on the %s store', (store, storeArgs) => {
  it('takes Auth0 POSTs until SIGTERM, answers 401 without the right Authorization, and archives each log once', async () => {
    const archiveDir = join(temp.dir, `archive-${store}`);
    const child = spawn(
      process.execPath,
      [BIN, 'local', ...storeArgs, '--listen', '127.0.0.1:0', '--json', '--archive-dir', archiveDir],
      {
        env: { ...process.env, OLP_HTTP_AUTHORIZATION: SECRET },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        const found = /listening on (http:\/\/[^/\s]+)\//.exec(stderr)?.[1];
        if (found !== undefined) resolve(found);
      });
      child.once('exit', () => reject(new Error(`olp exited early: ${stderr}`)));
    });
    const post = (body: string, authorization = SECRET) =>
      fetch(`${address}/`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body });
    const logs = Array.from({ length: 12 }, (_, i) => log(i));

    const answers = [
      await post(JSON.stringify(logs.slice(0, 6))),
      await post(
        logs
          .slice(4, 12)
          .map((entry) => JSON.stringify(entry))
          .join('\n'),
      ),
      await post(JSON.stringify(logs.slice(0, 3)), 'Bearer wrong'),
      await post('<not logs>'),
    ];
    child.kill('SIGTERM');
    const [code] = (await once(child, 'close')) as [number | null];

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 401, 400]);
    expect(code).toBe(0);
    const contents = await readArchiveDir(archiveDir);
    const archived = contents.lines.map((line) => (JSON.parse(line) as { log_id: string }).log_id);
    expect(archived.sort()).toEqual(logs.map((entry) => entry.log_id).sort());
    expect([...contents.windows.keys()].every((key) => key.startsWith('auth0/archive/'))).toBe(true);
    // The unreadable body, quarantined with its reason under auth0/; the unauthorised one kept nowhere.
    expect(
      contents.quarantine.map(({ key, record }) => [key.split('/')[0], record.raw, String(record.reason)]),
    ).toEqual([['auth0', '<not logs>', expect.stringContaining('not JSON: line 1')]]);
    const alerts = stdout
      .trim()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { ruleId: string });
    expect(alerts.filter((alert) => alert.ruleId === 'auth0-failed-login')).toHaveLength(12);
  }, 60_000);
});

describe('olp local --listen', () => {
  it('needs OLP_HTTP_AUTHORIZATION and a valid address', async () => {
    const noSecret = await runOlp(['local', '--listen', '127.0.0.1:0']);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('--listen needs OLP_HTTP_AUTHORIZATION');
    const badAddress = await runOlp(['local', '--listen', 'nowhere:99999'], {
      env: { OLP_HTTP_AUTHORIZATION: SECRET },
    });
    expect(badAddress.code).toBe(2);
    expect(badAddress.stderr).toContain('--listen must be [host:]port');
  });
});
