import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { compilePattern } from '../../../lib/pattern/index.ts';
import { compileRules, parseRules } from '../../../lib/rules/index.ts';
import { importSigmaRules } from '../../../lib/rules/sigma/index.ts';
import { sigmaMatches } from './sigma-reference.ts';

/**
 * Random Sigma rules over a few System Log fields, and random events: whenever a rule converts (with nothing noted as
 * matching differently), the local pattern engine running the converted rule must agree with the Sigma rule's own
 * meaning (sigma-reference.ts) on every event.
 */

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const RUNS = 150;
const EVENT_TYPES = ['user.session.start', 'user.session.end', 'zone.delete'];
const IPS = ['10.1.2.3', '10.200.0.1', '192.168.0.5', '8.8.8.8', 'not-an-ip'];

/** Short texts over a tiny alphabet, so that values often meet; `A` tells case-insensitive from exact matching. */
const text = (minLength: number) => fc.string({ unit: fc.constantFrom('a', 'b', 'A', '.'), minLength, maxLength: 3 });
const sigmaText = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '.', '*'), minLength: 1, maxLength: 3 });
const regex = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.constantFrom('a', 'b', 'A', '\\.', '.*'), { minLength: 1, maxLength: 3 }),
    fc.boolean(),
  )
  .map(([start, tokens, end]) => `${start ? '^' : ''}${tokens.join('')}${end ? '$' : ''}`);

const TEXT_FIELDS = ['outcome.result', 'displayMessage', 'debugContext.debugData.requestUri'];

/** One `field|modifiers: value` entry of a search identifier. */
const entry: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...TEXT_FIELDS),
      fc.constantFrom('', '|contains', '|startswith', '|endswith', '|cased', '|contains|cased', '|endswith|cased'),
      fc.oneof(sigmaText, fc.array(sigmaText, { minLength: 1, maxLength: 2 })),
    )
    .map(([field, modifiers, value]): [string, unknown] => [`${field}${modifiers}`, value]),
  fc
    .tuple(fc.constantFrom(...TEXT_FIELDS), fc.constantFrom('|re', '|re|s', '|re|i|s'), regex)
    .map(([field, modifiers, value]): [string, unknown] => [`${field}${modifiers}`, value]),
  fc
    .tuple(fc.constantFrom(...TEXT_FIELDS), fc.boolean())
    .map(([field, value]): [string, unknown] => [`${field}|exists`, value]),
  fc.constantFrom(...TEXT_FIELDS).map((field): [string, unknown] => [field, null]),
  fc.constantFrom<[string, unknown]>(
    ['securityContext.isProxy', 'true'],
    ['securityContext.isProxy', false],
    ['securityContext.isProxy', null],
    ['securityContext.isProxy|exists', true],
  ),
  fc.constantFrom('10.0.0.0/8', '192.168.0.0/24').map((block): [string, unknown] => ['client.ipAddress|cidr', block]),
  fc.constantFrom(...IPS).map((ip): [string, unknown] => ['client.ipAddress', ip]),
);

const map = fc.array(entry, { minLength: 1, maxLength: 2 }).map((entries) => Object.fromEntries(entries));
const identifier = fc.oneof(map, fc.array(map, { minLength: 1, maxLength: 2 }));

const detection = fc
  .record({
    eventType: fc.subarray(EVENT_TYPES, { minLength: 1 }),
    selection: map,
    filter: identifier,
    other: identifier,
    condition: fc.constantFrom(
      'selection',
      'selection and filter',
      'selection and not filter',
      'selection and (filter or other)',
      'selection and not (filter or other)',
      'selection and not filter and not other',
      'selection and (filter or not other)',
      '(selection and filter) or (selection and other)',
      'all of them',
    ),
  })
  .map(({ eventType, selection, filter, other, condition }) => ({
    selection: { eventType, ...selection },
    filter,
    other,
    condition,
  }));

/** A System Log event with each field of the generator missing, null, or a value, in the types Okta writes. */
const event = fc.record(
  {
    eventType: fc.constantFrom(...EVENT_TYPES),
    outcome: fc.record({ result: fc.oneof(text(0), fc.constant(null)) }, { requiredKeys: [] }),
    displayMessage: fc.oneof(text(0), fc.constant(null)),
    debugContext: fc.record(
      { debugData: fc.record({ requestUri: fc.oneof(text(0), fc.constant(null)) }, { requiredKeys: [] }) },
      { requiredKeys: [] },
    ),
    securityContext: fc.record({ isProxy: fc.oneof(fc.boolean(), fc.constant(null)) }, { requiredKeys: [] }),
    client: fc.record({ ipAddress: fc.oneof(fc.constantFrom(...IPS), fc.constant(null)) }, { requiredKeys: [] }),
  },
  { requiredKeys: ['eventType'] },
);

describe('converted rules agree with their Sigma rules', () => {
  it('on random rules and events', () => {
    let compared = 0;
    let skipped = 0;

    fc.assert(
      fc.property(detection, fc.array(event, { minLength: 16, maxLength: 16 }), (sigmaDetection, events) => {
        // Prepare
        const text = stringify({
          title: 'Random rule',
          logsource: { product: 'okta', service: 'okta' },
          detection: sigmaDetection,
        });

        // Act
        const [result] = importSigmaRules([{ name: 'random.yml', text }]);

        // Assess
        if (result?.status !== 'converted' || result.notes.length > 0) {
          expect(result?.status).not.toBe('invalid');
          skipped += 1;
          return;
        }
        compared += 1;
        const [rule] = compileRules(parseRules(result.yaml, result.fileName), SOURCE);
        if (rule === undefined) throw new Error('the converted file holds no rule');
        const matches = compilePattern(rule.pattern);
        for (const detail of events) {
          const expected = sigmaMatches(sigmaDetection, detail);
          expect(matches({ source: SOURCE, 'detail-type': 'SystemLog', detail }), JSON.stringify(detail)).toBe(
            expected,
          );
        }
      }),
      { numRuns: RUNS, seed: 20261203 },
    );

    // Enough rules converted for the comparison to mean something.
    expect(compared).toBeGreaterThan(RUNS / 4);
    expect(compared + skipped).toBe(RUNS);
  });
});
