import { escapeForTerminal } from '../../lambdas/shared/escape-text.ts';
import { CliError, type CliIo, type Command } from './io.ts';

const USAGE = `olp: okta-log-pipeline on your machine

Usage:
  olp local [--events <file|->] [--okta-org <url> --since <ISO|24h> [--until <ISO>]] [--json] [options]
  olp sample [--count N] [--seed S]
  olp rules test --events <file> [--rules <dir>] [--json]
  olp rules lint [--rules <dir>]
  olp pattern test --pattern <json|@file> --event <json|@file>
  olp pattern test --cases <file.jsonl>
  olp stream list --okta-org <url> [--json]
  olp stream status --okta-org <url> --event-source-name <name> [--json]
  olp stream activate|deactivate --okta-org <url> <id>
  olp stream create --okta-org <url> --name <n> --account <id> --region <r> --event-source-name <name>
  olp audit --okta-org <url> --since <ISO|24h> [--until <ISO>] (--archive-dir <dir> | --bucket <name>) [--fill]
  olp archive verify (--dir <dir> | --bucket <name> [--prefix <p>]) [--since <ISO>] [--until <ISO>] [--json]
                     [--public-key <file>]
  olp archive export (--dir <dir> | --bucket <name> [--prefix <p>]) [--since <ISO>] [--until <ISO>] [--out <file>]
                     [--no-verify]
  olp hunt (--archive-dir <dir> | --bucket <name> [--prefix <p>]) [--rules <dir>] [--since <ISO>] [--until <ISO>]
           [--json]
  olp auth0 stream list --domain <tenant domain> [--json]
  olp auth0 stream status --domain <tenant domain> (--id <id> | --name <name>) [--json]
  olp auth0 stream resume --domain <tenant domain> --id <id>
  olp auth0 stream create --domain <tenant domain> --type http|eventbridge --name <n> ...

Run 'olp <command> --help' for a command's options.`;

/** Commands load lazily, so `olp pattern test` does not pay for starting the local stand-ins' modules. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  local: async () => (await import('./local-command.ts')).localCommand,
  sample: async () => (await import('./sample-command.ts')).sampleCommand,
  rules: async () => (await import('./rules-command.ts')).rulesCommand,
  pattern: async () => (await import('./pattern-command.ts')).patternCommand,
  stream: async () => (await import('./stream-command.ts')).streamCommand,
  audit: async () => (await import('./audit-command.ts')).auditCommand,
  archive: async () => (await import('./archive-command.ts')).archiveCommand,
  hunt: async () => (await import('./hunt-command.ts')).huntCommand,
  auth0: async () => (await import('./auth0-command.ts')).auth0Command,
};

export const runCli = async (argv: string[], io: CliIo): Promise<number> => {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.stderr.write(`olp: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await (await load())(args, io);
  } catch (error) {
    if (error instanceof CliError) {
      // Messages may quote input (a path, a value); control characters in them must not reach the terminal raw.
      io.stderr.write(`olp ${name}: ${escapeForTerminal(error.message)}\n`);
      return error.exitCode;
    }
    throw error;
  }
};
