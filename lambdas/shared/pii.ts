import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { JsonTooDeepError, MAX_JSON_DEPTH } from './canonical-json.ts';
import type { SourceName } from './log-sources.ts';

/**
 * PII controls: which fields of a source's events are personal data, and how they are redacted before an event
 * leaves the pipeline in an alert (and, with `archive`, before its line is archived). Pure: the HMAC key is a
 * parameter, read from Secrets Manager (lambdas/shared/pii-secret.ts) or a local key file by the caller.
 *
 * Fields are named by a shorthand of the source's vocabulary (below) or by a dotted path from the event's root
 * (`actor.alternateId`, `target[].alternateId`, `data.details.request.body.email`). A path looks into lists element by
 * element, with or without `[]` (which only says so), and reads a lone object as a list of one, as the alert
 * formatter does; `*` stands for any one member. A selected object or list is redacted as a whole: every value in it.
 * The fields that make an event's identity, time and type (Okta's `uuid`, `published`, `eventType`; Auth0's
 * `log_id`, `data.date`, `data.type`) are never redacted, even inside a selected object: dedupe, ordering and alert
 * rules depend on them.
 */

export const PII_METHODS = ['mask', 'hash'] as const;
export type PiiMethod = (typeof PII_METHODS)[number];

/** What to redact in one source's events, and how. */
export interface PiiSettings {
  readonly fields: readonly string[];
  readonly method: PiiMethod;
  /** Whether archived lines are redacted too; alerts always are. */
  readonly archive: boolean;
}

export type PiiSources = Readonly<Partial<Record<SourceName, PiiSettings>>>;

/** One source's redaction, built from its settings (and key). */
export interface Redaction {
  /** The event with its PII redacted: a copy, the input is not changed. */
  event(event: unknown): unknown;
  /**
   * A value an event holds at a rule field path (a detection's group: `actor.alternateId`; for Auth0 a path in `data`,
   * as rules read it), redacted as the event's field there would be.
   */
  ruleValue(path: string, value: string): string;
  /** Text written from events (a detection's finding) with the PII patterns (`email`, `phone`) redacted in it. */
  text(text: string): string;
}

/** What a masked string becomes; an email address keeps its domain (`***@acme.example`). */
export const MASK = '***';
/** What a hashed value starts with: the algorithm, then the HMAC in lower-case hex. */
export const HASH_PREFIX = 'hmac-sha256:';
/** The shortest HMAC key accepted, in characters: 32 random characters or more (`openssl rand -hex 32` gives 64). */
export const MIN_PII_KEY_CHARS = 32;

/** Settings that cannot be used: the message names the setting and what was wrong, never a key. */
export class PiiSettingsError extends Error {
  override readonly name = 'PiiSettingsError';
}

/** Hashing without a usable HMAC key. */
export class PiiKeyError extends Error {
  override readonly name = 'PiiKeyError';
}

/** Where a value sits: the member names from the event's root (lists are transparent) and the object holding it. */
interface Place {
  readonly path: readonly string[];
  readonly holder: Readonly<Record<string, unknown>> | undefined;
}

/** What one field name selects. */
interface FieldRule {
  /** The value at this place is PII as a whole. */
  readonly whole?: (place: Place, event: unknown) => boolean;
  /** PII written inside any string of the event; each match is redacted where it stands. */
  readonly inText?: RegExp;
}

const LOCAL_PART = "A-Za-z0-9.!#$%&'*+/=?^_`{|}~-";
/**
 * An email address within text. The lookbehind lets a match start only where a run of address characters starts, so
 * the search stays linear however long the text.
 */
const EMAIL_IN_TEXT = new RegExp(`(?<![${LOCAL_PART}])[${LOCAL_PART}]+@([A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+)`, 'g');
const EMAIL_EXACT = new RegExp(`^[${LOCAL_PART}]+@([A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+)$`);
/** A phone number written as E.164 (`+` and 8 to 15 digits), as Auth0 logs them. */
const PHONE_IN_TEXT = /(?<![\w+])\+[1-9]\d{7,14}(?!\d)/g;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const member = (value: unknown, key: string): unknown =>
  isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;

