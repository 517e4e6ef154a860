import { describe, expect, it } from 'vitest';
import {
  type ConditionNode,
  MAX_CONDITION_CHARS,
  MAX_CONDITION_DEPTH,
  parseCondition,
} from '../../../lib/rules/sigma/condition.ts';
import { SigmaInexpressibleError, SigmaRuleError } from '../../../lib/rules/sigma/errors.ts';

const id = (name: string): ConditionNode => ({ kind: 'identifier', name });

const caught = (action: () => unknown): unknown => {
  try {
    action();
    return undefined;
  } catch (error) {
    return error;
  }
};

describe('parseCondition', () => {
  it.each([
    { condition: 'selection', expected: id('selection') },
    { condition: 'a and b', expected: { kind: 'and', items: [id('a'), id('b')] } },
    { condition: 'a or b', expected: { kind: 'or', items: [id('a'), id('b')] } },
    {
      name: 'and binds tighter than or',
      condition: 'a or b and c',
      expected: { kind: 'or', items: [id('a'), { kind: 'and', items: [id('b'), id('c')] }] },
    },
    {
      name: 'not binds tighter than and',
      condition: 'not a and b',
      expected: { kind: 'and', items: [{ kind: 'not', item: id('a') }, id('b')] },
    },
    {
      name: 'parentheses group',
      condition: 'a and (b or c)',
      expected: { kind: 'and', items: [id('a'), { kind: 'or', items: [id('b'), id('c')] }] },
    },
    {
      name: 'keywords in any case',
      condition: 'a AND NOT b',
      expected: { kind: 'and', items: [id('a'), { kind: 'not', item: id('b') }] },
    },
    { condition: '1 of selection*', expected: { kind: 'of', quantifier: 'one', target: 'selection*' } },
    { condition: 'all of them', expected: { kind: 'of', quantifier: 'all', target: 'them' } },
    { condition: 'any of them', expected: { kind: 'of', quantifier: 'one', target: 'them' } },
    {
      name: 'x of inside a larger condition',
      condition: '1 of selection* and not 1 of filter*',
      expected: {
        kind: 'and',
        items: [
          { kind: 'of', quantifier: 'one', target: 'selection*' },
          { kind: 'not', item: { kind: 'of', quantifier: 'one', target: 'filter*' } },
        ],
      },
    },
    { name: 'parentheses without spaces', condition: '(a)or(b)', expected: { kind: 'or', items: [id('a'), id('b')] } },
  ])('$condition', ({ condition, expected }) => {
    // Act
    const node = parseCondition(condition);

    // Assess
    expect(node).toEqual(expected);
  });

  it.each([
    { condition: '', reason: 'is empty' },
    { condition: 'a and', reason: 'ends where a search identifier was expected' },
    { condition: 'a b', reason: 'unexpected "b" at token 2' },
    { condition: '(a or b', reason: 'has a "(" without its ")"' },
    { condition: 'a)', reason: 'unexpected ")" at token 2' },
    { condition: 'and a', reason: 'unexpected "and" at token 1 where a search identifier was expected' },
    { condition: '1 of', reason: '"1 of" must be followed by "them" or a search identifier pattern' },
    { condition: 'all of (a)', reason: '"all of" must be followed by "them" or a search identifier pattern' },
  ])('refuses $condition: $reason', ({ condition, reason }) => {
    // Act
    const error = caught(() => parseCondition(condition));

    // Assess
    expect(error).toBeInstanceOf(SigmaRuleError);
    expect(error).toMatchObject({ field: 'detection.condition', reason });
  });

  it('refuses aggregations and counts other than 1 as inexpressible, not invalid', () => {
    // Act
    const aggregation = caught(() => parseCondition('selection | count(user) by ip > 10'));
    const count = caught(() => parseCondition('2 of selection*'));

    // Assess
    expect(aggregation).toBeInstanceOf(SigmaInexpressibleError);
    expect(aggregation).toMatchObject({
      reason:
        'the condition aggregates over many events (| count(user) by ip > 10); an alert rule matches one event at a time',
    });
    expect(count).toBeInstanceOf(SigmaInexpressibleError);
  });

  it('stops at a nesting depth, so hostile input cannot exhaust the stack', () => {
    // Prepare
    const deepParentheses = `${'('.repeat(2000)}a${')'.repeat(2000)}`;
    const deepNots = `${'not '.repeat(2000)}a`;
    const allowed = `${'('.repeat(MAX_CONDITION_DEPTH)}a${')'.repeat(MAX_CONDITION_DEPTH)}`;

    // Act
    const parentheses = caught(() => parseCondition(deepParentheses));
    const nots = caught(() => parseCondition(deepNots));

    // Assess
    expect(parentheses).toMatchObject({ reason: `nests parentheses or "not" more than ${MAX_CONDITION_DEPTH} deep` });
    expect(nots).toMatchObject({ reason: `nests parentheses or "not" more than ${MAX_CONDITION_DEPTH} deep` });
    expect(parseCondition(allowed)).toEqual(id('a'));
  });

  it('refuses a condition longer than a person writes', () => {
    // Prepare
    const long = Array.from({ length: MAX_CONDITION_CHARS / 4 }, (_, index) => `s${index}`).join(' or ');

    // Act
    const error = caught(() => parseCondition(long));

    // Assess
    expect(error).toMatchObject({ field: 'detection.condition', reason: expect.stringMatching(/^is \d+ characters;/) });
  });
});
