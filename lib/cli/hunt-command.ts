import { escapeForTerminal } from '../../lambdas/shared/escape-text.ts';
import { HUNT_SOURCES, type HuntAlert, huntArchive } from '../hunt/hunt-archive.ts';
import { compileRules, loadRules } from '../rules/index.ts';
import { openArchive, parseRange } from './archive-command.ts';
import { guarded } from './archive-source.ts';
import { parseOptions } from './args.ts';
import { CliError, type Command } from './io.ts';

const USAGE = `Usage:
  olp hunt (--archive-dir <dir> | --bucket <name> [--prefix <p>]) [--rules <dir>] [--since <ISO>] [--until <ISO>]
           [--json]

Runs the alert rules, single-event and stateful, over archived events in published order, as if they had been
deployed when the events arrived: try a new rule on last month before deploying it. Each rule alerts at most once
per event (per group and window for stateful rules, per value and period with suppress), as deployed. Prints one
line per alert (published, subject, rule id) and a summary on stderr.

Archive (one of):
  --archive-dir <dir>    a local archive, as olp local --archive-dir writes it
  --bucket <name>        the deployed archive bucket (AWS credentials and region as the AWS CLI reads them)
    --prefix <p>         a key prefix in front of archive/ in the bucket (auth0/ for the Auth0 archive)

Options:
  --rules <dir>          your alert rules, in addition to the default pack
  --since <ISO>          start of the range of published time (default: the beginning)
  --until <ISO>          end of the range, exclusive (default: the end)
  --json                 one JSON object per alert on stdout, as olp local --json prints them

Exit codes: 0 hunted; 1 the archive could not be read; 2 usage or invalid rules; 3 some of the archive could not be
read (named on stderr; the rest was hunted).`;

const OPTIONS = {
  'archive-dir': { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  rules: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const n = (value: number) => value.toLocaleString('en-US');

/** `olp hunt`. */
export const huntCommand: Command = async (args, io) => {
  const values = parseOptions(args, OPTIONS, USAGE, io);
  if (values === undefined) return 0;
  const range = parseRange(values);
  let rules: ReturnType<typeof compileRules>;
  try {
    rules = compileRules(loadRules(values.rules === undefined ? {} : { userDir: values.rules }), HUNT_SOURCES);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const { source, close } = await openArchive(
    {
      ...(values['archive-dir'] === undefined ? {} : { dir: values['archive-dir'] }),
      ...(values.bucket === undefined ? {} : { bucket: values.bucket }),
      ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
    },
    io.env,
  );
  const show =
    values.json === true
      ? (alert: HuntAlert) => io.stdout.write(`${JSON.stringify(alert)}\n`)
      : (alert: HuntAlert) =>
          io.stdout.write(`${alert.published}  ${escapeForTerminal(alert.subject)}  (${alert.ruleId})\n`);
  const started = Date.now();
  try {
    const result = await huntArchive({ source: guarded(source), range, rules, onAlert: show });
    const seconds = (Date.now() - started) / 1000;
    for (const problem of result.problems) {
      io.stderr.write(
        `olp hunt: could not read ${escapeForTerminal(problem.key)}: ${escapeForTerminal(problem.reason)}\n`,
      );
    }
    io.stderr.write(
      `olp hunt: ${n(result.events)} events, ${n(rules.length)} rules, ${n(result.alerts)} alerts in ` +
        `${seconds.toFixed(1)} s${result.unreadable > 0 ? `; ${n(result.unreadable)} lines were not events` : ''}\n`,
    );
    return result.problems.length > 0 ? 3 : 0;
  } finally {
    close();
  }
};
