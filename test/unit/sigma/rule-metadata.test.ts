import { describe, expect, it } from 'vitest';
import { parseRules, RuleValidationError } from '../../../lib/rules/index.ts';

/** The provenance fields a rule may carry (author, references, sigma), as `olp rules lint` reads them. */

const ruleFile = (extra: string): string => `rules:
  - id: imported-rule
    title: Imported rule
    severity: low
    description: From elsewhere.
    runbook: Review it.
${extra}    match:
      eventType: [user.session.start]
`;

const caught = (action: () => unknown): unknown => {
  try {
    action();
    return undefined;
  } catch (error) {
    return error;
  }
};

describe('rule provenance fields', () => {
  it('accepts author, references and sigma on a rule', () => {
    // Act
    const [rule] = parseRules(
      ruleFile(`    author: Jane Doe
    references: [https://example.com/why, http://example.org/more]
    sigma: { id: 19951c21-229d-4ccb-8774-b993c3ff3c5c, level: informational }
`),
      'imported.yaml',
    );

    // Assess
    expect(rule).toMatchObject({
      author: 'Jane Doe',
      references: ['https://example.com/why', 'http://example.org/more'],
      sigma: { id: '19951c21-229d-4ccb-8774-b993c3ff3c5c', level: 'informational' },
    });
  });

  it.each([
    { extra: '    references: [javascript:alert(1)]\n', path: 'references.0', reason: 'must be an http or https URL' },
    { extra: '    references: [Internal research]\n', path: 'references.0', reason: 'must be an http or https URL' },
    {
      extra: '    sigma: { level: severe }\n',
      path: 'sigma.level',
      reason: 'must be one of informational, low, medium, high, critical',
    },
    { extra: '    sigma: { id: x, rule: y }\n', path: 'sigma', reason: expect.stringContaining('rule') },
    { extra: '    author: "  "\n', path: 'author', reason: 'must not be empty' },
  ])('refuses $path: $reason', ({ extra, path, reason }) => {
    // Act
    const error = caught(() => parseRules(ruleFile(extra), 'imported.yaml'));

    // Assess
    expect(error).toBeInstanceOf(RuleValidationError);
    expect((error as RuleValidationError).issues).toEqual([{ path, reason }]);
  });
});
