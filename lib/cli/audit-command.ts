import { stat } from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { escapeForTerminal, escapeJsonText } from '../../lambdas/shared/escape-text.ts';
import { type ArchiveSource, DirArchiveSource, S3ArchiveSource } from '../archive/archive-reader.ts';
import { type AuditResult, auditArchive } from '../archive/audit-archive.ts';
import {
  fillArchiveDir,
  type IngestQueue,
  IngestQueueUrlError,
  parseIngestQueueUrl,
  sendToIngestQueue,
} from '../archive/backfill.ts';
import { EVENT_SOURCE_NAME, EVENT_SOURCE_RULE } from '../config.ts';
import { DEFAULT_EVENT_SOURCE } from '../local/event-input.ts';
import { WindowSetAsideError } from '../local/local-pipeline.ts';
import { credentialsFromVariables, type OktaCredentials, OktaCredentialsError } from '../okta/credentials.ts';
import { OktaApiError, OktaOrgUrlError, parseOrgUrl } from '../okta/okta-client.ts';
import { parseSince, readSystemLog } from '../okta/system-log.ts';
import { awsClientConfig, guarded } from './archive-source.ts';
import { oneLine, type ParsedOptions, parseOptions } from './args.ts';
import { CliError, type CliIo, type Command } from './io.ts';

const HELP = `Usage:
  olp audit --okta-org <url> --since <ISO|24h|7d> [--until <ISO|1h>] --archive-dir <dir> [--json] [--fill]
  olp audit --okta-org <url> --since <ISO|24h|7d> [--until <ISO|1h>] --bucket <name> [--prefix <p>] [--json]
            [--fill --ingest-queue-url <url> --event-source-name <aws.partner/okta.com/<org>/<name>>]

Proves an archive complete against the Okta System Log: reads every System Log event published in [since, until)
from the System Log API, reads the main and late parts of every archive window overlapping that range (each part
checked against the SHA-256 its manifest lists), and compares their uuids (lowercased, as the pipeline dedupes).
The archive holds only what its manifests list.

Range:
  --okta-org <url>           the org whose System Log is read (credentials: OKTA_API_TOKEN, or OKTA_CLIENT_ID with
                             OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE; scope okta.logs.read)
  --since <ISO|24h|7d>       start of the range: an ISO-8601 instant with an offset, or a duration back from now
  --until <ISO|1h>           end of the range, exclusive (default: now); events of the last few minutes may not be
                             sealed yet, e.g. --until 15m leaves them out

Archive (one of):
  --archive-dir <dir>        a local archive, as olp local --archive-dir writes it
  --bucket <name>            the deployed archive bucket (AWS credentials and region as the AWS CLI reads them;
                             AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible endpoint)
    --prefix <p>             a key prefix in front of archive/ in the bucket

Options:
  --json                     one JSON object on stdout: {"since","until","okta","archived","missing","filled"}
  --fill                     put the missing events through the same pipeline into the same archive, once, with
                             origin backfill; a window that has a manifest gains a late supplement listing them as
                             backfilled, its sealed parts untouched
    with --archive-dir:      the local pipeline seals them into the directory
    with --bucket:           they are sent to the deployed ingest queue, 10 per SendMessageBatch, with the message
                             attribute origin=backfill; the pipeline archives them within minutes
  --ingest-queue-url <url>   the deployed ingest queue (with --bucket --fill); names the account and region the
                             envelopes carry
  --event-source-name <s>    the partner event source the envelopes name (required with --bucket --fill; with
                             --archive-dir the default is ${DEFAULT_EVENT_SOURCE})

Exit codes: 0 nothing missing (with --fill: every missing event filled); 1 Okta or AWS refused or could not be
reached (one line); 2 usage or credentials; 3 events missing, or archive problems (a part missing or not matching its
SHA-256, a manifest unreadable), which --fill does not repair.`;

const OPTIONS = {
  'okta-org': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  'archive-dir': { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  json: { type: 'boolean' },
  fill: { type: 'boolean' },
  'ingest-queue-url': { type: 'string' },
  'event-source-name': { type: 'string' },
} as const;
type Values = ParsedOptions<typeof OPTIONS>;

/** The AWS account and region a local backfill's envelopes name, as olp local's do. */
const LOCAL_ORIGIN = { account: '000000000000', region: 'us-east-1' };
/** Missing events listed in the readable report; --json lists them all. */
const LISTED = 20;
/** A missing event published this recently may simply not be sealed yet (window + lateness + guard, with margin). */
const RECENT_MS = 10 * 60_000;
const PROGRESS_EVERY_MS = 2000;

type ArchiveChoice =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 'bucket'; readonly bucket: string; readonly prefix: string };

