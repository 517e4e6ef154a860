import { cidrContains, matchesWildcard, parseCidr } from '../../pattern/values.ts';
import { SigmaInexpressibleError } from './errors.ts';
import type { Conjunction, Literal } from './expression.ts';
import { containsAll, type Matcher, type TextMode } from './field-tests.ts';
import type { SystemLogField } from './fields.ts';
import type { Notes } from './notes.ts';

/** What an olp Okta rule's `match` holds: the event types, and the conditions on the other fields. */
export interface OktaMatch {
  readonly eventType: string[];
  readonly where?: Record<string, unknown>;
}

/** Everything one alternative of the condition asks of one field, reduced to a single EventBridge field list. */
interface FieldCondition {
  readonly field: SystemLogField;
  readonly matchers: readonly Matcher[];
  readonly negated: boolean;
  /** For a negated condition: whether a missing field satisfies it, as it does unless the field is also required. */
  readonly absentMatches: boolean;
}

/** One alternative: the condition on each field it tests, by path, in the order the rule names them. */
type Alternative = ReadonlyMap<string, FieldCondition>;

const NEVER = Symbol('never');
type Never = typeof NEVER;

const EVENT_TYPE = 'eventType';

// ---------------------------------------------------------------------------------------------
// Matchers

const hasCase = (text: string): boolean => text.toLowerCase() !== text.toUpperCase();
const fold = (text: string, mode: TextMode): string => (mode === 'exact' ? text : text.toLowerCase());

function matcherKey(matcher: Matcher): string {
  switch (matcher.kind) {
    case 'text':
      // Text without letters reads the same in either mode.
      return JSON.stringify(['text', matcher.glob, matcher.glob.some(hasCase) ? matcher.mode : 'exact']);
    case 'literal':
      return JSON.stringify(['literal', matcher.value]);
    case 'cidr':
      return JSON.stringify(['cidr', matcher.block]);
    case 'numeric':
      return JSON.stringify(['numeric', matcher.bounds]);
    default:
      return JSON.stringify([matcher.kind]);
  }
}

const uniqueMatchers = (matchers: readonly Matcher[]): Matcher[] => {
  const byKey = new Map<string, Matcher>();
  for (const matcher of matchers) if (!byKey.has(matcherKey(matcher))) byKey.set(matcherKey(matcher), matcher);
  return [...byKey.values()];
};

const conditionKey = (condition: FieldCondition): string =>
  JSON.stringify([
    condition.field.path,
    condition.negated,
    condition.negated && condition.absentMatches,
    condition.matchers.map(matcherKey).sort(),
  ]);

/** A text matcher that is one whole value (no wildcard). */
const isWholeText = (matcher: Matcher): matcher is Extract<Matcher, { kind: 'text' }> =>
  matcher.kind === 'text' && matcher.glob.length === 1;

const isValue = (matcher: Matcher): boolean => isWholeText(matcher) || matcher.kind === 'literal';

const isPresentOnly = (condition: FieldCondition): boolean =>
  !condition.negated && condition.matchers.every((matcher) => matcher.kind === 'present');

const needsValue = (condition: FieldCondition): boolean =>
  condition.matchers.every((matcher) => matcher.kind !== 'absent' && matcher.kind !== 'present');

type Candidate = string | number | boolean | null;

/**
 * Whether a matcher accepts a value. For a text value under `ignore-case` (which stands for all its case variants),
 * the answer must be the same for every variant, else undefined.
 */
