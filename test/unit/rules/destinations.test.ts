import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forwardingPlan, forwardProblem, RATE_LIMIT_MAX } from '../../../lib/rules/destinations.ts';
import { RuleValidationError } from '../../../lib/rules/errors.ts';
import { loadRuleSet, parseRuleFile } from '../../../lib/rules/load.ts';

const WORKFLOWS_URL = 'https://acme.workflows.okta.com/api/flo/d8c5b3a0e1f24b6c/invoke';

const WORKFLOWS = `
  - name: okta-workflows
    url: ${WORKFLOWS_URL}
    auth: { type: api-key, header: x-api-client-token, secretName: olp/workflows }`;

/** A rule file of one destination, whose `field: value` lines replace or extend a valid api-key destination's. */
const destinationFile = (overrides: Record<string, string> = {}, drop: readonly string[] = []): string => {
  const fields: Record<string, string> = {
    name: 'okta-workflows',
    url: WORKFLOWS_URL,
    auth: '{ type: api-key, header: x-api-client-token, secretName: olp/workflows }',
    ...overrides,
  };
  const lines = Object.entries(fields)
    .filter(([key]) => !drop.includes(key))
    .map(([key, value]) => `    ${key}: ${value}`);
  return `destinations:\n  - ${lines.join('\n').trimStart()}\n`;
};

const rule = (id: string, extra = '') => `
  - id: ${id}
    title: Rule ${id}
    severity: high
    description: What ${id} means.
    runbook: What to do about ${id}.
    match: { eventType: [user.account.lock] }
${extra}`;

const validationError = (text: string, file = 'rules/forwarding.yaml'): RuleValidationError => {
  try {
    parseRuleFile(text, file);
  } catch (error) {
    if (error instanceof RuleValidationError) return error;
    throw error;
  }
  throw new Error('expected a RuleValidationError');
};

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A rule directory with one file per entry, and an empty pack beside it so only these files load. */
const ruleSetOf = (files: Record<string, string>) => {
  const root = mkdtempSync(join(tmpdir(), 'olp-destinations-'));
  dirs.push(root);
  const packDir = join(root, 'pack');
  const userDir = join(root, 'rules');
  mkdirSync(packDir);
  mkdirSync(userDir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(userDir, name), text);
  return { userDir, load: () => loadRuleSet({ packDir, userDir }) };
};

