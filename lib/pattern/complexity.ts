/**
 * EventBridge refuses a rule whose wildcards make matching too costly ("Rule is too complex - try using fewer wildcard
 * characters or fewer repeating character sequences after a wildcard character"). The user guide says only that
 * such a limit exists and what lowers it. The engine behind EventBridge (aws/event-ruler, MachineComplexityEvaluator)
 * defines the measure: for each field's byte-level matcher, the largest number of wildcard pattern prefixes that one
 * input value can match at once, counting a state once per wildcard pattern (an `anything-but` wildcard list is one
 * pattern) that can still be completed from it. This module computes that measure on UTF-8 bytes, with the quotes
 * that enclose a string value, as the rule engine does.
 */

/**
 * Not published by AWS: the complexity at which EventBridge refuses a rule. EventBridge has been seen to refuse
 * `*:*:*:*:*:event-bus/*` (complexity 11) and four `*:stack/<name>/*` patterns on one field (12), and to accept three
 * of the latter (9) and `/Users/*\/dir/dir/dir/dir/dir/doc.txt` (7). The rule engine's evaluator reports any value at
 * or above its cap as the cap, so a round cap of 10 that refuses what reaches it fits these observations; it is also
 * the safer reading, since a rule refused here fails at lint time rather than at deployment.
 */
export const WILDCARD_COMPLEXITY_LIMIT = 10;

/**
 * Not from AWS: how many distinct sets of matcher states one evaluation may visit. Realistic patterns visit a few
 * hundred; a pattern that needs more is refused rather than allowed to stall validation.
 */
const MAX_VISITED_STATE_SETS = 20_000;

const ANY_BYTE = -1;
const QUOTE = 0x22;

/** One wildcard pattern of a field: a `wildcard` operand, or every operand of one `anything-but` wildcard list. */
export interface WildcardPattern {
  /** Equal identities are one pattern, as equal patterns are in the rule engine. */
  readonly identity: string;
  /** The wildcard texts as written in the event pattern (`*` a wildcard, `\*` and `\\` escapes). */
  readonly texts: readonly string[];
}

type Token = number; // a byte, or ANY_BYTE for a wildcard

const encoder = new TextEncoder();

/** A wildcard text as the bytes the rule engine matches, `*` becoming ANY_BYTE and escapes resolved. */
function tokenize(text: string, quoted: boolean): Token[] {
  const tokens: Token[] = quoted ? [QUOTE] : [];
  let escaped = false;
  for (const char of text) {
    if (!escaped && char === '\\') {
      escaped = true;
      continue;
    }
    if (!escaped && char === '*') tokens.push(ANY_BYTE);
    else tokens.push(...encoder.encode(char));
    escaped = false;
  }
  if (quoted) tokens.push(QUOTE);
  return tokens;
}

interface MatcherState {
  /** The wildcard patterns that can still be completed from this state. */
  readonly patterns: Set<string>;
  /** Next states by byte. */
  readonly onByte: Map<number, number[]>;
  /** Next states on every byte: the loop a wildcard makes. */
  readonly onAnyByte: number[];
  /** A literal prefix state's child states, shared by every pattern that starts with the same bytes. */
  readonly prefixChildren: Map<number, number>;
  /** The wildcard loop shared by every pattern whose first wildcard follows this literal prefix. */
  sharedWildcard: number | undefined;
}

function newState(states: MatcherState[], patterns: Iterable<string> = []): number {
  states.push({
    patterns: new Set(patterns),
    onByte: new Map(),
    onAnyByte: [],
    prefixChildren: new Map(),
    sharedWildcard: undefined,
  });
  return states.length - 1;
}

function stateAt(states: readonly MatcherState[], index: number): MatcherState {
  const state = states[index];
  if (state === undefined) throw new RangeError(`no matcher state ${index}`);
  return state;
}

