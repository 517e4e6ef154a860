import { escapeForTerminal, escapeJsonText, shortForTerminal } from '../../lambdas/shared/escape-text.ts';
import { OKTA_SOURCE_PREFIX } from '../../lambdas/shared/okta-event.ts';
import { DEFAULT_EVENT_SOURCE, InputError, type OktaEnvelopeLike, readEventInput } from '../local/event-input.ts';
import {
  type AlertRule,
  AUTH0_DETAIL_TYPE,
  auth0SourceNameProblem,
  type CompiledAlertRule,
  compileRules,
  DEFAULT_PACK_DIR,
  type EventSourceNames,
  type LoadedRule,
  loadRules,
  matchingRules,
  RuleCompileError,
  RuleValidationError,
  ruleSourceOf,
  TooManyAlertRulesError,
  unknownAuth0LogTypes,
} from '../rules/index.ts';
import { LineWriter, oneLine, parseOptions, required } from './args.ts';
import { CliError, type CliIo, type Command } from './io.ts';

const USAGE = `Usage:
  olp rules test --events <file|-> [--rules <dir>] [--source <name>] [--json]
  olp rules lint [--rules <dir>] [--source <name>] [--auth0-source <name>]
  olp rules import-sigma <file|dir> --out <dir> [--json]

The alert rules are the default pack plus the YAML rule files of --rules, for Okta and (source: auth0) for Auth0.

test  Prints the alert rules that match each event read, one line per event:
        <published>  <eventType>  <uuid>  -> rule-a, rule-b     (or -> (no rule))
      then a summary on stderr. Events: JSON Lines or a JSON array, EventBridge envelopes or raw System Log events,
      plain or .gz, - for stdin. Every record is tested, redeliveries included. Raw events are wrapped in an envelope
      from --source. An envelope is tested against the rules as deployed for its own source: Okta envelopes from
      any org against the Okta rules, Auth0 log envelopes (detail-type "${AUTH0_DETAIL_TYPE}") from any tenant
      against the Auth0 rules, for which the line shows the log's date, type code and log_id. Envelopes from other
      sources match no rule. Unusable records are reported on stderr with their line, and reading goes on.
lint  Validates the rules and prints each one (id, severity, title) and the EventBridge event pattern it deploys as:
      the Okta rules, and the Auth0 rules when --auth0-source names where Auth0 logs come from (without it they are
      validated, not printed, as a deployment without Auth0 validates and skips them). Auth0 log type codes that
      Auth0 does not document are pointed out on stderr: a misspelt code never matches.
import-sigma  Converts Sigma rules for Okta into rule files for --rules; see olp rules import-sigma --help.

Options:
  --events F        the events to test (test only)
  --rules D         a directory of your rule files (*.yaml, *.yml), loaded after the default pack
  --source S        the Okta partner event source, aws.partner/okta.com/<org>/<name>
                    (default ${DEFAULT_EVENT_SOURCE})
  --auth0-source S  lint: the Auth0 partner event source, aws.partner/auth0.com/<tenant>-<id>/auth0.logs, or the
                    source the pipeline gives logs from Auth0's HTTP sink
  --json            test: one JSON object per event on stdout, {"uuid","eventType","rules"} ("uuid" holds an Auth0
                    log's log_id), and {"line","error"} for an unusable record; nothing else on stdout
  -h, --help        show this help

Exit codes: 0 done; 2 a rule file is invalid (one line on stderr naming the file, the rule and the field), or an
option or the events file is.`;

const isRuleError = (error: unknown): error is Error =>
  error instanceof RuleValidationError || error instanceof RuleCompileError || error instanceof TooManyAlertRulesError;

/** Rule problems become one-line usage errors (exit 2); anything else is a bug and keeps its stack. */
function ruleErrorsAsUsage<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    // Rule errors quote the rule files' values.
    if (isRuleError(error)) throw new CliError(escapeForTerminal(oneLine(error.message)), 2);
    throw error;
  }
}

function eventSourceOf(value: string | undefined): string {
  const source = value ?? DEFAULT_EVENT_SOURCE;
  if (!source.startsWith(OKTA_SOURCE_PREFIX)) {
    throw new CliError(`--source must be an Okta partner event source, ${OKTA_SOURCE_PREFIX}<org>/<name>`, 2);
  }
  return source;
}

