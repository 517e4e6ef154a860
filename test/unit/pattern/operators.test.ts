import { describe, expect, it } from 'vitest';
import { compilePattern, matchesPattern } from '../../../lib/pattern/index.ts';

interface FieldCase {
  readonly name: string;
  /** The list of values and operators for the single field `v`. */
  readonly field: readonly unknown[];
  /** The event's value for `v`; undefined leaves the field out. */
  readonly value: unknown;
  readonly expected: boolean;
}

function runFieldCases(cases: readonly FieldCase[]): void {
  it.each(cases)('$name', ({ field, value, expected }) => {
    // Prepare
    const pattern = { v: field };
    const event = value === undefined ? { other: 1 } : { v: value };

    // Act
    const matched = matchesPattern(pattern, event);

    // Assess
    expect(matched).toBe(expected);
  });
}

describe('exact values and their JSON types', () => {
  runFieldCases([
    { name: 'a number does not match a string of the same digits', field: [300], value: '300', expected: false },
    { name: '300 and 3.0e2 are the same parsed number', field: [300], value: 3.0e2, expected: true },
    { name: 'false matches false', field: [false], value: false, expected: true },
    { name: 'false does not match null', field: [false], value: null, expected: false },
    { name: 'null does not match the string "null"', field: [null], value: 'null', expected: false },
    { name: 'an empty string does not match a missing field', field: [''], value: undefined, expected: false },
    {
      name: 'an account number beyond the numeric range still matches exactly',
      field: [123456789012],
      value: 123456789012,
      expected: true,
    },
  ]);
});

describe('prefix, suffix and equals-ignore-case only match strings', () => {
  runFieldCases([
    { name: 'prefix does not match a number', field: [{ prefix: '20' }], value: 2017, expected: false },
    { name: 'an empty prefix matches any string', field: [{ prefix: '' }], value: 'anything', expected: true },
    { name: 'an empty prefix matches the empty string', field: [{ prefix: '' }], value: '', expected: true },
    { name: 'an empty prefix does not match null', field: [{ prefix: '' }], value: null, expected: false },
    { name: 'prefix is case-sensitive', field: [{ prefix: 'Us-' }], value: 'us-east-1', expected: false },
    { name: 'suffix does not match a number', field: [{ suffix: '5' }], value: 15, expected: false },
    {
      name: 'suffix ignoring case does not match a boolean',
      field: [{ suffix: { 'equals-ignore-case': 'e' } }],
      value: true,
      expected: false,
    },
    {
      name: 'equals-ignore-case does not match a number',
      field: [{ 'equals-ignore-case': '1' }],
      value: 1,
      expected: false,
    },
    {
      name: 'equals-ignore-case handles non-ASCII letters',
      field: [{ 'equals-ignore-case': 'ÉCOLE' }],
      value: 'école',
      expected: true,
    },
    {
      name: 'equals-ignore-case needs the whole value',
      field: [{ 'equals-ignore-case': 'alice' }],
      value: 'Alicia',
      expected: false,
    },
  ]);
});

describe('wildcard', () => {
  runFieldCases([
    { name: '"*" matches the empty string', field: [{ wildcard: '*' }], value: '', expected: true },
    { name: '"*" does not match a number', field: [{ wildcard: '*' }], value: 7, expected: false },
    {
      name: 'a leading wildcard acts as a suffix match',
      field: [{ wildcard: '*.png' }],
      value: 'a/b.png',
      expected: true,
    },
    {
      name: 'several wildcards find text in the middle',
      field: [{ wildcard: '*Title*' }],
      value: 'A Title here',
      expected: true,
    },
    { name: 'pieces must appear in order', field: [{ wildcard: 'a*b*c' }], value: 'acb', expected: false },
    { name: 'pieces may repeat in the value', field: [{ wildcard: 'a*bc' }], value: 'abcbc', expected: true },
    { name: 'pieces may not overlap the tail', field: [{ wildcard: 'ab*ba' }], value: 'aba', expected: false },
    {
      name: 'an escaped asterisk matches a literal asterisk',
      field: [{ wildcard: 'a\\*b' }],
      value: 'a*b',
      expected: true,
    },
    { name: 'an escaped asterisk is not a wildcard', field: [{ wildcard: 'a\\*b' }], value: 'axb', expected: false },
    {
      name: 'an escaped backslash matches a literal backslash',
      field: [{ wildcard: 'C:\\\\*' }],
      value: 'C:\\Windows',
      expected: true,
    },
    {
      name: 'wildcard matching is case-sensitive',
      field: [{ wildcard: 'dir/*.png' }],
      value: 'DIR/a.png',
      expected: false,
    },
  ]);
});

