import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linesOf, runOlp, tempDir } from '../../support/run-cli.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/sigma/okta/', import.meta.url));
const TOKEN_CREATED = 'okta_api_token_created.yml';
const MFA_FATIGUE = 'okta_mfa_fatigue.yml';

const sigmaRule = (title: string, id: string, eventType = 'user.session.start'): string =>
  `title: ${JSON.stringify(title)}\nid: ${id}\nlogsource:\n  product: okta\n  service: okta\n` +
  `detection:\n  selection:\n    eventType: ${eventType}\n  condition: selection\nlevel: low\n`;

describe('olp rules import-sigma', () => {
  let dir: string;
  let remove: () => void;
  let input: string;
  let out: string;

  beforeEach(() => {
    ({ dir, remove } = tempDir('import-sigma'));
    input = join(dir, 'sigma');
    out = join(dir, 'rules');
    mkdirSync(input);
  });

  afterEach(() => remove());

  it('documents itself and its exit codes, and is listed in olp rules --help', async () => {
    // Act
    const help = await runOlp(['rules', 'import-sigma', '--help']);
    const rulesHelp = await runOlp(['rules', '--help']);

    // Assess
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('olp rules import-sigma <file|dir> --out <dir> [--json]');
    expect(help.stdout).toContain('Exit codes: 0 every Sigma rule converted; 3 some were skipped or invalid');
    expect(rulesHelp.stdout).toContain('olp rules import-sigma <file|dir> --out <dir> [--json]');
  });

  it('converts one file, writes it atomically, and exits 0', async () => {
    // Act
    const run = await runOlp(['rules', 'import-sigma', join(FIXTURES, TOKEN_CREATED), '--out', out]);

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout)).toEqual([`converted  ${TOKEN_CREATED} -> ${join(out, 'okta-api-token-created.yaml')}`]);
    expect(run.stderr).toBe(`1 of 1 Sigma rule file converted into ${out}, 0 skipped\n`);
    expect(readdirSync(out)).toEqual(['okta-api-token-created.yaml']);
    expect(readFileSync(join(out, 'okta-api-token-created.yaml'), 'utf8')).toMatch(
      /^# Converted by olp rules import-sigma from the Sigma rule okta_api_token_created\.yml\. Review it before deploying\.\nrules:\n {2}- id: okta-api-token-created\n/,
    );
  });

  it('writes the same bytes on every run, replacing the file it wrote before', async () => {
    // Prepare
    copyFileSync(join(FIXTURES, TOKEN_CREATED), join(input, TOKEN_CREATED));
    await runOlp(['rules', 'import-sigma', input, '--out', out]);
    const first = readFileSync(join(out, 'okta-api-token-created.yaml'));
    writeFileSync(join(out, 'okta-api-token-created.yaml'), 'stale');

    // Act
    const run = await runOlp(['rules', 'import-sigma', input, '--out', out]);

    // Assess
    expect(run.code).toBe(0);
    expect(readFileSync(join(out, 'okta-api-token-created.yaml'))).toEqual(first);
  });

  it('writes nothing for a skipped rule and exits 3', async () => {
    // Act
    const run = await runOlp(['rules', 'import-sigma', join(FIXTURES, MFA_FATIGUE), '--out', out]);

    // Assess
    expect(run.code).toBe(3);
    expect(linesOf(run.stdout)).toEqual([
      `skipped    ${MFA_FATIGUE}: the condition aggregates over many events (| count(actor.alternateid) by eventtype ` +
        '> 20); an alert rule matches one event at a time',
    ]);
    expect(run.stderr).toBe(`0 of 1 Sigma rule file converted into ${out}, 1 skipped\n`);
    expect(existsSync(out)).toBe(false);
  });

  it('reads subdirectories, names files by their path inside the input, and never reads its own output', async () => {
    // Prepare
    mkdirSync(join(input, 'identity', 'okta'), { recursive: true });
    copyFileSync(join(FIXTURES, TOKEN_CREATED), join(input, 'identity', 'okta', TOKEN_CREATED));
    writeFileSync(join(input, 'notes.txt'), 'not a rule');
    const inside = join(input, 'converted');
    await runOlp(['rules', 'import-sigma', input, '--out', inside]);

    // Act
    const run = await runOlp(['rules', 'import-sigma', input, '--out', inside, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout).map((line) => JSON.parse(line))).toEqual([
      {
        file: `identity/okta/${TOKEN_CREATED}`,
        status: 'converted',
        sigmaId: '19951c21-229d-4ccb-8774-b993c3ff3c5c',
        title: 'Okta API Token Created',
        id: 'okta-api-token-created',
        path: join(inside, 'okta-api-token-created.yaml'),
        notes: [],
      },
    ]);
  });

  it('tells rules with one title apart by their Sigma id, and never takes an id of the default pack', async () => {
    // Prepare
    writeFileSync(join(input, 'a.yml'), sigmaRule('Session started', 'aaaaaaaa-1111-4111-8111-111111111111'));
    writeFileSync(join(input, 'b.yml'), sigmaRule('Session started', 'bbbbbbbb-2222-4222-8222-222222222222'));
    writeFileSync(
      join(input, 'c.yml'),
      sigmaRule('API token created', 'cccccccc-3333-4333-8333-333333333333', 'system.api_token.create'),
    );

    // Act
    const run = await runOlp(['rules', 'import-sigma', input, '--out', out]);
    const lint = await runOlp(['rules', 'lint', '--rules', out]);

    // Assess
    expect(run.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'api-token-created-cccccccc.yaml',
      'session-started-aaaaaaaa.yaml',
      'session-started-bbbbbbbb.yaml',
    ]);
    expect(lint.code).toBe(0);
  });

  it('shows hostile file names, titles and reasons escaped, in text and in JSON', async () => {
    // Prepare
    const evilName = 'evil\u001b[31m\u202e.yml';
    writeFileSync(
      join(input, evilName),
      'title: "Red\\u001b[31m\\nforged line"\nlogsource: {product: okta, service: okta}\n' +
        'detection: {selection: {"eventType": a.b, "x\\u001b[2J": 1}, condition: selection}\n',
    );

    // Act
    const text = await runOlp(['rules', 'import-sigma', input, '--out', out]);
    const json = await runOlp(['rules', 'import-sigma', input, '--out', out, '--json']);

    // Assess
    expect(text.code).toBe(3);
    expect(text.stdout + text.stderr).not.toContain('\u001b');
    expect(text.stdout + text.stderr).not.toContain('\u202e');
    expect(linesOf(text.stdout)).toEqual([
      'skipped    evil\\u001b[31m\\u202e.yml: field x\\u001b[2J is not a System Log field',
    ]);
    expect(json.stdout).not.toContain('\u001b');
    expect(json.stdout).not.toContain('\u202e');
    expect(linesOf(json.stdout).map((line) => JSON.parse(line))).toEqual([
      {
        file: evilName,
        status: 'skipped',
        sigmaId: null,
        title: 'Red\u001b[31m\nforged line',
        reason: 'field x\u001b[2J is not a System Log field',
      },
    ]);
  });

  it('reports an invalid file with the field at fault, and goes on with the others', async () => {
    // Prepare
    copyFileSync(join(FIXTURES, TOKEN_CREATED), join(input, TOKEN_CREATED));
    writeFileSync(join(input, 'broken.yml'), 'title: x\nlogsource: {product: okta}\ndetection: {condition: sel}\n');

    // Act
    const run = await runOlp(['rules', 'import-sigma', input, '--out', out]);

    // Assess
    expect(run.code).toBe(3);
    expect(linesOf(run.stdout)).toEqual([
      'invalid    broken.yml: detection.condition: names "sel", which the detection does not define',
      `converted  ${TOKEN_CREATED} -> ${join(out, 'okta-api-token-created.yaml')}`,
    ]);
    expect(run.stderr).toBe(`1 of 2 Sigma rule files converted into ${out}, 0 skipped, 1 invalid\n`);
  });

  it('exits 1, leaving no temporary file, when a rule file cannot be written', async () => {
    // Prepare: a directory where the rule file should go.
    mkdirSync(join(out, 'okta-api-token-created.yaml'), { recursive: true });

    // Act
    const run = await runOlp(['rules', 'import-sigma', join(FIXTURES, TOKEN_CREATED), '--out', out]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^olp rules: cannot write .*okta-api-token-created\.yaml: /);
    expect(readdirSync(out)).toEqual(['okta-api-token-created.yaml']);
  });

  it.each([
    { args: [], message: 'name a Sigma rule file or directory (see --help)' },
    { args: ['x.yml'], message: '--out is required (see --help)' },
    { args: ['a.yml', 'b.yml', '--out', 'o'], message: 'one Sigma file or directory at a time, got 2' },
    { args: ['x.yml', '--out', 'o', '--verbose'], message: "Unknown option '--verbose'" },
  ])('refuses $args with exit 2', async ({ args, message }) => {
    // Act
    const run = await runOlp(['rules', 'import-sigma', ...args]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('refuses a missing input and a directory without Sigma files with exit 2', async () => {
    // Act
    const missing = await runOlp(['rules', 'import-sigma', join(dir, 'nope'), '--out', out]);
    const empty = await runOlp(['rules', 'import-sigma', input, '--out', out]);

    // Assess
    expect(missing).toMatchObject({ code: 2, stderr: `olp rules: ${join(dir, 'nope')}: no such file or directory\n` });
    expect(empty).toMatchObject({
      code: 2,
      stderr: `olp rules: ${input} holds no Sigma rule files (*.yml, *.yaml)\n`,
    });
  });
});