function addByteEdge(state: MatcherState, byte: number, target: number): void {
  const targets = state.onByte.get(byte);
  if (targets === undefined) state.onByte.set(byte, [target]);
  else targets.push(target);
}

/**
 * Builds the nondeterministic byte matcher the rule engine would: literal bytes up to a pattern's first wildcard are
 * shared with every pattern that begins alike, as is the loop of that first wildcard; what follows it is the pattern's
 * own. Reading a wildcard's loop stays in the loop; the byte after a wildcard can be read from the state before the
 * wildcard too, since the wildcard may stand for nothing.
 */
function buildMatcher(patterns: readonly WildcardPattern[], quoted: boolean): MatcherState[] {
  const textsByPattern = new Map<string, Set<string>>();
  for (const { identity, texts } of patterns) {
    const known = textsByPattern.get(identity);
    if (known === undefined) textsByPattern.set(identity, new Set(texts));
    else for (const text of texts) known.add(text);
  }
  const states: MatcherState[] = [];
  const root = newState(states);
  for (const [identity, texts] of textsByPattern) {
    for (const text of texts) {
      const tokens = tokenize(text, quoted);
      let current = root;
      let index = 0;
      for (; index < tokens.length && tokens[index] !== ANY_BYTE; index += 1) {
        const byte = tokens[index] ?? 0;
        const state = stateAt(states, current);
        let child = state.prefixChildren.get(byte);
        if (child === undefined) {
          child = newState(states);
          state.prefixChildren.set(byte, child);
          addByteEdge(state, byte, child);
        }
        stateAt(states, child).patterns.add(identity);
        current = child;
      }
      if (index === tokens.length) continue;
      const prefixEnd = stateAt(states, current);
      if (prefixEnd.sharedWildcard === undefined) {
        const loop = newState(states);
        stateAt(states, loop).onAnyByte.push(loop);
        prefixEnd.onAnyByte.push(loop);
        prefixEnd.sharedWildcard = loop;
      }
      stateAt(states, prefixEnd.sharedWildcard).patterns.add(identity);
      let readers = [current, prefixEnd.sharedWildcard];
      for (index += 1; index < tokens.length; index += 1) {
        const token = tokens[index] ?? 0;
        if (token === ANY_BYTE) {
          const before = readers[0] ?? current;
          const loop = newState(states, [identity]);
          stateAt(states, loop).onAnyByte.push(loop);
          stateAt(states, before).onAnyByte.push(loop);
          readers = [before, loop];
        } else {
          const next = newState(states, [identity]);
          for (const reader of readers) addByteEdge(stateAt(states, reader), token, next);
          readers = [next];
        }
      }
    }
  }
  return states;
}

/**
 * How many wildcard patterns the states in `active` can still complete, adding the wildcard loops they are about to
 * enter: a value that matches `ab` also matches the prefix `ab*`.
 */
function weigh(states: readonly MatcherState[], active: ReadonlySet<number>): number {
  let weight = 0;
  for (const index of active) {
    const state = stateAt(states, index);
    weight += state.patterns.size;
    for (const loop of state.onAnyByte) {
      if (loop !== index && !active.has(loop)) weight += stateAt(states, loop).patterns.size;
    }
  }
  return weight;
}

/**
 * The complexity of one field's wildcard patterns; evaluation stops once it reaches `limit`, since the exact value
 * beyond does not matter. `quoted` encloses each text in the quotes a string value carries, as EventBridge does; the
 * rule engine's own unit tests measure texts without them.
 */