function accepts(matcher: Matcher, value: Candidate, valueMode: TextMode = 'exact'): boolean | undefined {
  switch (matcher.kind) {
    case 'present':
      return true;
    case 'absent':
      return false;
    case 'literal':
      return matcher.value === value;
    case 'numeric':
      return (
        typeof value === 'number' &&
        matcher.bounds.every(([operator, bound]) =>
          operator === '<'
            ? value < bound
            : operator === '<='
              ? value <= bound
              : operator === '>'
                ? value > bound
                : value >= bound,
        )
      );
    case 'cidr': {
      if (typeof value !== 'string') return false;
      const block = parseCidr(matcher.block);
      return typeof block !== 'string' && cidrContains(block, value);
    }
    case 'text': {
      if (typeof value !== 'string') return false;
      if (valueMode === 'ignore-case' && matcher.mode === 'exact' && hasCase(value)) return undefined;
      const mode: TextMode = valueMode === 'ignore-case' || matcher.mode === 'ignore-case' ? 'ignore-case' : 'exact';
      return matchesWildcard({ pieces: matcher.glob.map((piece) => fold(piece, mode)) }, fold(value, mode));
    }
  }
}

const describeMatchers = (matchers: readonly Matcher[]): string =>
  matchers
    .map((matcher) => {
      switch (matcher.kind) {
        case 'text':
          return JSON.stringify(matcher.glob.join('*'));
        case 'literal':
          return JSON.stringify(matcher.value);
        case 'cidr':
          return `cidr ${matcher.block}`;
        case 'numeric':
          return matcher.bounds.map(([operator, bound]) => `${operator} ${bound}`).join(' and ');
        default:
          return matcher.kind === 'present' ? 'exists' : 'missing';
      }
    })
    .join(' or ');

function twoTests(path: string, left: FieldCondition, right: FieldCondition): never {
  const show = (condition: FieldCondition): string =>
    `${condition.negated ? 'not ' : ''}${describeMatchers(condition.matchers)}`;
  throw new SigmaInexpressibleError(
    `the condition tests ${path} twice in one alternative (${show(left)}, and ${show(right)}); an EventBridge ` +
      'pattern holds one list of alternatives per field',
  );
}

// ---------------------------------------------------------------------------------------------
// Several tests of one field in one alternative

/** The values of a list of whole values that also satisfy another condition's matchers, if that can be decided. */
function filterValues(
  values: readonly Matcher[],
  keep: (matcher: Matcher) => boolean | undefined,
): Matcher[] | undefined {
  const kept: Matcher[] = [];
  for (const value of values) {
    const verdict = keep(value);
    if (verdict === undefined) return undefined;
    if (verdict) kept.push(value);
  }
  return kept;
}

/** Whether any of `matchers` accepts the value a whole-value matcher stands for. */
function anyAccepts(matchers: readonly Matcher[], value: Matcher): boolean | undefined {
  if (value.kind === 'absent') return matchers.some((matcher) => matcher.kind === 'absent');
  const candidate: Candidate | undefined =
    value.kind === 'literal' ? value.value : isWholeText(value) ? (value.glob[0] ?? '') : undefined;
  if (candidate === undefined) return undefined;
  const mode = value.kind === 'text' ? value.mode : 'exact';
  let undecided = false;
  for (const matcher of matchers) {
    const verdict = accepts(matcher, candidate, mode);
    if (verdict === true) return true;
    if (verdict === undefined) undecided = true;
  }
  return undecided ? undefined : false;
}

/** Both positive conditions on one field: their intersection, as one field list. */
function intersect(left: FieldCondition, right: FieldCondition): FieldCondition | Never {
  if (conditionKey(left) === conditionKey(right)) return left;
  if (isPresentOnly(left) && needsValue(right)) return right;
  if (isPresentOnly(right) && needsValue(left)) return left;
  const path = left.field.path;
  const both = (matchers: readonly Matcher[]): FieldCondition | Never =>
    matchers.length === 0 ? NEVER : { ...left, matchers: uniqueMatchers(matchers) };
  // A list of whole values intersected with anything: keep the values the other side accepts.
  for (const [values, other] of [
    [left, right],
    [right, left],
  ] as const) {
    if (values.matchers.every((matcher) => isValue(matcher) || matcher.kind === 'absent')) {
      const kept = filterValues(values.matchers, (value) => anyAccepts(other.matchers, value));
      if (kept !== undefined) return both(kept);
    }
  }
  const [a] = left.matchers;
  const [b] = right.matchers;
  if (left.matchers.length === 1 && right.matchers.length === 1 && a !== undefined && b !== undefined) {
    const mode = a.kind === 'text' && b.kind === 'text' ? sharedMode(a, b) : undefined;
    if (a.kind === 'text' && b.kind === 'text' && mode !== undefined) {
      const merged = intersectTexts(a.glob, b.glob, mode);
      if (merged === NEVER) return NEVER;
      if (merged !== undefined) return both(merged.map((glob) => ({ kind: 'text', mode, glob })));
    }
    if (a.kind === 'numeric' && b.kind === 'numeric') {
      const range = numericRange(a.bounds, b.bounds);
      if (range !== undefined) return both([{ kind: 'numeric', bounds: range }]);
    }
  }
  return twoTests(path, left, right);
}

