import { isPlainObject } from '../../pattern/values.ts';
import { type ConditionNode, identifierMatches, parseCondition } from './condition.ts';
import { SigmaInexpressibleError, SigmaRuleError } from './errors.ts';
import { type FieldTest, fieldTestsOf } from './field-tests.ts';
import type { Notes } from './notes.ts';

/** A Sigma detection as a boolean expression over field tests. */
export type Expression =
  | { readonly kind: 'and' | 'or'; readonly items: readonly Expression[] }
  | { readonly kind: 'not'; readonly item: Expression }
  | { readonly kind: 'test'; readonly test: FieldTest };

/** A field test as it stands in one alternative of the condition: it must hold, or (negated) must not. */
export interface Literal {
  readonly test: FieldTest;
  readonly negated: boolean;
}

/** One alternative of the condition once every `or` is spread out: all of its literals must hold. */
export type Conjunction = readonly Literal[];

/**
 * Spreading `or` inside `and` multiplies alternatives; past this many the EventBridge pattern would be far over its
 * size quota anyway, so the work stops early.
 */
export const MAX_ALTERNATIVES = 256;

/** Keys of `detection` that are not search identifiers. */
const NOT_IDENTIFIERS = new Set(['condition', 'timeframe']);

const and = (items: Expression[]): Expression => (items.length === 1 && items[0] ? items[0] : { kind: 'and', items });
const or = (items: Expression[]): Expression => (items.length === 1 && items[0] ? items[0] : { kind: 'or', items });

function mapExpression(map: Record<string, unknown>, where: string, notes: Notes): Expression {
  const entries = Object.entries(map);
  if (entries.length === 0) throw new SigmaRuleError(where, 'is an empty map');
  return and(
    entries.map(([key, value]) => {
      const { tests, negated } = fieldTestsOf(key, value, `${where}.${key}`, notes);
      const expression = and(tests.map((test): Expression => ({ kind: 'test', test })));
      return negated ? { kind: 'not', item: expression } : expression;
    }),
  );
}

/** A search identifier: a map (all its fields), or a list of maps (any one of them). */
function identifierExpression(name: string, value: unknown, notes: Notes): Expression {
  const where = `detection.${name}`;
  if (isPlainObject(value)) return mapExpression(value, where, notes);
  const keyword = (item: unknown): boolean => typeof item === 'string' || typeof item === 'number';
  if (Array.isArray(value)) {
    if (value.length === 0) throw new SigmaRuleError(where, 'is an empty list');
    if (value.every(isPlainObject)) {
      return or(value.map((item, index) => mapExpression(item, `${where}.${index}`, notes)));
    }
  }
  if (keyword(value) || (Array.isArray(value) && value.every(keyword))) {
    throw new SigmaInexpressibleError(
      `${where}: a keyword search over the whole event; EventBridge patterns match named fields`,
    );
  }
  throw new SigmaRuleError(where, 'must be a map of fields, a list of maps or a list of keywords');
}

/** The detection's search identifiers and the expression each stands for, built on first use. */
class Identifiers {
  private readonly built = new Map<string, Expression>();
  readonly names: readonly string[];

  constructor(
    private readonly detection: Record<string, unknown>,
    private readonly notes: Notes,
  ) {
    this.names = Object.keys(detection).filter((name) => !NOT_IDENTIFIERS.has(name));
  }

  expression(name: string): Expression {
    let expression = this.built.get(name);
    if (expression === undefined) {
      if (!this.names.includes(name)) {
        throw new SigmaRuleError('detection.condition', `names "${name}", which the detection does not define`);
      }
      expression = identifierExpression(name, this.detection[name], this.notes);
      this.built.set(name, expression);
    }
    return expression;
  }

  matching(target: string): string[] {
    // `them` leaves out identifiers starting with `_`, by Sigma convention.
    const names =
      target.toLowerCase() === 'them'
        ? this.names.filter((name) => !name.startsWith('_'))
        : this.names.filter((name) => identifierMatches(target, name));
    if (names.length === 0) {
      throw new SigmaRuleError('detection.condition', `"of ${target}" matches no search identifier`);
    }
    return names;
  }
}

function conditionExpression(node: ConditionNode, identifiers: Identifiers): Expression {
  switch (node.kind) {
    case 'and':
      return and(node.items.map((item) => conditionExpression(item, identifiers)));
    case 'or':
      return or(node.items.map((item) => conditionExpression(item, identifiers)));
    case 'not':
      return { kind: 'not', item: conditionExpression(node.item, identifiers) };
    case 'identifier':
      return identifiers.expression(node.name);
    case 'of': {
      const items = identifiers.matching(node.target).map((name) => identifiers.expression(name));
      return node.quantifier === 'all' ? and(items) : or(items);
    }
  }
}

/**
 * The expression of a detection: its condition (or, for a list of conditions, any of them) over its search
 * identifiers.
 */
export function detectionExpression(detection: Record<string, unknown>, notes: Notes): Expression {
  const raw = detection.condition;
  const conditions = Array.isArray(raw) ? raw : [raw];
  if (raw === undefined || conditions.length === 0) throw new SigmaRuleError('detection.condition', 'is missing');
  const identifiers = new Identifiers(detection, notes);
  return or(
    conditions.map((condition, index) => {
      if (typeof condition !== 'string') {
        throw new SigmaRuleError(
          Array.isArray(raw) ? `detection.condition.${index}` : 'detection.condition',
          'must be a string',
        );
      }
      return conditionExpression(parseCondition(condition), identifiers);
    }),
  );
}

function tooMany(): never {
  throw new SigmaInexpressibleError(
    `the condition spreads out into more than ${MAX_ALTERNATIVES} alternatives; split the rule into several`,
  );
}

/** The alternatives of an expression (disjunctive normal form), with every `not` pushed down onto a field test. */
export function alternativesOf(expression: Expression, negated = false): Conjunction[] {
  switch (expression.kind) {
    case 'test':
      return [[{ test: expression.test, negated }]];
    case 'not':
      return alternativesOf(expression.item, !negated);
    case 'and':
    case 'or': {
      const parts = expression.items.map((item) => alternativesOf(item, negated));
      // De Morgan: under `not`, and becomes or and or becomes and.
      if ((expression.kind === 'or') !== negated) {
        const all = parts.flat();
        if (all.length > MAX_ALTERNATIVES) tooMany();
        return all;
      }
      if (parts.reduce((count, part) => count * part.length, 1) > MAX_ALTERNATIVES) tooMany();
      return parts.reduce<Conjunction[]>(
        (combined, part) => combined.flatMap((left) => part.map((right) => [...left, ...right])),
        [[]],
      );
    }
  }
}
