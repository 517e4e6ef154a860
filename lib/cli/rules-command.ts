import { escapeForTerminal, escapeJsonText, shortForTerminal } from '../../lambdas/shared/escape-text.ts';
import { OKTA_SOURCE_PREFIX } from '../../lambdas/shared/okta-event.ts';
import { DEFAULT_EVENT_SOURCE, InputError, type OktaEnvelopeLike, readEventInput } from '../local/event-input.ts';
import {
  type AlertRule,
  type CompiledAlertRule,
  compileRules,
  DEFAULT_PACK_DIR,
  type LoadedRule,
  loadRules,
  matchingRules,
  RuleCompileError,
  RuleValidationError,
  TooManyAlertRulesError,
} from '../rules/index.ts';
import { LineWriter, oneLine, parseOptions, required } from './args.ts';
import { CliError, type CliIo, type Command } from './io.ts';

const USAGE = `Usage:
  olp rules test --events <file|-> [--rules <dir>] [--source <name>] [--json]
  olp rules lint [--rules <dir>] [--source <name>]

The alert rules are the default pack plus the YAML rule files of --rules.

test  Prints the alert rules that match each event read, one line per event:
        <published>  <eventType>  <uuid>  -> rule-a, rule-b     (or -> (no rule))
      then a summary on stderr. Events: JSON Lines or a JSON array, EventBridge envelopes or raw System Log events,
      plain or .gz, - for stdin. Every record is tested, redeliveries included. Raw events are wrapped in an envelope
      from --source. An envelope is tested against the rules as deployed for its own Okta source, so envelopes
      from any org match; envelopes from a source that is not Okta's match no rule. Unusable records are reported
      on stderr with their line, and reading goes on.
lint  Validates the rules and prints each one (id, severity, title) and the EventBridge event pattern it deploys as.

Options:
  --events F  the events to test (test only)
  --rules D   a directory of your rule files (*.yaml, *.yml), loaded after the default pack
  --source S  the Okta partner event source, aws.partner/okta.com/<org>/<name>
              (default ${DEFAULT_EVENT_SOURCE})
  --json      test: one JSON object per event on stdout, {"uuid","eventType","rules"}, and {"line","error"} for an
              unusable record; nothing else on stdout
  -h, --help  show this help

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

interface LoadedPack {
  readonly rules: readonly LoadedRule[];
  readonly compiled: readonly CompiledAlertRule[];
}

const loadPack = (userDir: string | undefined, source: string): LoadedPack =>
  ruleErrorsAsUsage(() => {
    const rules = loadRules(userDir === undefined ? {} : { userDir });
    return { rules, compiled: compileRules(rules, source) };
  });

/**
 * The deployed patterns pin `source` to one partner event source. Compiling once per Okta source seen tests every
 * envelope against the rules as they would be deployed for its own org, with no second matching logic to keep true.
 */
class RulesBySource {
  private readonly bySource = new Map<string, readonly CompiledAlertRule[]>();

  constructor(
    private readonly rules: readonly AlertRule[],
    source: string,
    compiled: readonly CompiledAlertRule[],
  ) {
    this.bySource.set(source, compiled);
  }

  matching(envelope: OktaEnvelopeLike): CompiledAlertRule[] {
    const { source } = envelope;
    if (typeof source !== 'string' || !source.startsWith(OKTA_SOURCE_PREFIX)) return [];
    let compiled = this.bySource.get(source);
    if (compiled === undefined) {
      const rules = this.rules;
      compiled = ruleErrorsAsUsage(() => compileRules(rules, source));
      this.bySource.set(source, compiled);
    }
    return matchingRules(compiled, envelope);
  }
}

/** A System Log field to print: the string, or null when the event lacks it (its schema is not checked here). */
const detailField = (envelope: OktaEnvelopeLike, field: string): string | null => {
  const { detail } = envelope;
  if (typeof detail !== 'object' || detail === null || !Object.hasOwn(detail, field)) return null;
  const value: unknown = Reflect.get(detail, field);
  return typeof value === 'string' ? value : null;
};

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
  const pack = loadPack(options.rules, source);
  const rulesBySource = new RulesBySource(pack.rules, source, pack.compiled);
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
      const uuid = detailField(record.envelope, 'uuid');
      const eventType = detailField(record.envelope, 'eventType');
      // The event's fields are the input's, unchecked: escaped for the terminal, or for JSON of any reader.
      const line = json
        ? escapeJsonText(JSON.stringify({ uuid, eventType, rules: ids }))
        : `${shown(detailField(record.envelope, 'published'))}  ${shown(eventType)}  ${shown(uuid)}  -> ` +
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
  const options = parseOptions(args, { rules: { type: 'string' }, source: { type: 'string' } }, USAGE, io);
  if (options === undefined) return 0;
  const source = eventSourceOf(options.source);
  const { rules, compiled } = loadPack(options.rules, source);

  const out = new LineWriter(io.stdout);
  for (const [index, rule] of compiled.entries()) {
    const text = `${index === 0 ? '' : '\n'}${rule.id}  ${rule.severity}  ${rule.title}\n${JSON.stringify(rule.pattern, null, 2)}`;
    if (!(await out.line(text))) return 0;
  }
  const fromPack = rules.filter((rule) => rule.source.startsWith(DEFAULT_PACK_DIR)).length;
  const fromUser = options.rules === undefined ? '' : `, ${rules.length - fromPack} from ${options.rules}`;
  io.stderr.write(`${plural(rules.length, 'alert rule')} valid: ${fromPack} from the default pack${fromUser}\n`);
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
  const problem = subcommand === undefined ? 'missing subcommand' : `unknown subcommand "${subcommand}"`;
  throw new CliError(`${problem}; use olp rules test or olp rules lint (see --help)`, 2);
};
