import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { z } from 'zod';
import { escapeForTerminal } from '../../../lambdas/shared/escape-text.ts';
import { OKTA_SOURCE_PREFIX } from '../../../lambdas/shared/okta-event.ts';
import { compileRule } from '../compile.ts';
import { RuleCompileError, RuleValidationError } from '../errors.ts';
import { parseRules } from '../load.ts';
import { OktaAlertRule } from '../schema.ts';
import { convertSigmaRule, type SigmaRuleDraft } from './convert.ts';

/** One Sigma rule file to import: its text, and the name to show for it (a path relative to what was imported). */
export interface SigmaSourceFile {
  readonly name: string;
  readonly text: string;
}

/** The outcome for one Sigma rule file. */
export type SigmaImport =
  | {
      readonly status: 'converted';
      readonly file: string;
      readonly sigmaId: string | undefined;
      readonly title: string;
      /** The olp rule id, kebab-case from the title. */
      readonly id: string;
      /** The file to write, `<id>.yaml`, and its whole text. */
      readonly fileName: string;
      readonly yaml: string;
      readonly notes: readonly string[];
    }
  | {
      readonly status: 'skipped';
      readonly file: string;
      readonly sigmaId: string | undefined;
      readonly title: string | undefined;
      readonly reason: string;
    }
  | { readonly status: 'invalid'; readonly file: string; readonly reason: string };

export interface SigmaImportOptions {
  /** Rule ids already in use (the default pack's): a converted rule never takes one. */
  readonly reservedIds?: ReadonlySet<string>;
}

const RULE_ID_MAX = 64;
const SUFFIX_CHARS = 8;

/** Compiled against this source only to check the pattern: the deployment pins its own. */
const VALIDATION_SOURCE = `${OKTA_SOURCE_PREFIX}sigma-import/validation`;

/** Kebab-case from a title, at most `max` characters, cut at a word where it can be. */
export function ruleIdFromTitle(title: string, max = RULE_ID_MAX): string {
  const words = title
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (words === '') return 'sigma-rule';
  if (words.length <= max) return words;
  const cut = words.slice(0, max);
  const lastHyphen = cut.lastIndexOf('-');
  return (lastHyphen > max / 2 ? cut.slice(0, lastHyphen) : cut).replace(/-+$/, '');
}

/** What tells two rules with one title apart, stably: their Sigma id, else a digest of the file. */
function suffixOf(sigmaId: string | undefined, text: string): string {
  const fromId = sigmaId?.toLowerCase().replace(/[^a-z0-9]/g, '') ?? '';
  return fromId.length >= SUFFIX_CHARS
    ? fromId.slice(0, SUFFIX_CHARS)
    : createHash('sha256').update(text).digest('hex').slice(0, SUFFIX_CHARS);
}

function ruleOf(id: string, draft: SigmaRuleDraft): Record<string, unknown> {
  return {
    id,
    title: draft.title,
    severity: draft.severity,
    description: draft.description,
    runbook: draft.runbook,
    ...(draft.author === undefined ? {} : { author: draft.author }),
    ...(draft.references === undefined ? {} : { references: draft.references }),
    sigma: draft.sigma,
    match: draft.match,
  };
}

function yamlOf(rule: Record<string, unknown>, file: string): string {
  // The comment is one line whatever the file is called.
  const header =
    `# Converted by olp rules import-sigma from the Sigma rule ${escapeForTerminal(file)}. ` +
    'Review it before deploying.\n';
  return header + stringify({ rules: [rule] }, { lineWidth: 0, blockQuote: 'literal' });
}

/**
 * Why the rule would not pass `olp rules lint`, or undefined: the rule is validated and compiled first (which refuses
 * an oversized pattern before any YAML is written), then its file is read back as lint reads it.
 */
function validationProblem(rule: Record<string, unknown>, render: () => string, fileName: string): string | undefined {
  try {
    compileRule(OktaAlertRule.parse(rule), VALIDATION_SOURCE);
    for (const loaded of parseRules(render(), fileName)) compileRule(loaded, VALIDATION_SOURCE);
    return undefined;
  } catch (error) {
    if (error instanceof RuleValidationError || error instanceof RuleCompileError) return error.message;
    if (error instanceof z.ZodError) return issuesText(error);
    throw error;
  }
}

const issuesText = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.join('.') || '(rule)'}: ${issue.message}`).join('; ');

/**
 * Converts Sigma rule files into olp alert rule files, one rule per file. Rule ids are kebab-case from the title;
 * rules that share a title (or take a reserved id) get the first characters of their Sigma id appended, so an id
 * stays the same from one import to the next. A converted rule is returned only when its whole file validates as
 * `olp rules lint` would validate it.
 */
export function importSigmaRules(files: readonly SigmaSourceFile[], options: SigmaImportOptions = {}): SigmaImport[] {
  const reserved = options.reservedIds ?? new Set<string>();
  const conversions = files.map((file) => ({ file, conversion: convertSigmaRule(file.text) }));
  const bases = new Map<string, number>();
  for (const { conversion } of conversions) {
    if (conversion.status !== 'converted') continue;
    const base = ruleIdFromTitle(conversion.title);
    bases.set(base, (bases.get(base) ?? 0) + 1);
  }
  const taken = new Map<string, string>();
  return conversions.map(({ file, conversion }): SigmaImport => {
    if (conversion.status === 'invalid') return { status: 'invalid', file: file.name, reason: conversion.reason };
    if (conversion.status === 'skipped') return { ...conversion, file: file.name };
    const base = ruleIdFromTitle(conversion.title);
    const shared = (bases.get(base) ?? 0) > 1 || reserved.has(base);
    const shortBase = ruleIdFromTitle(conversion.title, RULE_ID_MAX - SUFFIX_CHARS - 1);
    const id = shared ? `${shortBase}-${suffixOf(conversion.sigmaId, file.text)}` : base;
    const skip = (reason: string): SigmaImport => ({
      status: 'skipped',
      file: file.name,
      sigmaId: conversion.sigmaId,
      title: conversion.title,
      reason,
    });
    const holder = taken.get(id);
    if (holder !== undefined || reserved.has(id)) {
      return skip(`its rule id ${id} is already taken${holder === undefined ? '' : ` by ${holder}`} (same Sigma id?)`);
    }
    const fileName = `${id}.yaml`;
    const rule = ruleOf(id, conversion.draft);
    let yaml: string | undefined;
    const render = (): string => {
      yaml ??= yamlOf(rule, file.name);
      return yaml;
    };
    const problem = validationProblem(rule, render, fileName);
    if (problem !== undefined) return skip(`the converted rule does not validate: ${problem}`);
    taken.set(id, file.name);
    return {
      status: 'converted',
      file: file.name,
      sigmaId: conversion.sigmaId,
      title: conversion.title,
      id,
      fileName,
      yaml: render(),
      notes: conversion.notes,
    };
  });
}