interface AuditRequest {
  readonly orgUrl: string;
  readonly credentials: OktaCredentials;
  readonly since: Date;
  readonly until: Date;
  readonly archive: ArchiveChoice;
  readonly json: boolean;
  /** Where --fill puts the missing events; undefined without --fill. */
  readonly fill: FillTarget | undefined;
}

type FillTarget =
  | { readonly kind: 'dir'; readonly dir: string; readonly eventSourceName: string | undefined }
  | { readonly kind: 'queue'; readonly queue: IngestQueue; readonly eventSourceName: string };

/** `olp audit`: is every System Log event of a range in the archive; with --fill, make it so. */
export const auditCommand: Command = async (args, io) => {
  const values = parseOptions(args, OPTIONS, HELP, io);
  if (values === undefined) return 0;
  const request = await parseRequest(values, io, new Date());
  const host = escapeForTerminal(new URL(request.orgUrl).host);
  const { source, close } = openArchive(request.archive, io.env);
  try {
    const progress = new ArchiveProgress(io, source.name);
    const result = await auditArchive({
      archive: guarded(source),
      range: { since: request.since.getTime(), until: request.until.getTime() },
      systemLog: () => systemLog(request, io, host),
      onArchiveProgress: (counts) => progress.report(counts),
    });
    const filled = request.fill === undefined ? undefined : await fill(request.fill, result, io, host);
    report(request, result, filled, io, host, source.name);
    if (result.problems.length > 0) return 3;
    if (filled === undefined) return result.missing.length === 0 ? 0 : 3;
    return filled.count === result.missing.length ? 0 : 3;
  } finally {
    close();
  }
};

async function parseRequest(values: Values, io: CliIo, now: Date): Promise<AuditRequest> {
  const orgText = values['okta-org'];
  if (orgText === undefined || orgText.trim() === '') throw new CliError('--okta-org is required (see --help)', 2);
  let orgUrl: string;
  try {
    orgUrl = parseOrgUrl(orgText);
  } catch (error) {
    if (error instanceof OktaOrgUrlError) throw new CliError(`--okta-org: ${error.message}`, 2);
    throw error;
  }
  if (values.since === undefined) throw new CliError('--since is required (an ISO instant, or e.g. 24h)', 2);
  const since = instant('--since', values.since, now);
  const until = values.until === undefined ? now : instant('--until', values.until, now);
  if (until.getTime() <= since.getTime()) {
    throw new CliError(`--until (${until.toISOString()}) must be after --since (${since.toISOString()})`, 2);
  }
  const archive = await chooseArchive(values);
  const eventSourceName = values['event-source-name'];
  if (eventSourceName !== undefined && !EVENT_SOURCE_NAME.test(eventSourceName)) {
    throw new CliError(`--event-source-name ${EVENT_SOURCE_RULE}, got ${JSON.stringify(eventSourceName)}`, 2);
  }
  const fill = chooseFill(values, archive, eventSourceName);
  let credentials: OktaCredentials;
  try {
    credentials = credentialsFromVariables(io.env);
  } catch (error) {
    // The message names the variables, never a credential.
    if (error instanceof OktaCredentialsError) throw new CliError(`--okta-org: ${error.message}`, 2);
    throw error;
  }
  return { orgUrl, credentials, since, until, archive, json: values.json === true, fill };
}

function chooseFill(
  values: Values,
  archive: ArchiveChoice,
  eventSourceName: string | undefined,
): FillTarget | undefined {
  const queueUrl = values['ingest-queue-url'];
  if (queueUrl !== undefined && !(values.fill === true && archive.kind === 'bucket')) {
    throw new CliError('--ingest-queue-url goes with --bucket and --fill (see --help)', 2);
  }
  if (values.fill !== true) return undefined;
  if (archive.kind === 'dir') return { kind: 'dir', dir: archive.dir, eventSourceName };
  if (queueUrl === undefined) throw new CliError('--fill with --bucket needs --ingest-queue-url (see --help)', 2);
  if (eventSourceName === undefined) {
    throw new CliError('--fill with --bucket needs --event-source-name, the source ingest accepts (see --help)', 2);
  }
  try {
    return { kind: 'queue', queue: parseIngestQueueUrl(queueUrl), eventSourceName };
  } catch (error) {
    if (error instanceof IngestQueueUrlError) throw new CliError(`--ingest-queue-url ${error.message}`, 2);
    throw error;
  }
}

