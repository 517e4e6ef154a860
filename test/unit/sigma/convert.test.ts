import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compilePattern } from '../../../lib/pattern/index.ts';
import { matchesWildcard } from '../../../lib/pattern/values.ts';
import { compileRule, OktaAlertRule } from '../../../lib/rules/index.ts';
import { containsAll } from '../../../lib/rules/sigma/field-tests.ts';
import { convertSigmaRule, importSigmaRules, type SigmaConversion } from '../../../lib/rules/sigma/index.ts';

/** Converts a Sigma rule for Okta with this detection (and any other top-level keys). */
const convert = (detection: Record<string, unknown>, extra: Record<string, unknown> = {}): SigmaConversion =>
  convertSigmaRule(
    stringify({
      title: 'Test rule',
      id: '5f0e3a52-8d3c-4d3e-9a53-0f1d2c3b4a59',
      logsource: { product: 'okta', service: 'okta' },
      level: 'high',
      detection,
      ...extra,
    }),
  );

function converted(detection: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const result = convert(detection, extra);
  if (result.status !== 'converted') throw new Error(`not converted: ${result.reason}`);
  return result;
}

const reasonOf = (result: SigmaConversion): string | undefined =>
  result.status === 'converted' ? undefined : result.reason;

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';

/** The converted rule as deployed, as a matcher of System Log events. */
function matcherOf(detection: Record<string, unknown>): (detail: Record<string, unknown>) => boolean {
  const { draft } = converted(detection);
  const rule = compileRule(OktaAlertRule.parse({ id: 'test-rule', ...draft }), SOURCE);
  const matches = compilePattern(rule.pattern);
  return (detail) => matches({ source: SOURCE, 'detail-type': 'SystemLog', detail });
}

const withType = (fields: Record<string, unknown>): Record<string, unknown> => ({
  eventType: 'user.session.start',
  ...fields,
});

