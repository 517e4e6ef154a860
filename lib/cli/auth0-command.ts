import type { ParseArgsConfig } from 'node:util';
import { escapeForTerminal, escapeJsonText } from '../../lambdas/shared/escape-text.ts';
import { Auth0ApiError, Auth0Client, Auth0DomainError, parseTenantDomain } from '../auth0/auth0-client.ts';
import {
  AUTH0_CREDENTIAL_VARIABLES,
  Auth0CredentialsError,
  auth0CredentialsFromVariables,
} from '../auth0/credentials.ts';
import {
  AmbiguousLogStreamNameError,
  type Auth0LogStreamSummary,
  createLogStream,
  findLogStream,
  HTTP_CONTENT_FORMATS,
  LOG_STREAM_CATEGORIES,
  type LogStreamField,
  LogStreamValidationError,
  listLogStreams,
  type NewLogStreamInput,
  PII_LOG_FIELDS,
  resumeLogStream,
  validateNewLogStream,
} from '../auth0/log-streams.ts';
import { oneLine, parseOptions, required } from './args.ts';
import { CliError, type CliIo, type Command } from './io.ts';

const USAGE = `Usage:
  olp auth0 stream list --domain <tenant domain> [--json]
  olp auth0 stream status --domain <tenant domain> (--id <id> | --name <name>) [--json]
  olp auth0 stream resume --domain <tenant domain> --id <id> [--json]
  olp auth0 stream create --domain <tenant domain> --type http --name <name> --endpoint <https url>
      [--format jsonarray|jsonlines|jsonobject] [common create options] [--json]
  olp auth0 stream create --domain <tenant domain> --type eventbridge --name <name> --account <12 digits>
      --region <aws region> [common create options] [--json]

Manages the tenant's log streams through the Auth0 Management API v2 (/api/v2/log-streams).

list     id, name, type, status and sink of every log stream: for http the endpoint (never its authorization; user
         info and query string shown as [redacted]), for eventbridge the partner event source; --json prints one JSON
         array of objects with exactly the keys id, name, type, status, sink (a string, or null for other types)
status   the stream with that id, or the one stream with that name; --json prints that object, or null when there is
         none
resume   set a paused or suspended stream active again (Auth0 suspends a stream whose sink keeps failing: fix the sink
         first); prints the stream after; a stream that is already active is left alone
create   a new http or eventbridge stream, checked before any request; prints the stream, and for eventbridge the
         partner event source to deploy with

Create options:
  --type http|eventbridge
  --name <name>
  --endpoint <https url>         http: where Auth0 POSTs the logs (https only, no credentials in the URL)
  --format <f>                   http: ${Object.keys(HTTP_CONTENT_FORMATS).join(', ')} (default jsonarray; Auth0's
                                 httpContentFormat JSONARRAY, JSONLINES, JSONOBJECT);
                                 the content type is application/json
  --account <12 digits>          eventbridge: the AWS account that gets the partner event source
  --region <aws region>          eventbridge: e.g. eu-west-1
  --filter <category>            only these categories (repeat, or comma-separate); default all. One of:
                                 ${LOG_STREAM_CATEGORIES.join(', ')}
  --pii-fields <f,...>           log fields to hide: ${PII_LOG_FIELDS.join(', ')}; needs --pii-method
  --pii-method mask|hash         how (hash: xxhash)
  --start-from <ISO 8601>        the instant Auth0 starts streaming from, e.g. 2026-11-01T00:00:00Z
An http stream's Authorization header value comes from the environment variable OLP_HTTP_AUTHORIZATION (required;
never a flag, so it stays out of shell history and process lists).

--domain: the tenant's domain (acme.us.auth0.com, or its custom domain) or its https URL; plain http:// only for
127.0.0.1, ::1 and localhost.

Credentials (environment): AUTH0_MGMT_TOKEN (a Management API token), or AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET of
a machine-to-machine application authorized for the Management API (olp gets and renews its tokens), optionally with
AUTH0_AUDIENCE (default https://<domain>/api/v2/; with a custom domain, the tenant's canonical
https://<tenant>.<region>.auth0.com/api/v2/). Scopes: read:log_streams (list, status, resume), update:log_streams
(resume), create:log_streams (create).

Exit codes: 0 done (status: active); 1 Auth0 refused or could not be reached (one line naming the call, the HTTP
status and Auth0's error); 2 usage, credentials or an invalid field; 3 status: paused or suspended; 4 status: no
such stream.`;

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const COMMON = {
  domain: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionsConfig;

const STATUS = { ...COMMON, id: { type: 'string' }, name: { type: 'string' } } as const satisfies OptionsConfig;

const RESUME = { ...COMMON, id: { type: 'string' } } as const satisfies OptionsConfig;

const CREATE = {
  ...COMMON,
  type: { type: 'string' },
  name: { type: 'string' },
  endpoint: { type: 'string' },
  format: { type: 'string' },
  account: { type: 'string' },
  region: { type: 'string' },
  filter: { type: 'string', multiple: true },
  'pii-fields': { type: 'string' },
  'pii-method': { type: 'string' },
  'start-from': { type: 'string' },
} as const satisfies OptionsConfig;

/** The variable an http stream's Authorization value is read from. */
export const HTTP_AUTHORIZATION_VARIABLE = 'OLP_HTTP_AUTHORIZATION';

const FLAG_OF: Readonly<Record<LogStreamField, string>> = {
  type: '--type',
  name: '--name',
  endpoint: '--endpoint',
  format: '--format',
  authorization: HTTP_AUTHORIZATION_VARIABLE,
  accountId: '--account',
  region: '--region',
  filters: '--filter',
  piiFields: '--pii-fields',
  piiMethod: '--pii-method',
  startFrom: '--start-from',
};

/** A client for the tenant named by --domain, with credentials from the environment the CLI was given. */
function clientFor(domainText: string | undefined, io: CliIo, redact: readonly string[] = []): Auth0Client {
  const given = required(domainText, '--domain');
  try {
    const domain = parseTenantDomain(given);
    const credentials = auth0CredentialsFromVariables(io.env);
    return new Auth0Client({
      domain,
      credentials,
      redact,
      onRateLimit: ({ call, waitMs, retry, maxRetries }) => {
        io.stderr.write(
          `olp auth0: ${call}: rate limited by Auth0 (HTTP 429), waiting ${Math.ceil(waitMs / 1000)} s ` +
            `(retry ${retry} of ${maxRetries})\n`,
        );
      },
    });
  } catch (error) {
    if (error instanceof Auth0DomainError) throw new CliError(`--domain: ${escapeForTerminal(error.message)}`, 2);
    if (error instanceof Auth0CredentialsError) {
      // Names the variables only; a credential never reaches the message.
      const named = error.message.includes(AUTH0_CREDENTIAL_VARIABLES);
      throw new CliError(named ? error.message : `${error.message} (credentials: ${AUTH0_CREDENTIAL_VARIABLES})`, 2);
    }
    throw error;
  }
}

/** Auth0's refusals become one line (exit 1); everything from Auth0 is escaped before it reaches a terminal. */
async function auth0Call<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof Auth0ApiError) throw new CliError(escapeForTerminal(oneLine(error.message)), 1);
    throw error;
  }
}

