import type { Writable } from 'node:stream';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError, type CliIo } from './io.ts';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type HelpOption = { readonly help: { readonly type: 'boolean'; readonly short: 'h' } };
type StrictConfig<O extends OptionsConfig> = { args: string[]; options: O & HelpOption; strict: true };

/** The parsed options of one command: strings and booleans as declared, plus `help`. */
export type ParsedOptions<O extends OptionsConfig> = ReturnType<typeof parseArgs<StrictConfig<O>>>['values'];

/** Error text on one line: the dispatcher prints `olp <command>: <message>` and scripts read one line per problem. */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

/**
 * `node:util` parseArgs in strict mode, with `--help`/`-h` added: prints `usage` to stdout and returns undefined, so
 * the command returns 0. Unknown options, missing values and stray arguments become a usage error (exit 2).
 */
export function parseOptions<const O extends OptionsConfig>(
  args: readonly string[],
  options: O,
  usage: string,
  io: CliIo,
): ParsedOptions<O> | undefined {
  const config: StrictConfig<O> = {
    args: [...args],
    options: { ...options, help: { type: 'boolean', short: 'h' } },
    strict: true,
  };
  let values: ParsedOptions<O>;
  try {
    values = parseArgs(config).values;
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS_')) {
      throw new CliError(`${oneLine(error.message)} (see --help)`, 2);
    }
    throw error;
  }
  if ('help' in values && values.help === true) {
    io.stdout.write(`${usage}\n`);
    return undefined;
  }
  return values;
}

/** A required string option: its value, or a usage error naming it. */
export const required = (value: string | undefined, flag: string): string => {
  if (value === undefined || value === '') throw new CliError(`${flag} is required (see --help)`, 2);
  return value;
};

/** A positive integer option within `max`, or a one-line usage error naming the flag. */
export function positiveInteger(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < 1 || number > max) {
    throw new CliError(`${flag} must be a whole number from 1 to ${max.toLocaleString('en-US')}, got "${value}"`, 2);
  }
  return number;
}

const isGone = (error: Error): boolean => {
  const code = 'code' in error ? error.code : undefined;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
};

/**
 * Writes lines to a stream and waits whenever the stream asks to (backpressure), so a slow reader or a pipe to
 * `head` does not make the command hold its whole output in memory.
 */
export class LineWriter {
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly stream: Writable) {
    // A reader that goes away (`olp sample | head`) shows up as an 'error' event; unheard, it would crash the process.
    // The listener stays: a broken pipe may still report after the last line.
    stream.on('error', (error: Error) => {
      this.failure ??= error;
    });
    stream.once('close', () => {
      this.closed = true;
    });
  }

  /**
   * Writes one line (a newline is added). Resolves to false once the reader has gone away (EPIPE, stream closed):
   * there is no one left to write for, and the command should stop quietly. Any other stream error is thrown.
   */
  async line(text: string): Promise<boolean> {
    if (!this.open()) return false;
    // A destroyed stream also answers false, and would never drain.
    if (!this.stream.write(`${text}\n`) && this.open()) {
      await this.drained();
    }
    return this.open();
  }

  private open(): boolean {
    if (this.failure !== undefined) {
      if (isGone(this.failure)) return false;
      throw this.failure;
    }
    return !this.closed && !this.stream.destroyed;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
      this.stream.on('close', done);
    });
  }
}
