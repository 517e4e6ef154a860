import { SigmaInexpressibleError, SigmaRuleError } from './errors.ts';

/**
 * A parsed Sigma condition (Sigma rules specification, "Condition"): `and`, `or`, `not`, parentheses, search
 * identifiers, and `1 of` / `all of` over `them` or an identifier pattern with `*`.
 */
export type ConditionNode =
  | { readonly kind: 'and' | 'or'; readonly items: readonly ConditionNode[] }
  | { readonly kind: 'not'; readonly item: ConditionNode }
  | { readonly kind: 'identifier'; readonly name: string }
  | { readonly kind: 'of'; readonly quantifier: 'one' | 'all'; readonly target: string };

/** Longer conditions are not written by people; refusing them bounds the work. */
export const MAX_CONDITION_CHARS = 10_000;

/** Parentheses and `not` nest at most this deep, so a hostile condition cannot exhaust the stack. */
export const MAX_CONDITION_DEPTH = 64;

const FIELD = 'detection.condition';
const KEYWORDS = new Set(['and', 'or', 'not', 'of']);

function tokenize(text: string): string[] {
  if (text.length > MAX_CONDITION_CHARS) {
    throw new SigmaRuleError(FIELD, `is ${text.length} characters; at most ${MAX_CONDITION_CHARS} are read`);
  }
  const pipe = text.indexOf('|');
  if (pipe >= 0) {
    // The Sigma 1 aggregation syntax (`selection | count() by user > 10`): a count over many events.
    throw new SigmaInexpressibleError(
      `the condition aggregates over many events (${text.slice(pipe).trim()}); an alert rule matches one event at ` +
        'a time',
    );
  }
  return text.match(/[()]|[^\s()]+/g) ?? [];
}

class Parser {
  private position = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly string[]) {}

  parse(): ConditionNode {
    if (this.tokens.length === 0) throw new SigmaRuleError(FIELD, 'is empty');
    const node = this.or();
    const rest = this.peek();
    if (rest !== undefined) throw new SigmaRuleError(FIELD, `unexpected "${rest}" at token ${this.position + 1}`);
    return node;
  }

  private peek(): string | undefined {
    return this.tokens[this.position];
  }

  private keyword(word: string): boolean {
    if (this.peek()?.toLowerCase() !== word) return false;
    this.position += 1;
    return true;
  }

  private nested<T>(parse: () => T): T {
    this.depth += 1;
    if (this.depth > MAX_CONDITION_DEPTH) {
      throw new SigmaRuleError(FIELD, `nests parentheses or "not" more than ${MAX_CONDITION_DEPTH} deep`);
    }
    try {
      return parse();
    } finally {
      this.depth -= 1;
    }
  }

  private or(): ConditionNode {
    const items = [this.and()];
    while (this.keyword('or')) items.push(this.and());
    return items.length === 1 && items[0] !== undefined ? items[0] : { kind: 'or', items };
  }

  private and(): ConditionNode {
    const items = [this.not()];
    while (this.keyword('and')) items.push(this.not());
    return items.length === 1 && items[0] !== undefined ? items[0] : { kind: 'and', items };
  }

  private not(): ConditionNode {
    if (this.keyword('not')) return this.nested(() => ({ kind: 'not', item: this.not() }));
    return this.primary();
  }

  private primary(): ConditionNode {
    const token = this.peek();
    if (token === undefined) throw new SigmaRuleError(FIELD, 'ends where a search identifier was expected');
    if (token === '(') {
      this.position += 1;
      const inner = this.nested(() => this.or());
      if (this.peek() !== ')') throw new SigmaRuleError(FIELD, 'has a "(" without its ")"');
      this.position += 1;
      return inner;
    }
    if (token === ')') throw new SigmaRuleError(FIELD, `unexpected ")" at token ${this.position + 1}`);
    const lower = token.toLowerCase();
    this.position += 1;
    if ((lower === '1' || lower === 'all' || lower === 'any') && this.peek()?.toLowerCase() === 'of') {
      this.position += 1;
      const target = this.peek();
      if (target === undefined || target === '(' || target === ')' || KEYWORDS.has(target.toLowerCase())) {
        throw new SigmaRuleError(FIELD, `"${token} of" must be followed by "them" or a search identifier pattern`);
      }
      this.position += 1;
      return { kind: 'of', quantifier: lower === 'all' ? 'all' : 'one', target };
    }
    if (KEYWORDS.has(lower)) {
      throw new SigmaRuleError(
        FIELD,
        `unexpected "${token}" at token ${this.position} where a search identifier was expected`,
      );
    }
    return { kind: 'identifier', name: token };
  }
}

/**
 * Parses one condition. Throws {@link SigmaRuleError} for a condition that is not Sigma, and
 * {@link SigmaInexpressibleError} for the aggregation syntax, which Sigma has but one-event rules cannot express.
 */
export function parseCondition(text: string): ConditionNode {
  const tokens = tokenize(text);
  const numberOf = tokens.findIndex(
    (token, index) => /^\d+$/.test(token) && token !== '1' && tokens[index + 1]?.toLowerCase() === 'of',
  );
  if (numberOf >= 0) {
    throw new SigmaInexpressibleError(
      `"${tokens[numberOf]} of" needs that many search identifiers to match; EventBridge patterns have no count`,
    );
  }
  return new Parser(tokens).parse();
}

/** Whether a search identifier matches an `x of` pattern, where `*` stands for any run of characters. */
export function identifierMatches(pattern: string, name: string): boolean {
  const pieces = pattern.split('*');
  if (pieces.length === 1) return pattern === name;
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let position = first.length;
  const end = name.length - last.length;
  for (const piece of pieces.slice(1, -1)) {
    const found = name.indexOf(piece, position);
    if (found < 0 || found + piece.length > end) return false;
    position = found + piece.length;
  }
  return true;
}