describe('destinations in a rule file', () => {
  it('reads each kind of destination, with POST and no rate limit by default', () => {
    // Prepare
    const text = `destinations:${WORKFLOWS}
  - name: siem
    url: https://siem.example.com/ingest?tenant=acme
    method: PUT
    rateLimitPerSecond: ${RATE_LIMIT_MAX}
    auth: { type: basic, secretName: olp/siem }
  - name: soar
    url: https://soar.example.com/hooks/okta
    auth:
      type: oauth-client-credentials
      tokenUrl: https://login.example.com/oauth2/token
      tokenMethod: POST
      scope: hooks.write
      secretName: olp/soar
rules:${rule('account-locked', '    forward: [okta-workflows, soar]\n')}`;

    // Act
    const { rules, destinations } = parseRuleFile(text, 'rules/forwarding.yaml');

    // Assess
    expect(destinations).toEqual([
      {
        name: 'okta-workflows',
        url: WORKFLOWS_URL,
        method: 'POST',
        auth: { type: 'api-key', header: 'x-api-client-token', secretName: 'olp/workflows' },
        file: 'rules/forwarding.yaml',
      },
      {
        name: 'siem',
        url: 'https://siem.example.com/ingest?tenant=acme',
        method: 'PUT',
        rateLimitPerSecond: RATE_LIMIT_MAX,
        auth: { type: 'basic', secretName: 'olp/siem' },
        file: 'rules/forwarding.yaml',
      },
      {
        name: 'soar',
        url: 'https://soar.example.com/hooks/okta',
        method: 'POST',
        auth: {
          type: 'oauth-client-credentials',
          tokenUrl: 'https://login.example.com/oauth2/token',
          tokenMethod: 'POST',
          scope: 'hooks.write',
          secretName: 'olp/soar',
        },
        file: 'rules/forwarding.yaml',
      },
    ]);
    expect(rules[0]?.forward).toEqual(['okta-workflows', 'soar']);
  });

  it('accepts a file that declares only destinations, and plain http to this machine (for olp local)', () => {
    // Act
    const { rules, destinations } = parseRuleFile(destinationFile({ url: 'http://127.0.0.1:8080/hook' }), 'd.yaml');

    // Assess
    expect(rules).toEqual([]);
    expect(destinations.map((destination) => destination.url)).toEqual(['http://127.0.0.1:8080/hook']);
  });

  it.each([
    { name: 'a plain http URL', url: 'http://hooks.example.com/okta', reason: 'must be an https URL' },
    { name: 'no URL at all', url: 'hooks.example.com/okta', reason: 'must be an absolute https URL' },
    { name: 'another scheme', url: 'ftp://hooks.example.com/okta', reason: 'must be an https URL' },
    { name: 'a user and password', url: 'https://bot:hunter2@hooks.example.com/', reason: 'user name or password' },
    {
      name: 'the client token Okta Workflows puts in its invoke URL',
      url: `${WORKFLOWS_URL}?clientToken=0123456789abcdef`,
      reason: 'must not carry a credential in its query (clientToken)',
    },
    { name: 'an api_key parameter', url: 'https://hooks.example.com/?api_key=k', reason: 'credential in its query' },
    { name: 'a path wildcard', url: 'https://hooks.example.com/*/okta', reason: 'must not hold `*`' },
    { name: 'a fragment', url: 'https://hooks.example.com/okta#top', reason: 'must not have a #fragment' },
    { name: 'a space', url: 'https://hooks.example.com/a b', reason: 'characters EventBridge does not accept' },
  ])('refuses $name as url, naming the destination field', ({ url, reason }) => {
    // Act
    const error = validationError(destinationFile({ url: JSON.stringify(url) }));

    // Assess
    expect(error.issues).toEqual([{ path: 'destinations.0.url', reason: expect.stringContaining(reason) }]);
    expect(error.message).toMatch(/^rules\/forwarding\.yaml: destinations\.0\.url: /);
  });

  it.each([
    {
      name: 'an inline key next to the secret name',
      auth: '{ type: api-key, header: x-api-client-token, secretName: olp/workflows, apiKey: s3cr3t-value }',
      path: 'destinations.0.auth',
    },
    {
      name: 'an inline password',
      auth: '{ type: basic, secretName: olp/siem, password: s3cr3t-value }',
      path: 'destinations.0.auth',
    },
  ])('refuses $name, saying where credentials go and never repeating the value', ({ auth, path }) => {
    // Act
    const error = validationError(destinationFile({ auth }));

    // Assess
    expect(error.issues).toEqual([{ path, reason: expect.stringContaining('a rule file never holds credentials') }]);
    expect(error.message).toContain('Secrets Manager secret named by secretName');
    expect(error.message).not.toContain('s3cr3t-value');
  });

  it('refuses a credential beside the destination, pointing at auth.secretName', () => {
    // Act
    const error = validationError(destinationFile({ token: 's3cr3t-value' }));

    // Assess
    expect(error.issues[0]?.path).toBe('destinations.0');
    expect(error.message).toContain('named by auth.secretName');
    expect(error.message).not.toContain('s3cr3t-value');
  });

  it.each<{ name: string; overrides: Record<string, string>; path: string; reason: string }>([
    {
      name: 'a method that carries no body',
      overrides: { method: 'GET' },
      path: 'destinations.0.method',
      reason: 'POST, PUT, PATCH',
    },
    {
      name: 'a method EventBridge refuses',
      overrides: { method: 'TRACE' },
      path: 'destinations.0.method',
      reason: 'POST, PUT, PATCH',
    },
    {
      name: 'a rate limit of 0',
      overrides: { rateLimitPerSecond: '0' },
      path: 'destinations.0.rateLimitPerSecond',
      reason: 'at least 1',
    },
    {
      name: 'a rate limit over the quota',
      overrides: { rateLimitPerSecond: '301' },
      path: 'destinations.0.rateLimitPerSecond',
      reason: 'at most 300',
    },
    {
      name: 'a fractional rate limit',
      overrides: { rateLimitPerSecond: '2.5' },
      path: 'destinations.0.rateLimitPerSecond',
      reason: 'whole number',
    },
    {
      name: 'a name that is not kebab-case',
      overrides: { name: 'Okta_Workflows' },
      path: 'destinations.0.name',
      reason: 'kebab-case',
    },
    {
      name: 'an api-key without its header',
      overrides: { auth: '{ type: api-key, secretName: olp/workflows }' },
      path: 'destinations.0.auth.header',
      reason: 'header',
    },
    {
      name: 'an unknown auth type',
      overrides: { auth: '{ type: bearer, secretName: olp/workflows }' },
      path: 'destinations.0.auth.type',
      reason: 'api-key, basic, oauth-client-credentials',
    },
    {
      name: 'oauth without its token endpoint and method',
      overrides: { auth: '{ type: oauth-client-credentials, secretName: olp/soar }' },
      path: 'destinations.0.auth.tokenUrl',
      reason: 'URL',
    },
    {
      name: 'an oauth token method EventBridge refuses',
      overrides: {
        auth: '{ type: oauth-client-credentials, tokenUrl: "https://login.example.com/t", tokenMethod: PATCH, secretName: s }',
      },
      path: 'destinations.0.auth.tokenMethod',
      reason: 'POST, GET, PUT',
    },
    {
      name: 'a secret name Secrets Manager refuses',
      overrides: { auth: '{ type: basic, secretName: "olp workflows" }' },
      path: 'destinations.0.auth.secretName',
      reason: 'Secrets Manager secret',
    },
  ])('refuses $name', ({ overrides, path, reason }) => {
    // Act
    const error = validationError(destinationFile(overrides));

    // Assess
    expect(error.issues).toContainEqual({ path, reason: expect.stringContaining(reason) });
  });

  it.each([
    { name: 'an empty list', forward: '[]', reason: 'at least one destination' },
    { name: 'a name twice', forward: '[okta-workflows, okta-workflows]', reason: 'twice' },
    { name: 'more destinations than targets', forward: '[a, b, c, d, e]', reason: 'at most 4' },
  ])('refuses a forward list with $name, naming the rule', ({ forward, reason }) => {
    // Act
    const error = validationError(
      `destinations:${WORKFLOWS}\nrules:${rule('account-locked', `    forward: ${forward}\n`)}`,
    );

    // Assess
    expect(error.rule).toBe('account-locked (#0)');
    expect(error.issues).toEqual([{ path: 'forward', reason: expect.stringContaining(reason) }]);
  });

  it('refuses forward on a stateful rule, which alerts on many events together', () => {
    // Prepare
    const stateful = '    kind: threshold\n    groupBy: actor.alternateId\n    window: 10m\n    atLeast: 5\n';

    // Act
    const error = validationError(
      `destinations:${WORKFLOWS}\nrules:${rule('many-lockouts', `${stateful}    forward: [okta-workflows]\n`)}`,
    );

    // Assess
    expect(error.message).toMatch(
      /^rules\/forwarding\.yaml: rule many-lockouts \(#0\): forward: only a single-event rule/,
    );
    expect(forwardProblem({ forward: ['x'], kind: 'sequence' } as { forward: string[] })).toContain('a sequence rule');
    expect(forwardProblem({ forward: ['x'] })).toBeUndefined();
    expect(forwardProblem({ kind: 'threshold' } as object)).toBeUndefined();
  });
});

describe('destinations across rule files', () => {
  it('lets a rule forward to a destination declared in another file', () => {
    // Prepare
    const { load } = ruleSetOf({
      'a-destinations.yaml': `destinations:${WORKFLOWS}\n`,
      'b-rules.yaml': `rules:${rule('account-locked', '    forward: [okta-workflows]\n')}${rule('kept-here')}`,
    });

    // Act
    const set = load();
    const plan = forwardingPlan(set);

    // Assess
    expect(set.destinations.map((destination) => destination.name)).toEqual(['okta-workflows']);
    expect([...plan.routes]).toEqual([['account-locked', ['okta-workflows']]]);
    expect(plan.destinations.map((destination) => destination.name)).toEqual(['okta-workflows']);
  });

  it('refuses a rule that forwards to an unknown destination, naming the rule, its file and what is declared', () => {
    // Prepare
    const { userDir, load } = ruleSetOf({
      'a-destinations.yaml': `destinations:${WORKFLOWS}\n`,
      'b-rules.yaml': `rules:${rule('account-locked', '    forward: [okta-workflow]\n')}`,
    });

    // Act and assess
    expect(load).toThrow(RuleValidationError);
    expect(load).toThrow(
      `${join(userDir, 'b-rules.yaml')}: rule account-locked: forward.0: unknown destination "okta-workflow"; ` +
        'declared: okta-workflows',
    );
  });

  it('refuses forward when no file declares a destination', () => {
    const { load } = ruleSetOf({ 'rules.yaml': `rules:${rule('account-locked', '    forward: [siem]\n')}` });
    expect(load).toThrow(/forward\.0: unknown destination "siem"; no loaded rule file declares any/);
  });

  it('refuses two destinations with one name, naming both files', () => {
    // Prepare
    const { userDir, load } = ruleSetOf({
      'a.yaml': `destinations:${WORKFLOWS}\n`,
      'b.yaml': `destinations:\n  - name: siem\n    url: https://siem.example.com/\n    auth: { type: basic, secretName: s }${WORKFLOWS}\n`,
    });

    // Act and assess
    expect(load).toThrow(
      `${join(userDir, 'b.yaml')}: destinations.1.name: duplicate destination name "okta-workflows", already declared ` +
        `in ${join(userDir, 'a.yaml')}`,
    );
  });

  it('plans nothing for destinations no rule forwards to', () => {
    const { load } = ruleSetOf({ 'a.yaml': `destinations:${WORKFLOWS}\nrules:${rule('kept-here')}` });
    const plan = forwardingPlan(load());
    expect(plan.destinations).toEqual([]);
    expect(plan.routes.size).toBe(0);
  });
});
