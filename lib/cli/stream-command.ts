import { type ParseArgsConfig, parseArgs } from 'node:util';
import { escapeForTerminal, escapeJsonText } from '../../lambdas/shared/escape-text.ts';
import { CREDENTIAL_VARIABLES, credentialsFromVariables, OktaCredentialsError } from '../okta/credentials.ts';
import {
  createAwsEventBridgeStream,
  eventSourceNameOf,
  findByEventSourceName,
  type LogStreamSummary,
  LogStreamValidationError,
  listLogStreams,
  orgSubdomain,
  partnerEventSourceName,
  setLogStreamStatus,
  validateNewStream,
} from '../okta/log-streams.ts';
import { OktaApiError, OktaClient, OktaOrgUrlError, parseOrgUrl } from '../okta/okta-client.ts';
import { oneLine } from './args.ts';
import { CliError, type CliIo, type Command } from './io.ts';

const USAGE = `Usage:
  olp stream list --okta-org <url> [--json]
  olp stream status --okta-org <url> --event-source-name <name | aws.partner/okta.com/<org>/<name>> [--json]
  olp stream activate --okta-org <url> <id> [--json]
  olp stream deactivate --okta-org <url> <id> [--json]
  olp stream create --okta-org <url> --name <name> --account <id> --region <region> --event-source-name <name> [--json]

Manages the org's AWS EventBridge log streams through Okta's Log Streaming API.

list        id, name, type, status, event source name, account and region of every log stream; --json prints one
            JSON array of objects with exactly the keys id, name, type, status, eventSourceName, accountId, region
status      the stream whose event source name matches (the partner event source name is reduced to its last
            segment); --json prints that object, or null when there is none
activate    switch a stream on (after Okta deactivated it following two failed deliveries)
deactivate  switch a stream off
create      a new aws_eventbridge stream, checked as Okta checks it before any request (account: 12 digits; region:
            one Okta supports; event source name: 1-75 letters, digits, ".", "-", "_"); prints the stream and the
            partner event source name to deploy with: npx cdk deploy -c eventSourceName=<partner event source name>

Credentials (environment): OKTA_API_TOKEN (an SSWS API token), or OKTA_CLIENT_ID of an API Services app with
OKTA_PRIVATE_KEY (PEM or JWK text) or OKTA_PRIVATE_KEY_FILE, and optionally OKTA_PRIVATE_KEY_ID (the key's kid).
The app needs the scopes okta.logStreams.read (list, status) and okta.logStreams.manage (activate, deactivate,
create). Plain http:// is accepted only for 127.0.0.1, ::1 and localhost.

Exit codes: 0 done (status: ACTIVE); 1 Okta refused or could not be reached (one line naming the call and Okta's
error); 2 usage, credentials or an invalid field; 3 status: INACTIVE; 4 status: no stream has that event source name.`;

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const COMMON = {
  'okta-org': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

const CREATE = {
  ...COMMON,
  name: { type: 'string' },
  account: { type: 'string' },
  region: { type: 'string' },
  'event-source-name': { type: 'string' },
} as const satisfies OptionsConfig;

const STATUS = { ...COMMON, 'event-source-name': { type: 'string' } } as const satisfies OptionsConfig;

const READ_SCOPES = ['okta.logStreams.read'];
const MANAGE_SCOPES = ['okta.logStreams.read', 'okta.logStreams.manage'];

/** node:util parseArgs, strict, with the positionals a subcommand takes; parse problems are usage errors (exit 2). */
function parse<const O extends OptionsConfig>(args: string[], options: O, positionals: number) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS_')) {
      throw new CliError(`${escapeForTerminal(oneLine(error.message))} (see --help)`, 2);
    }
    throw error;
  }
  if (parsed.positionals.length > positionals) {
    throw new CliError(`unexpected argument "${escapeForTerminal(parsed.positionals[positionals] ?? '')}"`, 2);
  }
  return parsed;
}

