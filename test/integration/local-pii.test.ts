import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readArchiveDir } from '../support/pipeline.ts';
import { linesOf, runOlp, tempDir } from '../support/run-cli.ts';

/**
 * `olp local` with PII controls: the same settings as the deployed `oktaPii` and `auth0Pii` (`--okta-pii`,
 * `--auth0-pii`, inline or `@file`) and the HMAC key from a file (`--pii-key-file`). Alerts are redacted; archived
 * lines are redacted for a source with `archive: true` and archived as received otherwise.
 */

const temp = tempDir('local-pii');
afterAll(() => temp.remove());

const KEY = 'a-local-hmac-key-of-at-least-32-characters';
const hmac = (value: string) => `hmac-sha256:${createHmac('sha256', KEY).update(value).digest('hex')}`;

const recorded = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')).matches[0].envelope;

const OKTA_PII = ['bob.admin@acme.com', 'Bob Admin', 'jane.doe@acme.com', 'Jane Doe', '198.51.100.24', 'Lisbon'];
const AUTH0_PII = ['jane@acme.example'];

const setUp = async (name: string) => {
  const dir = join(temp.dir, name);
  const events = join(temp.dir, `${name}.jsonl`);
  const okta = recorded('rule-cases/admin-role-granted-to-user.json');
  const auth0 = recorded('auth0/auth0-failed-login.json');
  await writeFile(events, `${JSON.stringify(okta)}\n${JSON.stringify(auth0)}\n`);
  const keyFile = join(temp.dir, `${name}.key`);
  await writeFile(keyFile, `${KEY}\n`);
  const oktaFile = join(temp.dir, `${name}-okta.json`);
  return { dir, events, keyFile, oktaFile };
};

describe('olp local with PII controls', () => {
  it('redacts alerts and, with archive: true, archived lines; other sources archive as received', async () => {
    // Prepare
    const { dir, events, keyFile, oktaFile } = await setUp('redacted');
    await writeFile(oktaFile, '{"fields":["username","name","email","ip","location"],"method":"hash","archive":true}');
    const auth0 = '{"fields":["username","email"],"method":"mask"}';

    // Act
    const run = await runOlp([
      'local',
      '--events',
      events,
      '--json',
      '--archive-dir',
      dir,
      '--okta-pii',
      `@${oktaFile}`,
      '--auth0-pii',
      auth0,
      '--pii-key-file',
      keyFile,
    ]);
    const archive = await readArchiveDir(dir);

    // Assess
    expect(run.code).toBe(0);
    const alerts = linesOf(run.stdout).map((line) => JSON.parse(line) as { ruleId: string; subject: string });
    expect(alerts.map((alert) => alert.ruleId)).toEqual(
      expect.arrayContaining(['admin-role-granted-to-user', 'auth0-failed-login']),
    );
    for (const value of [...OKTA_PII, ...AUTH0_PII]) expect(run.stdout).not.toContain(value);
    const [oktaLine, ...others] = archive.lines.filter((line) => line.includes('"uuid"'));
    expect(others).toEqual([]);
    for (const value of OKTA_PII) expect(oktaLine).not.toContain(value);
    expect(JSON.parse(oktaLine ?? '{}').actor.alternateId).toBe(hmac('bob.admin@acme.com'));
    // Auth0 without archive: true: its line is the log as received.
    const auth0Line = archive.lines.find((line) => line.includes('"log_id"'));
    expect(auth0Line).toContain('"user_name":"jane@acme.example"');
  });

  it.each([
    [['--okta-pii', '{"fields":["usrname"],"method":"mask"}'], /--okta-pii fields\[0\] "usrname" is neither/],
    [['--okta-pii', '{"fields":["username"],"method":"hash"}'], /method "hash" needs the HMAC key: --pii-key-file/],
    [['--auth0-pii', '@/nonexistent/pii.json'], /--auth0-pii \/nonexistent\/pii.json: ENOENT/],
    [['--pii-key-file', '/nonexistent/key'], /--pii-key-file needs --okta-pii or --auth0-pii/],
  ])('refuses %j with a usage error naming the flag', async (flags, message) => {
    const { dir, events } = await setUp(`bad-${flags.join('').length}`);
    const run = await runOlp(['local', '--events', events, '--archive-dir', dir, ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('refuses a key file that is too short, without printing it', async () => {
    const { dir, events, keyFile } = await setUp('short-key');
    await writeFile(keyFile, 'too-short-secret\n');
    const run = await runOlp([
      'local',
      '--events',
      events,
      '--archive-dir',
      dir,
      '--okta-pii',
      '{"fields":["username"],"method":"hash"}',
      '--pii-key-file',
      keyFile,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/must hold the HMAC key for PII hashing: at least 32 characters/);
    expect(run.stderr).not.toContain('too-short-secret');
  });
});
