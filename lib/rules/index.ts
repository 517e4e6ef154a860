export {
  type CompileOptions,
  compileRule,
  compileRules,
  EVENT_PATTERN_MAX_CHARS,
  eventTypeMatcher,
  MAX_ALERT_RULES,
  matchingRules,
  ruleSummary,
} from './compile.ts';
export { DuplicateRuleIdError, RuleCompileError, RuleValidationError, TooManyAlertRulesError } from './errors.ts';
export { DEFAULT_PACK_DIR, type LoadedRule, loadRuleDirectory, loadRules, parseRules } from './load.ts';
export { AlertRule, SUBJECT_PLACEHOLDERS } from './schema.ts';
export type { AlertRuleSummary, CompiledAlertRule, Severity } from './types.ts';