function auth0SourceOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const problem = auth0SourceNameProblem(value);
  if (problem !== undefined) throw new CliError(`--auth0-source ${problem}`, 2);
  return value;
}

/**
 * Where Auth0 rules are compiled when no Auth0 source is named: only to validate them (a pattern EventBridge would
 * refuse, or one over the size quota, is an error with or without Auth0 configured).
 */
const PLACEHOLDER_AUTH0_SOURCE = 'aws.partner/auth0.com/lint-0000000000000000/auth0.logs';

interface LoadedPack {
  readonly rules: readonly LoadedRule[];
  /** The rules compiled for the named sources, in rule order. */
  readonly compiled: readonly CompiledAlertRule[];
}

const loadPack = (userDir: string | undefined, sources: EventSourceNames): LoadedPack =>
  ruleErrorsAsUsage(() => {
    const rules = loadRules(userDir === undefined ? {} : { userDir });
    const compiled = compileRules(rules, sources);
    if (sources.auth0 === undefined) compileRules(rules, { auth0: PLACEHOLDER_AUTH0_SOURCE });
    return { rules, compiled };
  });

/** Which log source an envelope is from, going by its source and detail-type; undefined for neither. */
function logSourceOf(envelope: OktaEnvelopeLike): { names: EventSourceNames; key: string } | undefined {
  const { source } = envelope;
  if (typeof source !== 'string') return undefined;
  if (source.startsWith(OKTA_SOURCE_PREFIX)) return { names: { okta: source }, key: `okta ${source}` };
  if (envelope['detail-type'] === AUTH0_DETAIL_TYPE && auth0SourceNameProblem(source) === undefined) {
    return { names: { auth0: source }, key: `auth0 ${source}` };
  }
  return undefined;
}

/**
 * The deployed patterns pin `source` to one event source. Compiling once per source seen tests every envelope
 * against the rules as they would be deployed for its own org or tenant, with no second matching logic to keep true.
 */
class RulesBySource {
  private readonly bySource = new Map<string, readonly CompiledAlertRule[]>();

  constructor(private readonly rules: readonly AlertRule[]) {}

  matching(envelope: OktaEnvelopeLike): CompiledAlertRule[] {
    const from = logSourceOf(envelope);
    if (from === undefined) return [];
    let compiled = this.bySource.get(from.key);
    if (compiled === undefined) {
      const rules = this.rules;
      compiled = ruleErrorsAsUsage(() => compileRules(rules, from.names));
      this.bySource.set(from.key, compiled);
    }
    // A stateful rule alerts on what many events add up to, never on one: its scenarios are the detector's to test.
    return matchingRules(compiled, envelope).filter((rule) => rule.detect === undefined);
  }
}

/** A string field of an object to print, or null when it lacks one (the event's schema is not checked here). */
const stringField = (object: unknown, field: string): string | null => {
  if (typeof object !== 'object' || object === null || !Object.hasOwn(object, field)) return null;
  const value: unknown = Reflect.get(object, field);
  return typeof value === 'string' ? value : null;
};

/** What a line shows for an event: an Okta event's published, eventType, uuid; an Auth0 log's date, type, log_id. */
function shownFields(envelope: OktaEnvelopeLike): {
  published: string | null;
  eventType: string | null;
  uuid: string | null;
} {
  const { detail } = envelope;
  if (envelope['detail-type'] === AUTH0_DETAIL_TYPE) {
    const data = typeof detail === 'object' && detail !== null ? Reflect.get(detail, 'data') : undefined;
    return {
      published: stringField(data, 'date'),
      eventType: stringField(data, 'type'),
      uuid: stringField(detail, 'log_id') ?? stringField(data, 'log_id'),
    };
  }
  return {
    published: stringField(detail, 'published'),
    eventType: stringField(detail, 'eventType'),
    uuid: stringField(detail, 'uuid'),
  };
}

/** A field for one line of text output: escaped, cut to a readable length, `-` when missing. */
const shown = (value: string | null): string => (value === null ? '-' : shortForTerminal(value, 200));

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

