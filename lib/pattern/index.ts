import { compile, type PatternOptions } from './compile.ts';
import { InvalidEventPatternError } from './errors.ts';
import { matchCompiled } from './match.ts';

export { DEFAULT_MAX_PATTERN_SIZE, MAX_OR_COMBINATIONS, type PatternOptions } from './compile.ts';
export { WILDCARD_COMPLEXITY_LIMIT } from './complexity.ts';
export { InvalidEventPatternError } from './errors.ts';

/** Throws {@link InvalidEventPatternError} unless EventBridge would accept `pattern` as an event pattern. */
export function validatePattern(pattern: unknown, options?: PatternOptions): void {
  compile(pattern, options);
}

/** Validates `pattern` once and returns a matcher that can be applied to many events. */
export function compilePattern(pattern: unknown, options?: PatternOptions): (event: unknown) => boolean {
  const compiled = compile(pattern, options);
  return (event) => matchCompiled(compiled, event);
}

/** Validates `pattern` and reports whether it matches `event`. */
export function matchesPattern(pattern: unknown, event: unknown, options?: PatternOptions): boolean {
  return matchCompiled(compile(pattern, options), event);
}

/** Parses a pattern's JSON text; malformed JSON is reported as an {@link InvalidEventPatternError}. */
export function parsePatternJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new InvalidEventPatternError('', `pattern is not valid JSON (${detail})`);
  }
}
