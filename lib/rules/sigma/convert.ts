import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { isPlainObject } from '../../pattern/values.ts';
import { SIGMA_LEVELS } from '../schema.ts';
import type { Severity } from '../types.ts';
import { SigmaInexpressibleError, SigmaRuleError } from './errors.ts';
import { type OktaMatch, oktaMatchOf } from './event-pattern.ts';
import { alternativesOf, detectionExpression } from './expression.ts';
import { Notes } from './notes.ts';

export type SigmaLevel = (typeof SIGMA_LEVELS)[number];

/** Sigma's levels as olp severities: the same five steps, `informational` shortened. */
export const SEVERITY_OF_LEVEL: Readonly<Record<SigmaLevel, Severity>> = {
  informational: 'info',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
};

/** Sigma rules are small; a larger file is refused before it is parsed. */
export const MAX_SIGMA_FILE_CHARS = 1_000_000;

/** An olp rule title's limit (lib/rules/schema.ts); Sigma allows 256 characters. */
const MAX_TITLE_CHARS = 120;

/** What a converted rule holds, but its id: ids are given once all rules of an import are known. */
export interface SigmaRuleDraft {
  readonly title: string;
  readonly severity: Severity;
  readonly description: string;
  readonly runbook: string;
  readonly author?: string;
  readonly references?: string[];
  readonly sigma: { readonly id?: string; readonly level?: SigmaLevel };
  readonly match: OktaMatch;
}

/** The outcome of converting one Sigma rule file. */
export type SigmaConversion =
  | {
      readonly status: 'converted';
      readonly sigmaId: string | undefined;
      readonly title: string;
      readonly draft: SigmaRuleDraft;
      /** How the converted rule matches differently from the Sigma rule; also in its runbook. */
      readonly notes: readonly string[];
    }
  | {
      readonly status: 'skipped';
      readonly sigmaId: string | undefined;
      readonly title: string | undefined;
      readonly reason: string;
    }
  | { readonly status: 'invalid'; readonly reason: string };

const text = z.string().trim().min(1, 'must not be empty');
const textOrList = z.union([z.string(), z.array(z.string())], 'must be a string or a list of strings');

/** The parts of a Sigma rule the conversion reads; any other keys are allowed, as Sigma allows custom ones. */
const SigmaRuleShape = z.looseObject({
  title: text,
  id: text.optional(),
  status: z.string().optional(),
  description: z.string().optional(),
  references: z.array(z.string(), 'must be a list of strings').optional(),
  author: textOrList.optional(),
  level: z.enum(SIGMA_LEVELS, `must be one of ${SIGMA_LEVELS.join(', ')}`).optional(),
  falsepositives: textOrList.optional(),
  logsource: z.looseObject({
    product: z.string().optional(),
    service: z.string().optional(),
    category: z.string().optional(),
  }),
  detection: z.record(z.string(), z.unknown(), 'must be a map of search identifiers and a condition'),
});
type SigmaRuleShape = z.infer<typeof SigmaRuleShape>;

const DEEP = 'nests too deeply to read';

/** The one YAML document of a Sigma rule file, as plain data. */
function documentOf(source: string): unknown {
  if (source.length > MAX_SIGMA_FILE_CHARS) {
    throw new SigmaRuleError(
      '(file)',
      `is ${source.length} characters; a Sigma rule is at most ${MAX_SIGMA_FILE_CHARS}`,
    );
  }
  try {
    const documents = parseAllDocuments(source, { uniqueKeys: true, prettyErrors: true });
    if (!Array.isArray(documents) || documents.length === 0) throw new SigmaRuleError('(yaml)', 'the file is empty');
    if (documents.length > 1) {
      throw new SigmaInexpressibleError(
        `a Sigma rule collection (${documents.length} YAML documents); convert its rules one per file`,
      );
    }
    const [document] = documents;
    const [error] = document?.errors ?? [];
    if (error !== undefined) {
      // The first line says what and where ("... at line 3, column 1"); the rest draws the spot.
      const [summary = error.message] = error.message.split('\n');
      throw new SigmaRuleError('(yaml)', summary.replace(/:$/, '').replace(/^Maximum call stack size exceeded/, DEEP));
    }
    return document?.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof SigmaRuleError || error instanceof SigmaInexpressibleError) throw error;
    if (error instanceof RangeError) throw new SigmaRuleError('(yaml)', DEEP);
    throw new SigmaRuleError('(yaml)', error instanceof Error ? error.message : String(error));
  }
}

const listOf = (value: string | string[] | undefined): string[] =>
  (value === undefined ? [] : Array.isArray(value) ? value : [value]).map((item) => item.trim()).filter(Boolean);

function checkLogSource(rule: SigmaRuleShape): void {
  const { product, service, category } = rule.logsource;
  // SigmaHQ's Okta rules say `product: okta, service: okta`; its older ones only `service: okta`.
  const okta =
    category === undefined &&
    (product?.toLowerCase() === 'okta' || product === undefined) &&
    (service?.toLowerCase() === 'okta' || service === undefined) &&
    (product !== undefined || service !== undefined);
  if (!okta) {
    const named = Object.entries(rule.logsource)
      .filter(([, value]) => typeof value === 'string')
      .map(([key, value]) => `${key}: ${String(value)}`)
      .join(', ');
    throw new SigmaInexpressibleError(
      `logsource is ${named === '' ? 'empty' : named}; only Okta System Log rules (product: okta, service: okta) ` +
        'convert',
    );
  }
}