/** An instant from an ISO text or a duration back from now, as `olp local --since` reads it. */
const instant = (flag: string, text: string, now: Date): Date => {
  try {
    return parseSince(text, now);
  } catch (error) {
    throw new CliError(`${flag}: ${(error as Error).message.replace(/^since /, '')}`, 2);
  }
};

async function chooseArchive(values: Values): Promise<ArchiveChoice> {
  const dir = values['archive-dir'];
  const bucket = values.bucket;
  if (dir !== undefined && bucket !== undefined)
    throw new CliError('give either --archive-dir or --bucket, not both', 2);
  if (values.prefix !== undefined && bucket === undefined) throw new CliError('--prefix goes with --bucket', 2);
  if (bucket !== undefined) {
    // S3's rules for bucket names, so a typo is a usage error, not a request.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new CliError(`--bucket must be an S3 bucket name, got ${JSON.stringify(bucket)}`, 2);
    }
    return { kind: 'bucket', bucket, prefix: values.prefix ?? '' };
  }
  if (dir === undefined || dir === '') throw new CliError('--archive-dir or --bucket is required (see --help)', 2);
  const found = await stat(dir).catch(() => undefined);
  if (found?.isDirectory() !== true) throw new CliError(`--archive-dir: "${dir}" is not a directory`, 2);
  return { kind: 'dir', dir };
}

function openArchive(choice: ArchiveChoice, env: NodeJS.ProcessEnv): { source: ArchiveSource; close: () => void } {
  if (choice.kind === 'dir') return { source: new DirArchiveSource(choice.dir), close: () => {} };
  const config = awsClientConfig(env, 'S3');
  const client = new S3Client({
    ...config,
    // The bucket's region need not be the default one.
    followRegionRedirects: true,
    ...('endpoint' in config ? { forcePathStyle: true } : {}),
  });
  return { source: new S3ArchiveSource(client, choice.bucket, choice.prefix), close: () => client.destroy() };
}

/** The System Log's events of the range, with progress on stderr; Okta's refusals become one line, exit 1. */
async function* systemLog(request: AuditRequest, io: CliIo, host: string): AsyncGenerator<unknown> {
  const events = readSystemLog({
    orgUrl: request.orgUrl,
    credentials: request.credentials,
    since: request.since,
    until: request.until,
    onProgress: ({ pages, events: count, waitingMs }) => {
      const wait = waitingMs === undefined ? '' : `, rate limited: waiting ${Math.ceil(waitingMs / 1000)} s`;
      io.stderr.write(`olp audit: ${host}: ${n(pages)} pages, ${n(count)} events${wait}\n`);
    },
  });
  try {
    yield* events;
  } catch (error) {
    if (error instanceof OktaApiError) throw new CliError(escapeForTerminal(oneLine(error.message)), 1);
    throw error;
  }
}

interface Filled {
  readonly count: number;
  readonly note: string;
}

async function fill(target: FillTarget, result: AuditResult, io: CliIo, host: string): Promise<Filled> {
  if (result.problems.length > 0) {
    // The sequencer would set such a window aside, and an event of an altered part may be there after all.
    return {
      count: 0,
      note: 'nothing filled: the archive has problems; repair them first (e.g. restore each object from its previous S3 version)',
    };
  }
  if (result.missing.length === 0) return { count: 0, note: 'nothing to fill' };
  if (target.kind === 'dir') {
    let outcome: Awaited<ReturnType<typeof fillArchiveDir>>;
    try {
      outcome = await fillArchiveDir({
        archiveDir: target.dir,
        events: result.missing,
        windows: result.windows,
        origin: { source: target.eventSourceName ?? DEFAULT_EVENT_SOURCE, ...LOCAL_ORIGIN },
        ...(target.eventSourceName === undefined ? {} : { eventSourceName: target.eventSourceName }),
        inputName: `olp audit --fill ${host}`,
      });
    } catch (error) {
      if (error instanceof WindowSetAsideError) throw new CliError(`--fill: ${error.message}`);
      throw error;
    }
    const refused =
      outcome.quarantined === 0 ? '' : `; ${n(outcome.quarantined)} refused by ingest, see the archive's quarantine/`;
    return {
      count: outcome.filled,
      note: `sealed into ${escapeForTerminal(target.dir)} with origin backfill${refused}`,
    };
  }
  const { queue } = target;
  const sqs = new SQSClient(awsClientConfig(io.env, 'SQS', queue.region));
  try {
    const outcome = await sendToIngestQueue(sqs, queue, result.missing, target.eventSourceName).catch((error) => {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new CliError(`sending to ${escapeForTerminal(queue.url)}: ${escapeForTerminal(oneLine(text))}`);
    });
    for (const failed of outcome.failed) {
      io.stderr.write(
        `olp audit: not sent: ${escapeForTerminal(failed.uuid)}: ${escapeForTerminal(oneLine(failed.reason))}\n`,
      );
    }
    return {
      count: outcome.sent,
      note:
        `sent to the ingest queue ${escapeForTerminal(queue.url)} with origin backfill; the deployed pipeline ` +
        'archives them within minutes: run olp audit again then to confirm',
    };
  } finally {
    sqs.destroy();
  }
}