/** The mode two text matchers can be compared in: text without letters reads the same in either. */
function sharedMode(
  a: Extract<Matcher, { kind: 'text' }>,
  b: Extract<Matcher, { kind: 'text' }>,
): TextMode | undefined {
  if (a.mode === b.mode || !b.glob.some(hasCase)) return a.mode;
  return a.glob.some(hasCase) ? undefined : b.mode;
}

/** Two globs of one mode that must both match: one glob list when a pattern can say it, NEVER when none can match. */
function intersectTexts(
  left: readonly string[],
  right: readonly string[],
  mode: TextMode,
): (readonly string[])[] | Never | undefined {
  const shape = (glob: readonly string[]): 'prefix' | 'suffix' | 'contains' | undefined =>
    glob.length !== 2 && glob.length !== 3
      ? undefined
      : glob.length === 3 && glob[0] === '' && glob[2] === ''
        ? 'contains'
        : glob.length === 2 && glob[1] === ''
          ? 'prefix'
          : glob.length === 2 && glob[0] === ''
            ? 'suffix'
            : undefined;
  const kind = shape(left);
  if (kind === undefined || kind !== shape(right)) return undefined;
  const a = kind === 'suffix' ? (left[1] ?? '') : (left[kind === 'contains' ? 1 : 0] ?? '');
  const b = kind === 'suffix' ? (right[1] ?? '') : (right[kind === 'contains' ? 1 : 0] ?? '');
  if (kind === 'contains') return containsAll([a, b], mode);
  const [fa, fb] = [fold(a, mode), fold(b, mode)];
  const within =
    kind === 'prefix' ? (x: string, y: string) => x.startsWith(y) : (x: string, y: string) => x.endsWith(y);
  if (within(fa, fb)) return [left];
  if (within(fb, fa)) return [right];
  return NEVER;
}

function numericRange(
  left: readonly (readonly ['<' | '<=' | '>' | '>=', number])[],
  right: readonly (readonly ['<' | '<=' | '>' | '>=', number])[],
): [readonly ['<' | '<=' | '>' | '>=', number], readonly ['<' | '<=' | '>' | '>=', number]] | undefined {
  const [a] = left;
  const [b] = right;
  if (left.length !== 1 || right.length !== 1 || a === undefined || b === undefined) return undefined;
  const lower = (bound: typeof a): boolean => bound[0] === '>' || bound[0] === '>=';
  if (lower(a) === lower(b)) return undefined;
  return lower(a) ? [a, b] : [b, a];
}

/** A positive condition and a negated one on the same field: the positive values the negation leaves. */
function subtract(positive: FieldCondition, negative: FieldCondition): FieldCondition | Never {
  // "Exists and is not X": the negation, with a missing field no longer satisfying it.
  if (isPresentOnly(positive)) {
    return negative.matchers.some((matcher) => matcher.kind === 'present')
      ? NEVER
      : { ...negative, absentMatches: false };
  }
  if (positive.matchers.every((matcher) => isValue(matcher) || matcher.kind === 'absent')) {
    const kept = filterValues(positive.matchers, (value) => {
      const excluded = anyAccepts(negative.matchers, value);
      return excluded === undefined ? undefined : !excluded;
    });
    if (kept !== undefined) return kept.length === 0 ? NEVER : { ...positive, matchers: kept };
  }
  return twoTests(positive.field.path, positive, negative);
}