const isUrl = (reference: string): boolean => z.url({ protocol: /^https?$/ }).safeParse(reference).success;

function runbookOf(rule: SigmaRuleShape, notes: readonly string[], otherReferences: readonly string[]): string {
  const level = rule.level === undefined ? 'no level' : `level ${rule.level}`;
  const falsePositives = listOf(rule.falsepositives);
  // Alerts carry the runbook: naming the author there credits them wherever a match is shown, as the Detection Rule
  // License of SigmaHQ's rules asks.
  const author = listOf(rule.author).join(', ');
  const lines = [
    `Converted by olp rules import-sigma from the Sigma rule "${rule.title}"${author === '' ? '' : ` by ${author}`} ` +
      `(${rule.id ?? 'no Sigma id'}, ${level}).`,
    'Review it before deploying it: Sigma rules are written for searches in a SIEM, and this rule alerts on ' +
      'every event it matches.',
    '',
    '1. Read the event: who acted (actor), what happened (eventType, displayMessage, outcome), on what (target) and',
    '   from where (client.ipAddress, client.geographicalContext).',
    falsePositives.length === 0
      ? '2. The Sigma rule lists no known false positives.'
      : '2. Check it against the false positives the Sigma rule lists:',
    ...falsePositives.map((item) => `   - ${item}`),
    "3. If none explains it, confirm with the actor through a channel other than Okta, and review the actor's recent",
    '   System Log activity.',
  ];
  if (notes.length > 0) {
    lines.push('', 'How this rule matches differently from the Sigma rule:', ...notes.map((note) => `- ${note}`));
  }
  if (otherReferences.length > 0) {
    lines.push('', 'Other references of the Sigma rule:', ...otherReferences.map((reference) => `- ${reference}`));
  }
  return lines.join('\n');
}

function draftOf(rule: SigmaRuleShape): { draft: SigmaRuleDraft; notes: string[] } {
  const notes = new Notes();
  const match = oktaMatchOf(alternativesOf(detectionExpression(rule.detection, notes)), notes);
  const title = rule.title.trim();
  if (title.length > MAX_TITLE_CHARS) notes.add(`title: cut to ${MAX_TITLE_CHARS} characters`);
  const references = listOf(rule.references);
  const author = listOf(rule.author).join(', ');
  const noteList = notes.list();
  const draft: SigmaRuleDraft = {
    title: title.length > MAX_TITLE_CHARS ? `${title.slice(0, MAX_TITLE_CHARS - 3).trimEnd()}...` : title,
    severity: SEVERITY_OF_LEVEL[rule.level ?? 'medium'],
    description: rule.description?.trim() || `Sigma rule "${title}".`,
    runbook: runbookOf(
      rule,
      noteList,
      references.filter((reference) => !isUrl(reference)),
    ),
    ...(author === '' ? {} : { author }),
    ...(references.some(isUrl) ? { references: references.filter(isUrl) } : {}),
    sigma: {
      ...(rule.id === undefined ? {} : { id: rule.id }),
      ...(rule.level === undefined ? {} : { level: rule.level }),
    },
    match,
  };
  return { draft, notes: noteList };
}

const issueOf = (error: z.ZodError): SigmaRuleError => {
  const [issue] = error.issues;
  return new SigmaRuleError(
    issue === undefined || issue.path.length === 0 ? '(rule)' : issue.path.join('.'),
    issue?.message ?? 'is not a Sigma rule',
  );
};

/**
 * Converts the text of one Sigma rule file into the parts of an olp Okta alert rule, or says why it cannot: an
 * invalid file (the reason names the field), or a valid Sigma rule that is not for Okta or that no EventBridge
 * pattern can express.
 */
export function convertSigmaRule(source: string): SigmaConversion {
  let identity: { sigmaId: string | undefined; title: string | undefined } = { sigmaId: undefined, title: undefined };
  try {
    const document = documentOf(source);
    if (!isPlainObject(document))
      throw new SigmaRuleError('(rule)', 'must be a map with title, logsource and detection');
    const sigmaId = typeof document.id === 'string' ? document.id : undefined;
    identity = { sigmaId, title: typeof document.title === 'string' ? document.title : undefined };
    if (document.correlation !== undefined) {
      throw new SigmaInexpressibleError(
        'a Sigma correlation rule (counts or sequences over many events); an alert rule matches one event at a time',
      );
    }
    if (document.filter !== undefined && document.detection === undefined) {
      throw new SigmaInexpressibleError('a Sigma filter, which only changes other rules');
    }
    const parsed = SigmaRuleShape.safeParse(document);
    if (!parsed.success) throw issueOf(parsed.error);
    const rule = parsed.data;
    if (rule.status === 'deprecated' || rule.status === 'unsupported') {
      throw new SigmaInexpressibleError(`status is ${rule.status}; Sigma says not to use it as it is`);
    }
    checkLogSource(rule);
    const { draft, notes } = draftOf(rule);
    return { status: 'converted', sigmaId, title: rule.title, draft, notes };
  } catch (error) {
    if (error instanceof SigmaRuleError) return { status: 'invalid', reason: error.message };
    if (error instanceof SigmaInexpressibleError) return { status: 'skipped', ...identity, reason: error.reason };
    throw error;
  }
}
