import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_PATTERN_SIZE,
  InvalidEventPatternError,
  parsePatternJson,
  validatePattern,
} from '../../../lib/pattern/index.ts';

interface InvalidCase {
  readonly name: string;
  readonly pattern: unknown;
  /** Where the error must point, '' for the pattern as a whole. */
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
    expect(invalid.message).toBe(
      path === '' ? `Invalid event pattern: ${invalid.reason}` : `Invalid event pattern at ${path}: ${invalid.reason}`,
    );
  });
}

describe('Creating event patterns: the shape of a pattern', () => {
  runInvalidCases([
    { name: 'a string is not a pattern', pattern: 'aws.ec2', path: '', reason: 'must be a JSON object' },
    {
      name: 'an array is not a pattern',
      pattern: [{ source: ['aws.ec2'] }],
      path: '',
      reason: 'must be a JSON object',
    },
    { name: 'null is not a pattern', pattern: null, path: '', reason: 'must be a JSON object' },
    { name: 'undefined is not a pattern', pattern: undefined, path: '', reason: 'must be a JSON object' },
    { name: 'an empty pattern', pattern: {}, path: '', reason: 'empty objects are not allowed' },
    {
      name: 'a leaf that is not an array',
      pattern: { source: 'aws.ec2' },
      path: 'source',
      reason: 'must be an object or an array',
    },
    {
      name: 'a nested leaf that is a number',
      pattern: { detail: { risk: 8 } },
      path: 'detail.risk',
      reason: 'must be an object or an array',
    },
    { name: 'an empty leaf array', pattern: { source: [] }, path: 'source', reason: 'empty arrays are not allowed' },
    {
      name: 'an empty nested object',
      pattern: { detail: {} },
      path: 'detail',
      reason: 'empty objects are not allowed',
    },
    {
      name: 'a nested array as a value',
      pattern: { source: [['aws.ec2']] },
      path: 'source[0]',
      reason: 'match values must be',
    },
    { name: 'a non-finite number', pattern: { n: [Number.NaN] }, path: 'n[0]', reason: 'finite' },
  ]);
});

describe('Content filtering: operators and their operands', () => {
  runInvalidCases([
    {
      name: 'an unknown operator',
      pattern: { source: [{ contains: 'ec2' }] },
      path: 'source[0]',
      reason: 'unrecognized match type "contains"',
    },
    { name: 'an empty match expression', pattern: { source: [{}] }, path: 'source[0]', reason: 'found none' },
    {
      name: 'two operators in one expression',
      pattern: { f: [{ prefix: 'a', suffix: 'b' }] },
      path: 'f[0]',
      reason: 'exactly one operator',
    },
    {
      name: 'prefix with a number',
      pattern: { detail: { eventType: [{ prefix: 5 }] } },
      path: 'detail.eventType[0]',
      reason: 'prefix match pattern must be a string',
    },
    {
      name: 'prefix with another operator inside',
      pattern: { f: [{ prefix: { suffix: 'x' } }] },
      path: 'f[0]',
      reason: 'only "equals-ignore-case"',
    },
    {
      name: 'prefix ignoring case with a number',
      pattern: { f: [{ prefix: { 'equals-ignore-case': 1 } }] },
      path: 'f[0]',
      reason: 'must be a string',
    },
    {
      name: 'suffix with a list',
      pattern: { f: [{ suffix: ['.png'] }] },
      path: 'f[0]',
      reason: 'suffix match pattern must be a string',
    },
    {
      name: 'equals-ignore-case with a list',
      pattern: { f: [{ 'equals-ignore-case': ['a'] }] },
      path: 'f[0]',
      reason: 'must be a string',
    },
    { name: 'exists with a string', pattern: { f: [{ exists: 'true' }] }, path: 'f[0]', reason: 'true or false' },
    { name: 'wildcard with a number', pattern: { f: [{ wildcard: 5 }] }, path: 'f[0]', reason: 'must be a string' },
    {
      name: 'wildcard with consecutive wildcards',
      pattern: { f: [{ wildcard: 'a**b' }] },
      path: 'f[0]',
      reason: 'consecutive wildcard characters are not supported',
    },
    {
      name: 'wildcard escaping an ordinary character',
      pattern: { f: [{ wildcard: 'a\\b' }] },
      path: 'f[0]',
      reason: 'may only escape',
    },
    {
      name: 'wildcard ending in a lone backslash',
      pattern: { f: [{ wildcard: 'a\\' }] },
      path: 'f[0]',
      reason: 'may only escape',
    },
    {
      name: 'wildcard ignoring case is not an operator form',
      pattern: { f: [{ wildcard: { 'equals-ignore-case': 'a*' } }] },
      path: 'f[0]',
      reason: 'must be a string',
    },
  ]);
});

