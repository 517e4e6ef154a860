/**
 * Thrown when an event pattern would be refused by EventBridge (InvalidEventPatternException).
 * `path` locates the offending part of the pattern, e.g. `detail.eventType[0]` or `$or[1].source`;
 * it is empty when the problem concerns the pattern as a whole.
 */
export class InvalidEventPatternError extends Error {
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(path === '' ? `Invalid event pattern: ${reason}` : `Invalid event pattern at ${path}: ${reason}`);
    this.name = 'InvalidEventPatternError';
    this.path = path;
    this.reason = reason;
  }
}