const COLUMNS: ReadonlyArray<[keyof Auth0LogStreamSummary, string]> = [
  ['id', 'ID'],
  ['name', 'NAME'],
  ['type', 'TYPE'],
  ['status', 'STATUS'],
  ['sink', 'SINK'],
];

/** Exactly the documented keys, in order, whatever else Auth0 sent. */
const jsonOf = (stream: Auth0LogStreamSummary): Auth0LogStreamSummary => ({
  id: stream.id,
  name: stream.name,
  type: stream.type,
  status: stream.status,
  sink: stream.sink,
});

const printJson = (io: CliIo, value: unknown): void => {
  io.stdout.write(`${escapeJsonText(JSON.stringify(value))}\n`);
};

function table(streams: readonly Auth0LogStreamSummary[]): string {
  const rows = [
    COLUMNS.map(([, title]) => title),
    ...streams.map((stream) => COLUMNS.map(([key]) => escapeForTerminal(stream[key] ?? ''))),
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

const describe = (stream: Auth0LogStreamSummary): string =>
  `${escapeForTerminal(stream.status)}  ${escapeForTerminal(stream.name)}  id=${escapeForTerminal(stream.id)}  ` +
  `type=${escapeForTerminal(stream.type)}  sink=${escapeForTerminal(stream.sink ?? '-')}`;

const print = (io: CliIo, json: boolean | undefined, stream: Auth0LogStreamSummary): void => {
  if (json) {
    printJson(io, jsonOf(stream));
  } else {
    io.stdout.write(`${describe(stream)}\n`);
  }
};

async function list(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, COMMON, USAGE, io);
  if (values === undefined) return 0;
  const client = clientFor(values.domain, io);
  const streams = await auth0Call(() => listLogStreams(client));
  if (values.json) {
    printJson(io, streams.map(jsonOf));
  } else {
    io.stdout.write(`${table(streams)}\n`);
  }
  return 0;
}

async function status(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, STATUS, USAGE, io);
  if (values === undefined) return 0;
  const { id, name } = values;
  if ((id === undefined) === (name === undefined)) throw new CliError('give either --id or --name (see --help)', 2);
  const wanted: { id: string } | { name: string } =
    id === undefined ? { name: required(name, '--name') } : { id: required(id, '--id') };
  const client = clientFor(values.domain, io);
  let stream: Auth0LogStreamSummary | undefined;
  try {
    stream = await auth0Call(() => findLogStream(client, wanted));
  } catch (error) {
    if (error instanceof AmbiguousLogStreamNameError) {
      throw new CliError(
        `${error.ids.length} log streams are named "${escapeForTerminal(name ?? '')}"; ask by --id: ` +
          error.ids.map(escapeForTerminal).join(', '),
        2,
      );
    }
    throw error;
  }
  if (stream === undefined) {
    if (values.json) printJson(io, null);
    const by =
      'id' in wanted ? `the id "${escapeForTerminal(wanted.id)}"` : `the name "${escapeForTerminal(wanted.name)}"`;
    io.stderr.write(`olp auth0: no log stream has ${by}\n`);
    return 4;
  }
  print(io, values.json, stream);
  if (stream.status === 'active') return 0;
  if (stream.status === 'paused' || stream.status === 'suspended') {
    if (!values.json) {
      const why =
        stream.status === 'suspended'
          ? 'Auth0 suspended the stream after its sink kept failing; once the sink works again, resume it with'
          : 'the stream is paused; resume it with';
      io.stderr.write(
        `olp auth0: ${why}: olp auth0 stream resume --domain <domain> --id ${escapeForTerminal(stream.id)}\n`,
      );
    }
    return 3;
  }
  throw new CliError(`the stream has a status olp does not know: "${escapeForTerminal(stream.status)}"`);
}

