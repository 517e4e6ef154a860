import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeForTerminal, escapeJsonText, shortForTerminal } from '../../../lambdas/shared/escape-text.ts';

describe('escapeForTerminal', () => {
  it.each([
    { name: 'line breaks and tabs', raw: 'a\nb\r\nc\td', escaped: 'a\\nb\\r\\nc\\td' },
    {
      name: 'an ESC sequence and BEL',
      raw: '\u001b[31mred\u001b]0;title\u0007',
      escaped: '\\u001b[31mred\\u001b]0;title\\u0007',
    },
    { name: 'NUL and DEL', raw: '\u0000\u007f', escaped: '\\u0000\\u007f' },
    { name: 'C1 controls (NEL, CSI)', raw: '\u0085\u009b2J', escaped: '\\u0085\\u009b2J' },
    { name: 'line and paragraph separators', raw: 'a\u2028b\u2029c', escaped: 'a\\u2028b\\u2029c' },
    {
      name: 'bidi overrides and isolates',
      raw: '\u202aa\u202e\u2066b\u2069',
      escaped: '\\u202aa\\u202e\\u2066b\\u2069',
    },
    { name: 'bidi marks', raw: '\u200e\u200f\u061c', escaped: '\\u200e\\u200f\\u061c' },
  ])('escapes $name', ({ raw, escaped }) => {
    expect(escapeForTerminal(raw)).toBe(escaped);
  });

  it('leaves printable text alone, backslashes and multibyte characters included', () => {
    expect(escapeForTerminal('ACME\\jane — 张伟 😀 "quoted" <b>')).toBe('ACME\\jane — 张伟 😀 "quoted" <b>');
  });
});

describe('escapeJsonText', () => {
  it('escapes what JSON.stringify leaves raw, and the JSON still means the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (value, text) => {
        // Act
        const escaped = escapeJsonText(JSON.stringify({ value, text }, null, 2));

        // Assess
        expect(escaped).not.toMatch(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
        expect(JSON.parse(escaped)).toEqual(JSON.parse(JSON.stringify({ value, text })));
      }),
    );
  });
});

describe('shortForTerminal', () => {
  it('cuts long text with an ellipsis, never inside a surrogate pair, then escapes it', () => {
    expect(shortForTerminal('ab\u001bcdef', 4)).toBe('ab\\u001bc...');
    expect(shortForTerminal(`a${'😀'.repeat(3)}`, 4)).toBe('a😀...');
    expect(shortForTerminal('short\n', 10)).toBe('short\\n');
  });
});
