import type { KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { DigestRecordError, readPublicKey } from '../../lambdas/shared/digest-record.ts';
import { escapeForTerminal, escapeJsonText } from '../../lambdas/shared/escape-text.ts';
import { type ArchiveRange, type ArchiveSource, DirArchiveSource, S3ArchiveSource } from '../archive/archive-reader.ts';
import { ExportIntegrityError, exportArchive } from '../archive/export-archive.ts';
import { type Finding, type VerifyResult, verifyArchive } from '../archive/verify-archive.ts';
import { awsClientConfig, guarded } from './archive-source.ts';
import { LineWriter, oneLine, type ParsedOptions, parseOptions } from './args.ts';
import { CliError, type CliIo, type Command } from './io.ts';

const USAGE = `Usage:
  olp archive verify (--dir <dir> | --bucket <name> [--prefix <p>]) [--since <ISO>] [--until <ISO>] [--json]
                     [--public-key <file>]... [--head <sha256>]
  olp archive export (--dir <dir> | --bucket <name> [--prefix <p>]) [--since <ISO>] [--until <ISO>]
                     [--out <file>] [--no-verify] [--public-key <file>]...

verify   checks the archive against its integrity chain, as CloudTrail's validate-logs checks log files against
         digest files: walks the digest records (digests/) in order, checking each link to the record before, the
         stretches of sealed windows and, with --public-key, every signature; recomputes the SHA-256 of every
         manifest and part of the windows in the range and compares it with the latest record listing it; reads every
         line (a System Log event, in its window, in (published, uuid) order, once) and every count. Prints each
         finding (kind, object key, detail) and a summary.
export   every archived event published in [since, until), once, in (published, uuid) order, late supplements
         merged, as JSON Lines, each line the event exactly as archived: to stdout, or to --out (gzipped when the
         name ends in .gz). Verifies the range first, as verify does, and refuses when it is not intact.

Archive (one of):
  --dir <dir>            a local archive, as olp local --archive-dir writes it
  --bucket <name>        the deployed archive bucket (AWS credentials and region as the AWS CLI reads them;
                         AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible endpoint)
    --prefix <p>         a key prefix in front of archive/ and digests/ in the bucket

Options:
  --since <ISO>          start of the range of published time (default: the beginning)
  --until <ISO>          end of the range, exclusive (default: the end)
  --public-key <file>    the signing key's public key: PEM, or DER as KMS GetPublicKey returns it
                         (aws kms get-public-key --key-id <arn> --query PublicKey --output text | base64 -d > key.der);
                         every digest record must be signed by it (give it more than once for several keys)
  --head <sha256>        the SHA-256 of a digest record known from elsewhere (the sequencer logs each record it
                         writes; verify prints the last one): the chain must still hold it, so a cut tail shows
  --json                 verify: one JSON object on stdout: {"ok", "objects", "events", "findings": [{"kind", "key",
                         "detail"}]}
  --out <file>           export: write here instead of stdout; .gz compresses
  --no-verify            export: skip the verification (a part that does not match its manifest is still left out,
                         with a warning, and the exit code is 3)

Finding kinds: missing, altered, uncovered (no digest record covers it), order, count, event, manifest, chain, gap,
signature, head.

Exit codes: 0 intact (export: exported); 1 the archive could not be read (one line); 2 usage; 3 not intact.`;

const OPTIONS = {
  dir: { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  json: { type: 'boolean' },
  'public-key': { type: 'string', multiple: true },
  head: { type: 'string' },
  out: { type: 'string' },
  'no-verify': { type: 'boolean' },
} as const;
type Values = ParsedOptions<typeof OPTIONS>;

const PROGRESS_EVERY_MS = 2000;
const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** `olp archive verify|export`. */
export const archiveCommand: Command = async (args, io) => {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout.write(`${USAGE}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'verify' && sub !== 'export') throw new CliError(`unknown subcommand "${sub}" (verify or export)`, 2);
  const values = parseOptions(rest, OPTIONS, USAGE, io);
  if (values === undefined) return 0;
  for (const [flag, allowed] of [
    ['json', 'verify'],
    ['head', 'verify'],
    ['out', 'export'],
    ['no-verify', 'export'],
  ] as const) {
    if (values[flag] !== undefined && sub !== allowed) throw new CliError(`--${flag} goes with ${allowed}`, 2);
  }
  const range = parseRange(values);
  const publicKeys = await readPublicKeys(values['public-key'] ?? []);
  const head = values.head;
  if (head !== undefined && !/^[0-9a-f]{64}$/.test(head)) {
    throw new CliError('--head must be a SHA-256 in hex (64 characters 0-9, a-f)', 2);
  }
  const { source, close } = await openArchive(values, io.env);
  try {
    const guardedSource = guarded(source);
    if (sub === 'verify') return await verify(guardedSource, range, publicKeys, head, values.json === true, io);
    return await exportEvents(guardedSource, range, publicKeys, values, io);
  } finally {
    close();
  }
};

async function verify(
  source: ArchiveSource,
  range: ArchiveRange,
  publicKeys: KeyObject[],
  head: string | undefined,
  json: boolean,
  io: CliIo,
): Promise<number> {
  const progress = new Progress(io, 'verify');
  const result = await verifyArchive({
    source,
    range,
    publicKeys,
    ...(head === undefined ? {} : { head }),
    onProgress: ({ records, windows, events, done }) =>
      progress.report(`${n(records)} digest records, ${n(windows)} windows, ${n(events)} events`, done),
  });
  if (json) {
    const { ok, objects, events, findings } = result;
    io.stdout.write(`${escapeJsonText(JSON.stringify({ ok, objects, events, findings }))}\n`);
    for (const note of result.notes) io.stderr.write(`olp archive verify: note: ${escapeForTerminal(note)}\n`);
  } else {
    io.stdout.write(`${[...findingLines(result.findings), ...summaryLines(result, source.name, range)].join('\n')}\n`);
  }
  return result.ok ? 0 : 3;
}

async function exportEvents(
  source: ArchiveSource,
  range: ArchiveRange,
  publicKeys: KeyObject[],
  values: Values,
  io: CliIo,
): Promise<number> {
  let verified: ReadonlyMap<string, string> | undefined;
  if (values['no-verify'] !== true) {
    const progress = new Progress(io, 'export');
    const result = await verifyArchive({
      source,
      range,
      publicKeys,
      onProgress: ({ windows, events, done }) =>
        progress.report(`verifying: ${n(windows)} windows, ${n(events)} events`, done),
    });
    if (!result.ok) {
      for (const line of findingLines(result.findings)) io.stderr.write(`${line}\n`);
      io.stderr.write(
        `olp archive export: the archive is not intact (${n(result.findings.length)} findings above); nothing ` +
          'exported (--no-verify exports what can be read)\n',
      );
      return 3;
    }
    verified = result.manifests;
  }

  const out = values.out;
  const temporary = out === undefined ? undefined : `${out}.${process.pid}.tmp`;
  const gzip = out?.endsWith('.gz') === true ? createGzip() : undefined;
  const file = temporary === undefined ? undefined : createWriteStream(temporary);
  if (gzip !== undefined && file !== undefined) gzip.pipe(file);
  const target = gzip ?? file ?? io.stdout;
  const writer = new LineWriter(target);
  const progress = new Progress(io, 'export');
  let done = false;
  try {
    const result = await exportArchive({
      source,
      range,
      ...(verified === undefined ? {} : { verified }),
      write: (line) => writer.line(line),
      onProgress: ({ windows, events, done: end }) =>
        progress.report(`${n(windows)} windows, ${n(events)} events written`, end),
    });
    if (file !== undefined && temporary !== undefined && out !== undefined) {
      target.end();
      await finished(file);
      await rename(temporary, out);
    }
    done = true;
    for (const problem of result.problems) {
      io.stderr.write(
        `olp archive export: left out ${escapeForTerminal(problem.key)}: ${escapeForTerminal(problem.reason)}\n`,
      );
    }
    return result.problems.length > 0 ? 3 : 0;
  } catch (error) {
    if (!(error instanceof ExportIntegrityError)) throw error;
    for (const problem of error.problems) {
      io.stderr.write(`${escapeForTerminal(problem.key)}: ${escapeForTerminal(problem.reason)}\n`);
    }
    io.stderr.write(
      'olp archive export: the archive changed since it was verified, or a part does not match its manifest; ' +
        `${out === undefined ? 'the output is incomplete' : 'nothing exported'}: run it again\n`,
    );
    return 3;
  } finally {
    if (!done && temporary !== undefined) {
      target.destroy();
      await rm(temporary, { force: true });
    }
  }
}

const findingLines = (findings: readonly Finding[]): string[] =>
  findings.map(
    (finding) =>
      `${finding.kind.padEnd(9)}  ${escapeForTerminal(finding.key)}  ${escapeForTerminal(oneLine(finding.detail))}`,
  );

function summaryLines(result: VerifyResult, name: string, range: ArchiveRange): string[] {
  const { chain } = result;
  const records =
    chain.last === undefined
      ? 'none'
      : `${n(chain.first ?? 1)} to ${n(chain.last)} (${n(chain.read)} read), sealed through ${escapeForTerminal(
          chain.sealedTo ?? 'the beginning',
        )}`;
  const signatures =
    chain.signed === 0
      ? 'unsigned'
      : `signed by ${chain.keyIds.map(escapeForTerminal).join(', ')}${
          chain.signaturesChecked ? ', signatures checked' : ', not checked (no --public-key)'
        }${chain.unsigned > 0 ? `; ${n(chain.unsigned)} unsigned` : ''}`;
  return [
    `archive      ${escapeForTerminal(name)}`,
    `range        ${Number.isFinite(range.since) ? new Date(range.since).toISOString() : 'the beginning'} to ${
      Number.isFinite(range.until) ? new Date(range.until).toISOString() : 'the end'
    }`,
    `digests      ${records}`,
    `signatures   ${signatures}`,
    ...(chain.headSha256 === undefined ? [] : [`head         ${chain.headSha256} (pass to a later verify as --head)`]),
    `objects      ${n(result.objects)}`,
    `events       ${n(result.events)}`,
    `findings     ${n(result.findings.length)}`,
    `result       ${result.ok ? 'intact' : 'NOT INTACT'}`,
    ...result.notes.map((note) => `note: ${escapeForTerminal(note)}`),
  ];
}

export function parseRange(values: { since?: string; until?: string }): ArchiveRange {
  const instant = (flag: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const at = Date.parse(text);
    if (!ISO.test(text) || !Number.isFinite(at)) {
      throw new CliError(`${flag} must be an ISO-8601 date or instant (e.g. 2026-11-01T09:00:00Z), got "${text}"`, 2);
    }
    return at;
  };
  const since = instant('--since', values.since, Number.NEGATIVE_INFINITY);
  const until = instant('--until', values.until, Number.POSITIVE_INFINITY);
  if (until <= since) throw new CliError('--until must be after --since', 2);
  return { since, until };
}

async function readPublicKeys(files: readonly string[]): Promise<KeyObject[]> {
  const keys: KeyObject[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new CliError(`--public-key ${file}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`, 2);
    }
    try {
      keys.push(readPublicKey(bytes));
    } catch (error) {
      if (error instanceof DigestRecordError) throw new CliError(`--public-key ${file} ${error.message}`, 2);
      throw error;
    }
  }
  return keys;
}

/** The archive the options name: a directory, or a bucket with the SDK's own environment (endpoint, credentials). */
export async function openArchive(
  values: { dir?: string; bucket?: string; prefix?: string },
  env: NodeJS.ProcessEnv,
): Promise<{ source: ArchiveSource; close: () => void }> {
  const { dir, bucket } = values;
  if (dir !== undefined && bucket !== undefined) throw new CliError('give either --dir or --bucket, not both', 2);
  if (values.prefix !== undefined && bucket === undefined) throw new CliError('--prefix goes with --bucket', 2);
  if (bucket !== undefined) {
    // S3's rules for bucket names, so a typo is a usage error, not a request.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new CliError(`--bucket must be an S3 bucket name, got ${JSON.stringify(bucket)}`, 2);
    }
    const config = awsClientConfig(env, 'S3');
    const client = new S3Client({
      ...config,
      // The bucket's region need not be the default one.
      followRegionRedirects: true,
      ...('endpoint' in config ? { forcePathStyle: true } : {}),
    });
    return { source: new S3ArchiveSource(client, bucket, values.prefix ?? ''), close: () => client.destroy() };
  }
  if (dir === undefined || dir === '') throw new CliError('--dir or --bucket is required (see --help)', 2);
  const found = await stat(dir).catch(() => undefined);
  if (found?.isDirectory() !== true) throw new CliError(`--dir: "${dir}" is not a directory`, 2);
  return { source: new DirArchiveSource(dir), close: () => {} };
}

/** A progress line on stderr every few seconds, and once at the end of a run that reported along the way. */
class Progress {
  private last = Date.now();
  private reported = false;

  constructor(
    private readonly io: CliIo,
    private readonly command: string,
  ) {}

  report(text: string, done: boolean): void {
    const now = Date.now();
    if (done ? !this.reported : now - this.last < PROGRESS_EVERY_MS) return;
    this.last = now;
    this.reported = true;
    this.io.stderr.write(`olp archive ${this.command}: ${text}${done ? '' : ' so far'}\n`);
  }
}

const n = (value: number) => value.toLocaleString('en-US');
