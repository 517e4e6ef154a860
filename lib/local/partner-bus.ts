import { type Condition, compile } from '../pattern/compile.ts';
import { isPlainObject, isScalar, type Scalar } from '../pattern/values.ts';
import { matchingRules } from '../rules/index.ts';
import type { CompiledAlertRule } from '../rules/types.ts';

/**
 * The partner event bus of the local pipeline: which alert rules an envelope matches, in rule order, exactly as
 * `matchingRules` (the pattern engine) says.
 *
 * The engine gathers every field a rule reads from the whole event before it tests any, for each rule; most rules
 * cannot match most events (another event type, another source). So each rule is first checked the cheap way: a
 * pattern matches only if one of its branches (its alternatives once every `$or` is spread out) finds, at the path of
 * each condition that absence does not satisfy, a value that condition accepts. That is the engine's own first test
 * of a branch, minus the rule that values drawn from one array must come from one element, so it never turns away a
 * rule the engine would match. Values are read once per event and path; rules that pass go through the engine.
 */
export class PartnerBus<T extends CompiledAlertRule> {
  private readonly gates: ReadonlyArray<{ readonly rule: T; readonly branches: readonly Branch[] }>;

  constructor(private readonly rules: readonly T[]) {
    this.gates = rules.map((rule) => ({ rule, branches: branchesOf(rule.pattern) }));
  }

  /** The rules whose pattern matches `envelope`, in rule order. */
  matching(envelope: unknown): T[] {
    if (!isPlainObject(envelope)) return matchingRules(this.rules, envelope);
    // Plain loops, no closures: this runs for every rule and event.
    const read = new Map<string, readonly Scalar[]>();
    const candidates: T[] = [];
    for (const { rule, branches } of this.gates) {
      for (const branch of branches) {
        if (mayMatch(branch, envelope, read)) {
          candidates.push(rule);
          break;
        }
      }
    }
    return candidates.length === 0 ? [] : matchingRules(candidates, envelope);
  }
}

/** Whether every condition of the branch finds a value it accepts; values are read once per path into `read`. */
const mayMatch = (branch: Branch, envelope: Record<string, unknown>, read: Map<string, readonly Scalar[]>): boolean => {
  for (const condition of branch) {
    let values = read.get(condition.path);
    if (values === undefined) {
      values = fieldValues(envelope, condition.path);
      read.set(condition.path, values);
    }
    let accepted = false;
    for (const value of values) {
      if (condition.accepts(value)) {
        accepted = true;
        break;
      }
    }
    if (!accepted) return false;
  }
  return true;
};

/** The conditions of one branch that a value must satisfy (absence satisfies none of them). */
type Branch = readonly Pick<Condition, 'path' | 'accepts'>[];

/** Every branch of the pattern, as the engine compiles it, with the conditions that need a value. */
const branchesOf = (pattern: unknown): Branch[] =>
  // The rule's pattern was validated when it was compiled; the size quota is the deployment's concern, not this one's.
  compile(pattern, { maxPatternSize: Number.POSITIVE_INFINITY }).branches.map((branch) =>
    branch.filter((condition) => !condition.acceptsAbsence),
  );

/**
 * The values the engine finds at one dot-joined path: keys are joined with `.` (so a dotted key and nesting name the
 * same path), arrays are spread into their elements at any depth, only plain objects are descended into, and only
 * scalars are values.
 */
const fieldValues = (event: Record<string, unknown>, path: string): Scalar[] => {
  const found: Scalar[] = [];
  visitObject(event, '', path, found);
  return found;
};

const visitObject = (object: Record<string, unknown>, at: string, path: string, found: Scalar[]): void => {
  for (const key of Object.keys(object)) {
    const child = at === '' ? key : `${at}.${key}`;
    if (child === path || path.startsWith(`${child}.`)) visit(object[key], child, path, found);
  }
};

const visit = (value: unknown, at: string, path: string, found: Scalar[]): void => {
  if (Array.isArray(value)) {
    for (const element of value) visit(element, at, path, found);
  } else if (isPlainObject(value)) {
    if (path.startsWith(`${at}.`)) visitObject(value, at, path, found);
  } else if (isScalar(value) && at === path) {
    found.push(value);
  }
};
