import { type FieldTerm, findTooComplexField, WILDCARD_COMPLEXITY_LIMIT } from './complexity.ts';
import { InvalidEventPatternError } from './errors.ts';
import {
  caseInsensitiveAnyTest,
  caseInsensitiveTest,
  cidrContains,
  comparableNumber,
  isPlainObject,
  matchesWildcard,
  NUMERIC_LIMIT,
  parseCidr,
  parseWildcard,
  type Scalar,
  type Wildcard,
} from './values.ts';

/** Default EventBridge quota on the size of an event pattern, in characters (adjustable per account). */
export const DEFAULT_MAX_PATTERN_SIZE = 2048;

/**
 * Not stated by the guide: every `$or` multiplies the combinations a pattern stands for, so a short
 * pattern could stand for millions. Patterns beyond this many combinations are refused.
 */
export const MAX_OR_COMBINATIONS = 1000;

export interface PatternOptions {
  /** Size quota in characters of the pattern's compact JSON form; defaults to {@link DEFAULT_MAX_PATTERN_SIZE}. */
  readonly maxPatternSize?: number;
}

type ValueTest = (value: Scalar) => boolean;

/** What one pattern field asks of the event values found at its dot-joined path. */
export interface Condition {
  readonly path: string;
  /** Where the field is written in the pattern, e.g. `$or[1].detail.path`. */
  readonly where: string;
  /** The field's values and operators, as the wildcard complexity check sees them. */
  readonly terms: readonly FieldTerm[];
  /** True when a present value satisfies one of the field's values or operators. */
  readonly accepts: ValueTest;
  /** The field lists at least one value or operator a present value can satisfy. */
  readonly needsValue: boolean;
  /** The field lists `{"exists": false}`, so having no value at the path also satisfies it. */
  readonly acceptsAbsence: boolean;
}

/** One alternative of the pattern once every `$or` is spread out: all conditions must hold. */
export type Branch = readonly Condition[];

export interface CompiledPattern {
  readonly branches: readonly Branch[];
  /** Every path a condition reads. */
  readonly leafPaths: ReadonlySet<string>;
  /** Every proper dot-prefix of those paths, i.e. the objects worth descending into. */
  readonly prefixPaths: ReadonlySet<string>;
}

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
  'wildcard',
]);

function fail(where: string, reason: string): never {
  throw new InvalidEventPatternError(where, reason);
}

