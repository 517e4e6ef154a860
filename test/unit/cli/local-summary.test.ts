import { describe, expect, it } from 'vitest';
import { formatSummary, type SummaryCounts } from '../../../lib/cli/local-summary.ts';

/** The counts of a small run; tests change what they are about. */
const counts = (changes: Partial<SummaryCounts> = {}): SummaryCounts => ({
  read: 1_240,
  staged: 1_180,
  duplicates: 24,
  late: 3,
  quarantined: 36,
  windowsSealed: 41,
  lateSupplements: 2,
  archived: 1_180,
  quarantineReasons: new Map(),
  alertsByRule: new Map([
    ['log-stream-deactivated', 1],
    ['admin-role-granted-to-user', 2],
  ]),
  alertFailures: [],
  conflicts: new Set(),
  sourcePin: 'aws.partner/okta.com/acme/okta-logs',
  ...changes,
});

/** Anything a terminal would act on or reorder, which must never reach it raw from the input. */
const RAW_CONTROL = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

describe('olp local summary', () => {
  it('groups quarantine reasons, most frequent first, with the first line numbers of each', () => {
    // Prepare
    const quarantineReasons = new Map([
      ['invalid System Log event in detail: uuid: must be a UUID', { count: 1, lines: [7] }],
      ['not JSON', { count: 30, lines: [3, 4, 9, 12, 13] }],
      [
        'not from the pinned source: source: must be aws.partner/okta.com/acme/okta-logs',
        { count: 5, lines: [1, 2, 5, 6, 8] },
      ],
    ]);

    // Act
    const summary = formatSummary(counts({ quarantineReasons }), '.olp/archive', 2_345);

    // Assess
    expect(summary.split('\n')).toEqual([
      '',
      'Summary (2.3 s)',
      '  source: pinned to aws.partner/okta.com/acme/okta-logs',
      '  events read            1,240',
      '    unique (staged)      1,180',
      '      late               3  (arrived after their window closed; in a supplement unless its seal read them)',
      '    duplicates dropped   24',
      '    quarantined          36',
      '      30 lines: not JSON (lines 3, 4, 9, 12, 13, ...)',
      '      5 lines: not from the pinned source: source: must be aws.partner/okta.com/acme/okta-logs (lines 1, 2, 5, 6, 8)',
      '      1 line: invalid System Log event in detail: uuid: must be a UUID (line 7)',
      '  conflicts              0  (same uuid, other content; both kept)',
      '  alerts                 3',
      '      2 x admin-role-granted-to-user',
      '      1 x log-stream-deactivated',
      '  windows sealed         41  (+2 late supplements)',
      '  events archived        1,180  in .olp/archive',
      '',
    ]);
  });

  it('escapes what reasons quote from the input: an ESC sequence or a bidi override never reaches the terminal raw', () => {
    // Prepare: what a JSON parser says about a line of a binary file, and an over-long reason.
    const quarantineReasons = new Map([
      [
        `not JSON: Unexpected token '\u001b', "\u001b[2J\u001b[31mevil\u202e\r" is not valid JSON`,
        { count: 2, lines: [1, 2] },
      ],
      [`not an Okta EventBridge event: ${'\u0085\u009b'.repeat(400)}`, { count: 1, lines: [3] }],
    ]);

    // Act
    const summary = formatSummary(counts({ quarantineReasons }), '.olp/archive', 100);

    // Assess
    expect(summary.replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
    expect(summary).toContain(
      `      2 lines: not JSON: Unexpected token '\\u001b', "\\u001b[2J\\u001b[31mevil\\u202e\\r" is not valid JSON (lines 1, 2)\n`,
    );
    const long = summary.split('\n').find((line) => line.includes('not an Okta EventBridge event'));
    expect(long).toMatch(/^ {6}1 line: not an Okta EventBridge event: (\\u0085\\u009b)+(\\u0085)?\.\.\. \(line 3\)$/);
    expect(long?.length).toBeLessThan(2_000);
  });

  it('lists alerts that could not be raised with their reason, escaped, and counts those past twenty', () => {
    // Prepare
    const alertFailures = Array.from({ length: 23 }, (_, i) => ({
      ruleId: 'admin-role-granted-to-user',
      uuid: i === 0 ? 'forged\u001b]0;pwned\u0007' : `c6ed294a-fef4-11ed-a5b1-bbb7c1de1a${String(i).padStart(2, '0')}`,
      reason: 'InternalErrorException: SNS unavailable',
    }));

    // Act
    const summary = formatSummary(counts({ alertFailures }), '.olp/archive', 100);

    // Assess
    const lines = summary.split('\n');
    const start = lines.indexOf('  alerts not raised      23');
    expect(start).toBeGreaterThan(lines.indexOf('      1 x log-stream-deactivated'));
    expect(lines[start + 1]).toBe(
      '      admin-role-granted-to-user for forged\\u001b]0;pwned\\u0007: InternalErrorException: SNS unavailable',
    );
    expect(lines.slice(start + 1, start + 21)).toHaveLength(20);
    expect(lines[start + 21]).toBe('      ... 3 more failed alerts not shown');
    expect(summary.replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
  });

  it('says when no source is pinned, and how to pin one', () => {
    // Act
    const summary = formatSummary(counts({ sourcePin: undefined }), '.olp/archive', 100);

    // Assess
    expect(summary.split('\n')[2]).toBe('  source: any Okta source (pin with --event-source-name)');
  });
});
