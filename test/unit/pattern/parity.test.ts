import { describe, expect, it } from 'vitest';
import { findTooComplexField, wildcardComplexity } from '../../../lib/pattern/complexity.ts';
import {
  compilePattern,
  InvalidEventPatternError,
  matchesPattern,
  validatePattern,
} from '../../../lib/pattern/index.ts';

/**
 * Parity with EventBridge on anything-but with prefix, suffix, equals-ignore-case and wildcard, on the complexity
 * limit for wildcards, and on events that are not JSON objects. Expected outcomes come from the EventBridge user
 * guide, TestEventPattern answers recorded against EventBridge, and the unit tests of the engine EventBridge runs
 * (aws/event-ruler), which define the complexity measure.
 */

interface MatchCase {
  readonly name: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly expected: boolean;
}

interface InvalidCase {
  readonly name: string;
  readonly pattern: unknown;
  /** Where the error must point. */
  readonly path: string;
  /** A fragment the reason must contain. */
  readonly reason: string;
}

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

function runMatchCases(cases: readonly MatchCase[]): void {
  it.each(cases)('$name', ({ pattern, event, expected }) => {
    // Prepare
    const matcher = compilePattern(pattern);

    // Act
    const matched = matcher(event);

    // Assess
    expect(matched).toBe(expected);
  });
}

function runInvalidCases(cases: readonly InvalidCase[]): void {
  it.each(cases)('$name', ({ pattern, path, reason }) => {
    // Prepare
    const validate = () => validatePattern(pattern);

    // Act
    const error = caught(validate);

    // Assess
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    const invalid = error as InvalidEventPatternError;
    expect(invalid.path).toBe(path);
    expect(invalid.reason).toContain(reason);
  });
}

function runValidCases(cases: readonly { readonly name: string; readonly pattern: unknown }[]): void {
  it.each(cases)('$name', ({ pattern }) => {
    // Prepare
    const validate = () => validatePattern(pattern);

    // Act
    const error = caught(validate);

    // Assess
    expect(error).toBeUndefined();
  });
}

/** An event whose `detail` holds `value` at `field`, or leaves the field out when `value` is undefined. */
const state = (field: string, value: unknown): unknown =>
  value === undefined ? { detail: { other: 1 } } : { detail: { [field]: value } };

describe('anything-but prefix and suffix, with one value or a list', () => {
  const prefixes = { detail: { state: [{ 'anything-but': { prefix: ['init', 'test'] } }] } };
  const suffixes = { detail: { FileName: [{ 'anything-but': { suffix: ['.txt', '.jpg'] } }] } };
  runMatchCases([
    {
      name: 'a prefix list matches a value that starts with none of them',
      pattern: prefixes,
      event: state('state', 'post-init'),
      expected: true,
    },
    {
      name: 'a prefix list excludes a value starting with its first prefix',
      pattern: prefixes,
      event: state('state', 'initializing'),
      expected: false,
    },
    {
      name: 'a prefix list excludes a value starting with its second prefix',
      pattern: prefixes,
      event: state('state', 'testing'),
      expected: false,
    },
    {
      name: 'a prefix list excludes a value equal to a prefix',
      pattern: prefixes,
      event: state('state', 'test'),
      expected: false,
    },
    { name: 'a prefix list is case-sensitive', pattern: prefixes, event: state('state', 'Init'), expected: true },
    { name: 'a prefix list lets a number through', pattern: prefixes, event: state('state', 12), expected: true },
    { name: 'a prefix list lets null through', pattern: prefixes, event: state('state', null), expected: true },
    {
      name: 'a prefix list does not match a missing field',
      pattern: prefixes,
      event: state('state', undefined),
      expected: false,
    },
    {
      name: 'a prefix list matches an array holding one value it does not exclude',
      pattern: prefixes,
      event: state('state', ['init-1', 'running']),
      expected: true,
    },
    {
      name: 'a prefix list fails an array whose values are all excluded',
      pattern: prefixes,
      event: state('state', ['init-1', 'test-2']),
      expected: false,
    },
    {
      name: 'a suffix list matches a value ending with none of them',
      pattern: suffixes,
      event: state('FileName', 'file.txt.bak'),
      expected: true,
    },
    {
      name: 'a suffix list excludes a value ending with its second suffix',
      pattern: suffixes,
      event: state('FileName', 'photo.jpg'),
      expected: false,
    },
    { name: 'a suffix list lets null through', pattern: suffixes, event: state('FileName', null), expected: true },
    {
      name: 'a one-item suffix list behaves as the single suffix',
      pattern: { detail: { FileName: [{ 'anything-but': { suffix: ['.png'] } }] } },
      event: state('FileName', 'image.png'),
      expected: false,
    },
    {
      name: 'a single prefix still excludes as before',
      pattern: { Region: [{ 'anything-but': { prefix: 'us-' } }] },
      event: { Region: 'eu-west-1' },
      expected: true,
    },
  ]);
});