describe('field values and modifiers', () => {
  it('compares a plain value ignoring case, and a list of values as alternatives', () => {
    // Act
    const { draft, notes } = converted({
      selection: withType({ 'outcome.result': ['FAILURE', 'deny'] }),
      condition: 'selection',
    });

    // Assess
    expect(draft.match).toEqual({
      eventType: ['user.session.start'],
      where: { outcome: { result: [{ 'equals-ignore-case': 'FAILURE' }, { 'equals-ignore-case': 'deny' }] } },
    });
    expect(notes).toEqual([]);
  });

  it('matches plain values in any case, as Sigma does', () => {
    // Prepare
    const matches = matcherOf({ selection: withType({ 'outcome.result': 'FAILURE' }), condition: 'selection' });

    // Assess
    expect(matches(withType({ outcome: { result: 'failure' } }))).toBe(true);
    expect(matches(withType({ outcome: { result: 'FAILURES' } }))).toBe(false);
    expect(matches({ eventType: 'user.session.end', outcome: { result: 'FAILURE' } })).toBe(false);
  });

  it.each([
    { key: 'displayMessage|startswith', value: 'User', entry: { prefix: { 'equals-ignore-case': 'User' } } },
    { key: 'displayMessage|endswith', value: 'app', entry: { suffix: { 'equals-ignore-case': 'app' } } },
    { key: 'displayMessage|cased', value: 'User', entry: 'User' },
    { key: 'displayMessage|startswith|cased', value: 'User', entry: { prefix: 'User' } },
    { key: 'displayMessage|contains|cased', value: 'User', entry: { wildcard: '*User*' } },
    { key: 'displayMessage|contains', value: '123', entry: { wildcard: '*123*' } },
    { key: 'displayMessage', value: 'User*', entry: { prefix: { 'equals-ignore-case': 'User' } } },
    { key: 'displayMessage|cased', value: 'a*b\\*c', entry: { wildcard: 'a*b\\*c' } },
    { key: 'displayMessage', value: '*', entry: { prefix: '' } },
    { key: 'client.ipAddress|cidr', value: '10.0.0.0/8', entry: { cidr: '10.0.0.0/8' } },
    { key: 'actor.alternateId|re', value: '^svc-.*', entry: { prefix: 'svc-' } },
    { key: 'actor.alternateId|re', value: '@acme\\.com$', entry: { suffix: '@acme.com' } },
    { key: 'actor.alternateId|re|i', value: '^Svc$', entry: { 'equals-ignore-case': 'Svc' } },
    { key: 'actor.alternateId|re|s', value: '^a.*b$', entry: { wildcard: 'a*b' } },
    { key: 'securityContext.isProxy', value: 'true', entry: true },
    { key: 'securityContext.isProxy', value: false, entry: false },
    { key: 'securityContext.asNumber', value: '6167', entry: 6167 },
    { key: 'securityContext.asNumber|gte', value: 100, entry: { numeric: ['>=', 100] } },
    { key: 'client.zone|exists', value: true, entry: { exists: true } },
    { key: 'client.zone|exists', value: false, entry: { exists: false } },
  ])('$key: $value', ({ key, value, entry }) => {
    // Act
    const { draft } = converted({ selection: withType({ [key]: value }), condition: 'selection' });

    // Assess
    expect(JSON.stringify(draft.match.where)).toBe(
      JSON.stringify(
        key
          .split('|')[0]
          ?.split('.')
          .reduceRight<unknown>((inner, part) => ({ [part]: inner }), [entry]),
      ),
    );
  });

  it('notes that contains is compared case-sensitively, as EventBridge wildcards are', () => {
    // Act
    const { draft, notes } = converted({
      selection: withType({ 'debugContext.debugData.behaviors|contains': 'POSITIVE' }),
      condition: 'selection',
    });

    // Assess
    expect(draft.match.where).toEqual({ debugContext: { debugData: { behaviors: [{ wildcard: '*POSITIVE*' }] } } });
    expect(notes).toEqual([
      'debugContext.debugData.behaviors: compared case-sensitively (Sigma ignores case; this EventBridge matcher cannot)',
    ]);
    expect(draft.runbook).toContain(`How this rule matches differently from the Sigma rule:\n- ${notes[0]}`);
  });

  it('matches a null value when the field is null or missing', () => {
    // Prepare
    const matches = matcherOf({ selection: withType({ 'outcome.reason': null }), condition: 'selection' });

    // Assess
    expect(matches(withType({ outcome: { reason: null } }))).toBe(true);
    expect(matches(withType({ outcome: {} }))).toBe(true);
    expect(matches(withType({ outcome: { reason: 'x' } }))).toBe(false);
  });

  it('writes contains|all as the values in either order', () => {
    // Prepare
    const matches = matcherOf({
      selection: withType({ 'displayMessage|contains|all|cased': ['ab', 'cd'] }),
      condition: 'selection',
    });

    // Assess
    expect(matches(withType({ displayMessage: 'xx cd yy ab zz' }))).toBe(true);
    expect(matches(withType({ displayMessage: 'ab then cd' }))).toBe(true);
    expect(matches(withType({ displayMessage: 'ab then c d' }))).toBe(false);
  });

  it('lists, for contains|all, every way the values can lie in a text, overlaps included', () => {
    // Prepare
    const needles = ['aba', 'bab', 'ab'];
    const texts = Array.from({ length: 2 ** 8 }, (_, bits) =>
      Array.from({ length: 8 }, (__, index) => ((bits >> index) & 1 ? 'a' : 'b')).join(''),
    );

    // Act
    const globs = containsAll(needles, 'exact');

    // Assess: a text matches one of the globs exactly when it contains every needle.
    for (const text of texts) {
      const expected = needles.every((needle) => text.includes(needle));
      expect(
        globs.some((pieces) => matchesWildcard({ pieces }, text)),
        text,
      ).toBe(expected);
    }
  });

  it('reduces startswith|all to the longest prefix, and skips prefixes that cannot hold together', () => {
    // Act
    const nested = converted({
      selection: withType({ 'displayMessage|startswith|all': ['ab', 'abc'] }),
      condition: 'selection',
    });
    const apart = convert({
      selection: withType({ 'displayMessage|startswith|all': ['ab', 'xy'] }),
      condition: 'selection',
    });

    // Assess
    expect(nested.draft.match.where).toEqual({ displayMessage: [{ prefix: { 'equals-ignore-case': 'abc' } }] });
    expect(reasonOf(apart)).toBe('the condition can never be true');
  });

  it.each([
    {
      key: 'displayMessage',
      value: 'prog?.exe',
      reason: 'displayMessage: the wildcard ? (exactly one character) has no EventBridge equivalent',
    },
    {
      key: 'actor.alternateId|re',
      value: '(^0oa.*|@)',
      reason:
        'actor.alternateId: the regular expression uses (; only literal text, .* and ^ $ anchors have an EventBridge form',
    },
    {
      key: 'actor.alternateId|re',
      value: '^\\d+$',
      reason:
        'actor.alternateId: the regular expression uses \\d; only literal text, .* and ^ $ anchors have an EventBridge form',
    },
    {
      key: 'client.ipAddress|cidr',
      value: '10.1.2.3/32',
      reason: 'detection.selection.client.ipAddress|cidr: 10.1.2.3/32: IPv4 prefix length must be less than 32',
    },
    {
      key: 'displayMessage|gt',
      value: 3,
      reason: 'detection.selection.displayMessage|gt: gt compares numbers, and displayMessage holds text',
    },
    {
      key: 'securityContext.isProxy',
      value: 'yes',
      reason:
        'detection.selection.securityContext.isProxy: securityContext.isProxy holds true or false in the System Log, which "yes" never equals',
    },
    {
      key: 'displayMessage|windash',
      value: '-x',
      reason:
        'detection.selection.displayMessage|windash: the windash modifier rewrites command-line flags, which System Log fields do not hold',
    },
    {
      key: 'displayMessage|base64offset|contains',
      value: 'x',
      reason:
        'detection.selection.displayMessage|base64offset|contains: the base64offset modifier matches encoded text, which System Log fields do not hold',
    },
    {
      key: 'alternateId',
      value: 'x',
      reason: 'field alternateId is not a System Log field; did you mean actor.alternateId or target.alternateId?',
    },
    { key: 'outcome', value: 'x', reason: 'field outcome is an object in the System Log; name one of its fields' },
  ])('skips $key: $value', ({ key, value, reason }) => {
    // Act
    const result = convert({ selection: withType({ [key]: value }), condition: 'selection' });

    // Assess
    expect(result.status).toBe('skipped');
    expect(reasonOf(result)).toBe(reason);
  });

  it('reads Sigma field names in any letter case, and debugData keys as written', () => {
    // Act
    const { draft } = converted({
      selection: { eventtype: 'user.session.start', 'DEBUGCONTEXT.DEBUGDATA.requestUri|endswith': '/admin' },
      condition: 'selection',
    });

    // Assess
    expect(draft.match).toEqual({
      eventType: ['user.session.start'],
      where: { debugContext: { debugData: { requestUri: [{ suffix: { 'equals-ignore-case': '/admin' } }] } } },
    });
  });
});

