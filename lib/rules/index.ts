export {
  AUTH0_DETAIL_TYPE,
  AUTH0_PARTNER_SOURCE_PREFIX,
  auth0SourceNameProblem,
  auth0TypeMatcher,
  type CompileOptions,
  compileRule,
  compileRules,
  EVENT_PATTERN_MAX_CHARS,
  type EventSourceNames,
  eventTypeMatcher,
  MAX_ALERT_RULES,
  matchingRules,
  ruleSummary,
} from './compile.ts';
export {
  Destination,
  type DestinationAuth,
  type ForwardingPlan,
  forwardingPlan,
  type LoadedDestination,
  SECRET_FIELDS,
} from './destinations.ts';
export { DuplicateRuleIdError, RuleCompileError, RuleValidationError, TooManyAlertRulesError } from './errors.ts';
export {
  DEFAULT_PACK_DIR,
  type LoadedRule,
  loadRuleDirectory,
  loadRuleSet,
  loadRules,
  parseRuleFile,
  parseRules,
  type RuleSet,
} from './load.ts';
export {
  AlertRule,
  AUTH0_SUBJECT_PLACEHOLDERS,
  Auth0AlertRule,
  OktaAlertRule,
  ruleSourceOf,
  SUBJECT_PLACEHOLDERS,
  unknownAuth0LogTypes,
} from './schema.ts';
export {
  type AlertRuleSummary,
  AUTH0_LOG_TYPES,
  type CompiledAlertRule,
  RULE_SOURCES,
  type RuleSource,
  type Severity,
} from './types.ts';