describe('anything-but equals-ignore-case, with one value or a list', () => {
  const list = { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'OverLoaded'] } }] } };
  runMatchCases([
    { name: 'a list matches another value', pattern: list, event: state('state', 'running'), expected: true },
    {
      name: 'a list excludes its first value in any case',
      pattern: list,
      event: state('state', 'STOPPED'),
      expected: false,
    },
    {
      name: 'a list excludes its second value in any case',
      pattern: list,
      event: state('state', 'overloaded'),
      expected: false,
    },
    { name: 'a list is not a prefix test', pattern: list, event: state('state', 'stopped-2'), expected: true },
    { name: 'a list lets a number through', pattern: list, event: state('state', 1), expected: true },
    {
      name: 'a list does not match a missing field',
      pattern: list,
      event: state('state', undefined),
      expected: false,
    },
    {
      name: 'a single value excludes its other casings',
      pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
      event: { state: 'Initializing' },
      expected: false,
    },
    {
      name: 'an empty string excludes only the empty string',
      pattern: { state: [{ 'anything-but': { 'equals-ignore-case': ['abc', ''] } }] },
      event: { state: '' },
      expected: false,
    },
    {
      name: 'an empty string lets other values through',
      pattern: { state: [{ 'anything-but': { 'equals-ignore-case': '' } }] },
      event: { state: 'x' },
      expected: true,
    },
  ]);
});

describe('anything-but wildcard, with one value or a list', () => {
  const list = { detail: { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*.jar'] } }] } };
  runMatchCases([
    {
      name: 'a list matches a path in neither form',
      pattern: list,
      event: state('FilePath', '/usr/share/doc'),
      expected: true,
    },
    {
      name: 'a list excludes its first form',
      pattern: list,
      event: state('FilePath', '/usr/lib/x.so'),
      expected: false,
    },
    {
      name: 'a list excludes its second form',
      pattern: list,
      event: state('FilePath', '/opt/bin/app.jar'),
      expected: false,
    },
    {
      name: 'a list does not exclude what only resembles a form',
      pattern: list,
      event: state('FilePath', '/opt/bin/app.jar.bak'),
      expected: true,
    },
    { name: 'a list lets a number through', pattern: list, event: state('FilePath', 7), expected: true },
    {
      name: 'an empty wildcard excludes only the empty string',
      pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '' } }] } },
      event: state('FilePath', 'dir/init/file'),
      expected: true,
    },
    {
      name: 'an escaped star is a literal star',
      pattern: { f: [{ 'anything-but': { wildcard: 'a\\*b' } }] },
      event: { f: 'axb' },
      expected: true,
    },
    {
      name: 'an escaped star excludes the literal star',
      pattern: { f: [{ 'anything-but': { wildcard: 'a\\*b' } }] },
      event: { f: 'a*b' },
      expected: false,
    },
  ]);
});

describe('what EventBridge accepts around anything-but', () => {
  runValidCases([
    { name: 'a prefix list', pattern: { s: [{ 'anything-but': { prefix: ['abc', '123'] } }] } },
    { name: 'a suffix list', pattern: { s: [{ 'anything-but': { suffix: ['abc', '123'] } }] } },
    {
      name: 'equals-ignore-case with an empty string',
      pattern: { s: [{ 'anything-but': { 'equals-ignore-case': '' } }] },
    },
    {
      name: 'an equals-ignore-case list holding an empty string',
      pattern: { s: [{ 'anything-but': { 'equals-ignore-case': ['abc', ''] } }] },
    },
    { name: 'an empty wildcard', pattern: { s: [{ 'anything-but': { wildcard: '' } }] } },
    {
      name: 'a wildcard list holding an empty string',
      pattern: { s: [{ 'anything-but': { wildcard: ['foo*bar', ''] } }] },
    },
    {
      name: 'anything-but next to other values of the field',
      pattern: { s: ['x', { 'anything-but': { prefix: ['a', 'b'] } }, { prefix: 'c' }] },
    },
    {
      name: 'anything-but lists inside $or',
      pattern: {
        $or: [{ a: [{ 'anything-but': { suffix: ['.x'] } }] }, { b: [{ 'anything-but': { wildcard: ['*.y'] } }] }],
      },
    },
  ]);
});

