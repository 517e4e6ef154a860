import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compilePattern } from '../../../lib/pattern/index.ts';
import { compileRules, loadRuleDirectory } from '../../../lib/rules/index.ts';
import { systemLogField } from '../../../lib/rules/sigma/fields.ts';
import { linesOf, runOlp, tempDir } from '../../support/run-cli.ts';
import { sigmaMatches } from './sigma-reference.ts';

/**
 * The Okta rules of SigmaHQ/sigma (test/fixtures/sigma/README.md says which), converted as a whole directory: the
 * exact outcome per rule, the output linted by `olp rules lint`, and each converted rule run through the local
 * pattern engine against events built from its Sigma selection, with the Sigma rule's own meaning (sigma-reference.ts)
 * as the judge.
 */

const FIXTURES = fileURLToPath(new URL('../../fixtures/sigma/okta/', import.meta.url));
const ENVELOPE = JSON.parse(
  readFileSync(new URL('../../fixtures/okta-eventbridge-envelope.json', import.meta.url), 'utf8'),
) as { detail: Record<string, unknown> };
const SOURCE = 'aws.partner/okta.com/acme/okta-logs';

const NO_EVENT_TYPE =
  'the rule names no event type (eventType), and an olp Okta rule must list its event types in match.eventType: add ' +
  'the event types to the Sigma selection';

const CONVERTED: Record<string, string> = {
  'okta_admin_role_assigned_to_user_or_group.yml': 'okta-admin-role-assigned-to-an-user-or-group',
  'okta_admin_role_assignment_created.yml': 'okta-admin-role-assignment-created',
  'okta_api_token_created.yml': 'okta-api-token-created',
  'okta_api_token_revoked.yml': 'okta-api-token-revoked',
  'okta_application_modified_or_deleted.yml': 'okta-application-modified-or-deleted',
  'okta_application_sign_on_policy_modified_or_deleted.yml': 'okta-application-sign-on-policy-modified-or-deleted',
  'okta_fastpass_phishing_detection.yml': 'okta-fastpass-phishing-detection',
  'okta_identity_provider_created.yml': 'okta-identity-provider-created',
  'okta_mfa_reset_or_deactivated.yml': 'okta-mfa-reset-or-deactivated',
  'okta_network_zone_deactivated_or_deleted.yml': 'okta-network-zone-deactivated-or-deleted',
  'okta_new_behaviours_admin_console.yml': 'okta-new-admin-console-behaviours',
  'okta_policy_modified_or_deleted.yml': 'okta-policy-modified-or-deleted',
  'okta_policy_rule_modified_or_deleted.yml': 'okta-policy-rule-modified-or-deleted',
  'okta_security_threat_detected.yml': 'okta-security-threat-detected',
  'okta_suspicious_activity_enduser_report.yml': 'okta-suspicious-activity-reported-by-end-user',
  'okta_user_created.yml': 'new-okta-user-created',
  'okta_user_session_start_via_anonymised_proxy.yml': 'okta-user-session-start-via-an-anonymising-proxy-service',
};

const SKIPPED: Record<string, string> = {
  'okta_admin_activity_from_proxy_query.yml': NO_EVENT_TYPE,
  'okta_impossible_travel_detected.yml':
    "field okta.event_type is not a System Log field; okta.* names are another tool's (e.g. Elastic's Okta module), " +
    "not the System Log's",
  'okta_mfa_fatigue.yml':
    'the condition aggregates over many events (| count(actor.alternateid) by eventtype > 20); an alert rule ' +
    'matches one event at a time',
  'okta_password_in_alternateid_field.yml':
    'actor.alternateId: the regular expression uses (; only literal text, .* and ^ $ anchors have an EventBridge form',
  'okta_session_impersonation_granted.yml':
    'field alternateId is not a System Log field; did you mean actor.alternateId or target.alternateId?',
  'okta_unauthorized_access_to_app.yml': NO_EVENT_TYPE,
  'okta_user_account_locked_out.yml': NO_EVENT_TYPE,
};

interface JsonOutcome {
  readonly file: string;
  readonly status: string;
  readonly id?: string;
  readonly reason?: string;
  readonly notes?: string[];
}