describe('conditions', () => {
  it('puts the fields of a map together and a list of maps into $or', () => {
    // Act
    const { draft } = converted({
      selection: withType({ 'outcome.result': 'FAILURE' }),
      reasons: [{ 'outcome.reason|cased': 'LOCKED_OUT' }, { 'debugContext.debugData.threatSuspected|cased': 'true' }],
      condition: 'selection and reasons',
    });

    // Assess
    expect(draft.match).toEqual({
      eventType: ['user.session.start'],
      where: {
        outcome: { result: [{ 'equals-ignore-case': 'FAILURE' }] },
        $or: [{ outcome: { reason: ['LOCKED_OUT'] } }, { debugContext: { debugData: { threatSuspected: ['true'] } } }],
      },
    });
  });

  it('negates a value as anything-but, which a missing field also satisfies', () => {
    // Prepare
    const detection = {
      selection: withType({}),
      filter: { 'actor.alternateId': ['system@okta.com', 'svc@acme.com'] },
      condition: 'selection and not filter',
    };
    const matches = matcherOf(detection);

    // Act
    const { draft } = converted(detection);

    // Assess
    expect(draft.match.where).toEqual({
      actor: {
        alternateId: [
          { exists: false },
          { 'anything-but': { 'equals-ignore-case': ['system@okta.com', 'svc@acme.com'] } },
        ],
      },
    });
    expect(matches(withType({ actor: { alternateId: 'jane@acme.com' } }))).toBe(true);
    expect(matches(withType({ actor: {} }))).toBe(true);
    expect(matches(withType({ actor: { alternateId: 'SYSTEM@okta.com' } }))).toBe(false);
  });

  it.each([
    {
      name: 'an exact value',
      filter: { 'actor.alternateId|cased': 'x' },
      expected: [{ exists: false }, { 'anything-but': 'x' }],
    },
    {
      name: 'a prefix (case-sensitively, noted)',
      filter: { 'actor.alternateId|startswith': 'svc-' },
      expected: [{ exists: false }, { 'anything-but': { prefix: 'svc-' } }],
    },
    {
      name: 'a suffix',
      filter: { 'actor.alternateId|endswith|cased': '@acme.com' },
      expected: [{ exists: false }, { 'anything-but': { suffix: '@acme.com' } }],
    },
    {
      name: 'several contains',
      filter: { 'actor.alternateId|contains|cased': ['a', 'b'] },
      expected: [{ exists: false }, { 'anything-but': { wildcard: ['*a*', '*b*'] } }],
    },
    {
      name: 'a boolean',
      filter: { 'securityContext.isProxy': 'true' },
      expected: [false, null, { exists: false }],
    },
    { name: 'null (present and not null)', filter: { 'outcome.reason': null }, expected: [{ prefix: '' }] },
    { name: 'exists', filter: { 'outcome.reason|exists': true }, expected: [{ exists: false }] },
  ])('negates $name', ({ filter, expected }) => {
    // Act
    const { draft } = converted({ selection: withType({}), filter, condition: 'selection and not filter' });

    // Assess
    const [path = ''] = Object.keys(filter);
    const where = path
      .split('|')[0]
      ?.split('.')
      .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], draft.match.where);
    expect(where).toEqual(expected);
  });

  it.each([
    {
      name: 'a cidr block',
      filter: { 'client.ipAddress|cidr': '10.0.0.0/8' },
      reason: 'the condition negates a cidr block on client.ipAddress, which an EventBridge pattern cannot',
    },
    {
      name: 'a value in the target list',
      filter: { 'target.alternateId': 'x' },
      reason:
        'the condition negates a value (target is a list, and anything-but would match when any one element ' +
        'differs) on target.alternateId, which an EventBridge pattern cannot',
    },
    {
      name: 'a numeric comparison',
      filter: { 'securityContext.asNumber|lt': 5 },
      reason:
        'the condition negates a numeric comparison on securityContext.asNumber, which an EventBridge pattern cannot',
    },
  ])('skips a negation of $name', ({ filter, reason }) => {
    // Act
    const result = convert({ selection: withType({}), filter, condition: 'selection and not filter' });

    // Assess
    expect(reasonOf(result)).toBe(reason);
  });

  it('subtracts excluded event types from the listed ones', () => {
    // Act
    const { draft } = converted({
      selection: { eventType: ['user.session.start', 'user.session.end', 'user.session.access_admin_app'] },
      filter: { eventType: 'USER.SESSION.END' },
      condition: 'selection and not filter',
    });

    // Assess
    expect(draft.match).toEqual({ eventType: ['user.session.start', 'user.session.access_admin_app'] });
  });

  it('reads 1 of / all of over patterns and them, leaving out identifiers that start with _', () => {
    // Act
    const one = converted({
      selection_a: { eventType: 'user.session.start' },
      selection_b: { eventType: 'user.session.end' },
      _helper: { eventType: 'zone.delete' },
      condition: '1 of them',
    });
    const all = converted({
      selection_event: { eventType: 'user.session.start' },
      selection_proxy: { 'securityContext.isProxy': true },
      condition: 'all of selection_*',
    });

    // Assess
    expect(one.draft.match).toEqual({ eventType: ['user.session.start', 'user.session.end'] });
    expect(all.draft.match).toEqual({
      eventType: ['user.session.start'],
      where: { securityContext: { isProxy: [true] } },
    });
  });

  it('takes a list of conditions as alternatives', () => {
    // Act
    const { draft } = converted({
      a: { eventType: 'user.session.start' },
      b: { eventType: 'user.session.end' },
      condition: ['a', 'b'],
    });

    // Assess
    expect(draft.match.eventType).toEqual(['user.session.start', 'user.session.end']);
  });

  it('skips a rule whose alternatives pair different event types with different conditions', () => {
    // Act
    const result = convert({
      a: { eventType: 'user.session.start', 'outcome.result': 'FAILURE' },
      b: { eventType: 'user.session.end', 'securityContext.isProxy': true },
      condition: 'a or b',
    });

    // Assess
    expect(reasonOf(result)).toBe(
      'the alternatives of the condition pair different event types with different conditions; an olp rule has one ' +
        'eventType list for all of them (split the Sigma rule in one rule per event type)',
    );
  });

  it('skips a rule without event types', () => {
    // Act
    const result = convert({ selection: { displayMessage: 'Max sign in attempts exceeded' }, condition: 'selection' });

    // Assess
    expect(result).toMatchObject({ status: 'skipped', title: 'Test rule' });
    expect(reasonOf(result)).toBe(
      'the rule names no event type (eventType), and an olp Okta rule must list its event types in match.eventType: ' +
        'add the event types to the Sigma selection',
    );
  });

  it('stops spreading alternatives past its limit, quickly', () => {
    // Prepare: 2^12 alternatives.
    const detection: Record<string, unknown> = { base: withType({}), condition: 'base and all of part*' };
    for (let index = 0; index < 12; index += 1) {
      detection[`part${index}`] = [
        { [`debugContext.debugData.k${index}`]: 'a' },
        { [`debugContext.debugData.j${index}`]: 'b' },
      ];
    }

    // Act
    const result = convert(detection);

    // Assess
    expect(reasonOf(result)).toBe(
      'the condition spreads out into more than 256 alternatives; split the rule into several',
    );
  });

  it('skips, at import, a huge list of values with the pattern size quota as the reason', () => {
    // Prepare
    const eventTypes = Array.from({ length: 300 }, (_, index) => `app.custom.event_${index}`);
    const text = stringify({
      title: 'Huge',
      logsource: { product: 'okta', service: 'okta' },
      detection: { selection: { eventType: eventTypes }, condition: 'selection' },
    });

    // Act
    const [result] = importSigmaRules([{ name: 'huge.yml', text }]);

    // Assess
    expect(result).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(
        /^the converted rule does not validate: rule huge: event pattern is \d+ characters with its account pin; EventBridge accepts at most 2048/,
      ),
    });
  });

  it('skips, at import, a contains|all that EventBridge would find too complex', () => {
    // Prepare
    const text = stringify({
      title: 'Two words',
      logsource: { product: 'okta', service: 'okta' },
      detection: {
        selection: { eventType: 'user.session.start', 'displayMessage|contains|all': ['error', 'denied'] },
        condition: 'selection',
      },
    });

    // Act
    const [result] = importSigmaRules([{ name: 'words.yml', text }]);

    // Assess
    expect(result).toMatchObject({ status: 'skipped', reason: expect.stringContaining('rule is too complex') });
  });
});

