import type { Readable, Writable } from 'node:stream';

/** What a command may touch of the process: injected so tests run commands in-process and read their output. */
export interface CliIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

/** A fatal, expected error: printed as one line naming the problem, exit code 2 for usage and 1 otherwise. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export type Command = (args: string[], io: CliIo) => Promise<number>;
