import type { Dirent, Stats } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { escapeForTerminal, escapeJsonText } from '../../lambdas/shared/escape-text.ts';
import { DEFAULT_PACK_DIR, loadRuleDirectory } from '../rules/index.ts';
import {
  importSigmaRules,
  MAX_SIGMA_FILE_CHARS,
  type SigmaImport,
  type SigmaSourceFile,
} from '../rules/sigma/index.ts';
import { LineWriter, oneLine } from './args.ts';
import { CliError, type CliIo } from './io.ts';

export const IMPORT_SIGMA_USAGE = `Usage:
  olp rules import-sigma <file|dir> --out <dir> [--json]

Converts Sigma rules for Okta (logsource product: okta, service: okta) into alert rule files, one rule per file,
<out>/<rule id>.yaml, ready for --rules <dir> (check them with olp rules lint --rules <dir>). A directory is read
with its subdirectories (*.yml, *.yaml). Each converted rule keeps the Sigma title, description, author,
references, id and level (informational -> info; low, medium, high, critical unchanged); its id is kebab-case from
the title (with the start of the Sigma id appended when two rules share a title); its runbook says it came from
Sigma, lists the Sigma rule's false positives, and says how the rule matches differently, if it does (text that
EventBridge compares case-sensitively, where Sigma ignores case).

A rule is converted whole or not at all: rules for other log sources, and rules no EventBridge pattern can
express, are skipped with the reason; nothing is written for them. Inexpressible: no eventType (an Okta rule lists
its event types), keyword searches, aggregations and correlations (counts over many events), regular
expressions beyond literal text, .* and ^ $, the ? wildcard, fields the System Log does not have, and negations
EventBridge cannot write (cidr, numeric, or a value inside a list such as target). Files are written atomically;
existing files of the same name are replaced, and no other file is touched.

Prints one line per Sigma file (converted -> the file written, skipped or invalid: the reason), then a summary on
stderr.

Options:
  --out D      the directory to write the rule files to (created if missing)
  --json       one JSON object per Sigma file on stdout instead: {"file","status","sigmaId","title","id","path",
               "notes"} for a converted rule, {"file","status","sigmaId","title","reason"} for a skipped one and
               {"file","status","reason"} for an invalid one (status converted, skipped or invalid)
  -h, --help   show this help

Exit codes: 0 every Sigma rule converted; 3 some were skipped or invalid (each listed; the others were written);
2 a usage error (options, a missing input, no Sigma files); 1 a rule file could not be written.`;

/** More files than any Sigma rule set holds: an input this large is almost certainly the wrong directory. */
const MAX_FILES = 20_000;
/** Bytes, for a file of at most MAX_SIGMA_FILE_CHARS characters of UTF-8. */
const MAX_FILE_BYTES = MAX_SIGMA_FILE_CHARS * 4;
const SIGMA_FILE = /\.ya?ml$/i;

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOTDIR: 'not a directory',
  EEXIST: 'exists and is not a directory',
};
const reasonOf = (error: unknown): string => {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  return FILE_ERRORS[code] ?? oneLine(error instanceof Error ? error.message : String(error));
};

interface Options {
  readonly input: string;
  readonly out: string;
  readonly json: boolean;
}

const parse = (args: readonly string[]) =>
  parseArgs({
    args: [...args],
    options: { out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });

function optionsOf(args: readonly string[], io: CliIo): Options | undefined {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS_')) {
      throw new CliError(`${oneLine(error.message)} (see --help)`, 2);
    }
    throw error;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout.write(`${IMPORT_SIGMA_USAGE}\n`);
    return undefined;
  }
  const [input, ...extra] = positionals;
  if (input === undefined || input === '') throw new CliError('name a Sigma rule file or directory (see --help)', 2);
  if (extra.length > 0) throw new CliError(`one Sigma file or directory at a time, got ${positionals.length}`, 2);
  if (values.out === undefined || values.out === '') throw new CliError('--out is required (see --help)', 2);
  return { input, out: values.out, json: values.json === true };
}

/** A Sigma file that is not read: it is reported as invalid, with the other results. */
interface Unread {
  readonly name: string;
  readonly reason: string;
}

async function readSigmaFile(path: string, name: string, stats: Stats): Promise<SigmaSourceFile | Unread> {
  if (stats.size > MAX_FILE_BYTES) {
    return {
      name,
      reason: `(file): is ${stats.size} bytes; a Sigma rule is at most ${MAX_SIGMA_FILE_CHARS} characters`,
    };
  }
  try {
    return { name, text: await readFile(path, 'utf8') };
  } catch (error) {
    return { name, reason: `(file): cannot read it: ${reasonOf(error)}` };
  }
}