describe('rule metadata', () => {
  it.each([
    ['informational', 'info'],
    ['low', 'low'],
    ['medium', 'medium'],
    ['high', 'high'],
    ['critical', 'critical'],
  ])('maps level %s to severity %s', (level, severity) => {
    // Act
    const { draft } = converted({ selection: withType({}), condition: 'selection' }, { level });

    // Assess
    expect(draft.severity).toBe(severity);
    expect(draft.sigma).toEqual({ id: '5f0e3a52-8d3c-4d3e-9a53-0f1d2c3b4a59', level });
  });

  it('keeps author and URL references, puts other references in the runbook, and lists the false positives', () => {
    // Act
    const { draft } = converted(
      { selection: withType({}), condition: 'selection' },
      {
        author: ['Jane Doe', 'John Roe'],
        references: ['https://example.com/a', 'Internal research'],
        falsepositives: ['Admins testing', 'Scheduled jobs'],
        description: 'Why it matters.',
      },
    );

    // Assess
    expect(draft).toMatchObject({
      author: 'Jane Doe, John Roe',
      references: ['https://example.com/a'],
      description: 'Why it matters.',
    });
    expect(draft.runbook).toContain('   - Admins testing\n   - Scheduled jobs\n');
    expect(draft.runbook).toContain('Other references of the Sigma rule:\n- Internal research');
  });

  it('cuts a title longer than an olp title may be, and notes it', () => {
    // Act
    const result = converted({ selection: withType({}), condition: 'selection' }, { title: 'A'.repeat(200) });

    // Assess
    expect(result.draft.title).toBe(`${'A'.repeat(117)}...`);
    expect(result.notes).toContain('title: cut to 120 characters');
  });

  it('defaults a rule without level to medium and without description to its title', () => {
    // Act
    const result = convertSigmaRule(
      stringify({
        title: 'Bare rule',
        logsource: { product: 'okta', service: 'okta' },
        detection: { selection: withType({}), condition: 'selection' },
      }),
    );

    // Assess
    expect(result).toMatchObject({
      status: 'converted',
      sigmaId: undefined,
      draft: { severity: 'medium', description: 'Sigma rule "Bare rule".', sigma: {} },
    });
  });
});