function singleEntry(expression: Record<string, unknown>, where: string, context: string): [string, unknown] {
  const entries = Object.entries(expression);
  const [entry] = entries;
  if (entry === undefined) fail(where, `${context} must contain exactly one operator, found none`);
  if (entries.length > 1) {
    fail(where, `${context} must contain exactly one operator, found ${entries.map(([key]) => `"${key}"`).join(', ')}`);
  }
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Operators

function stringOnly(test: (value: string) => boolean): ValueTest {
  return (value) => typeof value === 'string' && test(value);
}

function compileWildcard(text: string, where: string): Wildcard {
  const parsed = parseWildcard(text);
  if (typeof parsed === 'string') fail(where, parsed);
  return parsed;
}

/** `prefix` and `suffix` take a string, or `{"equals-ignore-case": string}` to ignore case. */
function compileAffix(operand: unknown, where: string, mode: 'prefix' | 'suffix'): ValueTest {
  if (typeof operand === 'string') {
    return mode === 'prefix'
      ? stringOnly((value) => value.startsWith(operand))
      : stringOnly((value) => value.endsWith(operand));
  }
  if (isPlainObject(operand)) {
    const [key, text] = singleEntry(operand, where, mode);
    if (key !== 'equals-ignore-case') fail(where, `${mode} does not support "${key}", only "equals-ignore-case"`);
    if (typeof text !== 'string') fail(where, `${mode} equals-ignore-case match pattern must be a string`);
    return stringOnly(caseInsensitiveTest(text, mode));
  }
  return fail(where, `${mode} match pattern must be a string`);
}

function checkedNumber(value: unknown, where: string, context: string): number {
  const comparable = typeof value === 'number' ? comparableNumber(value) : undefined;
  if (comparable === undefined) {
    fail(
      where,
      `${context} must be a number between -${NUMERIC_LIMIT.toExponential(1)} and ${NUMERIC_LIMIT.toExponential(1)}`,
    );
  }
  return comparable;
}

const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

function compileNumeric(operand: unknown, where: string): ValueTest {
  if (!Array.isArray(operand)) fail(where, 'numeric match pattern must be an array');
  if (operand.length !== 2 && operand.length !== 4) {
    fail(where, 'numeric takes one comparison such as [">", 0] or a range such as [">", 0, "<=", 5]');
  }
  const [firstOperator, firstValue, secondOperator, secondValue] = operand;
  if (
    typeof firstOperator !== 'string' ||
    (firstOperator !== '=' && !LOWER_BOUNDS.has(firstOperator) && !UPPER_BOUNDS.has(firstOperator))
  ) {
    fail(where, `unrecognized numeric operator ${JSON.stringify(firstOperator)}`);
  }
  const first = checkedNumber(firstValue, where, `numeric value for "${firstOperator}"`);
  const inRange = (value: Scalar): number | undefined =>
    typeof value === 'number' ? comparableNumber(value) : undefined;
  if (operand.length === 2) {
    const compare: Record<string, (value: number) => boolean> = {
      '=': (value) => value === first,
      '>': (value) => value > first,
      '>=': (value) => value >= first,
      '<': (value) => value < first,
      '<=': (value) => value <= first,
    };
    const test = compare[firstOperator];
    if (test === undefined) return fail(where, `unrecognized numeric operator "${firstOperator}"`);
    return (value) => {
      const comparable = inRange(value);
      return comparable !== undefined && test(comparable);
    };
  }
  // The only two-sided form the guide shows is a lower bound followed by an upper bound.
  if (!LOWER_BOUNDS.has(firstOperator)) fail(where, 'a numeric range must start with ">" or ">="');
  if (typeof secondOperator !== 'string' || !UPPER_BOUNDS.has(secondOperator)) {
    fail(where, 'a numeric range must end with "<" or "<="');
  }
  const second = checkedNumber(secondValue, where, `numeric value for "${secondOperator}"`);
  if (first >= second) fail(where, 'numeric range lower bound must be less than its upper bound');
  const openBottom = firstOperator === '>';
  const openTop = secondOperator === '<';
  return (value) => {
    const comparable = inRange(value);
    if (comparable === undefined) return false;
    const aboveBottom = openBottom ? comparable > first : comparable >= first;
    const belowTop = openTop ? comparable < second : comparable <= second;
    return aboveBottom && belowTop;
  };
}

function compileCidr(operand: unknown, where: string): ValueTest {
  if (typeof operand !== 'string') fail(where, 'cidr match pattern must be a string');
  const block = parseCidr(operand);
  if (typeof block === 'string') fail(where, block);
  return stringOnly((value) => cidrContains(block, value));
}

/** How a JSON value is named in error messages. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return `the number ${value}`;
  return String(value);
}

const ANYTHING_BUT_FORMS =
  'a string, a number, a non-empty list of strings or of numbers, or an object with one of prefix, suffix, ' +
  'equals-ignore-case or wildcard';

type AnythingButOperator = 'prefix' | 'suffix' | 'equals-ignore-case' | 'wildcard';

/**
 * The operand of anything-but's prefix, suffix, equals-ignore-case or wildcard: one string or a list of strings.
 * The rule engine's compiler takes an empty list without complaint, but neither the guide nor the engine's tests
 * say what it would match (excluding nothing, it would let every value through), so it is refused as a mistake.
 */
function anythingButOperands(operand: unknown, where: string, operator: AnythingButOperator): string[] {
  const context = `anything-but ${operator}`;
  if (typeof operand === 'string') {
    if (operand === '' && (operator === 'prefix' || operator === 'suffix')) fail(where, `${context} must not be empty`);
    return [operand];
  }
  if (!Array.isArray(operand)) {
    // e.g. {"anything-but": {"prefix": {"equals-ignore-case": "x"}}}: EventBridge has no such form.
    return fail(where, `${context} takes a string or a non-empty list of strings, not ${kindOf(operand)}`);
  }
  if (operand.length === 0) fail(where, `${context} list must not be empty`);
  operand.forEach((item, index) => {
    if (typeof item !== 'string') {
      fail(where, `${context} list item ${index} must be a string, not ${kindOf(item)}`);
    }
    if (item === '' && (operator === 'prefix' || operator === 'suffix')) {
      fail(where, `${context} list item ${index} must not be empty`);
    }
  });
  return operand;
}

interface CompiledTest {
  readonly test: ValueTest;
  /** Wildcard texts the test matches with, for the complexity check. */
  readonly wildcards: readonly string[];
}

const noWildcards: readonly string[] = [];

/** anything-but with prefix, suffix, equals-ignore-case or wildcard: a string value must match none of the operands. */
function compileAnythingButOperator(operator: string, operand: unknown, where: string): CompiledTest {
  switch (operator) {
    case 'prefix':
    case 'suffix': {
      const affixes = anythingButOperands(operand, where, operator);
      const [only] = affixes;
      const test: ValueTest =
        affixes.length === 1 && only !== undefined
          ? operator === 'prefix'
            ? (value) => typeof value !== 'string' || !value.startsWith(only)
            : (value) => typeof value !== 'string' || !value.endsWith(only)
          : operator === 'prefix'
            ? (value) => typeof value !== 'string' || !affixes.some((affix) => value.startsWith(affix))
            : (value) => typeof value !== 'string' || !affixes.some((affix) => value.endsWith(affix));
      return { test, wildcards: noWildcards };
    }
    case 'equals-ignore-case': {
      const excluded = caseInsensitiveAnyTest(anythingButOperands(operand, where, operator), 'equals');
      return { test: (value) => typeof value !== 'string' || !excluded(value), wildcards: noWildcards };
    }
    case 'wildcard': {
      const texts = anythingButOperands(operand, where, operator);
      const wildcards = texts.map((text) => compileWildcard(text, where));
      return {
        test: (value) => typeof value !== 'string' || !wildcards.some((wildcard) => matchesWildcard(wildcard, value)),
        wildcards: texts,
      };
    }
    default:
      return fail(
        where,
        `anything-but does not support "${operator}", only prefix, suffix, equals-ignore-case and wildcard`,
      );
  }
}

/**
 * anything-but matches any value the event has at the field, of any type, unless it is excluded: an exclusion by
 * string, prefix, suffix, case or wildcard lets numbers, booleans and null through, as EventBridge does.
 * A missing field has no value and so never matches it.
 */
function compileAnythingBut(operand: unknown, where: string): CompiledTest {
  if (isPlainObject(operand)) {
    const [operator, inner] = singleEntry(operand, where, 'anything-but');
    return compileAnythingButOperator(operator, inner, where);
  }
  const values: unknown[] | undefined =
    typeof operand === 'string' || typeof operand === 'number'
      ? [operand]
      : Array.isArray(operand)
        ? operand
        : undefined;
  if (values === undefined) fail(where, `anything-but takes ${ANYTHING_BUT_FORMS}, not ${kindOf(operand)}`);
  if (values.length === 0) fail(where, 'anything-but list must not be empty');
  if (values.every((item) => typeof item === 'string')) {
    const excluded = new Set<string>(values);
    return { test: (value) => typeof value !== 'string' || !excluded.has(value), wildcards: noWildcards };
  }
  if (values.every((item) => typeof item === 'number')) {
    const excluded = new Set(values.map((item) => checkedNumber(item, where, 'anything-but number')));
    return {
      test: (value) => {
        const comparable = typeof value === 'number' ? comparableNumber(value) : undefined;
        return comparable === undefined || !excluded.has(comparable);
      },
      wildcards: noWildcards,
    };
  }
  const odd = values.find((item) => typeof item !== 'string' && typeof item !== 'number');
  return fail(
    where,
    odd !== undefined && isPlainObject(odd)
      ? 'anything-but list values must be all strings or all numbers; to exclude by prefix, suffix, case or ' +
          'wildcard write {"anything-but": {"prefix": [...]}} and the like'
      : 'anything-but list values must be all strings or all numbers',
  );
}

type Operator =
  | { readonly kind: 'test'; readonly test: ValueTest; readonly wildcards: readonly string[] }
  | { readonly kind: 'exists'; readonly exists: boolean };

function compileOperator(expression: Record<string, unknown>, where: string): Operator {
  const [name, operand] = singleEntry(expression, where, 'a match expression');
  const test = (compiled: ValueTest, wildcards = noWildcards): Operator => ({
    kind: 'test',
    test: compiled,
    wildcards,
  });
  switch (name) {
    case 'prefix':
    case 'suffix':
      return test(compileAffix(operand, where, name));
    case 'equals-ignore-case': {
      if (typeof operand !== 'string') fail(where, 'equals-ignore-case match pattern must be a string');
      return test(stringOnly(caseInsensitiveTest(operand, 'equals')));
    }
    case 'wildcard': {
      if (typeof operand !== 'string') fail(where, 'wildcard match pattern must be a string');
      const wildcard = compileWildcard(operand, where);
      return test(
        stringOnly((value) => matchesWildcard(wildcard, value)),
        [operand],
      );
    }
    case 'numeric':
      return test(compileNumeric(operand, where));
    case 'cidr':
      return test(compileCidr(operand, where));
    case 'anything-but': {
      const compiled = compileAnythingBut(operand, where);
      return test(compiled.test, compiled.wildcards);
    }
    case 'exists':
      if (typeof operand !== 'boolean') fail(where, 'exists match pattern must be true or false');
      return { kind: 'exists', exists: operand };
    default:
      return fail(where, `unrecognized match type "${name}"`);
  }
}

// ---------------------------------------------------------------------------------------------
// Fields, objects and $or

function compileField(items: readonly unknown[], path: string, where: string): Condition {
  if (items.length === 0) fail(where, 'empty arrays are not allowed');
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const literals = new Set<boolean | null>();
  const tests: ValueTest[] = [];
  const terms: FieldTerm[] = [];
  let anyValue = false;
  let acceptsAbsence = false;
  items.forEach((item, index) => {
    const itemWhere = `${where}[${index}]`;
    let wildcards = noWildcards;
    if (typeof item === 'string') {
      strings.add(item);
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) fail(itemWhere, 'numbers must be finite');
      numbers.add(item);
    } else if (typeof item === 'boolean' || item === null) {
      literals.add(item);
    } else if (isPlainObject(item)) {
      const operator = compileOperator(item, itemWhere);
      if (operator.kind === 'test') {
        tests.push(operator.test);
        wildcards = operator.wildcards;
      } else if (operator.exists) anyValue = true;
      else acceptsAbsence = true;
    } else {
      fail(itemWhere, 'match values must be strings, numbers, true, false, null or match expressions');
    }
    terms.push({ identity: JSON.stringify(item), wildcards });
  });
  // Plain values match exactly: strings character by character, numbers and literals by equality.
  const accepts: ValueTest = (value) =>
    anyValue ||
    (typeof value === 'string'
      ? strings.has(value)
      : typeof value === 'number'
        ? numbers.has(value)
        : literals.has(value)) ||
    tests.some((test) => test(value));
  const needsValue = anyValue || strings.size + numbers.size + literals.size + tests.length > 0;
  return { path, where, terms, accepts, needsValue, acceptsAbsence };
}

