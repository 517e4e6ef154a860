/**
 * Characters that let a value forge or hide text when shown to a person: Unicode's Cc, that is C0 controls (line
 * breaks, ESC sequences that drive terminals), DEL and C1 controls (NEL, CSI); the Unicode line and paragraph
 * separators; and the bidi embeddings, overrides, isolates and marks that reorder what a reader sees ("Trojan Source").
 */
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** The same set less C0, which JSON.stringify already escapes; JSON leaves the others raw. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const hex = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * One line of text that shows every unsafe character as an escape (`\n`, `\u001b`, `\u202e`), so a value from the
 * input can neither start a line, drive a terminal nor reorder what surrounds it. Backslashes are left alone
 * (Windows logins read `DOMAIN\user`); a literal `\n` in the input is text, and forges nothing.
 */
export const escapeForTerminal = (text: string): string => text.replace(UNSAFE, (char) => SHORT[char] ?? hex(char));

/**
 * JSON text (from JSON.stringify) with the unsafe characters JSON leaves raw written as `\uXXXX` escapes. They can
 * only occur inside strings, where the escape means the same character, so the result is the same JSON value.
 */
export const escapeJsonText = (json: string): string => json.replace(UNSAFE_IN_JSON, hex);

/** Whether the text holds a character that `escapeForTerminal` would escape. */
export const hasUnsafeCharacter = (text: string): boolean => new RegExp(UNSAFE.source).test(text);

/**
 * `escapeForTerminal` of at most `maxChars` UTF-16 units of `text` (never half a surrogate pair), with `...` when cut:
 * for one line of output about an input that may be any size (a binary file's "line" can be megabytes).
 */
export const shortForTerminal = (text: string, maxChars: number): string => {
  if (text.length <= maxChars) return escapeForTerminal(text);
  const last = text.charCodeAt(maxChars - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? maxChars - 1 : maxChars;
  return `${escapeForTerminal(text.slice(0, end))}...`;
};