describe('what EventBridge refuses around anything-but', () => {
  runInvalidCases([
    {
      name: 'an empty prefix list',
      pattern: { s: [{ 'anything-but': { prefix: [] } }] },
      path: 's[0]',
      reason: 'anything-but prefix list must not be empty',
    },
    {
      name: 'an empty suffix list',
      pattern: { s: [{ 'anything-but': { suffix: [] } }] },
      path: 's[0]',
      reason: 'anything-but suffix list must not be empty',
    },
    {
      name: 'an empty wildcard list',
      pattern: { s: [{ 'anything-but': { wildcard: [] } }] },
      path: 's[0]',
      reason: 'anything-but wildcard list must not be empty',
    },
    {
      name: 'an empty string in a prefix list',
      pattern: { s: [{ 'anything-but': { prefix: ['1', ''] } }] },
      path: 's[0]',
      reason: 'list item 1 must not be empty',
    },
    {
      name: 'an empty string in a suffix list',
      pattern: { s: [{ 'anything-but': { suffix: ['', '1'] } }] },
      path: 's[0]',
      reason: 'list item 0 must not be empty',
    },
    {
      name: 'a number as a prefix',
      pattern: { detail: { state: [{ 'anything-but': { prefix: 123 } }] } },
      path: 'detail.state[0]',
      reason: 'anything-but prefix takes a string or a non-empty list of strings, not the number 123',
    },
    {
      name: 'a number in a prefix list',
      pattern: { detail: { state: [{ 'anything-but': { prefix: [123, 'test'] } }] } },
      path: 'detail.state[0]',
      reason: 'anything-but prefix list item 0 must be a string, not the number 123',
    },
    {
      name: 'null in a suffix list',
      pattern: { s: [{ 'anything-but': { suffix: ['.txt', null] } }] },
      path: 's[0]',
      reason: 'list item 1 must be a string, not null',
    },
    {
      name: 'a number as a suffix',
      pattern: { s: [{ 'anything-but': { suffix: 123 } }] },
      path: 's[0]',
      reason: 'anything-but suffix takes a string',
    },
    {
      name: 'a number as an equals-ignore-case value',
      pattern: { s: [{ 'anything-but': { 'equals-ignore-case': 123 } }] },
      path: 's[0]',
      reason: 'anything-but equals-ignore-case takes a string or a non-empty list of strings',
    },
    {
      name: 'numbers in an equals-ignore-case list',
      pattern: { s: [{ 'anything-but': { 'equals-ignore-case': [123, 456] } }] },
      path: 's[0]',
      reason: 'list item 0 must be a string',
    },
    {
      name: 'an empty equals-ignore-case list',
      pattern: { s: [{ 'anything-but': { 'equals-ignore-case': [] } }] },
      path: 's[0]',
      reason: 'anything-but equals-ignore-case list must not be empty',
    },
    {
      name: 'a number as a wildcard',
      pattern: { s: [{ 'anything-but': { wildcard: 123 } }] },
      path: 's[0]',
      reason: 'anything-but wildcard takes a string',
    },
    {
      name: 'a number in a wildcard list',
      pattern: { s: [{ 'anything-but': { wildcard: [123, '*/dir/*'] } }] },
      path: 's[0]',
      reason: 'list item 0 must be a string',
    },
    {
      name: 'consecutive wildcards in a wildcard list',
      pattern: { s: [{ 'anything-but': { wildcard: ['1', 'foo**bar'] } }] },
      path: 's[0]',
      reason: 'consecutive wildcard characters are not supported',
    },
    {
      name: 'a trailing backslash in a wildcard list',
      pattern: { s: [{ 'anything-but': { wildcard: ['1', 'foo*bar\\'] } }] },
      path: 's[0]',
      reason: 'may only escape',
    },
    {
      name: 'prefix ignoring case nested in anything-but',
      pattern: { s: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'file' } } }] },
      path: 's[0]',
      reason: 'anything-but prefix takes a string or a non-empty list of strings, not an object',
    },
    {
      name: 'suffix ignoring case nested in anything-but',
      pattern: { s: [{ 'anything-but': { suffix: { 'equals-ignore-case': '.png' } } }] },
      path: 's[0]',
      reason: 'not an object',
    },
    {
      name: 'anything-but nested in anything-but',
      pattern: { s: [{ 'anything-but': { 'anything-but': 'x' } }] },
      path: 's[0]',
      reason: 'anything-but does not support "anything-but"',
    },
    {
      name: 'cidr nested in anything-but',
      pattern: { s: [{ 'anything-but': { cidr: '10.0.0.0/8' } }] },
      path: 's[0]',
      reason: 'anything-but does not support "cidr"',
    },
    {
      name: 'prefix objects in a plain anything-but list',
      pattern: { s: [{ 'anything-but': [{ prefix: 'abc-' }, { prefix: 'xyz-' }] }] },
      path: 's[0]',
      reason: 'to exclude by prefix, suffix, case or wildcard write {"anything-but": {"prefix": [...]}}',
    },
    {
      name: 'two operators in one anything-but object',
      pattern: { s: [{ 'anything-but': { prefix: 'a', suffix: 'b' } }] },
      path: 's[0]',
      reason: 'exactly one operator',
    },
    {
      name: 'an anything-but object with no operator',
      pattern: { s: [{ 'anything-but': {} }] },
      path: 's[0]',
      reason: 'found none',
    },
    {
      name: 'an empty plain anything-but list',
      pattern: { s: [{ 'anything-but': [] }] },
      path: 's[0]',
      reason: 'anything-but list must not be empty',
    },
    {
      name: 'a boolean for anything-but',
      pattern: { s: [{ 'anything-but': false }] },
      path: 's[0]',
      reason: 'anything-but takes a string, a number, a non-empty list of strings or of numbers, or an object',
    },
    {
      name: 'an error inside $or names the alternative',
      pattern: { $or: [{ a: ['x'] }, { b: [{ 'anything-but': { suffix: [''] } }] }] },
      path: '$or[1].b[0]',
      reason: 'anything-but suffix list item 0 must not be empty',
    },
  ]);
});

