export { type ConditionNode, parseCondition } from './condition.ts';
export { convertSigmaRule, MAX_SIGMA_FILE_CHARS, SEVERITY_OF_LEVEL, type SigmaConversion } from './convert.ts';
export { SigmaInexpressibleError, SigmaRuleError } from './errors.ts';
export {
  importSigmaRules,
  ruleIdFromTitle,
  type SigmaImport,
  type SigmaImportOptions,
  type SigmaSourceFile,
} from './import.ts';