export function wildcardComplexity(
  patterns: readonly WildcardPattern[],
  { quoted = true, limit = WILDCARD_COMPLEXITY_LIMIT }: { quoted?: boolean; limit?: number } = {},
): number {
  if (patterns.length === 0) return 0;
  const states = buildMatcher(patterns, quoted);
  const seen = new Set<string>();
  const queue: number[][] = [[0]];
  let largest = 0;
  for (let head = 0; head < queue.length; head += 1) {
    const current = queue[head] ?? [];
    // Bytes no state here reads lead only where any other byte leads: one stand-in (ANY_BYTE) covers them all.
    const bytes = new Set<number>([ANY_BYTE]);
    for (const index of current) for (const byte of stateAt(states, index).onByte.keys()) bytes.add(byte);
    for (const byte of bytes) {
      const next = new Set<number>();
      for (const index of current) {
        const state = stateAt(states, index);
        for (const target of state.onAnyByte) next.add(target);
        if (byte !== ANY_BYTE) for (const target of state.onByte.get(byte) ?? []) next.add(target);
      }
      if (next.size === 0) continue;
      const sorted = [...next].sort((a, b) => a - b);
      const key = sorted.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      largest = Math.max(largest, weigh(states, next));
      if (largest >= limit || seen.size > MAX_VISITED_STATE_SETS) return Math.max(largest, limit);
      queue.push(sorted);
    }
  }
  return largest;
}

/** One value of a pattern field as the complexity check sees it. */
export interface FieldTerm {
  /** Equal terms are one pattern in the rule engine and lead to the same matcher for the next field. */
  readonly identity: string;
  /** The wildcard texts of a `wildcard` or `anything-but` wildcard term; empty for any other term. */
  readonly wildcards: readonly string[];
}

/** One field of one alternative of a pattern. */
export interface TermField {
  readonly path: string;
  /** Where the field is written in the pattern, for error messages. */
  readonly where: string;
  readonly terms: readonly FieldTerm[];
}

interface FieldMachine {
  readonly where: string;
  readonly wildcardPatterns: Map<string, WildcardPattern>;
  readonly next: Map<string, NameStep>;
}

interface NameStep {
  readonly fields: Map<string, FieldMachine>;
}

export interface ComplexityProblem {
  readonly where: string;
  readonly complexity: number;
}

/**
 * Finds a field whose wildcards EventBridge would find too complex. The rule engine keeps one byte matcher per field
 * and position: it walks each alternative's fields in name order, and the values of a field lead on to the matcher of
 * the next field, equal values to the same one. Wildcards on one field in different alternatives share a matcher when
 * the alternatives agree on every field before it, and their complexity adds up there.
 */
export function findTooComplexField(
  alternatives: readonly (readonly TermField[])[],
  limit = WILDCARD_COMPLEXITY_LIMIT,
): ComplexityProblem | undefined {
  if (!alternatives.some((fields) => fields.some((field) => field.terms.some((term) => term.wildcards.length > 0)))) {
    return undefined;
  }
  const root: NameStep = { fields: new Map() };
  const machines: FieldMachine[] = [];
  for (const fields of alternatives) {
    let steps = new Set<NameStep>([root]);
    for (const field of [...fields].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      const nextSteps = new Set<NameStep>();
      for (const step of steps) {
        let machine = step.fields.get(field.path);
        if (machine === undefined) {
          machine = { where: field.where, wildcardPatterns: new Map(), next: new Map() };
          step.fields.set(field.path, machine);
          machines.push(machine);
        }
        // Values new to this matcher share one next step, as the values of one field in one rule do.
        let shared: NameStep | undefined;
        for (const term of field.terms) {
          let next = machine.next.get(term.identity);
          if (next === undefined) {
            shared ??= { fields: new Map() };
            next = shared;
            machine.next.set(term.identity, next);
          }
          if (term.wildcards.length > 0) {
            machine.wildcardPatterns.set(term.identity, { identity: term.identity, texts: term.wildcards });
          }
          nextSteps.add(next);
        }
      }
      steps = nextSteps;
    }
  }
  for (const machine of machines) {
    if (machine.wildcardPatterns.size === 0) continue;
    const complexity = wildcardComplexity([...machine.wildcardPatterns.values()], { limit });
    if (complexity >= limit) return { where: machine.where, complexity };
  }
  return undefined;
}