function report(
  request: AuditRequest,
  result: AuditResult,
  filled: Filled | undefined,
  io: CliIo,
  host: string,
  archiveName: string,
): void {
  const notes: string[] = [];
  if (result.withoutManifest.length > 0) {
    notes.push(
      `${n(result.withoutManifest.length)} window folders hold objects but no manifest (a seal that did not finish; ` +
        `they count as holding nothing): ${result.withoutManifest.slice(0, 3).map(escapeForTerminal).join(', ')}` +
        (result.withoutManifest.length > 3 ? ', ...' : ''),
    );
  }
  if (result.unreadable > 0) notes.push(`${n(result.unreadable)} System Log records without a uuid were skipped`);
  const recent = result.missing.filter((event) => Date.parse(event.published) > request.until.getTime() - RECENT_MS);
  if (recent.length > 0 && filled === undefined) {
    notes.push(
      `${n(recent.length)} of the missing events were published in the last 10 minutes of the range and may not be ` +
        'sealed yet; an earlier --until leaves them out',
    );
  }

  if (request.json) {
    const json = {
      since: request.since.toISOString(),
      until: request.until.toISOString(),
      okta: result.okta,
      archived: result.archived,
      missing: result.missing.map((event) => event.uuid),
      filled: filled?.count ?? 0,
    };
    io.stdout.write(`${escapeJsonText(JSON.stringify(json))}\n`);
    for (const problem of result.problems) {
      io.stderr.write(`olp audit: ${escapeForTerminal(problem.key)}: ${escapeForTerminal(problem.reason)}\n`);
    }
    for (const note of [...notes, ...(filled === undefined ? [] : [`--fill: ${filled.note}`])]) {
      io.stderr.write(`olp audit: ${note}\n`);
    }
    return;
  }

  const lines = [
    `archive      ${escapeForTerminal(archiveName)}`,
    `System Log   ${host}, published ${request.since.toISOString()} to ${request.until.toISOString()}`,
    `events       ${n(result.okta)}`,
    `archived     ${n(result.archived)}`,
    `missing      ${n(result.missing.length)}`,
    ...result.missing
      .slice(0, LISTED)
      .map((event) => `  ${escapeForTerminal(event.uuid)}  ${escapeForTerminal(event.published)}`),
    ...(result.missing.length > LISTED
      ? [`  ... and ${n(result.missing.length - LISTED)} more (--json lists all)`]
      : []),
  ];
  if (result.problems.length > 0) {
    lines.push(`problems     ${n(result.problems.length)}`);
    for (const problem of result.problems) {
      lines.push(`  ${escapeForTerminal(problem.key)}: ${escapeForTerminal(problem.reason)}`);
    }
  }
  if (filled !== undefined) lines.push(`filled       ${n(filled.count)}: ${filled.note}`);
  for (const note of notes) lines.push(`note: ${note}`);
  io.stdout.write(`${lines.join('\n')}\n`);
}

/** Archive reading progress on stderr, every few seconds and once at the end. */
class ArchiveProgress {
  private last = Date.now();

  constructor(
    private readonly io: CliIo,
    private readonly name: string,
  ) {}

  report({ windows, events, done }: { windows: number; events: number; done: boolean }): void {
    const now = Date.now();
    if (!done && now - this.last < PROGRESS_EVERY_MS) return;
    this.last = now;
    this.io.stderr.write(
      `olp audit: archive ${escapeForTerminal(this.name)}: ${n(windows)} windows, ${n(events)} events${done ? '' : ' so far'}\n`,
    );
  }
}

const n = (value: number) => value.toLocaleString('en-US');