const samePath = (path: readonly string[], expected: readonly string[]): boolean =>
  path.length === expected.length && path.every((key, i) => key === expected[i]);

/** A value at one of these paths (lists transparent). */
const atPaths = (...paths: string[]) => {
  const split = paths.map((path) => path.split('.'));
  return (place: Place): boolean => split.some((path) => samePath(place.path, path));
};

/** A member with one of these names anywhere under the Auth0 log's `data`. */
const named =
  (...names: string[]) =>
  (place: Place): boolean =>
    place.path.length > 1 && place.path[0] === 'data' && names.includes(place.path.at(-1) ?? '');

/**
 * Okta's actor and targets that are people: `User`, and `AppUser` (a person's account in an app). Other parties
 * (apps, groups, policies, log streams, the system principal) keep their names; a party without a type counts as a
 * person, so an event of an unexpected shape is redacted rather than shown.
 */
const PERSON_TYPES = new Set(['User', 'AppUser']);

const personField =
  (field: 'alternateId' | 'displayName') =>
  (place: Place): boolean => {
    if (!(samePath(place.path, ['actor', field]) || samePath(place.path, ['target', field]))) return false;
    const type = member(place.holder, 'type');
    return typeof type !== 'string' || PERSON_TYPES.has(type);
  };

/**
 * Okta System Log shorthands (developer.okta.com, System Log API, LogEvent object):
 * - `username`: the login of each person among the actor and targets (`actor.alternateId`, `target[].alternateId`);
 * - `name`: their display name (`actor.displayName`, `target[].displayName`);
 * - `email`: every email address written in any string of the event (alternate ids, `displayMessage`,
 *   `outcome.reason`, `debugContext.debugData.*`), each replaced where it stands;
 * - `ip`: the client's IP (`client.ipAddress`) and every hop of `request.ipChain[].ip`;
 * - `location`: where the IP was placed (`client.geographicalContext`, `request.ipChain[].geographicalContext`).
 */
const OKTA_FIELDS: Readonly<Record<string, FieldRule>> = {
  username: { whole: personField('alternateId') },
  name: { whole: personField('displayName') },
  email: { inText: EMAIL_IN_TEXT },
  ip: { whole: atPaths('client.ipAddress', 'request.ipChain.ip') },
  location: { whole: atPaths('client.geographicalContext', 'request.ipChain.geographicalContext') },
};

/** Management API calls on users (`/api/v2/users...`): their request and response bodies are user profiles. */
const inUserApiBody = (place: Place, event: unknown): boolean => {
  const [data, details, part, body] = place.path;
  if (data !== 'data' || details !== 'details' || (part !== 'request' && part !== 'response') || body !== 'body') {
    return false;
  }
  const apiPath = member(member(member(member(event, 'data'), 'details'), 'request'), 'path');
  return typeof apiPath === 'string' && apiPath.startsWith('/api/v2/users');
};

/**
 * A user's full name (`name`, which holds first and last name both) in a user profile: an object that also names the
 * user (`user_id` or `email`, as `details.request.auth.user` and the users Management API return), or the body of
 * a users Management API call (`{"name": "Jane Doe"}` of a PATCH). Elsewhere `name` names apps, connections, log
 * streams and filters, which stay.
 */
const profileName = (place: Place, event: unknown): boolean =>
  place.path.at(-1) === 'name' &&
  named('name')(place) &&
  (member(place.holder, 'user_id') !== undefined ||
    member(place.holder, 'email') !== undefined ||
    inUserApiBody(place, event));

/**
 * Auth0's own log stream `pii_config.log_fields` (Management API v2, LogStreamPiiLogFieldsEnum), mapped to where
 * those values appear in a log's `data` (Auth0 docs, "Log Event Schema" and "Personally Identifiable Information in
 * Auth0 Logs"):
 * - `first_name`: `given_name`, `first_name`, `firstName` members anywhere in `data`, and the full `name` of a user
 *   profile (profileName above);
 * - `last_name`: `family_name`, `last_name`, `lastName` members, and the full `name` of a user profile;
 * - `username`: `data.user_name` (the login the user typed: a username or an email) and `username`, `user_name`,
 *   `nickname` members anywhere in `data` (signup and Management API bodies);
 * - `email`: `email` members anywhere in `data` (`details.request.auth.user.email`, request and response bodies), and
 *   every email address written in any string (`description`, `user_name`, `details.request.body.owners[]`,
 *   error messages), each replaced where it stands;
 * - `phone`: `phone`, `phone_number`, `phoneNumber` members anywhere in `data`, and every E.164 number (`+` and 8 to
 *   15 digits) written in any string (Guardian SMS enrolment and delivery logs);
 * - `address`: `address` members anywhere in `data` (the OIDC address claim, `user_metadata.address`), whole.
 */