async function resume(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, RESUME, USAGE, io);
  if (values === undefined) return 0;
  const id = required(values.id, '--id');
  const client = clientFor(values.domain, io);
  const { before, after } = await auth0Call(() => resumeLogStream(client, id));
  print(io, values.json, after);
  if (before.status === 'active') {
    io.stderr.write('olp auth0: the stream was already active; nothing changed\n');
  } else {
    io.stderr.write(`olp auth0: resumed the stream (it was ${escapeForTerminal(before.status)})\n`);
  }
  if (after.status !== 'active') {
    throw new CliError(`Auth0 answered the resume with the status "${escapeForTerminal(after.status)}"`);
  }
  return 0;
}

/** Flags of the other stream type are refused, so a mistyped command does not half-apply. */
const OTHER_TYPE_FLAGS = { http: ['account', 'region'], eventbridge: ['endpoint', 'format'] } as const;

async function create(args: string[], io: CliIo): Promise<number> {
  const values = parseOptions(args, CREATE, USAGE, io);
  if (values === undefined) return 0;
  const type = required(values.type, '--type');
  if (type === 'http' || type === 'eventbridge') {
    for (const flag of OTHER_TYPE_FLAGS[type]) {
      if (values[flag] !== undefined) {
        throw new CliError(`--${flag} applies to --type ${type === 'http' ? 'eventbridge' : 'http'} only`, 2);
      }
    }
  }
  const authorization = type === 'http' ? io.env[HTTP_AUTHORIZATION_VARIABLE] : undefined;
  const input: NewLogStreamInput = {
    type,
    name: required(values.name, '--name'),
    endpoint: values.endpoint,
    format: values.format,
    authorization,
    accountId: values.account,
    region: values.region,
    filters: values.filter,
    piiFields: values['pii-fields'],
    piiMethod: values['pii-method'],
    startFrom: values['start-from'],
  };
  // Checked before the credentials and before any request, so a typo costs nothing.
  try {
    validateNewLogStream(input);
  } catch (error) {
    if (error instanceof LogStreamValidationError) {
      throw new CliError(`${FLAG_OF[error.field]}: ${escapeForTerminal(error.message)}`, 2);
    }
    throw error;
  }
  const client = clientFor(values.domain, io, authorization === undefined ? [] : [authorization]);
  const stream = await auth0Call(() => createLogStream(client, input));
  print(io, values.json, stream);
  if (values.json || stream.type !== 'eventbridge') return 0;
  if (stream.sink === null) {
    io.stdout.write('partner event source: Auth0 did not say; see the stream in the Auth0 dashboard\n');
    return 0;
  }
  const source = escapeForTerminal(stream.sink);
  io.stdout.write(`partner event source: ${source}\n`);
  io.stdout.write(`deploy with: npx cdk deploy -c auth0EventSourceName=${source}\n`);
  return 0;
}

const SUBCOMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = { list, status, resume, create };

const isHelp = (arg: string | undefined): boolean => arg === '--help' || arg === '-h' || arg === 'help';

/** `olp auth0 stream <list|status|resume|create>`: Auth0's log streams through lib/auth0. */
export const auth0Command: Command = async (args, io) => {
  const [group, sub, ...rest] = args;
  if (group === undefined || isHelp(group) || (group === 'stream' && (sub === undefined || isHelp(sub)))) {
    io.stdout.write(`${USAGE}\n`);
    // Help asked for is an answer; a command cut short is a usage error.
    return group === undefined || (group === 'stream' && sub === undefined) ? 2 : 0;
  }
  if (group !== 'stream') throw new CliError(`unknown subcommand "${escapeForTerminal(group)}" (stream)`, 2);
  const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (run === undefined) {
    throw new CliError(`unknown subcommand "stream ${escapeForTerminal(sub ?? '')}" (list, status, resume, create)`, 2);
  }
  return run(rest, io);
};
