/**
 * A file that is not a valid Sigma rule: bad YAML, a missing or mistyped field, a condition that does not parse or
 * names a search identifier the detection lacks. `field` locates the problem (`detection.selection.eventType|foo`,
 * `detection.condition`, `(yaml)`).
 */
export class SigmaRuleError extends Error {
  override readonly name = 'SigmaRuleError';

  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/**
 * A valid Sigma rule that an olp alert rule cannot express faithfully: it is skipped with this reason rather than
 * converted into something that matches other events than the Sigma rule does.
 */
export class SigmaInexpressibleError extends Error {
  override readonly name = 'SigmaInexpressibleError';

  constructor(readonly reason: string) {
    super(reason);
  }
}