const AUTH0_FIELDS: Readonly<Record<string, FieldRule>> = {
  first_name: {
    whole: (place, event) => named('given_name', 'first_name', 'firstName')(place) || profileName(place, event),
  },
  last_name: {
    whole: (place, event) => named('family_name', 'last_name', 'lastName')(place) || profileName(place, event),
  },
  username: { whole: named('user_name', 'username', 'nickname') },
  email: { whole: named('email'), inText: EMAIL_IN_TEXT },
  phone: { whole: named('phone', 'phone_number', 'phoneNumber'), inText: PHONE_IN_TEXT },
  address: { whole: named('address') },
};

/** Where rule field paths start in an event (log-sources.ts `ruleRecord`): the System Log event, an Auth0 log's data. */
const RULE_RECORD: Readonly<Record<SourceName, readonly string[]>> = { okta: [], auth0: ['data'] };

const SHORTHANDS: Readonly<Record<SourceName, Readonly<Record<string, FieldRule>>>> = {
  okta: OKTA_FIELDS,
  auth0: AUTH0_FIELDS,
};

/** What the pipeline needs to keep the event's identity, time and type (dedupe, ordering, rules): never redacted. */
const IDENTITY_PATHS: Readonly<Record<SourceName, readonly (readonly string[])[]>> = {
  okta: [['uuid'], ['published'], ['eventType']],
  auth0: [['log_id'], ['data', 'date'], ['data', 'type']],
};

const PATH_EXAMPLE: Readonly<Record<SourceName, string>> = {
  okta: 'actor.alternateId or target[].alternateId',
  auth0: 'data.user_name or data.details.request.body.email',
};

/**
 * Where a path may start: a member of the System Log event (LogEvent), or the Auth0 log's `data`; `*` for any. A path
 * from elsewhere is a typo of a shorthand or of a field, not a field of these events.
 */
const PATH_ROOTS: Readonly<Record<SourceName, readonly string[]>> = {
  okta: [
    'actor',
    'authenticationContext',
    'client',
    'debugContext',
    'device',
    'displayMessage',
    'legacyEventType',
    'outcome',
    'request',
    'securityContext',
    'severity',
    'target',
    'transaction',
    'version',
  ],
  auth0: ['data'],
};

const SEGMENT = /^(\*|[A-Za-z0-9_$@-]+)(\[\])?$/;

/** A dotted path's member names, `[]` dropped (lists are transparent); undefined when it is not a path. */
const pathSegments = (text: string): string[] | undefined => {
  const segments = text.split('.');
  const names: string[] = [];
  for (const segment of segments) {
    const match = SEGMENT.exec(segment);
    if (match?.[1] === undefined) return undefined;
    names.push(match[1]);
  }
  return names;
};

const matchesPattern = (path: readonly string[], pattern: readonly string[]): boolean =>
  path.length === pattern.length && pattern.every((name, i) => name === '*' || name === path[i]);

/** The identity field a path names, if it names one (a pattern with `*` may cover one; that one is kept). */
const namedIdentity = (pattern: readonly string[], source: SourceName): readonly string[] | undefined =>
  IDENTITY_PATHS[source].find((identity) => samePath(pattern, identity));

