import { parseCidr } from '../../pattern/values.ts';
import { SigmaInexpressibleError, SigmaRuleError } from './errors.ts';
import { type SystemLogField, systemLogField } from './fields.ts';
import type { Notes } from './notes.ts';

/**
 * Sigma compares text case-insensitively unless the `cased` modifier says otherwise; its regular expressions are
 * case-sensitive unless `re|i`.
 */
export type TextMode = 'ignore-case' | 'exact';

/** A bound of a numeric comparison, as EventBridge's `numeric` writes it. */
export type NumericBound = readonly ['<' | '<=' | '>' | '>=', number];

/**
 * One way a field's value can satisfy a Sigma test. Text is a glob: the literal pieces between `*` wildcards, so
 * `["ab"]` is the text ab, `["ab", ""]` starts with ab, `["", "ab", ""]` contains ab.
 */
export type Matcher =
  | { readonly kind: 'text'; readonly glob: readonly string[]; readonly mode: TextMode }
  | { readonly kind: 'literal'; readonly value: number | boolean | null }
  | { readonly kind: 'present' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'cidr'; readonly block: string }
  | { readonly kind: 'numeric'; readonly bounds: readonly NumericBound[] };

/** One Sigma field test: the field has a value that satisfies any one of the matchers. */
export interface FieldTest {
  readonly field: SystemLogField;
  readonly matchers: readonly Matcher[];
}

/** The tests of one `field|modifiers: values` entry: all must hold (there are several only with `all`). */
export interface FieldTestExpression {
  readonly tests: readonly FieldTest[];
  /** `neq`: the entry holds when its tests do not. */
  readonly negated: boolean;
}

const POSITION_MODIFIERS = new Set(['contains', 'startswith', 'endswith']);
const NUMERIC_MODIFIERS: Readonly<Record<string, NumericBound[0]>> = { lt: '<', lte: '<=', gt: '>', gte: '>=' };
const REGEX_FLAGS = new Set(['i', 'm', 's']);
const KNOWN_MODIFIERS = new Set([
  ...POSITION_MODIFIERS,
  ...Object.keys(NUMERIC_MODIFIERS),
  ...REGEX_FLAGS,
  're',
  'all',
  'cased',
  'exists',
  'cidr',
  'neq',
]);
/** Modifiers Sigma defines whose meaning an EventBridge pattern cannot carry. */
const UNSUPPORTED_MODIFIERS: Readonly<Record<string, string>> = {
  windash: 'rewrites command-line flags, which System Log fields do not hold',
  base64: 'matches encoded text, which System Log fields do not hold',
  base64offset: 'matches encoded text, which System Log fields do not hold',
  utf16: 'matches encoded text, which System Log fields do not hold',
  utf16le: 'matches encoded text, which System Log fields do not hold',
  utf16be: 'matches encoded text, which System Log fields do not hold',
  wide: 'matches encoded text, which System Log fields do not hold',
  expand: 'needs placeholders filled in for your environment first',
  fieldref: 'compares two fields of one event, which EventBridge patterns cannot',
  minute: 'reads part of a date, which EventBridge patterns cannot',
  hour: 'reads part of a date, which EventBridge patterns cannot',
  day: 'reads part of a date, which EventBridge patterns cannot',
  week: 'reads part of a date, which EventBridge patterns cannot',
  month: 'reads part of a date, which EventBridge patterns cannot',
  year: 'reads part of a date, which EventBridge patterns cannot',
};

/** At most this many values in one `contains|all`: its EventBridge form lists every order the values can take. */
export const MAX_CONTAINS_ALL_VALUES = 3;

type SigmaScalar = string | number | boolean | null;

/** Removes the empty pieces that two `*` in a row leave, which mean no more than one `*`. */
export function normalizeGlob(pieces: readonly string[]): string[] {
  if (pieces.length <= 2) return [...pieces];
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  return [first, ...pieces.slice(1, -1).filter((piece) => piece !== ''), last];
}

/**
 * A Sigma string as a glob: `*` is any run of characters, `\*`, `\?` and `\\` are literal, and a backslash before
 * anything else is itself. `?` (exactly one character) has no EventBridge equivalent.
 */
