/**
 * Reads the fields of a System Log event that an alert shows, whatever their JSON shape. Only `uuid`, `published` and
 * `eventType` are validated (OktaEventCore, as ingest does); every other field may be missing, null, of any JSON type,
 * or one object where Okta documents a list, and an alert must still go out for it.
 */

/** A JSON object (not an array, not null). */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A member of a JSON object, or undefined: never a prototype's member (`constructor`, `__proto__`) or an index. */
export const member = (value: unknown, key: string): unknown =>
  isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;

/** The value at a path of object members, or undefined where the path breaks. */
export const at = (value: unknown, ...keys: readonly string[]): unknown =>
  keys.reduce<unknown>((current, key) => member(current, key), value);

/** A list where Okta documents one: an array as is, a lone object as a list of one, anything else as empty. */
export const items = (value: unknown): readonly unknown[] => {
  if (Array.isArray(value)) return value;
  return isObject(value) ? [value] : [];
};

/** Okta writes "null", "unknown" or "" where it has no value; an alert reads better with nothing there. */
const PLACEHOLDER_VALUES = new Set(['', 'null', 'undefined', 'unknown']);

/**
 * A value to show as text: a string (trimmed), or a number or boolean written out; null for placeholders, objects and
 * arrays (the event excerpt and the archive show those whole).
 */
export const scalarText = (value: unknown): string | null => {
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else return null;
  return PLACEHOLDER_VALUES.has(text.toLowerCase()) ? null : text;
};

/** Cuts at a UTF-16 index without splitting a surrogate pair (a lone half would become U+FFFD on the wire). */
export const cutAt = (text: string, index: number): string => {
  if (index >= text.length) return text;
  const end = Math.max(0, index);
  const last = text.charCodeAt(end - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end);
};

/** Characters (code points) in a string: a surrogate pair is one. */
const codePoints = (text: string): number => {
  let count = 0;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0xdc00 || unit > 0xdfff) count += 1;
  }
  return count;
};

/** At most `max` UTF-16 units of `text`, with what was left out said: `abc... (1,234 more characters)`. */
export const cutField = (text: string, max: number): string => {
  if (text.length <= max) return text;
  const kept = cutAt(text, max);
  return `${kept}... (${codePoints(text.slice(kept.length)).toLocaleString('en-US')} more characters)`;
};

/**
 * The longest prefix of `text` (never splitting a surrogate pair) for which `fits` holds, found by bisection; `fits`
 * must hold for shorter prefixes whenever it holds for a longer one (sizes grow with length).
 */
export const longestPrefix = (text: string, fits: (prefix: string) => boolean): string => {
  if (fits(text)) return text;
  let low = 0;
  let high = text.length;
  // Invariant: the prefix of length `low` fits (or low is 0), the one of length `high` does not.
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (fits(cutAt(text, mid))) low = mid;
    else high = mid;
  }
  return cutAt(text, low);
};

/**
 * Whether JSON nests deeper than `maxDepth` arrays and objects. JSON.stringify recurses and throws RangeError a few
 * thousand levels down (fewer on a deeper stack), and an SQS body can hold far more; real events nest under ten.
 */
export const nestedDeeperThan = (value: unknown, maxDepth: number): boolean => {
  const pending: Array<{ readonly value: unknown; readonly depth: number }> = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    if (next.depth >= maxDepth) return true;
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
  return false;
};
