import { countMembers } from '../shared/canonical-json.ts';

/**
 * The text of the envelope's top-level `detail` object as received, or undefined when there is none. Cutting it out of
 * the SQS body costs a fraction of serializing the parsed object again, and it keeps the event as Okta sent it: every
 * digit of every number, every key in its order. An archive line must hold one event, so whitespace between tokens
 * (never inside strings, where JSON has no raw line breaks) is dropped from pretty-printed input.
 */
export const rawDetail = (raw: string): string | undefined => {
  let depth = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === QUOTE) {
      const end = skipString(raw, i);
      const colon = skipSpace(raw, end + 1);
      // At the envelope's own level, a string followed by a colon is a key.
      if (depth === 1 && raw.charCodeAt(colon) === COLON && raw.slice(i, end + 1) === '"detail"') {
        const valueStart = skipSpace(raw, colon + 1);
        const valueEnd = skipObject(raw, valueStart);
        if (valueEnd < 0) return undefined;
        const text = raw.slice(valueStart, valueEnd);
        return text.includes('\n') || text.includes('\r') ? compact(text) : text;
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return undefined;
};

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Index of the closing quote of the string that opens at `i`: the next quote not escaped by a backslash. */
const skipString = (text: string, i: number): number => {
  for (let j = text.indexOf('"', i + 1); j >= 0; j = text.indexOf('"', j + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
  return text.length;
};

const skipSpace = (text: string, i: number): number => {
  let j = i;
  for (let c = text.charCodeAt(j); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++j));
  return j;
};

/** End (exclusive) of the object value that starts at `i`; -1 when it is not an object. */
const skipObject = (text: string, i: number): number => {
  if (text.charCodeAt(i) !== OPEN_BRACE) return -1;
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) j = skipString(text, j);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
};

/**
 * The text of each element of the JSON array `text`, exactly as written (surrounding whitespace trimmed), or
 * undefined when `text` is not an array. `text` must be valid JSON.
 */
export const arrayElements = (text: string): string[] | undefined => {
  const open = skipSpace(text, 0);
  if (text.charCodeAt(open) !== OPEN_BRACKET) return undefined;
  const elements: string[] = [];
  let depth = 0;
  let from = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = skipString(text, i);
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) {
        const last = text.slice(from, i).trim();
        if (last !== '') elements.push(last);
        return elements;
      }
    } else if (c === COMMA && depth === 1) {
      elements.push(text.slice(from, i).trim());
      from = i + 1;
    }
  }
  return undefined;
};

/** `text` without whitespace between tokens; strings are copied as they are. */
const compact = (text: string): string => {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i);
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      out += text.slice(from, i);
      from = i + 1;
    }
  }
  return out + text.slice(from);
};

/**
 * Whether the JSON text `text`, parsed into `value`, gives some key twice in one object: JSON.parse keeps one member
 * per key, so the parsed value then has fewer members than the text has keys. Counting is a fraction of the cost of
 * naming the key (findDuplicateKey), which only a refused input needs.
 */
export const hasDuplicateKeys = (text: string, value: unknown): boolean => keysInText(text) !== countMembers(value);

/** Keys in a JSON text: strings followed by a colon. */
const keysInText = (text: string): number => {
  let keys = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) {
    i = skipString(text, i);
    if (text.charCodeAt(skipSpace(text, i + 1)) === COLON) keys++;
  }
  return keys;
};

/**
 * The path of the first key that appears twice in one object of a JSON text (`detail.actor.id`), or undefined.
 * JSON.parse keeps the last of duplicate keys while the text keeps both, so a validated event could differ from the
 * archived one; such input is refused rather than guessed at. `text` must be valid JSON.
 */
export const findDuplicateKey = (text: string): string | undefined => {
  const objects: Array<{ keys: Set<string>; key: string | undefined } | undefined> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = skipString(text, i);
      const top = objects.at(-1);
      // Inside an object, a string followed by a colon is a key.
      if (top !== undefined && text.charCodeAt(skipSpace(text, end + 1)) === COLON) {
        const raw = text.slice(i + 1, end);
        // "a\u0062" and "ab" are one key to JSON.parse.
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (top.keys.has(key)) {
          return [...objects.slice(0, -1).map((o) => o?.key), key].filter((k) => k !== undefined).join('.');
        }
        top.keys.add(key);
        top.key = key;
      }
      i = end;
    } else if (c === OPEN_BRACE) {
      objects.push({ keys: new Set(), key: undefined });
    } else if (c === OPEN_BRACKET) {
      objects.push(undefined);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      objects.pop();
    }
  }
  return undefined;
};
