import { z } from 'zod';
import { ForwardList } from './destinations.ts';
import { checkKindFields, statefulFields } from './stateful-schema.ts';
import { AUTH0_LOG_TYPES, RULE_SOURCES, type RuleSource, SEVERITIES } from './types.ts';

/**
 * The alert rule file format. A rule file is YAML with one top-level key, `rules:`, holding a list of rules; the
 * default pack (`lib/rules/pack/`) and a user's rule directory use the same format.
 *
 * Each rule says which log source it is for (`source: okta`, the default, or `source: auth0`), rather than each file:
 * a rule is the unit that is validated, compiled, deployed and named in errors, so it must carry its whole meaning.
 * Copied into another file, a rule keeps its source; an Okta-only file of yesterday reads the same today; and a
 * file may group rules by topic (MFA, admin changes) across both sources. The source decides what `eventType` and
 * `where` mean, so the schema is one variant per source and its errors speak that source's words.
 */

/** Kebab-case, at most 64 characters: it travels in SNS message attributes and DynamoDB keys. */
const RULE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const RULE_ID_MAX = 64;

/** A dotted Okta event type (`user.session.start`) or a glob over one (`user.session.*`). */
const EVENT_TYPE_OR_GLOB = /^[a-zA-Z0-9_*]+(?:\.[a-zA-Z0-9_*]+)+$/;

/** An Auth0 log type code (`fp`, `gd_auth_failed`), or a prefix glob over codes (`gd_*`). */
const AUTH0_TYPE_OR_PREFIX = /^[a-z0-9_]+\*?$/;

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
  'group',
] as const;
export type SubjectPlaceholder = (typeof SUBJECT_PLACEHOLDERS)[number];

/**
 * The placeholders an Auth0 rule's subject may use. The alert formatter reads the others ({actor}, {target}, {ip},
 * ...) from Okta System Log fields, which an Auth0 log does not have; they would come out empty.
 */
export const AUTH0_SUBJECT_PLACEHOLDERS = [
  'title',
  'eventType',
  'severity',
  'group',
] as const satisfies readonly SubjectPlaceholder[];

const PLACEHOLDER = /\{([^{}]*)\}/g;

const OktaEventTypeEntry = z
  .string()
  .regex(
    EVENT_TYPE_OR_GLOB,
    'must be a dotted Okta event type or a glob over one, e.g. user.session.start, user.session.* ' +
      '(Auth0 log type codes such as fp need `source: auth0`)',
  )
  .refine((value) => !value.includes('**'), 'must not contain consecutive `*` (EventBridge wildcards reject them)')
  .refine(
    (value) => value.replaceAll('*', '').replaceAll('.', '').length > 0,
    'matches every event type; name at least one part',
  );

const Auth0TypeEntry = z
  .string()
  .refine(
    (value) => !value.includes('.'),
    'is a dotted Okta event type; an Auth0 rule lists Auth0 log type codes (f, fp, gd_auth_failed, sapi)',
  )
  .refine(
    (value) => value.includes('.') || AUTH0_TYPE_OR_PREFIX.test(value),
    'must be an Auth0 log type code (lowercase letters, digits, _), e.g. fp, gd_auth_failed, or a prefix glob ' +
      'ending in one `*`, e.g. gd_*',
  )
  .refine((value) => value !== '*', 'matches every log type; name at least the start of a code, e.g. gd_*');

/** An object of conditions; `reserved` is the field the rule's eventType list compiles to. */
const whereOf = (fields: string, reserved: string, hint: string) =>
  z
    .record(z.string(), z.unknown(), `must be an object of conditions on ${fields} (an event pattern fragment)`)
    .refine((where) => !Object.hasOwn(where, reserved), `must not hold \`${reserved}\`; ${hint}`);

const OktaWhere = whereOf('System Log fields', 'eventType', 'list event types in match.eventType');
const Auth0Where = whereOf(
  'Auth0 log fields (the `data` of the log)',
  'type',
  'list Auth0 log type codes in match.eventType',
);

const subjectTemplate = (allowed: readonly string[], why: (name: string) => string) =>
  z
    .string()
    .min(1)
    .max(200)
    .superRefine((template, ctx) => {
      for (const [, name = ''] of template.matchAll(PLACEHOLDER)) {
        if (!allowed.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `${why(name)}; use one of ${allowed.map((p) => `{${p}}`).join(', ')}`,
          });
        }
      }
    });

const unknownPlaceholder = (name: string) => `unknown placeholder {${name}}`;

/** The levels of a Sigma rule (Sigma rules specification, "Level"). */
export const SIGMA_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;