/** Everything one alternative says about one field, as one condition; NEVER when nothing can satisfy it. */
function reduceField(literals: readonly Literal[]): FieldCondition | Never {
  const conditions = new Map<string, FieldCondition>();
  for (const { test, negated } of literals) {
    const condition: FieldCondition = { field: test.field, matchers: test.matchers, negated, absentMatches: true };
    conditions.set(conditionKey(condition), condition);
  }
  const all = [...conditions.values()];
  let positives = all.filter((condition) => !condition.negated);
  if (positives.some((condition) => !isPresentOnly(condition))) {
    positives = positives.filter((condition) => !isPresentOnly(condition) || !positives.some(needsValue));
  }
  let positive: FieldCondition | Never | undefined = positives[0];
  for (const next of positives.slice(1)) {
    if (positive === undefined || positive === NEVER) break;
    positive = intersect(positive, next);
  }
  if (positive === NEVER) return NEVER;
  const negatives = all.filter((condition) => condition.negated);
  const [first] = negatives;
  if (first === undefined) {
    if (positive === undefined) throw new TypeError('a field with no literals');
    return positive;
  }
  // not A and not B is not (A or B).
  const negative: FieldCondition = { ...first, matchers: uniqueMatchers(negatives.flatMap((c) => c.matchers)) };
  return positive === undefined ? negative : subtract(positive, negative);
}

// ---------------------------------------------------------------------------------------------
// EventBridge field lists

const escapeWildcard = (piece: string): string => piece.replaceAll('\\', '\\\\').replaceAll('*', '\\*');
const wildcardOf = (glob: readonly string[]): string => glob.map(escapeWildcard).join('*');

function caseNote(path: string, notes: Notes): void {
  notes.add(`${path}: compared case-sensitively (Sigma ignores case; this EventBridge matcher cannot)`);
}

/** The EventBridge form of one positive matcher. */
function positiveEntry(path: string, matcher: Matcher, notes: Notes): unknown {
  switch (matcher.kind) {
    case 'literal':
      return matcher.value;
    case 'present':
      return { exists: true };
    case 'absent':
      return { exists: false };
    case 'cidr':
      return { cidr: matcher.block };
    case 'numeric':
      return { numeric: matcher.bounds.flat() };
    case 'text': {
      const { glob } = matcher;
      const ignoreCase = matcher.mode === 'ignore-case' && glob.some(hasCase);
      const [first = '', second] = glob;
      const text = (value: string): unknown => (ignoreCase ? { 'equals-ignore-case': value } : value);
      if (glob.length === 1) return text(first);
      if (glob.length === 2 && second === '') return { prefix: text(first) };
      if (glob.length === 2 && first === '' && second !== undefined) return { suffix: text(second) };
      if (ignoreCase) caseNote(path, notes);
      return { wildcard: wildcardOf(glob) };
    }
  }
}