describe('hostile and malformed input', () => {
  it.each([
    {
      logsource: { product: 'windows', category: 'process_creation' },
      shown: 'product: windows, category: process_creation',
    },
    { logsource: { product: 'okta', category: 'authentication' }, shown: 'product: okta, category: authentication' },
    { logsource: {}, shown: 'empty' },
  ])('skips logsource $shown as not Okta', ({ logsource, shown }) => {
    // Act
    const result = convert({ selection: withType({}), condition: 'selection' }, { logsource });

    // Assess
    expect(reasonOf(result)).toBe(
      `logsource is ${shown}; only Okta System Log rules (product: okta, service: okta) convert`,
    );
  });

  it.each([
    {
      name: 'bad YAML',
      text: 'title: x\ndetection: [unclosed\n',
      reason: expect.stringMatching(/^\(yaml\): .*line \d+/),
    },
    {
      name: 'a duplicate key',
      text: 'title: x\ntitle: y\n',
      reason: expect.stringMatching(/^\(yaml\): Map keys must be unique/),
    },
    { name: 'an empty file', text: '', reason: '(yaml): the file is empty' },
    { name: 'a list', text: '- a\n- b\n', reason: '(rule): must be a map with title, logsource and detection' },
    {
      name: 'no title',
      text: 'logsource: {product: okta}\ndetection: {condition: x}\n',
      reason: expect.stringMatching(/^title: /),
    },
    {
      name: 'a level Sigma does not have',
      text: 'title: x\nlevel: severe\nlogsource: {product: okta}\ndetection: {condition: x}\n',
      reason: 'level: must be one of informational, low, medium, high, critical',
    },
    {
      name: 'a detection that is not a map',
      text: 'title: x\nlogsource: {product: okta}\ndetection: [a]\n',
      reason: 'detection: must be a map of search identifiers and a condition',
    },
    {
      name: 'a condition naming an undefined identifier',
      text: 'title: x\nlogsource: {product: okta}\ndetection: {selection: {eventType: a.b}, condition: selection and filter}\n',
      reason: 'detection.condition: names "filter", which the detection does not define',
    },
    {
      name: 'an unknown modifier',
      text: 'title: x\nlogsource: {product: okta}\ndetection: {selection: {eventType|sortof: a.b}, condition: selection}\n',
      reason: 'detection.selection.eventType|sortof: unknown modifier "sortof"',
    },
    {
      name: 'an empty list of values',
      text: 'title: x\nlogsource: {product: okta}\ndetection: {selection: {eventType: []}, condition: selection}\n',
      reason: 'detection.selection.eventType: is an empty list of values',
    },
    {
      name: 'a map as a value',
      text: 'title: x\nlogsource: {product: okta}\ndetection: {selection: {eventType: [a.b, {x: 1}]}, condition: selection}\n',
      reason: 'detection.selection.eventType.1: must be a string, number, boolean or null (or a list of them)',
    },
    {
      name: 'a condition that is not text',
      text: 'title: x\nlogsource: {product: okta}\ndetection: {selection: {eventType: a.b}, condition: [selection, 3]}\n',
      reason: 'detection.condition.1: must be a string',
    },
  ])('reports $name as invalid, naming the field', ({ text, reason }) => {
    // Act
    const result = convertSigmaRule(text);

    // Assess
    expect(result).toEqual({ status: 'invalid', reason });
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    // Prepare
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 10; level += 1) {
      lines.push(
        `${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + level)}`)
          .join(',')}]`,
      );
    }

    // Act
    const result = convertSigmaRule(`${lines.join('\n')}\ntitle: x\n`);

    // Assess
    expect(result).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/^\(yaml\): .*alias/i) });
  });

  it('reads deeply nested YAML without crashing', () => {
    // Prepare
    const deep = `title: x\nlogsource: {product: okta}\ndetection: {selection: ${'['.repeat(3000)}${']'.repeat(3000)}, condition: selection}\n`;

    // Act
    const result = convertSigmaRule(deep);

    // Assess
    expect(result).toEqual({ status: 'invalid', reason: expect.stringMatching(/^\(yaml\): nests too deeply to read/) });
  });

  it('refuses a file larger than a Sigma rule', () => {
    // Act
    const text = `title: x\ndescription: "${'x'.repeat(1_000_001)}"\n`;
    const result = convertSigmaRule(text);

    // Assess
    expect(result).toEqual({
      status: 'invalid',
      reason: `(file): is ${text.length} characters; a Sigma rule is at most 1000000`,
    });
  });

  it.each([
    {
      name: 'a rule collection',
      text: 'title: a\n---\ntitle: b\n',
      reason: 'a Sigma rule collection (2 YAML documents); convert its rules one per file',
    },
    {
      name: 'a correlation rule',
      text: 'title: x\ncorrelation: {type: event_count, rules: [a]}\n',
      reason:
        'a Sigma correlation rule (counts or sequences over many events); an alert rule matches one event at a time',
    },
    {
      name: 'a deprecated rule',
      text: 'title: x\nstatus: deprecated\nlogsource: {product: okta}\ndetection: {s: {eventType: a.b}, condition: s}\n',
      reason: 'status is deprecated; Sigma says not to use it as it is',
    },
    {
      name: 'a keyword search',
      text: 'title: x\nlogsource: {product: okta}\ndetection: {keywords: [evil, bad], condition: keywords}\n',
      reason: 'detection.keywords: a keyword search over the whole event; EventBridge patterns match named fields',
    },
  ])('skips $name', ({ text, reason }) => {
    // Act
    const result = convertSigmaRule(text);

    // Assess
    expect(result).toMatchObject({ status: 'skipped', reason });
  });
});
