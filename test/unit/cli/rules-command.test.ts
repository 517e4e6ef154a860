import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_SOURCE } from '../../../lib/local/event-input.ts';
import { generateSample, LOG_STREAM_DEACTIVATE } from '../../../lib/local/sample-stream.ts';
import { compileRules, loadRules } from '../../../lib/rules/index.ts';
import { fixturePath, linesOf, runOlp, tempDir } from '../../support/run-cli.ts';

interface Delivery {
  source: string;
  detail: { uuid: string; published: string; eventType: string };
}

const sample = generateSample({ count: 2000, seed: 7 });
const deliveries = sample.deliveries as Delivery[];
const RAW_EVENTS = fixturePath('raw-events.jsonl');

const USER_RULE = `rules:
  - id: session-started
    title: Session started
    severity: info
    description: Someone signed in.
    runbook: Nothing to do.
    match:
      eventType: [user.session.start]
`;

const BAD_USER_RULE = `rules:
  - id: broken-rule
    title: Broken
    severity: urgent
    description: A severity that does not exist.
    runbook: Fix it.
    match:
      eventType: [user.session.start]
`;

describe('olp rules test', () => {
  let dir: string;
  let remove: () => void;
  let sampleFile: string;

  beforeEach(() => {
    ({ dir, remove } = tempDir('rules'));
    sampleFile = join(dir, 'sample.jsonl');
    writeFileSync(sampleFile, deliveries.map((delivery) => `${JSON.stringify(delivery)}\n`).join(''));
  });

  afterEach(() => remove());

  const writeRules = (name: string, text: string): string => {
    const rulesDir = join(dir, name);
    mkdirSync(rulesDir);
    writeFileSync(join(rulesDir, 'rules.yaml'), text);
    return rulesDir;
  };

  it('prints the rules each sample delivery matches, e.g. the log stream deactivation', async () => {
    // Prepare
    const deactivation = deliveries.find((delivery) => delivery.detail.eventType === LOG_STREAM_DEACTIVATE);

    // Act
    const run = await runOlp(['rules', 'test', '--events', sampleFile]);

    // Assess
    expect(run.code).toBe(0);
    const lines = linesOf(run.stdout);
    expect(lines).toHaveLength(deliveries.length);
    expect(lines.every((line) => /^\S+ {2}\S+ {2}\S+ {2}-> (\(no rule\)|[a-z0-9-]+(, [a-z0-9-]+)*)$/.test(line))).toBe(
      true,
    );
    expect(lines).toContain(
      `${deactivation?.detail.published}  ${LOG_STREAM_DEACTIVATE}  ${deactivation?.detail.uuid}  -> log-stream-deactivated`,
    );
    expect(lines[0]).toBe(
      `${deliveries[0]?.detail.published}  ${deliveries[0]?.detail.eventType}  ${deliveries[0]?.detail.uuid}  -> (no rule)`,
    );
    expect(linesOf(run.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${deliveries.length} events tested, \\d+ matched an alert rule, 0 unusable records \\(\\d+ rules\\)$`,
        ),
      ),
    ]);
  });

  it('with --json prints exactly one object per delivery on stdout: uuid, eventType and rule ids', async () => {
    // Act
    const run = await runOlp(['rules', 'test', '--events', sampleFile, '--json']);

    // Assess
    expect(run.code).toBe(0);
    const results = linesOf(run.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(results).toHaveLength(deliveries.length);
    for (const [index, result] of results.entries()) {
      expect(Object.keys(result)).toEqual(['uuid', 'eventType', 'rules']);
      expect(result).toMatchObject({
        uuid: deliveries[index]?.detail.uuid,
        eventType: deliveries[index]?.detail.eventType,
      });
      expect(result.rules).toBeInstanceOf(Array);
    }
    expect(results).toContainEqual({
      uuid: expect.any(String),
      eventType: LOG_STREAM_DEACTIVATE,
      rules: ['log-stream-deactivated'],
    });
    expect(linesOf(run.stderr)).toHaveLength(1);
  });

  it('wraps raw System Log events and reports unusable records on stderr with their line', async () => {
    // Act
    const run = await runOlp(['rules', 'test', '--events', RAW_EVENTS]);

    // Assess
    expect(run).toEqual({
      code: 0,
      stdout: [
        '2026-11-04T09:27:33.512Z  system.log_stream.lifecycle.deactivate  0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e01  -> log-stream-deactivated',
        '2026-11-04T09:28:00.001Z  user.session.start  0B6F2D3E-8A1C-11F0-9D2E-5B1F0C7A4E02  -> (no rule)',
        '2026-11-04T09:29:10.250Z  system.api_token.create  0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e04  -> api-token-created',
        '',
      ].join('\n'),
      stderr: expect.stringMatching(
        /^.*raw-events\.jsonl:4: not JSON: Unexpected end of JSON input\n.*raw-events\.jsonl:6: not an event: /,
      ),
    });
    expect(linesOf(run.stderr).at(-1)).toMatch(/^3 events tested, 2 matched an alert rule, 2 unusable records/);
  });

  it('with --json reports unusable records on stdout as {"line", "error"}', async () => {
    // Act
    const run = await runOlp(['rules', 'test', '--events', RAW_EVENTS, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout).map((line) => JSON.parse(line))).toEqual([
      {
        uuid: '0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e01',
        eventType: 'system.log_stream.lifecycle.deactivate',
        rules: ['log-stream-deactivated'],
      },
      { uuid: '0B6F2D3E-8A1C-11F0-9D2E-5B1F0C7A4E02', eventType: 'user.session.start', rules: [] },
      { line: 4, error: 'not JSON: Unexpected end of JSON input' },
      {
        uuid: '0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e04',
        eventType: 'system.api_token.create',
        rules: ['api-token-created'],
      },
      { line: 6, error: expect.stringMatching(/^not an event: neither an EventBridge envelope/) },
    ]);
    expect(linesOf(run.stdout).filter((line) => line.includes('"line"'))).toEqual([
      '{"line":4,"error":"not JSON: Unexpected end of JSON input"}',
      expect.stringMatching(/^\{"line":6,"error":"[^"]+"\}$/),
    ]);
  });

  it('tests envelopes against the rules of their own Okta source, and envelopes from other sources against none', async () => {
    // Prepare
    const deactivation = {
      uuid: '0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e09',
      published: '2026-11-04T09:27:33Z',
      eventType: LOG_STREAM_DEACTIVATE,
    };
    const envelope = (source: string) => ({
      version: '0',
      id: '429a21fe-4db2-5c86-bb23-d39ab0fb0fb0',
      'detail-type': 'SystemLog',
      source,
      account: '111122223333',
      time: '2026-11-04T09:27:33Z',
      region: 'us-east-1',
      resources: [],
      detail: deactivation,
    });
    const events = [
      deactivation,
      envelope('aws.partner/okta.com/acme/okta-logs'),
      envelope('aws.partner/okta.com/other-org/security-stream'),
      envelope('aws.partner/auth0.com/acme-1234/auth0.logs'),
    ];
    const path = join(dir, 'sources.json');
    writeFileSync(path, JSON.stringify(events));

    // Act
    const byDefault = await runOlp(['rules', 'test', '--events', path, '--json']);
    const withSource = await runOlp([
      'rules',
      'test',
      '--events',
      path,
      '--json',
      '--source',
      'aws.partner/okta.com/acme/okta-logs',
    ]);

    // Assess
    const rulesOf = (stdout: string) => linesOf(stdout).map((line) => JSON.parse(line).rules);
    expect(rulesOf(byDefault.stdout)).toEqual([
      ['log-stream-deactivated'],
      ['log-stream-deactivated'],
      ['log-stream-deactivated'],
      [],
    ]);
    expect(rulesOf(withSource.stdout)).toEqual(rulesOf(byDefault.stdout));
  });

  it('adds the rules of --rules to the default pack', async () => {
    // Prepare
    const rulesDir = writeRules('mine', USER_RULE);

    // Act
    const run = await runOlp(['rules', 'test', '--events', RAW_EVENTS, '--rules', rulesDir, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout).map((line) => JSON.parse(line).rules ?? 'bad record')).toEqual([
      ['log-stream-deactivated'],
      ['session-started'],
      'bad record',
      ['api-token-created'],
      'bad record',
    ]);
  });

  it('reads gzipped events from stdin for "-"', async () => {
    // Act
    const run = await runOlp(['rules', 'test', '--events', '-', '--json'], {
      stdin: gzipSync(readFileSync(sampleFile)),
    });

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout)).toHaveLength(deliveries.length);
  });

  it('refuses an invalid user rule with one line naming the file, the rule and the field, exit 2', async () => {
    // Prepare
    const rulesDir = writeRules('bad', BAD_USER_RULE);

    // Act
    const run = await runOlp(['rules', 'test', '--events', RAW_EVENTS, '--rules', rulesDir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(linesOf(run.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(`^olp rules: ${join(rulesDir, 'rules.yaml')}: rule broken-rule \\(#0\\): severity: `),
      ),
    ]);
  });

  it.each([
    [['rules', 'test'], 'olp rules: --events is required (see --help)'],
    [['rules', 'test', '--events', '/no/such/events.jsonl'], 'olp rules: /no/such/events.jsonl: no such file'],
    [
      ['rules', 'test', '--events', '-', '--source', 'aws.partner/auth0.com/acme/logs'],
      'olp rules: --source must be an Okta partner event source, aws.partner/okta.com/<org>/<name>',
    ],
    [['rules', 'test', '--events', '-', '--jsonl'], "olp rules: Unknown option '--jsonl' (see --help)"],
    [['rules'], 'olp rules: missing subcommand; use olp rules test or olp rules lint (see --help)'],
    [['rules', 'check'], 'olp rules: unknown subcommand "check"; use olp rules test or olp rules lint (see --help)'],
  ])('refuses %j with one line, exit 2', async (argv, message) => {
    // Act
    const run = await runOlp(argv);

    // Assess
    expect(run).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
  });

  it('prints its usage for --help, exit 0', async () => {
    // Act
    const run = await runOlp(['rules', 'test', '--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('olp rules test --events <file|->');
    expect(run.stdout).toContain(DEFAULT_EVENT_SOURCE);
  });
});

describe('olp rules lint', () => {
  let dir: string;
  let remove: () => void;

  beforeEach(() => {
    ({ dir, remove } = tempDir('rules-lint'));
  });

  afterEach(() => remove());

  /** Each rule's header line and its pattern, as printed. */
  const blocksOf = (stdout: string) =>
    stdout
      .trimEnd()
      .split('\n\n')
      .map((block) => {
        const [header = '', ...pattern] = block.split('\n');
        return { header, pattern: JSON.parse(pattern.join('\n')) as unknown };
      });

  it('prints every rule of the default pack with its compiled EventBridge pattern, exit 0', async () => {
    // Prepare
    const expected = compileRules(loadRules(), DEFAULT_EVENT_SOURCE);

    // Act
    const run = await runOlp(['rules', 'lint']);

    // Assess
    expect(run.code).toBe(0);
    expect(blocksOf(run.stdout)).toEqual(
      expected.map((rule) => ({ header: `${rule.id}  ${rule.severity}  ${rule.title}`, pattern: rule.pattern })),
    );
    expect(run.stdout).toContain('log-stream-deactivated  critical  Okta log stream deactivated\n{\n  "source": [');
    expect(run.stderr).toBe(`${expected.length} alert rules valid: ${expected.length} from the default pack\n`);
  });

  it('compiles for --source and includes the rules of --rules', async () => {
    // Prepare
    writeFileSync(join(dir, 'mine.yml'), USER_RULE);
    const source = 'aws.partner/okta.com/acme/okta-logs';

    // Act
    const run = await runOlp(['rules', 'lint', '--rules', dir, '--source', source]);

    // Assess
    expect(run.code).toBe(0);
    const blocks = blocksOf(run.stdout);
    expect(blocks.at(-1)).toEqual({
      header: 'session-started  info  Session started',
      pattern: { source: [source], 'detail-type': ['SystemLog'], detail: { eventType: ['user.session.start'] } },
    });
    expect(blocks.every((block) => JSON.stringify(block.pattern).includes(source))).toBe(true);
    expect(run.stderr).toMatch(new RegExp(`alert rules valid: \\d+ from the default pack, 1 from ${dir}\\n$`));
  });

  it('refuses a bad user rule directory with one line naming the file and the rule id, exit 2', async () => {
    // Prepare
    writeFileSync(join(dir, 'ok.yaml'), USER_RULE);
    writeFileSync(join(dir, 'broken.yaml'), BAD_USER_RULE);

    // Act
    const run = await runOlp(['rules', 'lint', '--rules', dir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `olp rules: ${join(dir, 'broken.yaml')}: rule broken-rule (#0): severity: must be one of info, low, medium, high, critical\n`,
    );
  });

  it('refuses a rule id used twice, YAML that does not parse and a directory that does not exist, exit 2', async () => {
    // Prepare
    const duplicate = join(dir, 'duplicate');
    mkdirSync(duplicate);
    writeFileSync(join(duplicate, 'a.yaml'), USER_RULE);
    writeFileSync(join(duplicate, 'b.yaml'), USER_RULE);
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'rules.yaml'), 'rules:\n  - id: [unclosed\n');
    const missing = join(dir, 'missing');

    // Act
    const runs = await Promise.all(
      [duplicate, broken, missing].map((rules) => runOlp(['rules', 'lint', '--rules', rules])),
    );

    // Assess
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2]);
    expect(runs.map((run) => linesOf(run.stderr))).toEqual([
      [
        `olp rules: ${join(duplicate, 'b.yaml')}: rule session-started: id: duplicate rule id "session-started", already defined in ${join(duplicate, 'a.yaml')}`,
      ],
      [expect.stringMatching(new RegExp(`^olp rules: ${join(broken, 'rules.yaml')}: \\(yaml\\): `))],
      [`olp rules: ${missing}: (directory): rule directory does not exist`],
    ]);
  });
});
