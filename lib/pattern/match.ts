import type { Branch, CompiledPattern } from './compile.ts';
import { isPlainObject, isScalar, type Scalar } from './values.ts';

/**
 * Which element of which event array a value came from, as flat [arrayId, index, ...] pairs.
 * Values drawn from different elements of the same array can never satisfy one match together,
 * so `{"target": {"type": ["User"], "id": ["x"]}}` needs one target element with both.
 */
type Membership = readonly number[];

interface Field {
  readonly value: Scalar;
  readonly membership: Membership;
}

/**
 * Flattens the parts of an event a pattern reads into leaf values by dot-joined path. Arrays are
 * spread into their elements (at any depth); objects and empty arrays are not leaf values, so a
 * field holding one has no value at its own path.
 */
function collectFields(event: Record<string, unknown>, pattern: CompiledPattern): Map<string, Field[]> {
  const fields = new Map<string, Field[]>();
  const children = childrenOf(pattern);
  let nextArrayId = 0;

  const visitObject = (object: Record<string, unknown>, path: string, membership: Membership): void => {
    for (const { key, childPath } of children.get(path) ?? []) {
      if (Object.hasOwn(object, key)) visit(object[key], childPath, membership);
    }
  };

  const visit = (value: unknown, path: string, membership: Membership): void => {
    if (Array.isArray(value)) {
      const arrayId = nextArrayId;
      nextArrayId += 1;
      value.forEach((element, index) => {
        visit(element, path, [...membership, arrayId, index]);
      });
    } else if (isPlainObject(value)) {
      if (pattern.prefixPaths.has(path)) visitObject(value, path, membership);
    } else if (isScalar(value) && pattern.leafPaths.has(path)) {
      const list = fields.get(path);
      if (list === undefined) fields.set(path, [{ value, membership }]);
      else list.push({ value, membership });
    }
  };

  visitObject(event, '', []);
  return fields;
}

const childrenCache = new WeakMap<CompiledPattern, Map<string, Array<{ key: string; childPath: string }>>>();

/**
 * For each path the pattern reads into, the member keys whose path it names: exactly the keys `k` of an object at
 * `path` for which `path.k` is a leaf or prefix path (a key may itself hold dots). Reading only those members, rather
 * than every member of the event, is what makes a rule cheap on a large event.
 */
function childrenOf(pattern: CompiledPattern): Map<string, Array<{ key: string; childPath: string }>> {
  let children = childrenCache.get(pattern);
  if (children !== undefined) return children;
  children = new Map();
  const paths = [...pattern.leafPaths, ...pattern.prefixPaths];
  for (const parent of ['', ...pattern.prefixPaths]) {
    const start = parent === '' ? '' : `${parent}.`;
    const keys = [...new Set(paths.filter((path) => path.startsWith(start) && path.length > start.length))].map(
      (childPath) => ({ key: childPath.slice(start.length), childPath }),
    );
    children.set(parent, keys);
  }
  childrenCache.set(pattern, children);
  return children;
}

/** Combines two memberships, or returns undefined when they place a value in different elements of one array. */
function combine(left: Membership, right: Membership): Membership | undefined {
  if (right.length === 0) return left;
  if (left.length === 0) return right;
  let combined: number[] | undefined;
  for (let r = 0; r < right.length; r += 2) {
    const arrayId = right[r] ?? -1;
    const index = right[r + 1] ?? -1;
    let shared = false;
    for (let l = 0; l < left.length; l += 2) {
      if (left[l] === arrayId) {
        if (left[l + 1] !== index) return undefined;
        shared = true;
        break;
      }
    }
    if (!shared) {
      combined ??= [...left];
      combined.push(arrayId, index);
    }
  }
  return combined ?? left;
}

function matchBranch(branch: Branch, fields: ReadonlyMap<string, readonly Field[]>): boolean {
  const candidates: Field[][] = [];
  for (const condition of branch) {
    const accepted = (fields.get(condition.path) ?? []).filter((field) => condition.accepts(field.value));
    if (accepted.length === 0 && !condition.acceptsAbsence) return false;
    candidates.push(accepted);
  }
  // Paths that must have no value consistent with the values chosen for the other conditions.
  const absent: string[] = [];

  const search = (position: number, membership: Membership): boolean => {
    const condition = branch[position];
    if (condition === undefined) {
      return absent.every((path) =>
        (fields.get(path) ?? []).every((field) => combine(membership, field.membership) === undefined),
      );
    }
    for (const field of candidates[position] ?? []) {
      const combined = combine(membership, field.membership);
      if (combined !== undefined && search(position + 1, combined)) return true;
    }
    if (!condition.acceptsAbsence) return false;
    absent.push(condition.path);
    const matched = search(position + 1, membership);
    absent.pop();
    return matched;
  };

  return search(0, []);
}

/**
 * EventBridge events are JSON objects: PutEvents takes an entry's `Detail` only as a JSON object, and
 * TestEventPattern refuses any other event ("Parameter Event is not valid." for a plain string; an array is refused
 * too). The guide does not say what matching a non-object would do, so here it matches no pattern (a string, an
 * array, a number, null, or a value that is not a plain object), not even one made only of `{"exists": false}`
 * fields: a caller can then report the event rather than alert on it.
 */
export function matchCompiled(pattern: CompiledPattern, event: unknown): boolean {
  if (!isPlainObject(event)) return false;
  const fields = collectFields(event, pattern);
  return pattern.branches.some((branch) => matchBranch(branch, fields));
}
