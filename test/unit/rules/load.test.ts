import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateRuleIdError, RuleValidationError } from '../../../lib/rules/errors.ts';
import { DEFAULT_PACK_DIR, loadRuleDirectory, loadRules, parseRules } from '../../../lib/rules/load.ts';
import { unknownAuth0LogTypes } from '../../../lib/rules/schema.ts';

const VALID_RULE = `
  - id: api-token-created
    title: Okta API token created
    severity: high
    description: An SSWS token was created.
    runbook: |
      1. Ask the actor.
      2. Revoke it if nobody vouches for it.
    match:
      eventType: [system.api_token.create]
`;

/** A rule file with one rule whose `field: value` lines replace or extend the valid rule's. */
const ruleFile = (overrides: Record<string, string> = {}, drop: readonly string[] = []): string => {
  const fields: Record<string, string> = {
    id: 'api-token-created',
    title: 'Okta API token created',
    severity: 'high',
    description: 'An SSWS token was created.',
    runbook: 'Ask the actor.',
    match: '{ eventType: [system.api_token.create] }',
    ...overrides,
  };
  const lines = Object.entries(fields)
    .filter(([key]) => !drop.includes(key))
    .map(([key, value]) => `    ${key}: ${value}`);
  return `rules:\n  - ${lines.join('\n').trimStart()}\n`;
};

const validationError = (text: string, source = 'rules/custom.yaml'): RuleValidationError => {
  try {
    parseRules(text, source);
  } catch (error) {
    if (error instanceof RuleValidationError) return error;
    throw error;
  }
  throw new Error('expected a RuleValidationError');
};