describe('numeric', () => {
  runFieldCases([
    { name: 'does not match a numeric string', field: [{ numeric: ['>', 0] }], value: '5', expected: false },
    { name: 'does not match a boolean', field: [{ numeric: ['>', 0] }], value: true, expected: false },
    { name: '">=" includes its bound', field: [{ numeric: ['>=', 5] }], value: 5, expected: true },
    { name: '">" excludes its bound', field: [{ numeric: ['>', 5] }], value: 5, expected: false },
    { name: '"<" excludes its bound', field: [{ numeric: ['<', 5] }], value: 5, expected: false },
    { name: '"<=" includes its bound', field: [{ numeric: ['<=', 5] }], value: 5, expected: true },
    {
      name: 'a closed range includes its lower bound',
      field: [{ numeric: ['>=', 1, '<', 2] }],
      value: 1,
      expected: true,
    },
    {
      name: 'a half-open range excludes its upper bound',
      field: [{ numeric: ['>=', 1, '<', 2] }],
      value: 2,
      expected: false,
    },
    { name: 'negative numbers compare correctly', field: [{ numeric: ['<', -1.5] }], value: -2, expected: true },
    {
      name: 'the upper numeric limit 5.0e9 is included',
      field: [{ numeric: ['>=', 4e9] }],
      value: 5e9,
      expected: true,
    },
    {
      name: 'values beyond 5.0e9 never match numerically',
      field: [{ numeric: ['>', 0] }],
      value: 6e9,
      expected: false,
    },
    { name: 'equality holds to six decimal places', field: [{ numeric: ['=', 5] }], value: 5.0000001, expected: true },
    {
      name: 'a difference in the sixth decimal place counts',
      field: [{ numeric: ['=', 5] }],
      value: 5.000002,
      expected: false,
    },
    {
      name: 'numeric "=" compares numbers, not text',
      field: [{ numeric: ['=', 3.018e2] }],
      value: 301.8,
      expected: true,
    },
  ]);
});

describe('cidr', () => {
  runFieldCases([
    {
      name: 'an IPv4 block does not contain an IPv6 address',
      field: [{ cidr: '10.0.0.0/8' }],
      value: '::ffff:0a00:0001',
      expected: false,
    },
    {
      name: 'an IPv6 block does not contain an IPv4 address',
      field: [{ cidr: '::/0' }],
      value: '10.0.0.1',
      expected: false,
    },
    {
      name: 'a /0 IPv4 block contains every IPv4 address',
      field: [{ cidr: '0.0.0.0/0' }],
      value: '203.0.113.9',
      expected: true,
    },
    {
      name: 'an IPv6 block excludes the next block',
      field: [{ cidr: '2001:db8::/32' }],
      value: '2001:db9::1',
      expected: false,
    },
    {
      name: 'an IPv6 block contains an address with an embedded IPv4 tail',
      field: [{ cidr: '::ffff:0:0/96' }],
      value: '::ffff:192.0.2.1',
      expected: true,
    },
    { name: 'a non-IP string never matches', field: [{ cidr: '10.0.0.0/8' }], value: 'localhost', expected: false },
    { name: 'a number never matches', field: [{ cidr: '10.0.0.0/8' }], value: 167772161, expected: false },
    {
      name: 'an IPv4 address with leading zeros is not an address',
      field: [{ cidr: '10.0.0.0/8' }],
      value: '010.0.0.1',
      expected: false,
    },
  ]);
});

describe('anything-but and non-matching types', () => {
  runFieldCases([
    {
      name: 'a missing field never matches anything-but',
      field: [{ 'anything-but': 'x' }],
      value: undefined,
      expected: false,
    },
    { name: 'a string exclusion lets a number through', field: [{ 'anything-but': '5' }], value: 5, expected: true },
    { name: 'a string exclusion lets null through', field: [{ 'anything-but': ['a'] }], value: null, expected: true },
    {
      name: 'a number exclusion lets its string form through',
      field: [{ 'anything-but': [100] }],
      value: '100',
      expected: true,
    },
    {
      name: 'a number exclusion compares numerically',
      field: [{ 'anything-but': [100] }],
      value: 1e2,
      expected: false,
    },
    {
      name: 'a prefix exclusion lets a number through',
      field: [{ 'anything-but': { prefix: '1' } }],
      value: 123,
      expected: true,
    },
    {
      name: 'a wildcard exclusion list excludes any listed form',
      field: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }],
      value: '/usr/bin/env',
      expected: false,
    },
    {
      name: 'matches when any array value is not excluded',
      field: [{ 'anything-but': 'stopped' }],
      value: ['stopped', 'running'],
      expected: true,
    },
    {
      name: 'fails when every array value is excluded',
      field: [{ 'anything-but': 'stopped' }],
      value: ['stopped', 'stopped'],
      expected: false,
    },
    {
      name: 'an empty array has no value for anything-but to match',
      field: [{ 'anything-but': 'stopped' }],
      value: [],
      expected: false,
    },
  ]);
});

describe('compilePattern', () => {
  it('builds one matcher that answers for many events', () => {
    // Prepare
    const matcher = compilePattern({ detail: { eventType: [{ prefix: 'user.session.' }] } });

    // Act
    const results = [
      matcher({ detail: { eventType: 'user.session.start' } }),
      matcher({ detail: { eventType: 'user.account.lock' } }),
      matcher({ detail: {} }),
      matcher('not an event'),
    ];

    // Assess
    expect(results).toEqual([true, false, false, false]);
  });

  it('validates when compiling, before any event is seen', () => {
    // Prepare
    const pattern = { detail: { eventType: [{ prefix: 1 }] } };

    // Act
    const compile = () => compilePattern(pattern);

    // Assess
    expect(compile).toThrow('Invalid event pattern at detail.eventType[0]: prefix match pattern must be a string');
  });
});