/** The rule a field name stands for, or why it cannot be one (the message quotes the name, escaped as JSON). */
const fieldRule = (source: SourceName, field: string): FieldRule | string => {
  const shorthand = SHORTHANDS[source];
  if (Object.hasOwn(shorthand, field)) return shorthand[field] as FieldRule;
  const pattern = pathSegments(field);
  if (pattern !== undefined && namedIdentity(pattern, source) !== undefined) {
    return (
      `${JSON.stringify(field)} is the event's identity, time or type, which the pipeline needs (dedupe, ordering, ` +
      'alert rules): it is never redacted'
    );
  }
  if (pattern === undefined || !(pattern[0] === '*' || PATH_ROOTS[source].includes(pattern[0] ?? ''))) {
    return (
      `${JSON.stringify(field)} is neither one of ${Object.keys(shorthand).join(', ')} nor a dotted path like ` +
      `${PATH_EXAMPLE[source]}: starting at ${PATH_ROOTS[source].join(', ')} or *, member names of letters, ` +
      "digits, _, $, @ and -, '[]' after a list, '*' for any member"
    );
  }
  return { whole: (place) => matchesPattern(place.path, pattern) };
};

const SETTING_KEYS = ['fields', 'method', 'archive'];

const describeShape = () =>
  'must be an object {"fields": [...], "method": "mask" or "hash", "archive": true or false (optional)}';

/**
 * Validates one source's settings (from CDK context, a function's environment or `olp local`); a string is read as
 * JSON (`-c oktaPii='{...}'`). Throws PiiSettingsError naming the setting that is wrong.
 */
export function parsePiiSettings(source: SourceName, input: unknown): PiiSettings {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new PiiSettingsError(`${describeShape()}; the text is not JSON`);
    }
  }
  if (!isObject(value)) throw new PiiSettingsError(describeShape());
  const unknown = Object.keys(value).find((key) => !SETTING_KEYS.includes(key));
  if (unknown !== undefined) {
    throw new PiiSettingsError(`${describeShape()}; ${JSON.stringify(unknown)} is not a setting`);
  }
  const { fields, method, archive } = value;
  if (!Array.isArray(fields) || fields.length === 0) {
    throw new PiiSettingsError(`${describeShape()}; fields must be a list of at least one field`);
  }
  for (const [i, field] of fields.entries()) {
    const rule = typeof field === 'string' ? fieldRule(source, field) : 'is not a string';
    if (typeof rule === 'string') throw new PiiSettingsError(`fields[${i}] ${rule}`);
  }
  if (!PII_METHODS.some((known) => known === method)) {
    throw new PiiSettingsError(`method must be "mask" or "hash"`);
  }
  if (archive !== undefined && typeof archive !== 'boolean') {
    throw new PiiSettingsError('archive must be true or false');
  }
  return { fields: [...(fields as string[])], method: method as PiiMethod, archive: archive === true };
}

/** The settings of every source, as a function's environment carries them (`PII_SETTINGS`, JSON). */
export const PiiSourcesJson = z.string().transform((text, ctx): PiiSources => {
  try {
    const value: unknown = JSON.parse(text);
    if (!isObject(value)) throw new PiiSettingsError('must be a JSON object of okta and auth0 settings');
    const sources: Partial<Record<SourceName, PiiSettings>> = {};
    for (const [name, settings] of Object.entries(value)) {
      if (name !== 'okta' && name !== 'auth0') throw new PiiSettingsError(`${JSON.stringify(name)} is no log source`);
      sources[name] = parsePiiSettings(name, settings);
    }
    return sources;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'is not JSON' });
    return z.NEVER;
  }
});

/** Whether any of these settings hashes: the HMAC key is needed. `archive` counts only archive-redacting sources. */
export const hashesPii = (sources: PiiSources, scope: 'alerts' | 'archive' = 'alerts'): boolean =>
  Object.values(sources).some((settings) => settings.method === 'hash' && (scope === 'alerts' || settings.archive));

/**
 * The HMAC key from a secret's or a key file's text: the text without surrounding whitespace (a key file's final
 * newline is not part of the key), at least MIN_PII_KEY_CHARS characters. `where` names the secret or file; the
 * message never holds the key.
 */
export function piiKeyFromText(text: string, where: string): Uint8Array {
  const key = text.trim();
  if (key.length < MIN_PII_KEY_CHARS) {
    throw new PiiKeyError(
      `${where} must hold the HMAC key for PII hashing: at least ${MIN_PII_KEY_CHARS} characters, e.g. from ` +
        'openssl rand -hex 32',
    );
  }
  return Buffer.from(key, 'utf8');
}