/** The Sigma files of a directory and its subdirectories, by name, leaving out the output directory. */
async function walk(root: string, skip: string): Promise<string[]> {
  const found: string[] = [];
  const pending = [root];
  for (let dir = pending.shift(); dir !== undefined; dir = pending.shift()) {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new CliError(escapeForTerminal(`${dir}: cannot read it: ${reasonOf(error)}`), 2);
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      // Symbolic links are not followed, so a link cannot lead the walk in circles or out of the directory.
      if (entry.isDirectory() && resolve(path) !== skip) pending.push(path);
      else if (entry.isFile() && SIGMA_FILE.test(entry.name)) found.push(path);
      if (found.length > MAX_FILES) {
        throw new CliError(
          escapeForTerminal(`${root} holds more than ${MAX_FILES} YAML files; name a smaller directory`),
          2,
        );
      }
    }
  }
  return found.sort();
}

async function sigmaFiles(input: string, out: string): Promise<(SigmaSourceFile | Unread)[]> {
  let stats: Stats;
  try {
    stats = await stat(input);
  } catch (error) {
    throw new CliError(escapeForTerminal(`${input}: ${reasonOf(error)}`), 2);
  }
  if (!stats.isDirectory()) return [await readSigmaFile(input, basename(input), stats)];
  const paths = await walk(input, resolve(out));
  if (paths.length === 0)
    throw new CliError(escapeForTerminal(`${input} holds no Sigma rule files (*.yml, *.yaml)`), 2);
  return Promise.all(
    paths.map(async (path) => readSigmaFile(path, relative(input, path).split(sep).join('/'), await stat(path))),
  );
}

/** Writes a file so that a reader sees the old file or the whole new one, never part of it. */
async function writeAtomically(dir: string, fileName: string, text: string): Promise<string> {
  const path = join(dir, fileName);
  const temporary = join(dir, `.${fileName}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
    return path;
  } catch (error) {
    await rm(temporary, { force: true });
    throw new CliError(escapeForTerminal(`cannot write ${path}: ${reasonOf(error)}`), 1);
  }
}

/** The default pack's ids: a converted rule must not take one, or the two could not be deployed together. */
const packIds = (): Set<string> => new Set(loadRuleDirectory(DEFAULT_PACK_DIR).map((rule) => rule.id));

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

function textLines(result: SigmaImport, written: string | undefined): string[] {
  const file = escapeForTerminal(result.file);
  switch (result.status) {
    case 'converted':
      return [
        `converted  ${file} -> ${escapeForTerminal(written ?? result.fileName)}`,
        ...result.notes.map((note) => `  note: ${escapeForTerminal(note)}`),
      ];
    case 'skipped':
      return [`skipped    ${file}: ${escapeForTerminal(oneLine(result.reason))}`];
    case 'invalid':
      return [`invalid    ${file}: ${escapeForTerminal(oneLine(result.reason))}`];
  }
}

function jsonLine(result: SigmaImport, written: string | undefined): string {
  const line =
    result.status === 'converted'
      ? {
          file: result.file,
          status: result.status,
          sigmaId: result.sigmaId ?? null,
          title: result.title,
          id: result.id,
          path: written ?? null,
          notes: result.notes,
        }
      : result.status === 'skipped'
        ? {
            file: result.file,
            status: result.status,
            sigmaId: result.sigmaId ?? null,
            title: result.title ?? null,
            reason: result.reason,
          }
        : { file: result.file, status: result.status, reason: result.reason };
  return escapeJsonText(JSON.stringify(line));
}

export async function importSigma(args: readonly string[], io: CliIo): Promise<number> {
  const options = optionsOf(args, io);
  if (options === undefined) return 0;
  const files = await sigmaFiles(options.input, options.out);
  const readable = files.filter((file): file is SigmaSourceFile => 'text' in file);
  const converted = new Map(
    importSigmaRules(readable, { reservedIds: packIds() }).map((result) => [result.file, result]),
  );
  const results = files.map(
    (file): SigmaImport =>
      converted.get(file.name) ?? { status: 'invalid', file: file.name, reason: 'reason' in file ? file.reason : '' },
  );

  if (results.some((result) => result.status === 'converted')) {
    try {
      await mkdir(options.out, { recursive: true });
    } catch (error) {
      throw new CliError(escapeForTerminal(`--out ${options.out}: ${reasonOf(error)}`), 2);
    }
  }
  const out = new LineWriter(io.stdout);
  let open = true;
  for (const result of results) {
    // A file is written only once its whole rule converted and validated.
    const written =
      result.status === 'converted' ? await writeAtomically(options.out, result.fileName, result.yaml) : undefined;
    if (!open) continue;
    const lines = options.json ? [jsonLine(result, written)] : textLines(result, written);
    for (const line of lines) {
      // The reader went away (`| head`): the files are still all written.
      if (open && !(await out.line(line))) open = false;
    }
  }
  const count = (status: SigmaImport['status']): number => results.filter((result) => result.status === status).length;
  const invalid = count('invalid');
  io.stderr.write(
    `${count('converted')} of ${plural(results.length, 'Sigma rule file')} converted into ` +
      `${escapeForTerminal(options.out)}, ${count('skipped')} skipped` +
      `${invalid > 0 ? `, ${invalid} invalid` : ''}\n`,
  );
  return count('converted') === results.length ? 0 : 3;
}