type BranchBuilder = Map<string, Condition>;

function joinWhere(where: string, key: string): string {
  return where === '' ? key : `${where}.${key}`;
}

function compileOr(
  alternatives: unknown,
  path: string,
  where: string,
  branches: readonly BranchBuilder[],
): BranchBuilder[] {
  if (!Array.isArray(alternatives) || alternatives.length < 2)
    fail(where, '$or must be an array of at least 2 objects');
  const next: BranchBuilder[] = [];
  alternatives.forEach((alternative, index) => {
    const alternativeWhere = `${where}[${index}]`;
    if (!isPlainObject(alternative)) fail(alternativeWhere, '$or must be an array of at least 2 objects');
    const copies = branches.map((branch) => new Map(branch));
    next.push(...compileObject(alternative, path, alternativeWhere, copies, true));
    if (next.length > MAX_OR_COMBINATIONS) {
      fail(where, `$or combinations exceed ${MAX_OR_COMBINATIONS}; split the rule into several rules`);
    }
  });
  return next;
}

/**
 * Adds the conditions of one pattern object to every branch built so far, spreading each `$or`
 * into one branch per alternative. Nested keys join with "." so a dotted key and the equivalent
 * nesting name the same field; when a field is given twice only the last one counts.
 */
function compileObject(
  object: Record<string, unknown>,
  path: string,
  where: string,
  branches: BranchBuilder[],
  insideOr: boolean,
): BranchBuilder[] {
  const entries = Object.entries(object);
  if (entries.length === 0) fail(where, 'empty objects are not allowed');
  let current = branches;
  for (const [key, value] of entries) {
    if (key === '$or') {
      current = compileOr(value, path, joinWhere(where, key), current);
      continue;
    }
    const fieldPath = path === '' ? key : `${path}.${key}`;
    const fieldWhere = joinWhere(where, key);
    if (insideOr && OPERATORS.has(key))
      fail(fieldWhere, `"${key}" is an operator and cannot be a field name inside $or`);
    if (Array.isArray(value)) {
      const condition = compileField(value, fieldPath, fieldWhere);
      for (const branch of current) branch.set(fieldPath, condition);
    } else if (isPlainObject(value)) {
      current = compileObject(value, fieldPath, fieldWhere, current, insideOr);
    } else {
      fail(fieldWhere, 'must be an object or an array');
    }
  }
  return current;
}