const unique = (entries: unknown[]): unknown[] => {
  const seen = new Set<string>();
  return entries.filter((entry) => {
    const key = JSON.stringify(entry);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

function cannotNegate(path: string, what: string): never {
  throw new SigmaInexpressibleError(`the condition negates ${what} on ${path}, which an EventBridge pattern cannot`);
}

/**
 * The EventBridge form of "none of these matchers": `anything-but` where one fits, plus `{"exists": false}` since
 * Sigma's `not` also holds for an event without the field.
 */
function negatedEntries(condition: FieldCondition, notes: Notes): unknown[] {
  const { field } = condition;
  const path = field.path;
  let matchers = [...condition.matchers];
  let absentMatches = condition.absentMatches;
  if (matchers.some((matcher) => matcher.kind === 'present')) {
    // Not (exists, or anything else): the field is missing.
    if (!absentMatches) throw new SigmaInexpressibleError(`the condition can never be true for ${path}`);
    return [{ exists: false }];
  }
  if (matchers.some((matcher) => matcher.kind === 'absent')) {
    // Not (missing, or X): present, and not X.
    absentMatches = false;
    matchers = matchers.filter((matcher) => matcher.kind !== 'absent');
  }
  const absent = absentMatches ? [{ exists: false }] : [];
  if (matchers.length === 0) return [{ exists: true }];
  if (field.inList) {
    cannotNegate(
      path,
      `a value (${field.path.split('.')[0]} is a list, and anything-but would match when any one element differs)`,
    );
  }
  const isNull = (matcher: Matcher): boolean => matcher.kind === 'literal' && matcher.value === null;
  if (matchers.some(isNull)) {
    const rest = matchers.filter((matcher) => !isNull(matcher));
    if (rest.length === 0 && !absentMatches) {
      // Present and not null.
      if (field.type === 'string') return [{ prefix: '' }];
      if (field.type === 'boolean') return [true, false];
    }
    if (field.type !== 'boolean') cannotNegate(path, 'null (anything-but cannot exclude null)');
  }
  if (field.type === 'boolean') {
    const excluded = new Set(matchers.map((matcher) => (matcher.kind === 'literal' ? matcher.value : undefined)));
    if (excluded.has(undefined)) cannotNegate(path, 'a test other than true, false or null');
    return [...[true, false, null].filter((value) => !excluded.has(value)), ...absent];
  }
  if (field.type === 'number') {
    const numbers = matchers.map((matcher) =>
      matcher.kind === 'literal' && typeof matcher.value === 'number' ? matcher.value : undefined,
    );
    if (numbers.some((value) => value === undefined)) cannotNegate(path, 'a numeric comparison');
    return [...absent, { 'anything-but': numbers.length === 1 ? numbers[0] : numbers }];
  }
  const texts = matchers.filter((matcher): matcher is Extract<Matcher, { kind: 'text' }> => matcher.kind === 'text');
  if (texts.length !== matchers.length) {
    const other = matchers.find((matcher) => matcher.kind !== 'text');
    cannotNegate(path, other?.kind === 'cidr' ? 'a cidr block' : 'a test other than text');
  }
  const caseless = (matcher: (typeof texts)[number]): boolean => !matcher.glob.some(hasCase);
  const [only] = texts;
  if (texts.every((matcher) => matcher.glob.length === 1)) {
    const values = texts.map((matcher) => matcher.glob[0] ?? '');
    if (texts.every((matcher) => matcher.mode === 'exact' || caseless(matcher))) {
      return [...absent, { 'anything-but': values.length === 1 ? values[0] : values }];
    }
    if (texts.every((matcher) => matcher.mode === 'ignore-case' || caseless(matcher))) {
      return [...absent, { 'anything-but': { 'equals-ignore-case': values.length === 1 ? values[0] : values } }];
    }
  }
  if (texts.some((matcher) => matcher.mode === 'ignore-case' && !caseless(matcher))) caseNote(path, notes);
  if (texts.length === 1 && only !== undefined && only.glob.length === 2) {
    const [first = '', second = ''] = only.glob;
    if (second === '' && first !== '') return [...absent, { 'anything-but': { prefix: first } }];
    if (first === '' && second !== '') return [...absent, { 'anything-but': { suffix: second } }];
  }
  const wildcards = texts.map((matcher) => wildcardOf(matcher.glob));
  return [...absent, { 'anything-but': { wildcard: wildcards.length === 1 ? wildcards[0] : wildcards } }];
}

function entriesOf(condition: FieldCondition, notes: Notes): unknown[] {
  if (condition.negated) return negatedEntries(condition, notes);
  return unique(condition.matchers.map((matcher) => positiveEntry(condition.field.path, matcher, notes)));
}

/** The conditions as a nested pattern object: `debugContext.debugData.behaviors` becomes three levels. */
function patternObject(conditions: Iterable<FieldCondition>, notes: Notes): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const condition of conditions) {
    const parts = condition.field.path.split('.');
    const leaf = parts.pop() ?? condition.field.path;
    let node = root;
    for (const part of parts) {
      const child = node[part] ?? {};
      if (typeof child !== 'object' || child === null || Array.isArray(child)) {
        throw new SigmaInexpressibleError(`the condition tests both ${part} and a field inside it`);
      }
      node[part] = child;
      node = child as Record<string, unknown>;
    }
    if (Object.hasOwn(node, leaf)) {
      throw new SigmaInexpressibleError(`the condition tests both ${condition.field.path} and a field inside it`);
    }
    node[leaf] = entriesOf(condition, notes);
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// Alternatives

function alternativeOf(conjunction: Conjunction): Alternative | Never {
  const byPath = new Map<string, Literal[]>();
  for (const literal of conjunction) {
    const list = byPath.get(literal.test.field.path);
    if (list === undefined) byPath.set(literal.test.field.path, [literal]);
    else list.push(literal);
  }
  const alternative = new Map<string, FieldCondition>();
  for (const [path, literals] of byPath) {
    const condition = reduceField(literals);
    if (condition === NEVER) return NEVER;
    alternative.set(path, condition);
  }
  return alternative;
}

const keysOf = (alternative: Alternative): Map<string, string> =>
  new Map([...alternative].map(([path, condition]) => [path, conditionKey(condition)]));

/** Drops alternatives that ask for more than another one does: A or (A and B) is A. */
function absorb(alternatives: readonly Alternative[]): Alternative[] {
  const keys = alternatives.map(keysOf);
  const implies = (small: Map<string, string>, large: Map<string, string>): boolean =>
    [...small].every(([path, key]) => large.get(path) === key);
  return alternatives.filter((_, index) => {
    const mine = keys[index] ?? new Map();
    return !keys.some(
      (other, otherIndex) =>
        otherIndex !== index && implies(other, mine) && (other.size < mine.size || otherIndex < index),
    );
  });
}

/** Joins two alternatives that differ in one field's positive values: (a=1 and b=2) or (a=1 and b=3) is a=1, b=2|3. */
function mergeOne(alternatives: Alternative[]): boolean {
  const keys = alternatives.map(keysOf);
  for (let i = 0; i < alternatives.length; i += 1) {
    for (let j = i + 1; j < alternatives.length; j += 1) {
      const [left, right] = [alternatives[i], alternatives[j]];
      const [leftKeys, rightKeys] = [keys[i], keys[j]];
      if (left === undefined || right === undefined || leftKeys === undefined || rightKeys === undefined) continue;
      if (leftKeys.size !== rightKeys.size) continue;
      const differing = [...leftKeys].filter(([path, key]) => rightKeys.get(path) !== key);
      const [difference] = differing;
      if (differing.length !== 1 || difference === undefined || !rightKeys.has(difference[0])) continue;
      const a = left.get(difference[0]);
      const b = right.get(difference[0]);
      if (a === undefined || b === undefined || a.negated || b.negated) continue;
      const merged = new Map(left);
      merged.set(difference[0], { ...a, matchers: uniqueMatchers([...a.matchers, ...b.matchers]) });
      alternatives.splice(j, 1);
      alternatives.splice(i, 1, merged);
      return true;
    }
  }
  return false;
}

function simplify(alternatives: readonly Alternative[]): Alternative[] {
  let current = absorb(alternatives);
  while (mergeOne(current)) current = absorb(current);
  return current;
}

function eventTypesOf(alternatives: readonly Alternative[], notes: Notes): string[] {
  const conditions = alternatives.map((alternative) => alternative.get(EVENT_TYPE));
  if (conditions.some((condition) => condition === undefined || condition.negated)) {
    throw new SigmaInexpressibleError(
      conditions.every((condition) => condition === undefined)
        ? 'the rule names no event type (eventType), and an olp Okta rule must list its event types in ' +
            'match.eventType: add the event types to the Sigma selection'
        : 'some alternative of the condition does not name its event types (eventType), or only excludes some',
    );
  }
  const keys = new Set(conditions.map((condition) => (condition === undefined ? '' : conditionKey(condition))));
  const [condition] = conditions;
  if (keys.size > 1 || condition === undefined) {
    throw new SigmaInexpressibleError(
      'the alternatives of the condition pair different event types with different conditions; an olp rule has ' +
        'one eventType list for all of them (split the Sigma rule in one rule per event type)',
    );
  }
  return [
    ...new Set(
      condition.matchers.map((matcher) => {
        if (matcher.kind !== 'text') {
          throw new SigmaInexpressibleError(`eventType is tested with ${describeMatchers([matcher])}, not named`);
        }
        if (matcher.glob.some((piece) => piece.includes('*'))) {
          throw new SigmaInexpressibleError('an event type with a literal * cannot be listed in match.eventType');
        }
        const entry = matcher.glob.join('*');
        if (matcher.mode === 'ignore-case' && entry !== entry.toLowerCase()) {
          notes.add('eventType: written in lower case, as Okta writes event types (EventBridge compares them exactly)');
          return entry.toLowerCase();
        }
        return entry;
      }),
    ),
  ];
}

function noteListElements(alternative: Alternative, notes: Notes): void {
  const byList = new Map<string, string[]>();
  for (const condition of alternative.values()) {
    if (!condition.field.inList || condition.negated) continue;
    const list = condition.field.path.startsWith('target.') ? 'target' : 'request.ipChain';
    byList.set(list, [...(byList.get(list) ?? []), condition.field.path]);
  }
  for (const [list, paths] of byList) {
    if (paths.length < 2) continue;
    notes.add(
      `${paths.join(', ')}: must hold for the same element of ${list} (EventBridge matches a list element by ` +
        'element); a SIEM may take them from different elements',
    );
  }
}

/**
 * The `match` of an olp Okta rule for the alternatives of a Sigma condition: eventType from the event types every
 * alternative names, and `where` from the rest (the fields all alternatives test alike, then `$or` for the others).
 * Throws {@link SigmaInexpressibleError} when no pattern says the same.
 */
export function oktaMatchOf(conjunctions: readonly Conjunction[], notes: Notes): OktaMatch {
  const satisfiable = conjunctions
    .map(alternativeOf)
    .filter((alternative): alternative is Alternative => alternative !== NEVER);
  if (satisfiable.length === 0) throw new SigmaInexpressibleError('the condition can never be true');
  const alternatives = simplify(satisfiable);
  const eventType = eventTypesOf(alternatives, notes);
  for (const alternative of alternatives) noteListElements(alternative, notes);
  const rests = alternatives.map((alternative) => new Map([...alternative].filter(([path]) => path !== EVENT_TYPE)));
  const [first, ...others] = rests;
  if (first === undefined) throw new SigmaInexpressibleError('the condition can never be true');
  const common = [...first].filter(([path, condition]) =>
    others.every((rest) => {
      const other = rest.get(path);
      return other !== undefined && conditionKey(other) === conditionKey(condition);
    }),
  );
  const commonPaths = new Set(common.map(([path]) => path));
  const different = rests.map((rest) => [...rest].filter(([path]) => !commonPaths.has(path)));
  const where = patternObject(
    common.map(([, condition]) => condition),
    notes,
  );
  // An alternative with nothing beyond the common part makes the others redundant.
  if (different.length > 1 && different.every((rest) => rest.length > 0)) {
    where.$or = different.map((rest) =>
      patternObject(
        rest.map(([, condition]) => condition),
        notes,
      ),
    );
  }
  return Object.keys(where).length === 0 ? { eventType } : { eventType, where };
}