describe('Content filtering: numeric matching operands', () => {
  runInvalidCases([
    { name: 'numeric with a single value', pattern: { n: [{ numeric: 5 }] }, path: 'n[0]', reason: 'must be an array' },
    {
      name: 'numeric with a string value',
      pattern: { n: [{ numeric: ['=', '5'] }] },
      path: 'n[0]',
      reason: 'must be a number',
    },
    {
      name: 'numeric with an unknown operator',
      pattern: { n: [{ numeric: ['==', 5] }] },
      path: 'n[0]',
      reason: 'unrecognized numeric operator "=="',
    },
    {
      name: 'numeric with three elements',
      pattern: { n: [{ numeric: ['>', 0, '<'] }] },
      path: 'n[0]',
      reason: 'numeric takes one comparison',
    },
    {
      name: 'numeric range given upper bound first',
      pattern: { n: [{ numeric: ['<', 10, '>', 0] }] },
      path: 'n[0]',
      reason: 'must start with ">" or ">="',
    },
    {
      name: 'numeric range with two lower bounds',
      pattern: { n: [{ numeric: ['>', 0, '>', 5] }] },
      path: 'n[0]',
      reason: 'must end with "<" or "<="',
    },
    {
      name: 'numeric "=" combined with a bound',
      pattern: { n: [{ numeric: ['=', 1, '<', 5] }] },
      path: 'n[0]',
      reason: 'must start with ">" or ">="',
    },
    {
      name: 'numeric range with crossed bounds',
      pattern: { n: [{ numeric: ['>', 10, '<', 5] }] },
      path: 'n[0]',
      reason: 'lower bound must be less than its upper bound',
    },
    {
      name: 'numeric range with equal bounds',
      pattern: { n: [{ numeric: ['>=', 5, '<=', 5] }] },
      path: 'n[0]',
      reason: 'lower bound must be less than its upper bound',
    },
    {
      name: 'numeric value above 5.0e9',
      pattern: { n: [{ numeric: ['<', 6e9] }] },
      path: 'n[0]',
      reason: 'between -5.0e+9 and 5.0e+9',
    },
    {
      name: 'numeric value below -5.0e9',
      pattern: { n: [{ numeric: ['>', -5.1e9] }] },
      path: 'n[0]',
      reason: 'between',
    },
  ]);
});

describe('Content filtering: IP address matching operands', () => {
  runInvalidCases([
    { name: 'cidr with a number', pattern: { ip: [{ cidr: 10 }] }, path: 'ip[0]', reason: 'must be a string' },
    { name: 'cidr without a prefix length', pattern: { ip: [{ cidr: '10.0.0.0' }] }, path: 'ip[0]', reason: 'one "/"' },
    {
      name: 'cidr with a host name',
      pattern: { ip: [{ cidr: 'example.com/24' }] },
      path: 'ip[0]',
      reason: 'is not an IPv4 or IPv6 address',
    },
    {
      name: 'cidr with a non-numeric prefix length',
      pattern: { ip: [{ cidr: '10.0.0.0/abc' }] },
      path: 'ip[0]',
      reason: 'whole number',
    },
    {
      name: 'cidr with an IPv4 prefix length over 32',
      pattern: { ip: [{ cidr: '10.0.0.0/33' }] },
      path: 'ip[0]',
      reason: 'less than 32',
    },
    {
      name: 'cidr with a full-length IPv4 prefix',
      pattern: { ip: [{ cidr: '10.0.0.1/32' }] },
      path: 'ip[0]',
      reason: 'less than 32',
    },
    {
      name: 'cidr with an IPv6 prefix length over 128',
      pattern: { ip: [{ cidr: '2001:db8::/129' }] },
      path: 'ip[0]',
      reason: 'less than 128',
    },
    {
      name: 'cidr with host bits set',
      pattern: { ip: [{ cidr: '10.0.0.1/24' }] },
      path: 'ip[0]',
      reason: 'bits set beyond the /24 prefix',
    },
  ]);
});

