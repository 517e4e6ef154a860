import { z } from 'zod';
import { SEVERITIES } from './types.ts';

/**
 * The alert rule file format. A rule file is YAML with one top-level key, `rules:`, holding a list of rules; the
 * default pack (`lib/rules/pack/`) and a user's rule directory use the same format.
 */

/** Kebab-case, at most 64 characters: it travels in SNS message attributes and DynamoDB keys. */
const RULE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const RULE_ID_MAX = 64;

/** A dotted Okta event type (`user.session.start`) or a glob over one (`user.session.*`). */
const EVENT_TYPE_OR_GLOB = /^[a-zA-Z0-9_*]+(?:\.[a-zA-Z0-9_*]+)+$/;

/** The placeholders a `subject` template may use; `format-alert.ts` fills them in. */
export const SUBJECT_PLACEHOLDERS = [
  'title',
  'actor',
  'target',
  'eventType',
  'displayMessage',
  'outcome',
  'ip',
  'severity',
] as const;
export type SubjectPlaceholder = (typeof SUBJECT_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;

const EventTypeEntry = z
  .string()
  .regex(
    EVENT_TYPE_OR_GLOB,
    'must be a dotted Okta event type or a glob over one, e.g. user.session.start, user.session.*',
  )
  .refine((value) => !value.includes('**'), 'must not contain consecutive `*` (EventBridge wildcards reject them)')
  .refine(
    (value) => value.replaceAll('*', '').replaceAll('.', '').length > 0,
    'matches every event type; name at least one part',
  );

const Where = z
  .record(z.string(), z.unknown(), 'must be an object of conditions on System Log fields (an event pattern fragment)')
  .refine(
    (where) => !Object.hasOwn(where, 'eventType'),
    'must not hold `eventType`; list event types in match.eventType',
  );

const SubjectTemplate = z
  .string()
  .min(1)
  .max(200)
  .superRefine((template, ctx) => {
    for (const [, name = ''] of template.matchAll(PLACEHOLDER)) {
      if (!(SUBJECT_PLACEHOLDERS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown placeholder {${name}}; use one of ${SUBJECT_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
        });
      }
    }
  });

export const AlertRule = z.strictObject({
  id: z
    .string()
    .max(RULE_ID_MAX, `must be at most ${RULE_ID_MAX} characters`)
    .regex(RULE_ID, 'must be kebab-case: lowercase letters and digits joined by single hyphens'),
  title: z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters'),
  severity: z.enum(SEVERITIES, `must be one of ${SEVERITIES.join(', ')}`),
  description: z.string().trim().min(1, 'must not be empty'),
  runbook: z.string().trim().min(1, 'must not be empty'),
  subject: SubjectTemplate.optional(),
  match: z.strictObject({
    eventType: z.array(EventTypeEntry).min(1, 'must list at least one event type'),
    where: Where.optional(),
  }),
});
export type AlertRule = z.infer<typeof AlertRule>;

/** The whole rule file: `rules:` and nothing else, so a misspelt top-level key is an error, not a silent no-op. */
export const AlertRuleFile = z.strictObject({
  rules: z.array(z.unknown(), 'must be a list of rules').min(1, 'must hold at least one rule'),
});