describe('parseRules', () => {
  it('reads a list of rules and remembers their file', () => {
    // Act
    const [rule, ...rest] = parseRules(`rules:${VALID_RULE}`, 'rules/tokens.yaml');

    // Assess
    expect(rest).toEqual([]);
    expect(rule).toMatchObject({
      id: 'api-token-created',
      severity: 'high',
      file: 'rules/tokens.yaml',
      match: { eventType: ['system.api_token.create'] },
    });
    expect(rule?.source).toBeUndefined();
    expect(rule?.runbook).toContain('2. Revoke it');
  });

  it.each([
    {
      name: 'a missing field',
      text: ruleFile({}, ['severity']),
      path: 'severity',
      reason: 'one of info, low, medium, high, critical',
    },
    { name: 'an unknown severity', text: ruleFile({ severity: 'urgent' }), path: 'severity', reason: 'one of info' },
    { name: 'an id that is not kebab-case', text: ruleFile({ id: 'API_Token' }), path: 'id', reason: 'kebab-case' },
    { name: 'a misspelt field', text: ruleFile({ severty: 'high' }), path: '(rule)', reason: 'severty' },
    {
      name: 'an event type that is not dotted',
      text: ruleFile({ match: '{ eventType: [login] }' }),
      path: 'match.eventType.0',
      reason: 'dotted Okta event type',
    },
    {
      name: 'consecutive wildcards',
      text: ruleFile({ match: "{ eventType: ['user.**'] }" }),
      path: 'match.eventType.0',
      reason: 'consecutive',
    },
    {
      name: 'a glob that matches everything',
      text: ruleFile({ match: "{ eventType: ['*.*'] }" }),
      path: 'match.eventType.0',
      reason: 'matches every event type',
    },
    {
      name: 'no event types',
      text: ruleFile({ match: '{ eventType: [] }' }),
      path: 'match.eventType',
      reason: 'at least one',
    },
    {
      name: 'eventType inside where',
      text: ruleFile({ match: '{ eventType: [user.account.lock], where: { eventType: [user.account.unlock] } }' }),
      path: 'match.where',
      reason: 'must not hold `eventType`',
    },
    {
      name: 'a where fragment EventBridge would refuse',
      text: ruleFile({ match: '{ eventType: [user.account.lock], where: { outcome: { result: SUCCESS } } }' }),
      path: 'match.where.outcome.result',
      reason: 'array',
    },
    {
      name: 'an unknown subject placeholder',
      text: ruleFile({ subject: "'Token created by {user}'" }),
      path: 'subject',
      reason: 'unknown placeholder {user}',
    },
  ])('refuses $name, naming file, rule, field and reason', ({ text, path, reason }) => {
    // Act
    const error = validationError(text);

    // Assess
    expect(error.file).toBe('rules/custom.yaml');
    expect(error.message).toContain('rules/custom.yaml');
    expect(error.rule).toMatch(/#0/);
    expect(error.issues.map((issue) => issue.path)).toContain(path);
    expect(error.message).toContain(`${path}: `);
    expect(error.message).toContain(reason);
  });

  it('names the rule by its id when it has one, by its position otherwise', () => {
    // Prepare
    const text = `rules:${VALID_RULE}  - title: no id\n`;

    // Act
    const error = validationError(text);

    // Assess
    expect(error.rule).toBe('#1');
    expect(error.message).toMatch(/^rules\/custom\.yaml: rule #1: id: /);
    expect(validationError(ruleFile({ severity: 'urgent' })).message).toMatch(
      /^rules\/custom\.yaml: rule api-token-created \(#0\): severity: /,
    );
  });

  it.each([
    { name: 'a file without `rules`', text: 'rule:\n  - id: x\n', reason: 'rules' },
    { name: 'an empty list', text: 'rules: []\n', reason: 'at least one rule' },
    { name: 'broken YAML', text: 'rules:\n  - id: [unclosed\n', reason: '(yaml)' },
    { name: 'a duplicate key', text: `rules:${VALID_RULE}    severity: low\n`, reason: '(yaml)' },
  ])('refuses $name as a whole', ({ text, reason }) => {
    // Act
    const error = validationError(text);

    // Assess
    expect(error.rule).toBeUndefined();
    expect(error.message).toContain('rules/custom.yaml');
    expect(error.message).toContain(reason);
  });
});

/** An Auth0 rule file with one rule whose `field: value` lines replace or extend a valid Auth0 rule's. */
const auth0RuleFile = (overrides: Record<string, string> = {}): string =>
  ruleFile({
    id: 'auth0-wrong-password',
    source: 'auth0',
    title: 'Auth0 wrong password',
    description: 'A login failed with a wrong password.',
    match: '{ eventType: [fp] }',
    ...overrides,
  });

describe('parseRules for Auth0 rules', () => {
  it('reads an Auth0 rule, its source, type codes, prefix globs and conditions on the log data', () => {
    // Prepare
    const text = auth0RuleFile({
      subject: "'{title} ({eventType})'",
      match: "{ eventType: [fp, 'gd_*'], where: { details: { request: { path: [{ prefix: /api/v2/ }] } } } }",
    });

    // Act
    const [rule] = parseRules(text, 'rules/auth0.yaml');

    // Assess
    expect(rule).toMatchObject({
      id: 'auth0-wrong-password',
      source: 'auth0',
      subject: '{title} ({eventType})',
      file: 'rules/auth0.yaml',
      match: { eventType: ['fp', 'gd_*'], where: { details: { request: { path: [{ prefix: '/api/v2/' }] } } } },
    });
  });

  it('reads `source: okta` as an Okta rule, as if it were left out', () => {
    // Act
    const [rule] = parseRules(ruleFile({ source: 'okta' }), 'rules/okta.yaml');

    // Assess
    expect(rule).toMatchObject({ source: 'okta', match: { eventType: ['system.api_token.create'] } });
  });

  it.each([
    { name: 'an unknown source', text: ruleFile({ source: 'azure' }), path: 'source', reason: 'one of okta, auth0' },
    {
      name: 'an Okta event type in an Auth0 rule',
      text: auth0RuleFile({ match: '{ eventType: [user.session.start] }' }),
      path: 'match.eventType.0',
      reason: 'is a dotted Okta event type; an Auth0 rule lists Auth0 log type codes',
    },
    {
      name: 'an Auth0 type code in an Okta rule',
      text: ruleFile({ match: '{ eventType: [fp] }' }),
      path: 'match.eventType.0',
      reason: 'need `source: auth0`',
    },
    {
      name: 'a code in upper case',
      text: auth0RuleFile({ match: '{ eventType: [FP] }' }),
      path: 'match.eventType.0',
      reason: 'must be an Auth0 log type code',
    },
    {
      name: 'a glob that is not a prefix',
      text: auth0RuleFile({ match: "{ eventType: ['gd_*_failed'] }" }),
      path: 'match.eventType.0',
      reason: 'a prefix glob ending in one `*`',
    },
    {
      name: 'a glob that matches every type',
      text: auth0RuleFile({ match: "{ eventType: ['*'] }" }),
      path: 'match.eventType.0',
      reason: 'matches every log type',
    },
    {
      name: 'no type codes',
      text: auth0RuleFile({ match: '{ eventType: [] }' }),
      path: 'match.eventType',
      reason: 'at least one Auth0 log type code',
    },
    {
      name: 'type inside where',
      text: auth0RuleFile({ match: '{ eventType: [fp], where: { type: [fu] } }' }),
      path: 'match.where',
      reason: 'must not hold `type`',
    },
    {
      name: 'a where fragment EventBridge would refuse, located inside the log data',
      text: auth0RuleFile({ match: '{ eventType: [sapi], where: { details: { request: { method: delete } } } }' }),
      path: 'match.where.details.request.method',
      reason: 'array',
    },
    {
      name: 'an Okta-only subject placeholder',
      text: auth0RuleFile({ subject: "'Wrong password for {actor}'" }),
      path: 'subject',
      reason: 'placeholder {actor} is filled from Okta System Log fields',
    },
    {
      name: 'an unknown subject placeholder',
      text: auth0RuleFile({ subject: "'Wrong password for {user}'" }),
      path: 'subject',
      reason: 'unknown placeholder {user}; use one of {title}, {eventType}, {severity}',
    },
    { name: 'a misspelt field', text: auth0RuleFile({ sevrity: 'high' }), path: '(rule)', reason: 'sevrity' },
  ])('refuses $name, naming file, rule, field and reason', ({ text, path, reason }) => {
    // Act
    const error = validationError(text);

    // Assess
    expect(error.file).toBe('rules/custom.yaml');
    expect(error.rule).toMatch(/#0/);
    expect(error.issues.map((issue) => issue.path)).toContain(path);
    expect(error.message).toContain(`${path}: `);
    expect(error.message).toContain(reason);
  });
});

describe('unknownAuth0LogTypes', () => {
  it('points out codes and prefixes Auth0 does not document, and nothing for Okta rules', () => {
    // Prepare
    const [auth0] = parseRules(
      auth0RuleFile({ match: "{ eventType: [fp, fpp, 'gd_*', 'gdx_*', limit_mu] }" }),
      'a.yaml',
    );
    const [okta] = parseRules(ruleFile(), 'o.yaml');

    // Act
    const unknown = auth0 === undefined ? [] : unknownAuth0LogTypes(auth0);

    // Assess
    expect(unknown).toEqual(['fpp', 'gdx_*']);
    expect(okta === undefined ? ['missing'] : unknownAuth0LogTypes(okta)).toEqual([]);
  });

  it('finds nothing unknown in the default pack', () => {
    expect(loadRules().flatMap(unknownAuth0LogTypes)).toEqual([]);
  });
});

describe('loadRules', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'olp-rules-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the default pack with unique, kebab-case ids', () => {
    // Act
    const rules = loadRules();

    // Assess
    expect(rules.length).toBeGreaterThanOrEqual(15);
    expect(new Set(rules.map((rule) => rule.id)).size).toBe(rules.length);
    expect(rules.every((rule) => rule.file.startsWith(DEFAULT_PACK_DIR))).toBe(true);
  });

  it('adds the user directory after the pack, reading .yaml and .yml only', () => {
    // Prepare
    writeFileSync(join(dir, 'b.yml'), ruleFile({ id: 'second' }));
    writeFileSync(join(dir, 'a.yaml'), ruleFile({ id: 'first' }));
    writeFileSync(join(dir, 'notes.txt'), 'not a rule file');
    mkdirSync(join(dir, 'nested.yaml'), { recursive: true });

    // Act
    const rules = loadRules({ userDir: dir });

    // Assess
    expect(rules.slice(-2).map((rule) => [rule.id, rule.file])).toEqual([
      ['first', join(dir, 'a.yaml')],
      ['second', join(dir, 'b.yml')],
    ]);
  });

  it('refuses a missing user directory, naming it', () => {
    // Prepare
    const missing = join(dir, 'does-not-exist');

    // Act
    const load = () => loadRules({ userDir: missing });

    // Assess
    expect(load).toThrow(RuleValidationError);
    expect(load).toThrow(`${missing}: (directory): rule directory does not exist`);
  });

  it('refuses a duplicate id within the user directory, naming both files', () => {
    // Prepare
    writeFileSync(join(dir, 'a.yaml'), ruleFile({ id: 'twice' }));
    writeFileSync(join(dir, 'b.yaml'), ruleFile({ id: 'twice' }));

    // Act
    const load = () => loadRuleDirectory(dir);
    const loaded = load();
    const check = () => loadRules({ userDir: dir });

    // Assess
    expect(loaded).toHaveLength(2);
    expect(check).toThrow(DuplicateRuleIdError);
    expect(check).toThrow(
      `${join(dir, 'b.yaml')}: rule twice: id: duplicate rule id "twice", already defined in ${join(dir, 'a.yaml')}`,
    );
  });

  it('refuses a user rule that reuses a pack id, naming the pack file', () => {
    // Prepare
    writeFileSync(join(dir, 'mine.yaml'), ruleFile({ id: 'log-stream-deactivated' }));

    // Act
    const load = () => loadRules({ userDir: dir });

    // Assess
    expect(load).toThrow(
      /mine\.yaml: rule log-stream-deactivated: id: duplicate rule id .* already defined in .*log-streaming\.yaml/,
    );
  });
});