type Value = string | number | boolean | null | undefined;

/** Flips the letter case of a text, so a case-insensitive match can be told from an exact one. */
const flipCase = (text: string): string =>
  [...text].map((char) => (char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase())).join('');

/** A text that differs from `text` in its last character, so it no longer satisfies a test on `text`. */
const nearly = (text: string): string => `${text.slice(0, -1)}${text.endsWith('z') ? 'y' : 'z'}`;

/**
 * Values for one Sigma field entry: ones that satisfy it (in the written case and, unless the rule is noted to be
 * case-sensitive, flipped), ones that just miss it, and a missing field.
 */
function candidatesOf(key: string, raw: unknown, caseSensitive: boolean): { path: string; values: Value[] } {
  const [name = '', ...modifiers] = key.split('|');
  const field = systemLogField(name);
  const wanted = (Array.isArray(raw) ? raw : [raw]) as Value[];
  if (field.type === 'boolean') return { path: field.path, values: [true, false, null, undefined] };
  const shape = (text: string): string =>
    modifiers.includes('contains')
      ? `<${text}>`
      : modifiers.includes('startswith')
        ? `${text}>`
        : modifiers.includes('endswith')
          ? `<${text}`
          : text;
  // Event types are compared exactly (match.eventType), which loses nothing: Okta writes them in lower case.
  const exact = caseSensitive || field.path === 'eventType';
  const values = wanted.flatMap((value): Value[] => {
    const text = String(value);
    return [shape(text), shape(nearly(text)), ...(exact ? [] : [shape(flipCase(text))])];
  });
  return { path: field.path, values: [...new Set([...values, undefined])] };
}

/** Every combination of one value per path. */
function combinations(fields: readonly { path: string; values: Value[] }[]): Map<string, Value>[] {
  return fields.reduce<Map<string, Value>[]>(
    (combined, { path, values }) =>
      combined.flatMap((partial) => values.map((value) => new Map([...partial, [path, value]]))),
    [new Map()],
  );
}

/** The fixture envelope's System Log event with the given fields set (undefined: removed); `target` is a list. */
function eventWith(values: ReadonlyMap<string, Value>): Record<string, unknown> {
  const detail = structuredClone(ENVELOPE.detail);
  const target: Record<string, unknown> = {};
  for (const [path, value] of values) {
    const parts = path.split('.');
    if (parts[0] === 'target') {
      if (value !== undefined) target[parts.slice(1).join('.')] = value;
      continue;
    }
    let node = detail;
    for (const part of parts.slice(0, -1)) {
      const child = node[part];
      node[part] = typeof child === 'object' && child !== null ? child : {};
      node = node[part] as Record<string, unknown>;
    }
    const leaf = parts[parts.length - 1] ?? path;
    if (value === undefined) delete node[leaf];
    else node[leaf] = value;
  }
  if ([...values.keys()].some((path) => path.startsWith('target.'))) {
    detail.target = Object.keys(target).length === 0 ? [] : [target];
  }
  return detail;
}