const requiredOption = (value: string | boolean | undefined, flag: string): string => {
  if (typeof value !== 'string' || value.trim() === '') throw new CliError(`${flag} is required (see --help)`, 2);
  return value;
};

/** A client for the org named by --okta-org, with credentials from the environment the CLI was given. */
function clientFor(orgText: string | boolean | undefined, io: CliIo, scopes: string[]): OktaClient {
  const given = requiredOption(orgText, '--okta-org');
  try {
    const orgUrl = parseOrgUrl(given);
    const credentials = credentialsFromVariables(io.env);
    return new OktaClient({
      orgUrl,
      credentials,
      scopes,
      onRateLimit: ({ call, waitMs, reason }) => {
        const why = reason === 'rate-limited' ? 'rate limited by Okta' : 'keeping within the rate limit reserve';
        io.stderr.write(`olp stream: ${call}: ${why}, waiting ${Math.ceil(waitMs / 1000)} s\n`);
      },
    });
  } catch (error) {
    if (error instanceof OktaOrgUrlError) throw new CliError(`--okta-org: ${escapeForTerminal(error.message)}`, 2);
    if (error instanceof OktaCredentialsError) {
      // Names the variables only; a credential never reaches the message.
      throw new CliError(`${escapeForTerminal(error.message)} (credentials: ${CREDENTIAL_VARIABLES})`, 2);
    }
    throw error;
  }
}

/** Okta's refusals become one line (exit 1); everything from Okta is escaped before it reaches a terminal. */
async function oktaCall<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof OktaApiError) throw new CliError(escapeForTerminal(oneLine(error.message)), 1);
    throw error;
  }
}

const COLUMNS: ReadonlyArray<[keyof LogStreamSummary, string]> = [
  ['id', 'ID'],
  ['name', 'NAME'],
  ['type', 'TYPE'],
  ['status', 'STATUS'],
  ['eventSourceName', 'EVENT SOURCE NAME'],
  ['accountId', 'ACCOUNT'],
  ['region', 'REGION'],
];

/** Exactly the documented keys, in order, whatever else Okta sent. */
const jsonOf = (stream: LogStreamSummary): Omit<LogStreamSummary, 'lastUpdated'> => ({
  id: stream.id,
  name: stream.name,
  type: stream.type,
  status: stream.status,
  eventSourceName: stream.eventSourceName,
  accountId: stream.accountId,
  region: stream.region,
});

const printJson = (io: CliIo, value: unknown): void => {
  io.stdout.write(`${escapeJsonText(JSON.stringify(value))}\n`);
};

function table(streams: readonly LogStreamSummary[]): string {
  const rows = [
    COLUMNS.map(([, title]) => title),
    ...streams.map((stream) => COLUMNS.map(([key]) => escapeForTerminal(stream[key]))),
  ];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const describe = (stream: LogStreamSummary): string =>
  `${escapeForTerminal(stream.status)}  ${escapeForTerminal(stream.name)}  id=${escapeForTerminal(stream.id)}  ` +
  `eventSourceName=${escapeForTerminal(stream.eventSourceName)}  accountId=${escapeForTerminal(stream.accountId)}  ` +
  `region=${escapeForTerminal(stream.region)}`;

async function list(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, COMMON, 0);
  if (values.help) return help(io);
  const client = clientFor(values['okta-org'], io, READ_SCOPES);
  const streams = await oktaCall(() => listLogStreams(client));
  if (values.json) {
    printJson(io, streams.map(jsonOf));
  } else {
    io.stdout.write(`${table(streams)}\n`);
  }
  return 0;
}

