import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys, KeyOrderedItems } from '../../../lib/local/key-ordered-items.ts';

/** DynamoDB orders string keys by their UTF-8 bytes. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Strings of whole characters (no lone surrogate, which UTF-8 cannot hold) from every plane. */
const key = fc.string({
  unit: fc.constantFrom('a', 'Z', '#', 'é', '\uff21', '\ufffd', '😀', '𝄞', '\u0000'),
  maxLength: 6,
});

describe('compareKeys', () => {
  it('orders any two keys as their UTF-8 bytes do', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(byteOrder(a, b)));
      }),
      { numRuns: 2000, seed: 3 },
    );
  });

  it('puts a character above U+FFFF after U+FF21, where UTF-16 puts it before', () => {
    expect('😀' < '\uff21').toBe(true);
    expect(compareKeys('😀', '\uff21')).toBeGreaterThan(0);
  });
});

describe('KeyOrderedItems', () => {
  it('queries a partition in sort-key order, below a bound and up to a limit', () => {
    // Prepare
    const items = new KeyOrderedItems<string>();
    for (const sk of ['b', '😀', 'a', '\uff21', 'c']) items.put('p', sk, `item ${sk}`);
    items.put('q', 'a', 'other partition');

    // Act
    const all = items.query('p');
    const bounded = items.query('p', { before: '\uff21', limit: 2 });

    // Assess
    expect(all).toEqual(['item a', 'item b', 'item c', 'item \uff21', 'item 😀']);
    expect(bounded).toEqual(['item a', 'item b']);
  });

  it('replaces an item under the same keys and forgets a deleted one', () => {
    const items = new KeyOrderedItems<number>();
    items.put('p', 'a', 1);
    items.put('p', 'a', 2);
    expect(items.get('p', 'a')).toBe(2);
    expect(items.delete('p', 'a')).toBe(true);
    expect(items.delete('p', 'a')).toBe(false);
    expect(items.query('p')).toEqual([]);
    expect([...items.entries()]).toEqual([]);
  });
});
