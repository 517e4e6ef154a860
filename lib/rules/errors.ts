/** One problem in a rule file: where it is (`match.eventType.0`) and what is wrong with it. */
export interface RuleIssue {
  readonly path: string;
  readonly reason: string;
}

/** A rule file that cannot be read, parsed or validated. The message names the file, the rule and each field. */
export class RuleValidationError extends Error {
  override readonly name: string = 'RuleValidationError';
  readonly file: string;
  /** The rule id, or `#<index>` when the rule has no usable id; undefined for problems with the file itself. */
  readonly rule: string | undefined;
  readonly issues: readonly RuleIssue[];

  constructor(file: string, rule: string | undefined, issues: readonly RuleIssue[], options?: ErrorOptions) {
    const where = rule === undefined ? file : `${file}: rule ${rule}`;
    super(`${where}: ${issues.map((issue) => `${issue.path}: ${issue.reason}`).join('; ')}`, options);
    this.file = file;
    this.rule = rule;
    this.issues = issues;
  }
}

/** Two rules with the same id; ids name EventBridge rules and alert claims, so they must be unique. */
export class DuplicateRuleIdError extends RuleValidationError {
  override readonly name = 'DuplicateRuleIdError';

  constructor(id: string, firstFile: string, secondFile: string) {
    super(secondFile, id, [{ path: 'id', reason: `duplicate rule id "${id}", already defined in ${firstFile}` }]);
  }
}

/** A valid rule that cannot become a deployable EventBridge event pattern. */
export class RuleCompileError extends Error {
  override readonly name = 'RuleCompileError';
  readonly ruleId: string;

  constructor(ruleId: string, reason: string, options?: ErrorOptions) {
    super(`rule ${ruleId}: ${reason}`, options);
    this.ruleId = ruleId;
  }
}

/** More alert rules than the partner event bus has room for. */
export class TooManyAlertRulesError extends Error {
  override readonly name = 'TooManyAlertRulesError';
}