describe('the SigmaHQ Okta rules', () => {
  let out: string;
  let remove: () => void;
  let outcomes: JsonOutcome[];
  let code: number;

  beforeAll(async () => {
    const temp = tempDir('sigma-okta');
    remove = temp.remove;
    out = join(temp.dir, 'rules');
    const run = await runOlp(['rules', 'import-sigma', FIXTURES, '--out', out, '--json']);
    code = run.code;
    outcomes = linesOf(run.stdout).map((line) => JSON.parse(line) as JsonOutcome);
  });

  afterAll(() => remove());

  it('converts 17 of the 24 rules and skips the others, each with its reason', () => {
    // Assess
    const converted = Object.fromEntries(
      outcomes.filter((outcome) => outcome.status === 'converted').map((outcome) => [outcome.file, outcome.id]),
    );
    const skipped = Object.fromEntries(
      outcomes.filter((outcome) => outcome.status !== 'converted').map((outcome) => [outcome.file, outcome.reason]),
    );
    expect(code).toBe(3);
    expect(outcomes).toHaveLength(readdirSync(FIXTURES).length);
    expect(converted).toEqual(CONVERTED);
    expect(skipped).toEqual(SKIPPED);
    expect(outcomes.every((outcome) => outcome.status !== 'invalid')).toBe(true);
  });

  it('writes one rule file per converted rule and nothing else', () => {
    // Act
    const written = readdirSync(out).sort();

    // Assess
    expect(written).toEqual(
      Object.values(CONVERTED)
        .map((id) => `${id}.yaml`)
        .sort(),
    );
  });

  it('passes olp rules lint', async () => {
    // Act
    const lint = await runOlp(['rules', 'lint', '--rules', out]);

    // Assess
    expect(lint.code).toBe(0);
    expect(lint.stderr).toMatch(new RegExp(`, ${Object.keys(CONVERTED).length} from ${out}\\n$`));
    for (const id of Object.values(CONVERTED)) expect(lint.stdout).toContain(`${id}  `);
  });

  it('keeps the Sigma metadata and writes a runbook that lists the false positives', () => {
    // Prepare
    const [rule] = loadRuleDirectory(out).filter((loaded) => loaded.id === 'okta-policy-modified-or-deleted');

    // Assess
    expect(rule).toMatchObject({
      title: 'Okta Policy Modified or Deleted',
      severity: 'low',
      description: 'Detects when an Okta policy is modified or deleted.',
      author: 'Austin Songer @austinsonger',
      references: [
        'https://developer.okta.com/docs/reference/api/system-log/',
        'https://developer.okta.com/docs/reference/api/event-types/',
      ],
      sigma: { id: '1667a172-ed4c-463c-9969-efd92195319a', level: 'low' },
      match: { eventType: ['policy.lifecycle.update', 'policy.lifecycle.delete'] },
    });
    expect(rule?.runbook).toContain(
      'from the Sigma rule "Okta Policy Modified or Deleted" by Austin Songer @austinsonger ' +
        '(1667a172-ed4c-463c-9969-efd92195319a, level low).',
    );
    expect(rule?.runbook).toContain('Review it before deploying it');
    expect(rule?.runbook).toContain(
      '   - Okta Policies being modified or deleted may be performed by a system administrator.',
    );
  });

  const convertedFiles = Object.entries(CONVERTED);

  it.each(convertedFiles)('%s: the rule matches exactly the events its Sigma rule matches', (file, id) => {
    // Prepare
    const sigma = parse(readFileSync(join(FIXTURES, file), 'utf8')) as { detection: Record<string, unknown> };
    const outcome = outcomes.find((candidate) => candidate.file === file);
    const caseSensitive = (outcome?.notes ?? []).length > 0;
    const entries = Object.entries(sigma.detection)
      .filter(([name]) => name !== 'condition')
      .flatMap(([, value]) => (Array.isArray(value) ? value : [value]) as Record<string, unknown>[])
      .flatMap((map) => Object.entries(map));
    const byPath = new Map<string, Value[]>();
    for (const [key, raw] of entries) {
      const { path, values } = candidatesOf(key, raw, caseSensitive);
      byPath.set(path, [...new Set([...(byPath.get(path) ?? []), ...values])]);
    }
    const compiled = compileRules(
      loadRuleDirectory(out).filter((rule) => rule.id === id),
      SOURCE,
    );
    const [rule] = compiled;
    if (rule === undefined) throw new Error(`${id} was not written`);
    const matches = compilePattern(rule.pattern);

    // Act
    const verdicts = combinations([...byPath].map(([path, values]) => ({ path, values }))).map((values) => {
      const detail = eventWith(values);
      return {
        values,
        sigma: sigmaMatches(sigma.detection, detail),
        olp: matches({ ...ENVELOPE, source: SOURCE, detail }),
      };
    });

    // Assess
    const disagreements = verdicts.filter((verdict) => verdict.sigma !== verdict.olp);
    expect(disagreements.map((verdict) => Object.fromEntries(verdict.values))).toEqual([]);
    expect(verdicts.filter((verdict) => verdict.olp).length, 'events built to match').toBeGreaterThan(0);
    expect(verdicts.filter((verdict) => !verdict.olp).length, 'near misses').toBeGreaterThan(0);
  });
});