describe('the wildcard complexity measure of the rule engine', () => {
  // Expected values from the rule engine's unit tests, which measure texts without the enclosing quotes.
  const engineCases: readonly { readonly texts: readonly string[]; readonly expected: number }[] = [
    { texts: ['*'], expected: 1 },
    { texts: ['abc'], expected: 1 },
    { texts: ['*ab'], expected: 2 },
    { texts: ['*aa'], expected: 3 },
    { texts: ['a*b'], expected: 2 },
    { texts: ['aa*'], expected: 2 },
    { texts: ['a*bbb'], expected: 4 },
    { texts: ['*ab*ad'], expected: 4 },
    { texts: ['*aba*'], expected: 4 },
    { texts: ['a*b*bb'], expected: 5 },
    { texts: ['a*b*cd'], expected: 3 },
    { texts: ['ab*b*'], expected: 3 },
    { texts: ['*ab*b*b*'], expected: 7 },
    { texts: ['*a*a*a*a*a*a*a*a*'], expected: 17 },
    { texts: ['*', 'ab*c'], expected: 3 },
    { texts: ['ab*c', 'x*xx'], expected: 3 },
    { texts: ['*abc', '*abcde'], expected: 4 },
    { texts: ['a*aaa', 'aa*aa'], expected: 7 },
    { texts: ['a*aax', 'aaa*x'], expected: 5 },
    { texts: ['abc*', 'abcde*'], expected: 3 },
    { texts: ['ab*cd', 'ab*wx', 'ab*yz'], expected: 6 },
    { texts: ['ab*c', 'ab*c'], expected: 2 },
    { texts: ['F*eatureFeature', 'Fe*atureFeature', 'Fea*tureFeature'], expected: 10 },
    {
      texts: [
        ...['aahed*', 'aal*ii', 'aargh*', 'aarti*', 'a*baca', '*abaci', 'a*back', 'ab*acs', 'abaf*t', '*abaka'],
        ...['ab*amp', 'a*band', '*abase', 'abash*', 'abas*k', 'ab*ate', 'aba*ya', 'abbas*', 'abbed*', 'ab*bes'],
        ...['abbey*', '*abbot', 'ab*cee', 'abea*m', 'abe*ar', 'a*bele', 'a*bers', 'abet*s', '*abhor', 'abi*de'],
        ...['a*bies', '*abled'],
      ],
      expected: 45,
    },
  ];
  it.each(engineCases)('$texts has complexity $expected', ({ texts, expected }) => {
    // Prepare
    const patterns = texts.map((text) => ({ identity: text, texts: [text] }));

    // Act
    const complexity = wildcardComplexity(patterns, { quoted: false, limit: 100 });

    // Assess
    expect(complexity).toBe(expected);
  });

  it('counts a field value with its quotes, as a rule does', () => {
    // Prepare
    const patterns = [{ identity: 'def', texts: ['a*a*a*a*a*a*'] }];

    // Act
    const complexity = wildcardComplexity(patterns, { limit: 100 });

    // Assess
    expect(complexity).toBe(11);
  });

  it('reads an escaped star as a literal character, not a wildcard', () => {
    // Prepare
    const escaped = [{ identity: 'escaped', texts: ['*a\\*a'] }];
    const wildcard = [{ identity: 'wildcard', texts: ['*a*a'] }];

    // Act
    const complexities = [escaped, wildcard].map((patterns) =>
      wildcardComplexity(patterns, { quoted: false, limit: 100 }),
    );

    // Assess
    expect(complexities).toEqual([3, 4]);
  });

  it('counts an anything-but wildcard list as one pattern', () => {
    // Prepare
    const oneList = [{ identity: 'list', texts: ['*/lib/*', '*/bin/*'] }];
    const twoPatterns = [
      { identity: 'lib', texts: ['*/lib/*'] },
      { identity: 'bin', texts: ['*/bin/*'] },
    ];

    // Act
    const complexities = [oneList, twoPatterns].map((patterns) => wildcardComplexity(patterns, { limit: 100 }));

    // Assess
    expect(complexities).toEqual([6, 7]);
  });

  it('stops counting at the limit', () => {
    // Prepare
    const patterns = [{ identity: 'long', texts: ['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*'] }];

    // Act
    const complexity = wildcardComplexity(patterns, { quoted: false, limit: 10 });

    // Assess
    expect(complexity).toBeGreaterThanOrEqual(10);
    expect(complexity).toBeLessThan(33);
  });

  it('adds up wildcards of alternatives that reach the same field matcher', () => {
    // Prepare
    const field = (where: string, text: string) => ({
      path: 'key',
      where,
      terms: [{ identity: JSON.stringify({ wildcard: text }), wildcards: [text] }],
    });
    const source = (value: string) => ({ path: 'a', where: 'a', terms: [{ identity: value, wildcards: [] }] });
    const sameSource = [
      [source('x'), field('$or[0].key[0]', '*:stack/one/*')],
      [source('x'), field('$or[1].key[0]', '*:stack/two/*')],
      [source('x'), field('$or[2].key[0]', '*:stack/three/*')],
      [source('x'), field('$or[3].key[0]', '*:stack/four/*')],
    ];
    const differentSources = sameSource.map(([, wildcard], index) => [source(`s${index}`), wildcard]);

    // Act
    const problems = [sameSource, differentSources].map((alternatives) =>
      findTooComplexField(alternatives.map((fields) => fields.flatMap((f) => (f === undefined ? [] : [f])))),
    );

    // Assess
    expect(problems[0]?.where).toBe('$or[0].key[0]');
    expect(problems[0]?.complexity).toBeGreaterThanOrEqual(10);
    expect(problems[1]).toBeUndefined();
  });
});