const common = {
  id: z
    .string()
    .max(RULE_ID_MAX, `must be at most ${RULE_ID_MAX} characters`)
    .regex(RULE_ID, 'must be kebab-case: lowercase letters and digits joined by single hyphens'),
  title: z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters'),
  severity: z.enum(SEVERITIES, `must be one of ${SEVERITIES.join(', ')}`),
  description: z.string().trim().min(1, 'must not be empty'),
  runbook: z.string().trim().min(1, 'must not be empty'),
  /** Destinations (declared under `destinations:`) that receive each event the rule matches. */
  forward: ForwardList.optional(),
  // Where a rule came from, kept for the people who review it (`olp rules import-sigma` writes them); alerts carry
  // none of them.
  author: z.string().trim().min(1, 'must not be empty').optional(),
  references: z.array(z.url({ protocol: /^https?$/, error: 'must be an http or https URL' })).optional(),
  sigma: z
    .strictObject({
      id: z.string().trim().min(1, 'must not be empty').optional(),
      level: z.enum(SIGMA_LEVELS, `must be one of ${SIGMA_LEVELS.join(', ')}`).optional(),
    })
    .optional(),
};

/** An Okta rule: `match.eventType` lists System Log event types; `where` holds conditions on the event's fields. */
export const OktaAlertRule = z
  .strictObject({
    source: z.literal('okta').optional(),
    ...common,
    subject: subjectTemplate(SUBJECT_PLACEHOLDERS, unknownPlaceholder).optional(),
    match: z.strictObject({
      eventType: z.array(OktaEventTypeEntry).min(1, 'must list at least one event type'),
      where: OktaWhere.optional(),
    }),
    ...statefulFields(z.array(OktaEventTypeEntry).min(1, 'must list at least one event type'), OktaWhere),
  })
  .superRefine(checkKindFields);
export type OktaAlertRule = z.infer<typeof OktaAlertRule>;

/**
 * An Auth0 rule: `match.eventType` lists Auth0 log type codes (`data.type`); `where` holds conditions on the other
 * fields of the log's `data` (`description`, `connection`, `details.request.path`, ...).
 */
export const Auth0AlertRule = z
  .strictObject({
    source: z.literal('auth0'),
    ...common,
    subject: subjectTemplate(AUTH0_SUBJECT_PLACEHOLDERS, (name) =>
      (SUBJECT_PLACEHOLDERS as readonly string[]).includes(name)
        ? `placeholder {${name}} is filled from Okta System Log fields and would be empty for an Auth0 log`
        : unknownPlaceholder(name),
    ).optional(),
    match: z.strictObject({
      eventType: z.array(Auth0TypeEntry).min(1, 'must list at least one Auth0 log type code'),
      where: Auth0Where.optional(),
    }),
    ...statefulFields(z.array(Auth0TypeEntry).min(1, 'must list at least one Auth0 log type code'), Auth0Where),
  })
  .superRefine(checkKindFields);
export type Auth0AlertRule = z.infer<typeof Auth0AlertRule>;

export const AlertRule = z.discriminatedUnion('source', [OktaAlertRule, Auth0AlertRule], {
  error: (issue) =>
    issue.code === 'invalid_union' ? `must be one of ${RULE_SOURCES.join(', ')} (okta when left out)` : undefined,
});
export type AlertRule = z.infer<typeof AlertRule>;

/** The source a rule is for: `okta` when the rule does not say. */
export const ruleSourceOf = (rule: { readonly source?: string | undefined }): RuleSource =>
  rule.source === 'auth0' ? 'auth0' : 'okta';

/**
 * The whole rule file: `rules:` and `destinations:` and nothing else, so a misspelt top-level key is an error, not a
 * silent no-op.
 */
export const AlertRuleFile = z
  .strictObject({
    rules: z.array(z.unknown(), 'must be a list of rules').min(1, 'must hold at least one rule').optional(),
    /** HTTP endpoints that rules forward matched events to (lib/rules/destinations.ts). */
    destinations: z
      .array(z.unknown(), 'must be a list of destinations')
      .min(1, 'must hold at least one destination')
      .optional(),
  })
  // A file may declare only destinations, for rules in other files to forward to.
  .refine((file) => file.rules !== undefined || file.destinations !== undefined, {
    path: ['rules'],
    message: 'must be a list of rules (a file without rules declares destinations: instead)',
  });

/**
 * The entries of an Auth0 rule's `match.eventType` that name no documented Auth0 log type code (a prefix glob that
 * covers none counts too). Not an error, since Auth0 adds codes; but a misspelt code makes a rule that never fires.
 */
export function unknownAuth0LogTypes(rule: AlertRule): string[] {
  if (rule.source !== 'auth0') return [];
  const known = [...AUTH0_LOG_TYPES];
  return rule.match.eventType.filter((entry) =>
    entry.endsWith('*') ? !known.some((code) => code.startsWith(entry.slice(0, -1))) : !AUTH0_LOG_TYPES.has(entry),
  );
}