async function testRules(args: readonly string[], io: CliIo): Promise<number> {
  const options = parseOptions(
    args,
    { events: { type: 'string' }, rules: { type: 'string' }, source: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
    io,
  );
  if (options === undefined) return 0;
  const events = required(options.events, '--events');
  const source = eventSourceOf(options.source);
  const pack = loadPack(options.rules, { okta: source });
  const rulesBySource = new RulesBySource(pack.rules);
  const json = options.json === true;
  const inputName = events === '-' ? 'stdin' : events;

  const out = new LineWriter(io.stdout);
  const err = new LineWriter(io.stderr);
  let read = 0;
  let matched = 0;
  let unusable = 0;
  try {
    for await (const record of readEventInput(events, { stdin: io.stdin, eventSource: source })) {
      if ('error' in record) {
        unusable += 1;
        // Errors quote the input (a JSON parser's message shows the text it stopped at): escaped, and one short line.
        const written = json
          ? await out.line(escapeJsonText(JSON.stringify({ line: record.line, error: record.error })))
          : await err.line(`${escapeForTerminal(inputName)}:${record.line}: ${shortForTerminal(record.error, 300)}`);
        if (!written) return 0;
        continue;
      }
      read += 1;
      const ids = rulesBySource.matching(record.envelope).map((rule) => rule.id);
      if (ids.length > 0) matched += 1;
      const { published, eventType, uuid } = shownFields(record.envelope);
      // The event's fields are the input's, unchecked: escaped for the terminal, or for JSON of any reader.
      const line = json
        ? escapeJsonText(JSON.stringify({ uuid, eventType, rules: ids }))
        : `${shown(published)}  ${shown(eventType)}  ${shown(uuid)}  -> ` +
          `${ids.length > 0 ? ids.join(', ') : '(no rule)'}`;
      // The reader went away (`| head`): it has all it wanted.
      if (!(await out.line(line))) return 0;
    }
  } catch (error) {
    if (error instanceof InputError) throw new CliError(escapeForTerminal(oneLine(error.message)), 2);
    throw error;
  }
  await err.line(
    `${plural(read, 'event')} tested, ${matched} matched an alert rule, ${plural(unusable, 'unusable record')} ` +
      `(${plural(pack.rules.length, 'rule')})`,
  );
  return 0;
}

async function lintRules(args: readonly string[], io: CliIo): Promise<number> {
  const options = parseOptions(
    args,
    { rules: { type: 'string' }, source: { type: 'string' }, 'auth0-source': { type: 'string' } },
    USAGE,
    io,
  );
  if (options === undefined) return 0;
  const source = eventSourceOf(options.source);
  const auth0 = auth0SourceOf(options['auth0-source']);
  const { rules, compiled } = loadPack(options.rules, { okta: source, auth0 });

  const out = new LineWriter(io.stdout);
  for (const [index, rule] of compiled.entries()) {
    const text = `${index === 0 ? '' : '\n'}${rule.id}  ${rule.severity}  ${rule.title}\n${JSON.stringify(rule.pattern, null, 2)}`;
    if (!(await out.line(text))) return 0;
  }
  const err = new LineWriter(io.stderr);
  for (const rule of rules) {
    const unknown = unknownAuth0LogTypes(rule);
    if (unknown.length === 0) continue;
    const where = escapeForTerminal(`${rule.file}: rule ${rule.id}`);
    const codes = escapeForTerminal(unknown.join(', '));
    if (!(await err.line(`note: ${where}: match.eventType: ${codes}: not an Auth0 log type code Auth0 documents`))) {
      return 0;
    }
  }
  // Counted as printed: the rules a deployment with these sources would have.
  const listed = rules.filter((rule) => ruleSourceOf(rule) === 'okta' || auth0 !== undefined);
  const fromPack = listed.filter((rule) => rule.file.startsWith(DEFAULT_PACK_DIR)).length;
  const fromUser = options.rules === undefined ? '' : `, ${listed.length - fromPack} from ${options.rules}`;
  io.stderr.write(`${plural(listed.length, 'alert rule')} valid: ${fromPack} from the default pack${fromUser}\n`);
  return 0;
}

export const rulesCommand: Command = async (args, io) => {
  const [subcommand, ...rest] = args;
  if (subcommand === '--help' || subcommand === '-h') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (subcommand === 'test') return testRules(rest, io);
  if (subcommand === 'lint') return lintRules(rest, io);
  if (subcommand === 'import-sigma') return (await import('./import-sigma-command.ts')).importSigma(rest, io);
  const problem = subcommand === undefined ? 'missing subcommand' : `unknown subcommand "${subcommand}"`;
  throw new CliError(`${problem}; use olp rules test or olp rules lint (see --help)`, 2);
};