describe('Content filtering: anything-but operands', () => {
  runInvalidCases([
    {
      name: 'anything-but null',
      pattern: { s: [{ 'anything-but': null }] },
      path: 's[0]',
      reason: 'anything-but takes',
    },
    {
      name: 'anything-but a boolean',
      pattern: { s: [{ 'anything-but': true }] },
      path: 's[0]',
      reason: 'anything-but takes',
    },
    {
      name: 'anything-but an empty list',
      pattern: { s: [{ 'anything-but': [] }] },
      path: 's[0]',
      reason: 'must not be empty',
    },
    {
      name: 'anything-but a mixed list',
      pattern: { s: [{ 'anything-but': ['a', 1] }] },
      path: 's[0]',
      reason: 'all strings or all numbers',
    },
    {
      name: 'anything-but a list holding null',
      pattern: { s: [{ 'anything-but': ['a', null] }] },
      path: 's[0]',
      reason: 'all strings or all numbers',
    },
    {
      name: 'anything-but a number beyond the numeric range',
      pattern: { s: [{ 'anything-but': 6e9 }] },
      path: 's[0]',
      reason: 'between',
    },
    {
      name: 'anything-but an empty prefix',
      pattern: { s: [{ 'anything-but': { prefix: '' } }] },
      path: 's[0]',
      reason: 'must not be empty',
    },
    {
      name: 'anything-but an empty suffix',
      pattern: { s: [{ 'anything-but': { suffix: '' } }] },
      path: 's[0]',
      reason: 'must not be empty',
    },
    {
      name: 'anything-but numeric',
      pattern: { s: [{ 'anything-but': { numeric: ['>', 1] } }] },
      path: 's[0]',
      reason: 'does not support "numeric"',
    },
    {
      name: 'anything-but exists',
      pattern: { s: [{ 'anything-but': { exists: true } }] },
      path: 's[0]',
      reason: 'does not support "exists"',
    },
    {
      name: 'anything-but two operators',
      pattern: { s: [{ 'anything-but': { prefix: 'a', suffix: 'b' } }] },
      path: 's[0]',
      reason: 'exactly one operator',
    },
    {
      name: 'anything-but equals-ignore-case with a number',
      pattern: { s: [{ 'anything-but': { 'equals-ignore-case': 1 } }] },
      path: 's[0]',
      reason: 'string or a non-empty list of strings',
    },
    {
      name: 'anything-but equals-ignore-case with an empty list',
      pattern: { s: [{ 'anything-but': { 'equals-ignore-case': [] } }] },
      path: 's[0]',
      reason: 'list must not be empty',
    },
    {
      name: 'anything-but an invalid wildcard',
      pattern: { s: [{ 'anything-but': { wildcard: ['*/lib/*', 'a**'] } }] },
      path: 's[0]',
      reason: 'consecutive wildcard',
    },
  ]);
});

describe('Content filtering: $or', () => {
  runInvalidCases([
    { name: '$or as an object', pattern: { $or: { a: ['x'] } }, path: '$or', reason: 'at least 2 objects' },
    { name: '$or with one alternative', pattern: { $or: [{ a: ['x'] }] }, path: '$or', reason: 'at least 2 objects' },
    {
      name: '$or holding a non-object',
      pattern: { $or: [{ a: ['x'] }, ['b']] },
      path: '$or[1]',
      reason: 'at least 2 objects',
    },
    {
      name: '$or holding an empty object',
      pattern: { $or: [{ a: ['x'] }, {}] },
      path: '$or[1]',
      reason: 'empty objects are not allowed',
    },
    {
      name: 'an operator name as a field inside $or',
      pattern: { $or: [{ prefix: ['x'] }, { b: ['y'] }] },
      path: '$or[0].prefix',
      reason: 'is an operator',
    },
    {
      name: 'an error inside a nested $or names the full path',
      pattern: { detail: { $or: [{ 'c-count': [{ numeric: ['<'] }] }, { d: ['x'] }] } },
      path: 'detail.$or[0].c-count[0]',
      reason: 'numeric takes one comparison',
    },
    {
      name: 'too many $or combinations',
      pattern: Object.fromEntries(
        Array.from({ length: 10 }, (_, index) => [`f${index}`, { $or: [{ a: ['x'] }, { b: ['y'] }] }]),
      ),
      path: 'f9.$or',
      reason: 'combinations exceed 1000',
    },
  ]);
});

