import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findDuplicateKey, hasDuplicateKeys, rawDetail } from '../../lambdas/ingest/raw-detail.ts';
import { canonicalJson } from '../../lambdas/shared/canonical-json.ts';
import { fixtureEnvelope } from '../support/events.ts';

describe('rawDetail', () => {
  it('cuts the detail out of a compact envelope, nested "detail" keys and all', () => {
    // Prepare: the fixture has transaction.detail inside detail.
    const envelope = fixtureEnvelope();
    const raw = JSON.stringify(envelope);

    // Act
    const text = rawDetail(raw);

    // Assess
    expect(text).toBe(JSON.stringify(envelope.detail));
  });

  it('finds detail wherever it sits among the envelope keys, and keeps its text byte for byte', () => {
    const raw = '{"detail":{"a":"x}\\"{","n":1.50,"detail":{}} ,"detail-type":"SystemLog","resources":["detail"]}';
    expect(rawDetail(raw)).toBe('{"a":"x}\\"{","n":1.50,"detail":{}}');
  });

  it('tells an escaped quote from a string that ends in an escaped backslash', () => {
    // Prepare
    const detail = { path: 'c:\\', quote: 'say "hi"', tail: '\\"' };
    const raw = JSON.stringify({ detail, after: { detail: 1 } });

    // Act
    const text = rawDetail(raw);

    // Assess
    expect(text).toBe(JSON.stringify(detail));
  });

  it('ignores a "detail" string that is a value or nested deeper', () => {
    const raw = '{"source":"detail","x":{"detail":{"no":1}},"detail" : {"yes":2}}';
    expect(rawDetail(raw)).toBe('{"yes":2}');
  });

  it('compacts a pretty-printed detail without touching its strings', () => {
    const envelope = fixtureEnvelope();
    expect(rawDetail(JSON.stringify(envelope, null, 2))).toBe(JSON.stringify(envelope.detail));
    expect(rawDetail('{"detail": {\n  "s": "a  b",\n  "n": 1.50\n}}')).toBe('{"s":"a  b","n":1.50}');
  });

  it.each([
    ['a detail that is not an object', '{"detail":"text"}'],
    ['no detail', '{"details":{}}'],
  ])('declines %s', (_name, raw) => {
    expect(rawDetail(raw)).toBeUndefined();
  });
});

describe('findDuplicateKey', () => {
  it.each([
    ['{"detail":{"uuid":"x"},"a":1,"detail":{}}', 'detail'],
    ['{"d":{"e":1,"f":[{"g":1,"g":2}]}}', 'd.f.g'],
    ['{"a":{"x":1},"b":{"x":1,"x":2}}', 'b.x'],
    ['{"k":1,"\\u006b":2}', 'k'],
  ])('names the first key given twice in one object: %s', (text, path) => {
    expect(findDuplicateKey(text)).toBe(path);
  });

  it('accepts the same key in different objects, and keys that appear as values', () => {
    expect(findDuplicateKey('{"a":{"x":1},"b":{"x":"x"},"x":["x","x"]}')).toBeUndefined();
    expect(findDuplicateKey(JSON.stringify(fixtureEnvelope()))).toBeUndefined();
  });
});

describe('hasDuplicateKeys', () => {
  it('agrees with findDuplicateKey on any JSON, with and without a key given twice', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.boolean(), (object, twice) => {
        const text = JSON.stringify(object);
        const [first] = Object.keys(object);
        // A second copy of the first key at the end of the object.
        const input = twice ? `${text.slice(0, -1)},${JSON.stringify(first)}:0}` : text;
        expect(hasDuplicateKeys(input, JSON.parse(input))).toBe(twice);
        expect(findDuplicateKey(input) !== undefined).toBe(twice);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('canonicalJson', () => {
  it('writes one text for every serialisation of a value, and another for another value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const shuffled = JSON.parse(JSON.stringify(a, null, 2), (_key, value) =>
          value !== null && typeof value === 'object' && !Array.isArray(value)
            ? Object.fromEntries(Object.entries(value).reverse())
            : value,
        );
        expect(canonicalJson(shuffled)).toBe(canonicalJson(a));
        const sameValue = isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
        expect(canonicalJson(a) === canonicalJson(b)).toBe(sameValue);
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  it('keeps a "__proto__" member and sorts keys', () => {
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"x":2},"a":[{"d":1,"c":2}]}'))).toBe(
      '{"__proto__":{"x":2},"a":[{"c":2,"d":1}],"b":1}',
    );
  });
});
