import { describe, expect, it } from 'vitest';
import { rawDetail } from '../../lambdas/ingest/raw-detail.ts';
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

  it.each([
    ['pretty-printed detail', JSON.stringify(fixtureEnvelope(), null, 2)],
    ['a detail that is not an object', '{"detail":"text"}'],
    ['no detail', '{"details":{}}'],
  ])('declines %s', (_name, raw) => {
    expect(rawDetail(raw)).toBeUndefined();
  });
});