describe('Amazon EventBridge quotas: event pattern size', () => {
  const patternOfSize = (size: number) => {
    const skeleton = JSON.stringify({ source: [''] }).length;
    return { source: ['x'.repeat(size - skeleton)] };
  };

  it('accepts a pattern of exactly 2048 characters', () => {
    // Prepare
    const pattern = patternOfSize(DEFAULT_MAX_PATTERN_SIZE);

    // Act
    const validate = () => validatePattern(pattern);

    // Assess
    expect(JSON.stringify(pattern)).toHaveLength(2048);
    expect(validate).not.toThrow();
  });

  it('refuses a pattern of 2049 characters', () => {
    // Prepare
    const pattern = patternOfSize(DEFAULT_MAX_PATTERN_SIZE + 1);

    // Act
    const error = caught(() => validatePattern(pattern));

    // Assess
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect((error as InvalidEventPatternError).message).toBe(
      'Invalid event pattern: pattern is 2049 characters, over the 2048-character event pattern size quota',
    );
  });

  it('accepts a larger pattern when the quota has been raised', () => {
    // Prepare
    const pattern = patternOfSize(4096);

    // Act
    const validate = () => validatePattern(pattern, { maxPatternSize: 4096 });

    // Assess
    expect(validate).not.toThrow();
  });
});

describe('parsePatternJson and the error type', () => {
  it('parses valid JSON', () => {
    // Prepare
    const json = '{"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}';

    // Act
    const pattern = parsePatternJson(json);

    // Assess
    expect(pattern).toEqual({ source: ['aws.ec2'], detail: { state: ['terminated'] } });
  });

  it('reports malformed JSON as an invalid pattern', () => {
    // Prepare
    const json = '{ "time": [ { "prefix": "2017-10-02" } ], }';

    // Act
    const error = caught(() => parsePatternJson(json));

    // Assess
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    expect((error as InvalidEventPatternError).message).toMatch(/^Invalid event pattern: pattern is not valid JSON/);
  });

  it('keeps only the last of two duplicate keys, as JSON parsing does', () => {
    // Prepare
    const json = '{"source": ["aws.s3"], "source": ["aws.ec2"]}';

    // Act
    const pattern = parsePatternJson(json);

    // Assess
    expect(pattern).toEqual({ source: ['aws.ec2'] });
  });

  it('names itself and is an Error', () => {
    // Prepare
    const error = new InvalidEventPatternError('detail.eventType[0]', 'prefix match pattern must be a string');

    // Act
    const described = `${error.name}: ${error.message}`;

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(described).toBe(
      'InvalidEventPatternError: Invalid event pattern at detail.eventType[0]: prefix match pattern must be a string',
    );
  });
});

describe('valid patterns pass validation', () => {
  it.each([
    { name: 'exists with other values', pattern: { f: ['x', { exists: false }] } },
    { name: 'an empty prefix', pattern: { source: [{ prefix: '' }] } },
    { name: 'nested $or inside $or', pattern: { $or: [{ a: ['x'] }, { $or: [{ b: ['y'] }, { c: ['z'] }] }] } },
    { name: 'an operator name as an ordinary field outside $or', pattern: { prefix: ['x'] } },
    {
      name: 'anything-but a list of wildcards',
      pattern: { f: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] },
    },
    { name: 'anything-but a list of prefixes', pattern: { s: [{ 'anything-but': { prefix: ['us-', 'eu-'] } }] } },
    { name: 'an IPv6 cidr', pattern: { ip: [{ cidr: '2001:db8::/32' }] } },
  ])('$name', ({ pattern }) => {
    // Prepare
    const validate = () => validatePattern(pattern);

    // Act
    const error = caught(validate);

    // Assess
    expect(error).toBeUndefined();
  });
});
