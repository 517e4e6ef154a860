/**
 * How deep a JSON value may nest. Okta's events nest a few levels; SQS admits a body of brackets a hundred thousand
 * deep, which would overflow the stack of any recursive walk. Deeper input is refused, with this reason.
 */
export const MAX_JSON_DEPTH = 256;

export class JsonTooDeepError extends Error {
  override readonly name = 'JsonTooDeepError';
  constructor() {
    super(`nested more than ${MAX_JSON_DEPTH} levels deep`);
  }
}

/**
 * One text for one JSON value, however it was written: object keys sorted, no whitespace, strings and numbers as
 * JSON.stringify writes them (so `"\u0041"` and `"A"`, `1.50` and `1.5` are the same). Two serialisations of an event,
 * say from the stream and from the System Log API, have the same canonical text. Built as a sorted copy handed to the
 * native JSON.stringify, which is several times faster than writing the text by hand.
 */
export const canonicalJson = (value: unknown): string => JSON.stringify(sortedCopy(value, 0)) ?? 'null';

const sortedCopy = (value: unknown, depth: number): unknown => {
  if (depth > MAX_JSON_DEPTH) throw new JsonTooDeepError();
  if (Array.isArray(value)) return value.map((item) => sortedCopy(item, depth + 1));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) {
    const member = sortedCopy(record[key], depth + 1);
    // Assigning "__proto__" would set the copy's prototype; JSON.parse made it an ordinary member, and so must we.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: member, enumerable: true, writable: true });
    else copy[key] = member;
  }
  return copy;
};

/** Members of every object in a parsed JSON value. */
export const countMembers = (value: unknown, depth = 0): number => {
  if (depth > MAX_JSON_DEPTH) throw new JsonTooDeepError();
  if (typeof value !== 'object' || value === null) return 0;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countMembers(item, depth + 1), 0);
  let members = 0;
  for (const key in value) members += 1 + countMembers((value as Record<string, unknown>)[key], depth + 1);
  return members;
};
