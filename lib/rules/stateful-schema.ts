import { z } from 'zod';
import { RULE_KINDS } from './types.ts';

/**
 * The fields of a stateful alert rule (`kind: threshold | distinct | sequence`) and of suppression, which any rule may
 * have. A stateful rule's `match` is its pre-filter: the events its detector sees. The detector then groups them by a
 * field (`groupBy`) in windows of `published` time and raises one alert per group and window when:
 * - threshold: at least `atLeast` events matched (or one of `anyOf`'s counts reached its own `atLeast`);
 * - distinct: at least `atLeast` distinct values of the `distinct` field were seen;
 * - sequence: events matching each of `steps`, in order, fell within one window (with `travel`: consecutive steps
 *   whose locations are too far apart for the time between them).
 */

/** A dotted path of object members in the source's record: `actor.alternateId`, `client.ipAddress`, `ip`. */
const FIELD_PATH = /^[A-Za-z0-9_@$-]+(?:\.[A-Za-z0-9_@$-]+)*$/;

/** `30s`, `10m`, `1h`, `7d`. */
const DURATION = /^([1-9][0-9]{0,5})(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** The seconds a duration such as `10m` stands for, or undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
  const parsed = DURATION.exec(text);
  if (parsed === null) return undefined;
  const [, count = '', unit = 's'] = parsed;
  return Number(count) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
}

const fieldPath = (what: string) =>
  z
    .string()
    .max(200, 'must be at most 200 characters')
    .regex(FIELD_PATH, `must be a dotted field path (${what}), e.g. actor.alternateId or client.ipAddress`);

const duration = (minSeconds: number, maxSeconds: number, range: string) =>
  z
    .string()
    .refine((text) => durationSeconds(text) !== undefined, 'must be a duration such as 30s, 10m, 1h or 1d')
    .refine((text) => {
      const seconds = durationSeconds(text) ?? 0;
      return seconds >= minSeconds && seconds <= maxSeconds;
    }, `must be ${range}`);

/** Windows are cut from `published` time; a detector keeps a window's events until it is a day past its end. */
export const WINDOW_MIN_SECONDS = 60;
export const WINDOW_MAX_SECONDS = 7 * 86_400;
/** A count of 1 is a single-event rule; above 10,000 a window's state no longer fits cheap reads. */
const COUNT_MIN = 2;
const COUNT_MAX = 10_000;

const atLeast = z
  .number()
  .int('must be a whole number')
  .min(COUNT_MIN, `must be at least ${COUNT_MIN} (a count of 1 is a rule without kind)`)
  .max(COUNT_MAX, `must be at most ${COUNT_MAX}`);

/** Which of the pre-filtered events a count or step is about: the same shape as `match`, every part optional. */
const whenOf = <E extends z.ZodType, W extends z.ZodType>(eventTypes: E, where: W) =>
  z
    .strictObject({ eventType: eventTypes.optional(), where: where.optional() })
    .refine((when) => when.eventType !== undefined || when.where !== undefined, 'must hold eventType or where');

const label = z.string().trim().min(1, 'must not be empty').max(80, 'must be at most 80 characters');

export const Suppress = z.strictObject({
  by: fieldPath('whose value one alert stands for'),
  for: duration(60, 30 * 86_400, 'between 1m and 30d'),
});
export type Suppress = z.infer<typeof Suppress>;

/** The stateful fields, for a source whose `match` entries are checked by `eventTypes` and `where`. */
export const statefulFields = <E extends z.ZodType, W extends z.ZodType>(eventTypes: E, where: W) => ({
  kind: z.enum(RULE_KINDS, `must be one of ${RULE_KINDS.join(', ')} (leave it out for a single-event rule)`).optional(),
  groupBy: fieldPath('whose value an alert is about').optional(),
  window: duration(WINDOW_MIN_SECONDS, WINDOW_MAX_SECONDS, 'between 1m and 7d').optional(),
  atLeast: atLeast.optional(),
  anyOf: z
    .array(z.strictObject({ label, when: whenOf(eventTypes, where), atLeast }))
    .min(1, 'must list at least one count')
    .max(5, 'must list at most 5 counts')
    .optional(),
  distinct: fieldPath('whose distinct values are counted').optional(),
  steps: z
    .array(z.strictObject({ label, when: whenOf(eventTypes, where).optional() }))
    .min(2, 'must list at least 2 steps')
    .max(5, 'must list at most 5 steps')
    .optional(),
  travel: z
    .strictObject({
      atLeastKmh: z.number().positive('must be above 0').max(100_000, 'must be at most 100000'),
      ignoreUnderKm: z.number().min(0, 'must not be negative').max(20_000, 'must be at most 20000').default(100),
    })
    .optional(),
  suppress: Suppress.optional(),
});

type StatefulRuleFields = {
  readonly kind?: (typeof RULE_KINDS)[number] | undefined;
  readonly groupBy?: string | undefined;
  readonly window?: string | undefined;
  readonly atLeast?: number | undefined;
  readonly anyOf?: readonly unknown[] | undefined;
  readonly distinct?: string | undefined;
  readonly steps?: readonly unknown[] | undefined;
  readonly travel?: unknown;
};

const FIELDS_OF_KIND = {
  threshold: { required: ['groupBy', 'window'], allowed: ['atLeast', 'anyOf'] },
  distinct: { required: ['groupBy', 'window', 'atLeast', 'distinct'], allowed: [] },
  sequence: { required: ['groupBy', 'window', 'steps'], allowed: ['travel'] },
} as const;

const STATEFUL_KEYS = ['groupBy', 'window', 'atLeast', 'anyOf', 'distinct', 'steps', 'travel'] as const;

/** Which stateful fields a rule of its kind must and must not have; checked after the fields themselves. */
export function checkKindFields(rule: StatefulRuleFields, ctx: z.RefinementCtx): void {
  if (rule.kind === undefined) {
    for (const key of STATEFUL_KEYS) {
      if (rule[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'is for stateful rules: set kind (threshold, distinct, sequence)',
        });
      }
    }
    return;
  }
  const { required, allowed } = FIELDS_OF_KIND[rule.kind];
  for (const key of required) {
    if (rule[key] === undefined)
      ctx.addIssue({ code: 'custom', path: [key], message: `is required for kind ${rule.kind}` });
  }
  for (const key of STATEFUL_KEYS) {
    if (
      rule[key] !== undefined &&
      !(required as readonly string[]).includes(key) &&
      !(allowed as readonly string[]).includes(key)
    ) {
      ctx.addIssue({ code: 'custom', path: [key], message: `is not a field of kind ${rule.kind}` });
    }
  }
  if (rule.kind === 'threshold' && (rule.atLeast === undefined) === (rule.anyOf === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['atLeast'],
      message: 'kind threshold needs either atLeast or anyOf (one of them)',
    });
  }
  if (rule.kind === 'distinct' && rule.distinct !== undefined && rule.distinct === rule.groupBy) {
    ctx.addIssue({
      code: 'custom',
      path: ['distinct'],
      message: 'must differ from groupBy: one group has one value of it',
    });
  }
}
