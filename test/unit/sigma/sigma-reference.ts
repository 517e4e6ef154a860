import { BlockList, isIP } from 'node:net';
import { type ConditionNode, parseCondition } from '../../../lib/rules/sigma/index.ts';

/**
 * What a Sigma rule means for one System Log event, written the plain way a SIEM search reads it, so the tests can
 * hold the converter's EventBridge patterns against it: field names in any letter case, a list field matching when
 * any element does, text compared case-insensitively unless `cased`, `*` and `?` wildcards, and `not` true for an
 * event without the field. Only the condition's syntax is shared with the converter (parseCondition).
 */

type Scalar = string | number | boolean | null;

/** The values at a dotted path, keys matched in any letter case, lists spread; undefined when the field is missing. */
function valuesAt(event: unknown, path: readonly string[]): Scalar[] | undefined {
  const [head, ...rest] = path;
  if (head === undefined) {
    if (Array.isArray(event)) return event.flatMap((item) => valuesAt(item, []) ?? []);
    return typeof event === 'object' && event !== null ? undefined : [event as Scalar];
  }
  if (Array.isArray(event)) {
    const found = event.map((item) => valuesAt(item, path)).filter((values) => values !== undefined);
    return found.length === 0 ? undefined : found.flat();
  }
  if (typeof event !== 'object' || event === null) return undefined;
  const key = Object.keys(event).find((candidate) => candidate.toLowerCase() === head.toLowerCase());
  return key === undefined ? undefined : valuesAt((event as Record<string, unknown>)[key], rest);
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A Sigma string (with `*`, `?` and backslash escapes) as a regular expression over the whole value. */
function wildcardRegex(text: string, before: boolean, after: boolean, cased: boolean): RegExp {
  let source = '';
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charAt(index);
    const next = text.charAt(index + 1);
    if (char === '\\' && (next === '*' || next === '?' || next === '\\')) {
      source += escapeRegex(next);
      index += 1;
    } else if (char === '*') source += '[\\s\\S]*';
    else if (char === '?') source += '[\\s\\S]';
    else source += escapeRegex(char);
  }
  return new RegExp(`^${before ? '[\\s\\S]*' : ''}${source}${after ? '[\\s\\S]*' : ''}$`, cased ? 'u' : 'iu');
}

function inCidr(block: string, value: string): boolean {
  const [address = '', bits = ''] = block.split('/');
  const version = isIP(address);
  if (version === 0 || isIP(value) !== version) return false;
  const list = new BlockList();
  list.addSubnet(address, Number(bits), version === 4 ? 'ipv4' : 'ipv6');
  return list.check(value, version === 4 ? 'ipv4' : 'ipv6');
}

function valueMatches(value: Scalar, expected: Scalar, modifiers: readonly string[]): boolean {
  const has = (modifier: string): boolean => modifiers.includes(modifier);
  if (expected === null) return value === null;
  if (value === null) return false;
  const text = String(value);
  if (has('re')) {
    const flags = `${has('i') ? 'i' : ''}${has('m') ? 'm' : ''}${has('s') ? 's' : ''}`;
    return new RegExp(String(expected), flags).test(text);
  }
  if (has('cidr')) return inCidr(String(expected), text);
  for (const [modifier, test] of [
    ['lt', (a: number, b: number) => a < b],
    ['lte', (a: number, b: number) => a <= b],
    ['gt', (a: number, b: number) => a > b],
    ['gte', (a: number, b: number) => a >= b],
  ] as const) {
    if (has(modifier)) return typeof value === 'number' && test(value, Number(expected));
  }
  const contains = has('contains');
  const regex = wildcardRegex(
    String(expected),
    contains || has('endswith'),
    contains || has('startswith'),
    has('cased'),
  );
  return regex.test(text);
}

function fieldMatches(event: unknown, key: string, raw: unknown): boolean {
  const [name = '', ...modifiers] = key.split('|');
  const values = valuesAt(event, name.split('.'));
  const expected = (Array.isArray(raw) ? raw : [raw]) as Scalar[];
  if (modifiers.includes('exists')) return (values !== undefined) === (expected[0] === true || expected[0] === 'true');
  const one = (wanted: Scalar): boolean =>
    wanted === null
      ? values === undefined || values.includes(null)
      : (values ?? []).some((value) => valueMatches(value, wanted, modifiers));
  const matched = modifiers.includes('all') ? expected.every(one) : expected.some(one);
  return modifiers.includes('neq') ? !matched : matched;
}

function identifierMatches(event: unknown, value: unknown): boolean {
  const mapMatches = (map: Record<string, unknown>): boolean =>
    Object.entries(map).every(([key, raw]) => fieldMatches(event, key, raw));
  if (Array.isArray(value)) return value.some((item) => mapMatches(item as Record<string, unknown>));
  return mapMatches(value as Record<string, unknown>);
}

const globRegex = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`, 'u');

function evaluate(node: ConditionNode, detection: Record<string, unknown>, event: unknown): boolean {
  switch (node.kind) {
    case 'and':
      return node.items.every((item) => evaluate(item, detection, event));
    case 'or':
      return node.items.some((item) => evaluate(item, detection, event));
    case 'not':
      return !evaluate(node.item, detection, event);
    case 'identifier':
      return identifierMatches(event, detection[node.name]);
    case 'of': {
      const names = Object.keys(detection).filter((name) =>
        node.target === 'them'
          ? name !== 'condition' && !name.startsWith('_')
          : name !== 'condition' && globRegex(node.target).test(name),
      );
      const test = (name: string): boolean => identifierMatches(event, detection[name]);
      return node.quantifier === 'all' ? names.every(test) : names.some(test);
    }
  }
}

/** Whether a Sigma rule's detection matches a System Log event (the event itself, not its EventBridge envelope). */
export function sigmaMatches(detection: Record<string, unknown>, event: unknown): boolean {
  const conditions = Array.isArray(detection.condition) ? detection.condition : [detection.condition];
  return conditions.some((condition) => evaluate(parseCondition(String(condition)), detection, event));
}