describe('EventBridge refuses rules whose wildcards are too complex', () => {
  const stacks = (names: readonly string[]) => ({
    detail: { 'stack-id': names.map((name) => ({ wildcard: `*:stack/${name}/*` })) },
  });
  runValidCases([
    {
      name: 'the guide example that narrows the event bus ARN',
      pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    },
    {
      name: 'the guide example with a repeated sequence after the wildcard',
      pattern: { FileName: [{ wildcard: '/Users/*/dir/dir/dir/dir/dir/doc.txt' }] },
    },
    { name: 'three stack patterns on one field', pattern: stacks(['SharedStack', 'ApiStack', 'DataStack']) },
    {
      name: 'four one-wildcard suffixes on one field',
      pattern: { key: ['*.bif', '*.tiff', '*.tif', '*.svs'].map((wildcard) => ({ wildcard })) },
    },
    {
      name: 'the same wildcards on one field in different alternatives of different sources',
      pattern: {
        $or: ['SharedStack', 'ApiStack', 'DataStack', 'MonitoringStack'].map((name) => ({
          source: [name],
          'stack-id': [{ wildcard: `*:stack/${name}/*` }],
        })),
      },
    },
    {
      name: 'anything-but wildcards within the limit',
      pattern: { path: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] },
    },
  ]);
  runInvalidCases([
    {
      name: 'the guide example with a wildcard for every ARN part',
      pattern: { EventBusArn: [{ wildcard: '*:*:*:*:*:event-bus/*' }] },
      path: 'EventBusArn',
      reason: 'rule is too complex: its wildcards reach complexity',
    },
    {
      name: 'four stack patterns on one field',
      pattern: stacks(['SharedStack', 'ApiStack', 'DataStack', 'MonitoringStack']),
      path: 'detail.stack-id',
      reason: 'use fewer wildcard characters or fewer repeating character sequences after a wildcard character',
    },
    {
      name: 'wildcards on one field spread over alternatives that share the fields before it',
      pattern: {
        source: ['okta'],
        $or: ['SharedStack', 'ApiStack', 'DataStack', 'MonitoringStack'].map((name) => ({
          'stack-id': [{ wildcard: `*:stack/${name}/*` }],
        })),
      },
      path: '$or[0].stack-id',
      reason: 'EventBridge refuses 10 or more',
    },
    {
      name: 'an anything-but wildcard that is too complex on its own',
      pattern: { path: [{ 'anything-but': { wildcard: 'a*a*a*a*a*a*' } }] },
      path: 'path',
      reason: 'rule is too complex',
    },
    {
      name: 'a wildcard and an anything-but wildcard that add up on one field',
      pattern: {
        path: [{ wildcard: '*/lib/*/x' }, { 'anything-but': { wildcard: ['*/lib/*/y', '*/lib/*/z'] } }],
      },
      path: 'path',
      reason: 'rule is too complex',
    },
  ]);

  it('refuses consecutive wildcards', () => {
    // Prepare
    const pattern = { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:**:event-bus/*' }] };

    // Act
    const error = caught(() => validatePattern(pattern));

    // Assess
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect((error as InvalidEventPatternError).message).toBe(
      'Invalid event pattern at EventBusArn[0]: consecutive wildcard characters are not supported',
    );
  });
});

describe('events that are not JSON objects', () => {
  const patterns: readonly { readonly name: string; readonly pattern: unknown }[] = [
    { name: 'a pattern on a value', pattern: { source: ['aws.ec2'] } },
    { name: 'a pattern made only of exists false', pattern: { detail: { c: [{ exists: false }] } } },
    { name: 'an anything-but pattern', pattern: { source: [{ 'anything-but': { prefix: ['a', 'b'] } }] } },
    { name: 'a $or pattern', pattern: { $or: [{ a: [{ exists: false }] }, { b: ['x'] }] } },
  ];
  const events: readonly { readonly kind: string; readonly event: unknown }[] = [
    { kind: 'a string', event: 'aws.ec2' },
    { kind: 'a JSON text of an object', event: '{"source":"aws.ec2"}' },
    { kind: 'an array of events', event: [{ source: 'aws.ec2' }] },
    { kind: 'an empty array', event: [] },
    { kind: 'a number', event: 42 },
    { kind: 'a boolean', event: true },
    { kind: 'null', event: null },
    { kind: 'undefined', event: undefined },
    { kind: 'a Date', event: new Date(0) },
    { kind: 'a Map', event: new Map([['source', 'aws.ec2']]) },
  ];
  const cases = patterns.flatMap(({ name, pattern }) =>
    events.map(({ kind, event }) => ({ name, pattern, kind, event })),
  );

  it.each(cases)('$name does not match $kind', ({ pattern, event }) => {
    // Prepare
    const matcher = compilePattern(pattern);

    // Act
    const results = [matcher(event), matchesPattern(pattern, event)];

    // Assess
    expect(results).toEqual([false, false]);
  });

  it('still matches an object event with the same pattern', () => {
    // Prepare
    const matcher = compilePattern({ detail: { c: [{ exists: false }] } });

    // Act
    const results = [matcher({ detail: {} }), matcher({}), matcher(Object.create(null))];

    // Assess
    expect(results).toEqual([true, true, true]);
  });
});