async function status(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, STATUS, 0);
  if (values.help) return help(io);
  const wanted = requiredOption(values['event-source-name'], '--event-source-name');
  const client = clientFor(values['okta-org'], io, READ_SCOPES);
  const stream = await oktaCall(() => findByEventSourceName(client, wanted));
  if (stream === undefined) {
    if (values.json) printJson(io, null);
    io.stderr.write(
      `olp stream: no log stream has the event source name "${escapeForTerminal(eventSourceNameOf(wanted))}"\n`,
    );
    return 4;
  }
  if (values.json) {
    printJson(io, jsonOf(stream));
  } else {
    io.stdout.write(`${describe(stream)}\n`);
  }
  if (stream.status === 'ACTIVE') return 0;
  if (stream.status === 'INACTIVE') {
    if (!values.json) {
      io.stderr.write(
        `olp stream: the stream is switched off; reactivate it with: olp stream activate --okta-org <url> ${escapeForTerminal(stream.id)}\n`,
      );
    }
    return 3;
  }
  throw new CliError(`the stream has a status olp does not know: "${escapeForTerminal(stream.status)}"`);
}

function lifecycle(target: 'ACTIVE' | 'INACTIVE'): (args: string[], io: CliIo) => Promise<number> {
  return async (args, io) => {
    const { values, positionals } = parse(args, COMMON, 1);
    if (values.help) return help(io);
    const id = positionals[0];
    if (id === undefined || id.trim() === '') throw new CliError('the log stream id is required (see --help)', 2);
    const client = clientFor(values['okta-org'], io, MANAGE_SCOPES);
    const stream = await oktaCall(() => setLogStreamStatus(client, id, target));
    if (values.json) {
      printJson(io, jsonOf(stream));
    } else {
      io.stdout.write(`${describe(stream)}\n`);
    }
    return 0;
  };
}

const FLAG_OF: Readonly<Record<LogStreamValidationError['field'], string>> = {
  name: '--name',
  accountId: '--account',
  region: '--region',
  eventSourceName: '--event-source-name',
};

async function create(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, CREATE, 0);
  if (values.help) return help(io);
  const name = requiredOption(values.name, '--name');
  const settings = {
    accountId: requiredOption(values.account, '--account'),
    region: requiredOption(values.region, '--region'),
    eventSourceName: requiredOption(values['event-source-name'], '--event-source-name'),
  };
  // Checked before the credentials and before any request, so a typo costs nothing.
  try {
    validateNewStream(name, settings);
  } catch (error) {
    if (error instanceof LogStreamValidationError) {
      throw new CliError(`${FLAG_OF[error.field]}: ${escapeForTerminal(error.message)}`, 2);
    }
    throw error;
  }
  const client = clientFor(values['okta-org'], io, MANAGE_SCOPES);
  const stream = await oktaCall(() => createAwsEventBridgeStream(client, name, settings));
  const subdomain = await oktaCall(() => orgSubdomain(client));
  const partner = partnerEventSourceName(subdomain ?? '<your Okta subdomain>', stream.eventSourceName);
  if (values.json) {
    printJson(io, { ...jsonOf(stream), partnerEventSourceName: subdomain === undefined ? null : partner });
    return 0;
  }
  io.stdout.write(`${describe(stream)}\n`);
  io.stdout.write(`partner event source: ${escapeForTerminal(partner)}\n`);
  io.stdout.write(`deploy with: npx cdk deploy -c eventSourceName=${escapeForTerminal(partner)}\n`);
  return 0;
}

const help = (io: CliIo): number => {
  io.stdout.write(`${USAGE}\n`);
  return 0;
};

const SUBCOMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  list,
  status,
  activate: lifecycle('ACTIVE'),
  deactivate: lifecycle('INACTIVE'),
  create,
};

/** `olp stream <list|status|activate|deactivate|create>`: the Log Streaming API, through lib/okta. */
export const streamCommand: Command = async (args, io) => {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  const run = SUBCOMMANDS[sub];
  if (run === undefined) {
    throw new CliError(
      `unknown subcommand "${escapeForTerminal(sub)}" (list, status, activate, deactivate, create)`,
      2,
    );
  }
  return run(rest, io);
};
