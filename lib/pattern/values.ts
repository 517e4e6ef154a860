import { isIP } from 'node:net';

/** A leaf value of an event: the only kinds of value a pattern ever compares against. */
export type Scalar = string | number | boolean | null;

export function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------------------------
// Numbers: numeric matching is limited to -5.0e9..+5.0e9 with six digits right of the decimal
// point, so every comparable number is shifted and scaled to a whole number and compared as such.

export const NUMERIC_LIMIT = 5e9;

/** The six-decimal comparable form of a number, or undefined when it lies outside the numeric range. */
export function comparableNumber(value: number): number | undefined {
  if (!Number.isFinite(value) || value < -NUMERIC_LIMIT || value > NUMERIC_LIMIT) return undefined;
  return Math.floor(1e6 * (NUMERIC_LIMIT + value));
}

// ---------------------------------------------------------------------------------------------
// Wildcards: `*` stands for any run of characters (including none), `\*` for a literal `*` and
// `\\` for a literal `\`. A backslash before anything else, and two wildcards in a row, are invalid.

export interface Wildcard {
  /** Literal text between the wildcards; a pattern with n wildcards has n + 1 pieces. */
  readonly pieces: readonly string[];
}

export function parseWildcard(text: string): Wildcard | string {
  const pieces: string[] = [];
  let current = '';
  let previousWasWildcard = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\\') {
      const escaped = text[index + 1];
      if (escaped !== '*' && escaped !== '\\') {
        return 'a backslash in a wildcard pattern may only escape "*" or "\\"';
      }
      current += escaped;
      index += 1;
      previousWasWildcard = false;
    } else if (char === '*') {
      if (previousWasWildcard) return 'consecutive wildcard characters are not supported';
      pieces.push(current);
      current = '';
      previousWasWildcard = true;
    } else {
      current += char;
      previousWasWildcard = false;
    }
  }
  pieces.push(current);
  return { pieces };
}

export function matchesWildcard(wildcard: Wildcard, value: string): boolean {
  const { pieces } = wildcard;
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return value === first;
  const last = pieces[pieces.length - 1] ?? '';
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  // With `*` as the only metacharacter, placing each middle piece at its leftmost possible spot never loses a match.
  let position = first.length;
  const end = value.length - last.length;
  for (let index = 1; index < pieces.length - 1; index += 1) {
    const piece = pieces[index] ?? '';
    const found = value.indexOf(piece, position);
    if (found < 0 || found + piece.length > end) return false;
    position = found + piece.length;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Case-insensitive comparison, character by character, so that a character matches its upper-
// and lower-case forms without the length changes whole-string case mapping can introduce.

function sameCharIgnoringCase(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase();
}

function charsMatchIgnoringCase(expected: readonly string[], actual: readonly string[], offset: number): boolean {
  for (let index = 0; index < expected.length; index += 1) {
    const want = expected[index];
    const got = actual[offset + index];
    if (want === undefined || got === undefined || !sameCharIgnoringCase(want, got)) return false;
  }
  return true;
}

export type CaseInsensitiveMode = 'equals' | 'prefix' | 'suffix';

function matchesIgnoringCase(
  expected: readonly string[],
  actual: readonly string[],
  mode: CaseInsensitiveMode,
): boolean {
  if (mode === 'equals') return actual.length === expected.length && charsMatchIgnoringCase(expected, actual, 0);
  if (actual.length < expected.length) return false;
  const offset = mode === 'prefix' ? 0 : actual.length - expected.length;
  return charsMatchIgnoringCase(expected, actual, offset);
}

/** Builds a test of a string against `text`, ignoring case, as a whole value, a prefix or a suffix. */
export function caseInsensitiveTest(text: string, mode: CaseInsensitiveMode): (value: string) => boolean {
  const expected = Array.from(text);
  return (value) => matchesIgnoringCase(expected, Array.from(value), mode);
}

/** Like {@link caseInsensitiveTest}, true when the string matches any of `texts`; the value is split only once. */
export function caseInsensitiveAnyTest(
  texts: readonly string[],
  mode: CaseInsensitiveMode,
): (value: string) => boolean {
  const expected = texts.map((text) => Array.from(text));
  return (value) => {
    const actual = Array.from(value);
    return expected.some((chars) => matchesIgnoringCase(chars, actual, mode));
  };
}

// ---------------------------------------------------------------------------------------------
// IP addresses and CIDR blocks.

export interface IpAddress {
  readonly version: 4 | 6;
  readonly value: bigint;
}

function parseIpv4(text: string): bigint {
  let value = 0n;
  for (const part of text.split('.')) value = (value << 8n) | BigInt(Number(part));
  return value;
}

function parseIpv6(text: string): bigint {
  let normalised = text;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 address supplies the last two 16-bit groups.
    const v4 = parseIpv4(tail);
    normalised = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = normalised.split('::');
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  return value;
}

/** Parses an IPv4 or IPv6 address literal; anything else (host names, zone ids, CIDR blocks) is undefined. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes('%')) return undefined;
  const version = isIP(text);
  if (version === 4) return { version: 4, value: parseIpv4(text) };
  if (version === 6) return { version: 6, value: parseIpv6(text) };
  return undefined;
}

export interface CidrBlock {
  readonly version: 4 | 6;
  readonly low: bigint;
  readonly high: bigint;
}

export function parseCidr(text: string): CidrBlock | string {
  const parts = text.split('/');
  if (parts.length !== 2) return 'cidr must be an IP address and a prefix length separated by one "/"';
  const [addressText = '', bitsText = ''] = parts;
  const address = parseIpAddress(addressText);
  if (address === undefined) return `"${addressText}" is not an IPv4 or IPv6 address`;
  if (!/^\d{1,3}$/.test(bitsText)) return 'cidr prefix length must be a whole number';
  const bits = Number(bitsText);
  const width = address.version === 4 ? 32 : 128;
  // Not stated by the guide, refused conservatively: a single address is matched with a plain string.
  if (bits >= width) return `IPv${address.version} prefix length must be less than ${width}`;
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  // Not stated by the guide: a block whose address has host bits set is ambiguous, so it is refused.
  if ((address.value & hostMask) !== 0n) return `cidr address has bits set beyond the /${bits} prefix`;
  return { version: address.version, low: address.value, high: address.value | hostMask };
}

export function cidrContains(block: CidrBlock, value: string): boolean {
  const address = parseIpAddress(value);
  return (
    address !== undefined &&
    address.version === block.version &&
    address.value >= block.low &&
    address.value <= block.high
  );
}