/**
 * One source's redaction: every value its fields select, by its method. `key` is required for `hash`. Its `event`
 * throws JsonTooDeepError for an event nested deeper than MAX_JSON_DEPTH (none is ever staged).
 */
export function piiRedaction(source: SourceName, settings: PiiSettings, key?: Uint8Array): Redaction {
  let hidden = masked;
  if (settings.method === 'hash') {
    if (key === undefined) throw new PiiKeyError(`${source} PII settings hash values, and no HMAC key was given`);
    hidden = hashedWith(key);
  }
  const rules = settings.fields.map((field) => {
    const rule = fieldRule(source, field);
    if (typeof rule === 'string') throw new PiiSettingsError(`${source} PII fields: ${rule}`);
    return rule;
  });
  const whole = rules.flatMap((rule) => (rule.whole === undefined ? [] : [rule.whole]));
  const inText = [...new Set(rules.flatMap((rule) => (rule.inText === undefined ? [] : [rule.inText])))];
  const identity = IDENTITY_PATHS[source];

  const redactText = (text: string): string =>
    inText.reduce((result, pattern) => result.replace(pattern, (match) => hidden(match)), text);

  const walk = (value: unknown, place: Place, event: unknown, selected: boolean, depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) throw new JsonTooDeepError();
    if (identity.some((path) => samePath(place.path, path))) return value;
    const isSelected = selected || whole.some((test) => test(place, event));
    if (typeof value === 'string') return isSelected ? hidden(value) : redactText(value);
    if (Array.isArray(value)) return value.map((item) => walk(item, place, event, isSelected, depth + 1));
    if (isObject(value)) {
      // fromEntries defines members, so a `__proto__` member stays a member, as JSON.parse made it.
      return Object.fromEntries(
        Object.entries(value).map(([name, child]) => [
          name,
          walk(child, { path: [...place.path, name], holder: value }, event, isSelected, depth + 1),
        ]),
      );
    }
    // A number or boolean cannot hold a mask or a hash and stay what it was: it becomes null, which every reader of
    // the field (a typed Athena column, an alert) accepts, rather than a value that looks real.
    return isSelected && value !== null ? null : value;
  };
  const event = (value: unknown): unknown => walk(value, { path: [], holder: undefined }, value, false, 0);
  return {
    event,
    ruleValue(path, value) {
      // The value placed where the rule read it, in an event of its own: no type beside it, so a party counts as a
      // person, and whatever a field there would get, it gets.
      const keys = [...RULE_RECORD[source], ...path.split('.')];
      const placed = keys.reduceRight<unknown>((inner, key) => Object.fromEntries([[key, inner]]), value);
      const out = keys.reduce<unknown>((record, key) => member(record, key), event(placed));
      return typeof out === 'string' ? out : hidden(value);
    },
    text: redactText,
  };
}

/** A string hidden by a mask: `***`, and an email address keeps its domain (`***@acme.example`). */
const masked = (text: string): string => {
  // An empty string held no value; a mask there would say it did.
  if (text === '') return text;
  const domain = EMAIL_EXACT.exec(text)?.[1];
  return domain === undefined ? MASK : `${MASK}@${domain}`;
};

/** A string hidden by the keyed HMAC-SHA-256 of its UTF-8 bytes: the same text and key give the same value. */
const hashedWith =
  (key: Uint8Array) =>
  (text: string): string =>
    text === '' ? text : `${HASH_PREFIX}${createHmac('sha256', key).update(text, 'utf8').digest('hex')}`;

/**
 * The redactions of the configured sources: for alerts every configured source, for the archive only those with
 * `archive`. Sources without settings are absent (their events go out as received).
 */
export function piiRedactions(
  sources: PiiSources,
  key: Uint8Array | undefined,
  scope: 'alerts' | 'archive',
): Partial<Record<SourceName, Redaction>> {
  const redactions: Partial<Record<SourceName, Redaction>> = {};
  for (const [name, settings] of Object.entries(sources) as Array<[SourceName, PiiSettings]>) {
    if (scope === 'archive' && !settings.archive) continue;
    redactions[name] = piiRedaction(name, settings, key);
  }
  return redactions;
}
