import { type FileHandle, open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { escapeForTerminal, escapeJsonText } from '../../lambdas/shared/escape-text.ts';
import { InvalidEventPatternError, matchesPattern, parsePatternJson } from '../pattern/index.ts';
import { LineWriter, oneLine, parseOptions, required } from './args.ts';
import { CliError, type CliIo, type Command } from './io.ts';

const USAGE = `Usage:
  olp pattern test --pattern <json|@file> --event <json|@file>
  olp pattern test --cases <file.jsonl|->

Tests EventBridge event patterns with the local pattern engine, the one that evaluates the alert rules.

Options:
  --pattern P  the event pattern: JSON text, or @path to read it from a file
  --event E    the event to test it on: JSON text, or @path
  --cases F    JSON Lines, one case a line: {"pattern": ..., "event": ...}; prints one line per case, in order:
               {"match":true}, {"match":false} or {"error":"line N: ..."} (- reads stdin)
  -h, --help   show this help

Prints true or false and exits 0; an invalid pattern, an event that is not JSON or an unreadable file: one line on
stderr, exit 2. With --cases, exits 0 once the file was read, whatever the cases say.`;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An error as one line. JSON parser and pattern errors quote the input (`Unexpected token '...', "..." is not valid
 * JSON`), so what reaches the terminal is escaped; JSON output escapes it as JSON instead (see testCases).
 */
const messageOf = (error: unknown): string => oneLine(error instanceof Error ? error.message : String(error));

const FILE_ERRORS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied' };

const reasonOf = (error: unknown): string => {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  return FILE_ERRORS[code] ?? messageOf(error);
};

/** The text of a `--pattern`/`--event` value: as given, or read from the file named after `@`. */
async function argumentText(value: string, flag: string): Promise<string> {
  if (!value.startsWith('@')) return value;
  const path = value.slice(1);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(escapeForTerminal(`${flag}: cannot read ${path}: ${reasonOf(error)}`), 2);
  }
}

function parseEvent(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`the event is not valid JSON (${escapeForTerminal(messageOf(error))})`, 2);
  }
}

async function testOne(patternArg: string, eventArg: string, io: CliIo): Promise<number> {
  const patternText = await argumentText(patternArg, '--pattern');
  const event = parseEvent(await argumentText(eventArg, '--event'));
  let matched: boolean;
  try {
    matched = matchesPattern(parsePatternJson(patternText), event);
  } catch (error) {
    if (error instanceof InvalidEventPatternError) throw new CliError(escapeForTerminal(oneLine(error.message)), 2);
    throw error;
  }
  io.stdout.write(`${matched}\n`);
  return 0;
}

type CaseResult = { match: boolean } | { error: string };

/** One line of a cases file: its verdict, or why it is not a case. */
export function runCase(text: string, line: number): CaseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `line ${line}: not valid JSON (${messageOf(error)})` };
  }
  if (!isObject(value)) return { error: `line ${line}: a case is an object {"pattern": ..., "event": ...}` };
  const missing = ['pattern', 'event'].filter((key) => !Object.hasOwn(value, key));
  if (missing.length > 0) return { error: `line ${line}: missing ${missing.map((key) => `"${key}"`).join(' and ')}` };
  try {
    return { match: matchesPattern(value.pattern, value.event) };
  } catch (error) {
    if (error instanceof InvalidEventPatternError) return { error: `line ${line}: ${oneLine(error.message)}` };
    throw error;
  }
}

async function openCases(path: string, io: CliIo): Promise<Readable> {
  if (path === '-') return io.stdin;
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw new CliError(`--cases: ${path} is a directory, not a cases file`, 2);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--cases: cannot read ${path}: ${reasonOf(error)}`, 2);
  }
  return handle.createReadStream();
}

async function testCases(path: string, io: CliIo): Promise<number> {
  const input = await openCases(path, io);
  const lines = createInterface({ input, crlfDelay: Infinity });
  const out = new LineWriter(io.stdout);
  const reader = lines[Symbol.asyncIterator]();
  try {
    for (let lineNumber = 1; ; lineNumber += 1) {
      const next = await reader.next().catch((error: unknown) => {
        throw new CliError(`--cases: cannot read ${path}: ${messageOf(error)}`, 1);
      });
      if (next.done === true) return 0;
      const text = lineNumber === 1 ? next.value.replace(/^\uFEFF/, '') : next.value;
      if (text.trim() === '') continue;
      // JSON.stringify escapes C0 only; C1 and bidi characters quoted from the input are escaped too.
      if (!(await out.line(escapeJsonText(JSON.stringify(runCase(text, lineNumber)))))) return 0;
    }
  } finally {
    lines.close();
    if (input !== io.stdin) input.destroy();
  }
}

export const patternCommand: Command = async (args, io) => {
  const [subcommand, ...rest] = args;
  if (subcommand === '--help' || subcommand === '-h') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (subcommand !== 'test') {
    const problem = subcommand === undefined ? 'missing subcommand' : `unknown subcommand "${subcommand}"`;
    throw new CliError(`${problem}; use olp pattern test (see --help)`, 2);
  }
  const options = parseOptions(
    rest,
    { pattern: { type: 'string' }, event: { type: 'string' }, cases: { type: 'string' } },
    USAGE,
    io,
  );
  if (options === undefined) return 0;
  if (options.cases !== undefined) {
    if (options.pattern !== undefined || options.event !== undefined) {
      throw new CliError('--cases does not combine with --pattern or --event (see --help)', 2);
    }
    return testCases(options.cases, io);
  }
  return testOne(required(options.pattern, '--pattern'), required(options.event, '--event'), io);
};