export function sigmaGlob(text: string, field: string): string[] {
  const pieces = [''];
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charAt(index);
    const next = text.charAt(index + 1);
    if (char === '\\' && (next === '*' || next === '?' || next === '\\')) {
      pieces[pieces.length - 1] += next;
      index += 1;
    } else if (char === '*') {
      pieces.push('');
    } else if (char === '?') {
      throw new SigmaInexpressibleError(
        `${field}: the wildcard ? (exactly one character) has no EventBridge equivalent`,
      );
    } else {
      pieces[pieces.length - 1] += char;
    }
  }
  return normalizeGlob(pieces);
}

/** A regular expression turned into a glob, and whether it used `.*` (which, unlike `*`, stops at a line break). */
interface RegexGlob {
  readonly glob: string[];
  readonly dotStar: boolean;
}

/**
 * A regular expression as a glob, where a glob can say the same: literal text, escaped punctuation, `.*`, and
 * `^` / `$` anchors (an unanchored end is a `*`). Classes, alternation, groups and other quantifiers cannot.
 */
export function regexGlob(source: string, field: string, multiline: boolean): RegexGlob {
  const refuse = (what: string): never => {
    throw new SigmaInexpressibleError(
      `${field}: the regular expression uses ${what}; only literal text, .* and ^ $ anchors have an EventBridge form`,
    );
  };
  let body = source;
  const anchoredStart = body.startsWith('^');
  if (anchoredStart) body = body.slice(1);
  const anchoredEnd = body.endsWith('$') && !body.endsWith('\\$');
  if (anchoredEnd) body = body.slice(0, -1);
  if (multiline && (anchoredStart || anchoredEnd)) refuse('^ or $ under the m modifier (line anchors)');
  const pieces = anchoredStart ? [''] : ['', ''];
  let dotStar = false;
  for (let index = 0; index < body.length; index += 1) {
    const char = body.charAt(index);
    const next = body.charAt(index + 1);
    if (char === '\\') {
      // In PCRE a backslash before punctuation makes it literal; before a letter or digit it is a class or a reference.
      if (next === '' || /[A-Za-z0-9]/.test(next)) refuse(next === '' ? 'a trailing backslash' : `\\${next}`);
      pieces[pieces.length - 1] += next;
      index += 1;
    } else if (char === '.' && next === '*') {
      const after = body.charAt(index + 2);
      if (after === '?' || after === '+') refuse(`.*${after}`);
      pieces.push('');
      dotStar = true;
      index += 1;
    } else if ('.+*?()[]{}|^$'.includes(char)) {
      refuse(char === '.' ? '. (any one character)' : char);
    } else {
      pieces[pieces.length - 1] += char;
    }
  }
  if (!anchoredEnd) pieces.push('');
  return { glob: normalizeGlob(pieces), dotStar };
}

const isScalar = (value: unknown): value is SigmaScalar =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

function valuesOf(raw: unknown, where: string): SigmaScalar[] {
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new SigmaRuleError(where, 'is an empty list of values');
  values.forEach((value, index) => {
    if (!isScalar(value)) {
      const at = Array.isArray(raw) ? `${where}.${index}` : where;
      throw new SigmaRuleError(at, 'must be a string, number, boolean or null (or a list of them)');
    }
  });
  return values as SigmaScalar[];
}

const BOOLEAN_TEXT = /^(true|false)$/i;
const NUMBER_TEXT = /^-?\d+(\.\d+)?$/;

function booleanOf(value: SigmaScalar): boolean | undefined {
  if (typeof value === 'boolean') return value;
  return typeof value === 'string' && BOOLEAN_TEXT.test(value) ? value.toLowerCase() === 'true' : undefined;
}

function numberOf(value: SigmaScalar): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return typeof value === 'string' && NUMBER_TEXT.test(value) ? Number(value) : undefined;
}