function checkSize(pattern: unknown, maxSize: number): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(pattern);
  } catch {
    fail('', 'pattern must be JSON');
  }
  if (json === undefined) fail('', 'pattern must be a JSON object');
  const size = Array.from(json).length;
  if (size > maxSize) fail('', `pattern is ${size} characters, over the ${maxSize}-character event pattern size quota`);
}

export function compile(pattern: unknown, options: PatternOptions = {}): CompiledPattern {
  checkSize(pattern, options.maxPatternSize ?? DEFAULT_MAX_PATTERN_SIZE);
  if (!isPlainObject(pattern)) fail('', 'pattern must be a JSON object');
  const built = compileObject(pattern, '', '', [new Map()], false);
  const tooComplex = findTooComplexField(built.map((branch) => [...branch.values()]));
  if (tooComplex !== undefined) {
    fail(
      tooComplex.where,
      `rule is too complex: its wildcards reach complexity ${tooComplex.complexity}, EventBridge refuses ` +
        `${WILDCARD_COMPLEXITY_LIMIT} or more; use fewer wildcard characters or fewer repeating character ` +
        'sequences after a wildcard character',
    );
  }
  const leafPaths = new Set<string>();
  const prefixPaths = new Set<string>();
  const branches = built.map((branch) => {
    const conditions = [...branch.values()];
    for (const { path } of conditions) {
      leafPaths.add(path);
      for (let dot = path.indexOf('.'); dot >= 0; dot = path.indexOf('.', dot + 1)) prefixPaths.add(path.slice(0, dot));
    }
    // Conditions that pick a value go first; conditions satisfied only by absence are checked last.
    return [...conditions.filter((condition) => condition.needsValue), ...conditions.filter((c) => !c.needsValue)];
  });
  return { branches, leafPaths, prefixPaths };
}
