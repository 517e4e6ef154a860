import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_SOURCE } from '../../../lib/local/event-input.ts';
import { compileRules, loadRules } from '../../../lib/rules/index.ts';
import { linesOf, runOlp, tempDir } from '../../support/run-cli.ts';

/** `olp rules test` and `olp rules lint` with Auth0 rules (the Okta behaviour is in test/unit/cli). */

const AUTH0_DIR = new URL('../../fixtures/auth0/', import.meta.url);
const AUTH0_SOURCE = 'aws.partner/auth0.com/acme-prod-7d0f3b6a-2c4e-4f5a-9b1c-3e2d1a0f9c8b/auth0.logs';

interface Row {
  readonly ruleId: string;
  readonly envelope: { detail: { log_id: string; data: { date: string; type: string } } };
}

const matchRows: Row[] = readdirSync(AUTH0_DIR)
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) => {
    const c = JSON.parse(readFileSync(new URL(name, AUTH0_DIR), 'utf8'));
    return c.matches.map((m: { envelope: Row['envelope'] }) => ({ ruleId: c.ruleId, envelope: m.envelope }));
  });

const AUTH0_USER_RULE = `rules:
  - id: auth0-signup-success
    source: auth0
    title: Auth0 signup
    severity: info
    description: Someone signed up.
    runbook: Nothing to do.
    match:
      eventType: [ss, sss]
`;

describe('olp rules with Auth0 rules', () => {
  let dir: string;
  let remove: () => void;

  beforeEach(() => {
    ({ dir, remove } = tempDir('rules-auth0'));
  });

  afterEach(() => remove());

  it('tests Auth0 log envelopes against the Auth0 rules of their own tenant, showing date, type and log_id', async () => {
    // Prepare
    const events = join(dir, 'auth0.jsonl');
    writeFileSync(events, matchRows.map((row) => `${JSON.stringify(row.envelope)}\n`).join(''));

    // Act
    const run = await runOlp(['rules', 'test', '--events', events]);
    const asJson = await runOlp(['rules', 'test', '--events', events, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout)).toEqual(
      matchRows.map(
        ({ ruleId, envelope: { detail } }) =>
          `${detail.data.date}  ${detail.data.type}  ${detail.log_id}  -> ${ruleId}`,
      ),
    );
    expect(linesOf(asJson.stdout).map((line) => JSON.parse(line))).toEqual(
      matchRows.map(({ ruleId, envelope: { detail } }) => ({
        uuid: detail.log_id,
        eventType: detail.data.type,
        rules: [ruleId],
      })),
    );
  });

  it('matches no rule for an Auth0-shaped log from a source that is neither Okta nor a valid Auth0 source', async () => {
    // Prepare
    const [first] = matchRows;
    const events = join(dir, 'odd.json');
    writeFileSync(events, JSON.stringify([{ ...first?.envelope, source: 'aws.events' }]));

    // Act
    const run = await runOlp(['rules', 'test', '--events', events, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout).map((line) => JSON.parse(line).rules)).toEqual([[]]);
  });

  it('lints the Auth0 rules too for --auth0-source, in rule order', async () => {
    // Prepare
    const expected = compileRules(loadRules(), { okta: DEFAULT_EVENT_SOURCE, auth0: AUTH0_SOURCE });

    // Act
    const run = await runOlp(['rules', 'lint', '--auth0-source', AUTH0_SOURCE]);

    // Assess
    expect(run.code).toBe(0);
    const headers = run.stdout
      .trimEnd()
      .split('\n\n')
      .map((block) => block.split('\n')[0]);
    expect(headers).toEqual(expected.map((rule) => `${rule.id}  ${rule.severity}  ${rule.title}`));
    expect(run.stdout).toContain(`"source": [\n    "${AUTH0_SOURCE}"\n  ],\n  "detail-type": [\n    "Auth0 log"\n  ]`);
    expect(run.stderr).toBe(`${expected.length} alert rules valid: ${expected.length} from the default pack\n`);
  });

  it('validates the Auth0 rules without --auth0-source, points out undocumented type codes, and counts what it prints', async () => {
    // Prepare
    writeFileSync(join(dir, 'mine.yaml'), AUTH0_USER_RULE);
    const okta = compileRules(loadRules(), DEFAULT_EVENT_SOURCE);

    // Act
    const run = await runOlp(['rules', 'lint', '--rules', dir]);
    const withAuth0 = await runOlp(['rules', 'lint', '--rules', dir, '--auth0-source', 'olp.auth0/acme-prod']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('auth0-signup-success');
    expect(linesOf(run.stderr)).toEqual([
      `note: ${join(dir, 'mine.yaml')}: rule auth0-signup-success: match.eventType: sss: not an Auth0 log type code Auth0 documents`,
      `${okta.length} alert rules valid: ${okta.length} from the default pack, 0 from ${dir}`,
    ]);
    expect(withAuth0.code).toBe(0);
    expect(withAuth0.stdout).toContain('auth0-signup-success  info  Auth0 signup\n');
    expect(linesOf(withAuth0.stderr).at(-1)).toMatch(
      new RegExp(`alert rules valid: \\d+ from the default pack, 1 from ${dir}$`),
    );
  });

  it('refuses an --auth0-source that cannot be where Auth0 logs come from, exit 2', async () => {
    // Act
    const run = await runOlp(['rules', 'lint', '--auth0-source', 'aws.partner/okta.com/acme/okta-logs']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^olp rules: --auth0-source must be an Auth0 partner event source/);
  });

  it('refuses an Auth0 rule with an Okta-only subject placeholder, naming file, rule and field, exit 2', async () => {
    // Prepare
    writeFileSync(
      join(dir, 'bad.yaml'),
      AUTH0_USER_RULE.replace('    severity: info', '    severity: info\n    subject: "{actor}"'),
    );

    // Act
    const run = await runOlp(['rules', 'lint', '--rules', dir]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `${join(dir, 'bad.yaml')}: rule auth0-signup-success (#0): subject: placeholder {actor}`,
    );
  });
});