/** Every way of laying the needles out in one string: in each order, next to each other, apart, or overlapping. */
export function containsAll(needles: readonly string[], mode: TextMode): (readonly string[])[] {
  const fold = (text: string): string => (mode === 'exact' ? text : text.toLowerCase());
  // A needle inside another is found wherever the other is.
  const kept = needles.filter(
    (needle, index) =>
      !needles.some(
        (other, otherIndex) =>
          otherIndex !== index &&
          fold(other).includes(fold(needle)) &&
          (fold(other) !== fold(needle) || otherIndex < index),
      ),
  );
  const orders = (items: readonly string[]): string[][] =>
    items.length <= 1
      ? [[...items]]
      : items.flatMap((item, index) =>
          orders([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
        );
  const globs = new Map<string, string[]>();
  for (const order of orders(kept)) {
    // Each glob is built left to right: the last piece grows by overlapping the next needle onto it, or a `*` starts
    // a new piece.
    let partial: string[][] = [['', order[0] ?? '']];
    for (const needle of order.slice(1)) {
      const next: string[][] = [];
      for (const pieces of partial) {
        next.push([...pieces, needle]);
        const last = pieces[pieces.length - 1] ?? '';
        for (let overlap = 1; overlap < Math.min(last.length, needle.length); overlap += 1) {
          if (fold(last.slice(last.length - overlap)) === fold(needle.slice(0, overlap))) {
            next.push([...pieces.slice(0, -1), last + needle.slice(overlap)]);
          }
        }
      }
      partial = next;
    }
    for (const pieces of partial) {
      const glob = [...pieces, ''];
      globs.set(JSON.stringify(glob), glob);
    }
  }
  return [...globs.values()];
}

interface ParsedKey {
  readonly field: SystemLogField;
  readonly modifiers: readonly string[];
}

function parseKey(key: string, where: string): ParsedKey {
  const [name = '', ...rawModifiers] = key.split('|');
  if (name === '') {
    throw new SigmaInexpressibleError(
      `${where}: a keyword search over the whole event; EventBridge patterns match named fields`,
    );
  }
  const modifiers = rawModifiers.map((modifier) => modifier.toLowerCase());
  for (const modifier of modifiers) {
    const unsupported = UNSUPPORTED_MODIFIERS[modifier];
    if (unsupported !== undefined) {
      throw new SigmaInexpressibleError(`${where}: the ${modifier} modifier ${unsupported}`);
    }
    if (!KNOWN_MODIFIERS.has(modifier)) throw new SigmaRuleError(where, `unknown modifier "${modifier}"`);
  }
  const kinds = modifiers.filter(
    (modifier) =>
      POSITION_MODIFIERS.has(modifier) ||
      modifier in NUMERIC_MODIFIERS ||
      modifier === 're' ||
      modifier === 'cidr' ||
      modifier === 'exists',
  );
  if (kinds.length > 1) throw new SigmaRuleError(where, `modifiers ${kinds.join(' and ')} cannot be combined`);
  if (modifiers.some((modifier) => REGEX_FLAGS.has(modifier)) && !modifiers.includes('re')) {
    throw new SigmaRuleError(where, 'the i, m and s modifiers only follow re');
  }
  return { field: systemLogField(name), modifiers };
}

function textMatchers(
  field: SystemLogField,
  values: readonly SigmaScalar[],
  modifiers: readonly string[],
  where: string,
  notes: Notes,
): Matcher[] {
  if (modifiers.includes('re')) {
    const mode: TextMode = modifiers.includes('i') ? 'ignore-case' : 'exact';
    return values.map((value) => {
      if (typeof value !== 'string') throw new SigmaRuleError(where, 'a regular expression must be a string');
      const { glob, dotStar } = regexGlob(value, field.path, modifiers.includes('m'));
      if (dotStar && !modifiers.includes('s')) {
        notes.add(`${field.path}: .* of the regular expression is matched as *, which also spans line breaks`);
      }
      return { kind: 'text', mode, glob };
    });
  }
  const mode: TextMode = modifiers.includes('cased') ? 'exact' : 'ignore-case';
  const position = modifiers.find((modifier) => POSITION_MODIFIERS.has(modifier));
  return values.map((value): Matcher => {
    if (value === null) {
      if (position !== undefined) throw new SigmaRuleError(where, `${position} needs a value, not null`);
      return { kind: 'literal', value: null };
    }
    const glob = sigmaGlob(String(value), field.path);
    // A leading or trailing '' piece is a `*` at that end.
    const before = position === 'contains' || position === 'endswith' ? [''] : [];
    const after = position === 'contains' || position === 'startswith' ? [''] : [];
    return { kind: 'text', mode, glob: normalizeGlob([...before, ...glob, ...after]) };
  });
}

function typedMatchers(field: SystemLogField, values: readonly SigmaScalar[], where: string): Matcher[] {
  return values.map((value): Matcher => {
    if (value === null) return { kind: 'literal', value: null };
    const typed = field.type === 'boolean' ? booleanOf(value) : numberOf(value);
    if (typed === undefined) {
      throw new SigmaInexpressibleError(
        `${where}: ${field.path} holds ${field.type === 'boolean' ? 'true or false' : 'a number'} in the System Log, ` +
          `which ${JSON.stringify(value)} never equals`,
      );
    }
    return { kind: 'literal', value: typed };
  });
}

function matchersOf(
  { field, modifiers }: ParsedKey,
  values: readonly SigmaScalar[],
  where: string,
  notes: Notes,
): Matcher[] {
  if (modifiers.includes('exists')) {
    const [value, ...more] = values;
    const exists = value === undefined ? undefined : booleanOf(value);
    if (exists === undefined || more.length > 0) throw new SigmaRuleError(where, 'exists takes true or false');
    return [{ kind: exists ? 'present' : 'absent' }];
  }
  const numeric = modifiers.find((modifier) => modifier in NUMERIC_MODIFIERS);
  if (numeric !== undefined) {
    if (field.type !== 'number') {
      throw new SigmaInexpressibleError(`${where}: ${numeric} compares numbers, and ${field.path} holds text`);
    }
    return values.map((value) => {
      const number = value === null ? undefined : numberOf(value);
      if (number === undefined) throw new SigmaRuleError(where, `${numeric} takes a number`);
      return { kind: 'numeric', bounds: [[NUMERIC_MODIFIERS[numeric] ?? '<', number]] };
    });
  }
  if (modifiers.includes('cidr')) {
    if (field.type !== 'string') throw new SigmaInexpressibleError(`${where}: cidr needs a field that holds text`);
    return values.map((value) => {
      if (typeof value !== 'string') throw new SigmaRuleError(where, 'cidr takes an address block such as 10.0.0.0/8');
      const block = parseCidr(value);
      if (typeof block === 'string') throw new SigmaInexpressibleError(`${where}: ${value}: ${block}`);
      return { kind: 'cidr', block: value };
    });
  }
  if (field.type !== 'string') {
    const position = modifiers.find((modifier) => POSITION_MODIFIERS.has(modifier) || modifier === 're');
    if (position !== undefined) {
      throw new SigmaInexpressibleError(`${where}: ${position} matches text, and ${field.path} holds ${field.type}s`);
    }
    return typedMatchers(field, values, where);
  }
  return textMatchers(field, values, modifiers, where, notes);
}

/** A Sigma null is a field that is null or missing. */
const withAbsence = (matchers: readonly Matcher[]): Matcher[] =>
  matchers.some((matcher) => matcher.kind === 'literal' && matcher.value === null)
    ? [...matchers, { kind: 'absent' }]
    : [...matchers];

/**
 * The tests of one `field|modifiers: value(s)` entry of a search identifier. A list of values is one test whose
 * matchers are alternatives; with `all` every value is its own test, and all must hold; `neq` negates.
 */
export function fieldTestsOf(key: string, raw: unknown, where: string, notes: Notes): FieldTestExpression {
  const parsed = parseKey(key, where);
  const values = valuesOf(raw, where);
  const negated = parsed.modifiers.includes('neq');
  if (!parsed.modifiers.includes('all') || values.length === 1) {
    return {
      tests: [{ field: parsed.field, matchers: withAbsence(matchersOf(parsed, values, where, notes)) }],
      negated,
    };
  }
  if (negated) throw new SigmaRuleError(where, 'neq and all cannot be combined');
  const mode: TextMode = parsed.modifiers.includes('cased') ? 'exact' : 'ignore-case';
  if (parsed.modifiers.includes('contains') && parsed.field.type === 'string') {
    const needles = values.map((value) => {
      const glob = value === null ? undefined : sigmaGlob(String(value), parsed.field.path);
      return glob?.length === 1 ? glob[0] : undefined;
    });
    if (needles.every((needle): needle is string => needle !== undefined)) {
      if (needles.length > MAX_CONTAINS_ALL_VALUES) {
        throw new SigmaInexpressibleError(
          `${where}: contains|all with ${needles.length} values; its EventBridge form lists every order the values ` +
            `can appear in, which is practical for at most ${MAX_CONTAINS_ALL_VALUES}`,
        );
      }
      const globs = containsAll(needles, mode);
      return {
        tests: [{ field: parsed.field, matchers: globs.map((glob) => ({ kind: 'text', mode, glob })) }],
        negated: false,
      };
    }
  }
  return {
    tests: values.map((value) => ({
      field: parsed.field,
      matchers: withAbsence(matchersOf(parsed, [value], where, notes)),
    })),
    negated: false,
  };
}
