import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FormattedAlert, snsMessage } from '../../../lambdas/alert/format-alert.ts';
import { type AlertPublisher, handleAlertMessage } from '../../../lambdas/alert/process-alert.ts';
import type { ArchiveStore } from '../../../lambdas/shared/ports.ts';
import { compileRules, loadRules } from '../../../lib/rules/index.ts';
import { fixtureEnvelope } from '../../support/events.ts';
import { expectDeliverable, FIELDS, publishBytes, SNS_PUBLISH_LIMIT, withField } from './alert-checks.ts';

/** SQS's limit for one message body: the largest alert-queue message there can be. */
const SQS_MAX_BODY_BYTES = 262_144;
const NOW = Date.parse('2026-11-01T09:00:05.000Z');

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
/** The default pack's rules as their EventBridge targets send them: real titles, subject templates and runbooks. */
const RULES = compileRules(loadRules(), SOURCE).map(({ pattern: _pattern, ...summary }) => summary);

/** Pieces that break naive text output: line breaks, terminal escapes, C1, bidi, separators, multibyte, JSON syntax. */
const NASTY = [
  '\n',
  '\r\n',
  '\t',
  '\u0000',
  '\u001b[31m',
  '\u001b]0;title\u0007',
  '\u007f',
  '\u0085',
  '\u009b2J',
  '\u2028',
  '\u2029',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
  '\u200f',
  'é',
  '张伟',
  '😀',
  '"',
  '\\',
  '<b>',
  'null',
  '{target}',
  'Outcome:  SUCCESS',
  'What to do',
  ' ',
  'a',
];

const nastyString = fc
  .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 6 })), { maxLength: 10 })
  .map((parts) => parts.join(''));

const KEYS = ['id', 'type', 'alternateId', 'displayName', 'ip', 'city', 'state', 'country', 'result', 'reason'];

/** Any JSON value, with the member names the alert reads showing up often. */
const { json: jsonValue } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    nastyString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), nastyString), tie('json'), { maxKeys: 5 }),
  ),
}));

/** One field grown towards the SQS limit: a piece repeated until its JSON text weighs about `bytes`. */
const bigField = fc.record({
  path: fc.constantFrom(...FIELDS),
  piece: nastyString.filter((piece) => piece.length > 0),
  bytes: fc.integer({ min: 1_000, max: 240_000 }),
});

/** Many targets, each a party with nasty names. */
const manyTargets = fc.record({ count: fc.integer({ min: 11, max: 4_000 }), name: nastyString });

const alertCase = fc.record({
  rule: fc.constantFrom(...RULES),
  uuid: fc.uuid(),
  published: fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
    .map((date) => date.toISOString()),
  fields: fc.array(fc.tuple(fc.constantFrom(...FIELDS), jsonValue), { maxLength: 12 }),
  big: fc.option(bigField),
  targets: fc.option(manyTargets),
});

type AlertCase = typeof alertCase extends fc.Arbitrary<infer T> ? T : never;

/** The alert-queue message body of one case, as the rule target would send it. */
function bodyOf(c: AlertCase): string {
  const base = fixtureEnvelope();
  let detail: Record<string, unknown> = {
    ...base.detail,
    uuid: c.uuid,
    published: c.published,
    eventType: 'user.account.privilege.grant',
  };
  for (const [path, value] of c.fields) detail = withField(detail, path, value);
  if (c.targets !== null) {
    const { count, name } = c.targets;
    detail.target = Array.from({ length: count }, (_, i) => ({ id: `00u${i}`, type: 'User', displayName: name }));
  }
  if (c.big !== null) {
    const { path, piece, bytes } = c.big;
    const repeats = Math.max(1, Math.floor(bytes / Buffer.byteLength(JSON.stringify(piece))));
    detail = withField(detail, path, piece.repeat(repeats));
  }
  return JSON.stringify({ rule: c.rule, event: { ...base, source: SOURCE, detail } });
}

const nowhere: ArchiveStore = {
  put: async () => {
    throw new Error('nothing may be quarantined: every case is a valid alert-queue message');
  },
  get: async () => undefined,
};

describe('alert fuzz: any JSON in every non-core field, up to the SQS limit, with control and bidi characters', () => {
  it('formats and publishes every alert within SNS limits, with no raw control or bidi character in any text', async () => {
    let largest = 0;
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(alertCase, async (c) => {
        const body = bodyOf(c);
        fc.pre(Buffer.byteLength(body) <= SQS_MAX_BODY_BYTES);
        const published: FormattedAlert[] = [];
        const publisher: AlertPublisher = { publish: async (alert) => void published.push(alert) };
        const claims = { claim: async () => true, release: async () => {} };

        const outcome = await handleAlertMessage(body, 'fuzz', {
          claims,
          publisher,
          quarantine: nowhere,
          pin: { source: SOURCE },
          now: () => NOW,
        });

        expect(outcome).toMatchObject({ kind: 'published', uuid: c.uuid });
        const [alert] = published;
        if (alert === undefined) throw new Error('nothing published');
        expectDeliverable(alert, { uuid: c.uuid, published: c.published });
        largest = Math.max(largest, publishBytes(snsMessage(alert)));
        cases += 1;
      }),
      { numRuns: 150 },
    );
    expect(cases).toBeGreaterThanOrEqual(100);
    expect(largest).toBeLessThanOrEqual(SNS_PUBLISH_LIMIT);
  });
});
