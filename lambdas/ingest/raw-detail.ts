/**
 * The text of the envelope's top-level `detail` value, exactly as received, or undefined when it cannot be cut out
 * cleanly. Cutting it out of the SQS body costs a fraction of serializing the parsed object again, and it keeps the
 * event byte for byte as Okta sent it. Only single-line text qualifies: an archive line must hold one event.
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
        return text.includes('\n') || text.includes('\r') ? undefined : text;
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
