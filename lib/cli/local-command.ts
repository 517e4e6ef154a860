import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyFileArchiveSigner, SigningKeyError } from '../../lambdas/shared/digest-key-file-signer.ts';
import { escapeForTerminal } from '../../lambdas/shared/escape-text.ts';
import { AUTH0 } from '../../lambdas/shared/log-sources.ts';
import { prefixedArchive } from '../../lambdas/shared/prefixed-archive.ts';
import { EVENT_SOURCE_NAME, EVENT_SOURCE_RULE } from '../config.ts';
import { ArchiveDirStore } from '../local/archive-dir-store.ts';
import { type InputRecord, readEventInput, toEnvelope } from '../local/event-input.ts';
import {
  createForwarder,
  type EventForwarder,
  ForwardingSecretsError,
  formatForwardingSummary,
} from '../local/forwarder.ts';
import { parseListenAddress, startListener } from '../local/http-listener.ts';
import {
  type LocalAlert,
  LocalPipeline,
  type PipelineCounts,
  type PipelineInput,
  WindowSetAsideError,
} from '../local/local-pipeline.ts';
import { generateSample } from '../local/sample-stream.ts';
import { credentialsFromVariables, type OktaCredentials, OktaCredentialsError } from '../okta/credentials.ts';
import { OktaOrgUrlError, parseOrgUrl } from '../okta/okta-client.ts';
import { parseSince, readSystemLog } from '../okta/system-log.ts';
import { loadRuleSet, type RuleSet } from '../rules/index.ts';
import { type ParsedOptions, parseOptions, positiveInteger } from './args.ts';
import { CliError, type CliIo } from './io.ts';
import { formatSummary } from './local-summary.ts';
import { PII_HELP, PII_OPTIONS, readPiiOptions } from './pii-options.ts';

const HELP = `Usage: olp local [input] [options]

Runs the deployed pipeline in this process (the same rules and handler code, its tables and queues in memory) and
prints alerts.

Input (one of; without any, a built-in sample stream):
  --events <file|->        JSON Lines or a JSON array of System Log events, Auth0 logs or EventBridge envelopes;
                           .gz accepted;
                           - reads stdin
  --okta-org <url>         read the Okta System Log API (credentials: OKTA_API_TOKEN, or OKTA_CLIENT_ID with
                           OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE)
    --since <ISO|24h|7d>   start of the range (required with --okta-org)
    --until <ISO>          end of the range (default: now)
  --listen <[host:]port>   run the Auth0 HTTP sink here (host default 127.0.0.1): POST Auth0 logs to / with the
                           Authorization value in OLP_HTTP_AUTHORIZATION; until SIGINT or SIGTERM, then seals all

Options:
  --json                   one JSON object per alert on stdout, nothing else there
  --archive-dir <dir>      where sealed windows go (default ./.olp/archive)
  --data-dir <dir>         keep dedupe records, alert claims and progress between runs, in dynalite's files there
                           (implies --stand-ins; default: nothing kept)
  --stand-ins              run the tables and queues on dynalite and fauxqs (DynamoDB, SQS, SNS and S3 through
                           the AWS SDK, the archive mirrored to a bucket) instead of in this process; slower,
                           same archive, counts and alerts
  --rules <dir>            your alert rules, in addition to the default pack
  --event-source-name <s>  accept only envelopes from this partner event source, aws.partner/okta.com/<org>/<name>,
                           as the deployed pipeline does (default: any Okta source); raw events are wrapped as from it
  --lateness <seconds>     allowed lateness before a window is sealed (default 120)
  --window <seconds>       window length, divides 3600 (default 60)
  --sample-count <n>       events in the built-in sample (default 2000)
  --signing-key <file>     sign the archive's digest records with this EC P-256 private key (PEM); unsigned without
                           it. Check them with olp archive verify --public-key <its public key>
  --forward                post each event a rule with forward: matched to its destinations, as deployed (the
                           System Log event as JSON body, a few retries; failures listed in the summary).
                           Credentials: OLP_SECRET_<SECRET NAME> (e.g. OLP_SECRET_OLP_WORKFLOWS for olp/workflows)
                           holding the secret's JSON, or --secrets-file
  --secrets-file <file>    JSON mapping secret names to their JSON fields, for --forward; never printed

${PII_HELP}
`;

const CHUNK = 1000;
const PROGRESS_EVERY_MS = 2000;

/** A whole number of seconds that passes `check`, or a one-line usage error naming the flag and the rule. */
const seconds = (
  flag: string,
  value: string | undefined,
  fallback: number,
  rule: string,
  check: (n: number) => boolean,
) => {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || !check(n)) throw new CliError(`${flag} must be ${rule}, got "${value}"`, 2);
  return n;
};

export const localCommand = async (args: string[], io: CliIo): Promise<number> => {
  const values = parseOptions(args, OPTIONS, HELP.trimEnd(), io);
  if (values === undefined) return 0;
  const windowSeconds = seconds(
    '--window',
    values.window,
    60,
    'a whole number of seconds that divides 3600',
    (n) => n >= 1 && 3600 % n === 0,
  );
  const allowedLatenessSeconds = seconds('--lateness', values.lateness, 120, 'a whole number of seconds', () => true);
  const sampleCount = positiveInteger(values['sample-count'], '--sample-count', 2000, 1_000_000);
  let ruleSet: RuleSet;
  try {
    ruleSet = loadRuleSet(values.rules === undefined ? {} : { userDir: values.rules });
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const { rules } = ruleSet;
  const forwarder = values.forward === true ? await startForwarding(ruleSet, values['secrets-file'], io) : undefined;
  const eventSourceName = values['event-source-name'];
  if (eventSourceName !== undefined && !EVENT_SOURCE_NAME.test(eventSourceName)) {
    throw new CliError(`--event-source-name ${EVENT_SOURCE_RULE}, got ${JSON.stringify(eventSourceName)}`, 2);
  }
  const archiveDir = values['archive-dir'] ?? '.olp/archive';
  const input =
    values.listen === undefined
      ? chooseInput(values, io, sampleCount, eventSourceName)
      : await listenInput(values, io, archiveDir);
  const signer = await readSigningKey(values['signing-key']);
  const pii = await readPiiOptions(values);

  const json = values.json === true;
  const show = json
    ? (alert: LocalAlert) => io.stdout.write(`${JSON.stringify(alert)}\n`)
    : (alert: LocalAlert) => io.stdout.write(`${alert.published}  ${alert.subject}  (${alert.ruleId})\n`);
  const pipeline = await LocalPipeline.start({
    archiveDir,
    store: values['stand-ins'] === true || values['data-dir'] !== undefined ? 'stand-ins' : 'in-process',
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    rules,
    windowSeconds,
    allowedLatenessSeconds,
    dedupeRetentionDays: 7,
    alertDedupeRetentionDays: 30,
    inputName: input.name,
    ...(eventSourceName === undefined ? {} : { eventSourceName }),
    ...(signer === undefined ? {} : { signer }),
    ...(pii === undefined ? {} : { pii }),
    onAlert: show,
    ...(forwarder === undefined ? {} : { onMatch: (ruleId, envelope) => forwarder.submit(ruleId, envelope) }),
  });
  const started = Date.now();
  const progress = new Progress(io, pipeline.counts, started);
  try {
    const chunk: PipelineInput[] = [];
    // The pipeline routes a chunk before it starts on it; emptied here at once, the parsed records are not held.
    const push = () => pipeline.push(chunk.splice(0));
    for await (const record of input.records()) {
      if (record === FLUSH) {
        await push();
        progress.maybeReport();
        continue;
      }
      chunk.push(record);
      if (chunk.length >= CHUNK) {
        await push();
        progress.maybeReport();
      }
    }
    await push();
    const counts = await pipeline.finish();
    progress.clear();
    const summary = formatSummary(counts, archiveDir, Date.now() - started, pipeline.store);
    const forwarded = forwarder === undefined ? '' : formatForwardingSummary(await forwarder.settle());
    (json ? io.stderr : io.stdout).write(summary + forwarded);
    return 0;
  } catch (error) {
    if (error instanceof WindowSetAsideError) {
      throw new CliError(
        `${error.message}; the archive directory is left as it is: repair it or use another --archive-dir`,
      );
    }
    throw error;
  } finally {
    await pipeline.stop();
  }
};

const OPTIONS = {
  events: { type: 'string' },
  'okta-org': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  json: { type: 'boolean' },
  'archive-dir': { type: 'string' },
  'data-dir': { type: 'string' },
  'stand-ins': { type: 'boolean' },
  rules: { type: 'string' },
  'event-source-name': { type: 'string' },
  lateness: { type: 'string' },
  window: { type: 'string' },
  'sample-count': { type: 'string' },
  'signing-key': { type: 'string' },
  listen: { type: 'string' },
  forward: { type: 'boolean' },
  'secrets-file': { type: 'string' },
  ...PII_OPTIONS,
} as const;
type Values = ParsedOptions<typeof OPTIONS>;

interface Input {
  readonly name: string;
  /** The input's records; a live input (the listener) says FLUSH when what it has should go through now. */
  records(): AsyncIterable<PipelineInput | typeof FLUSH>;
}

const FLUSH = Symbol('flush');

/** The Auth0 HTTP sink on this machine, until SIGINT or SIGTERM; each accepted POST goes through at once. */
const listenInput = async (values: Values, io: CliIo, archiveDir: string): Promise<Input> => {
  if (values.events !== undefined || values['okta-org'] !== undefined) {
    throw new CliError('give one input: --listen, --events or --okta-org', 2);
  }
  const authorization = io.env.OLP_HTTP_AUTHORIZATION ?? '';
  if (authorization.trim() === '') {
    throw new CliError('--listen needs OLP_HTTP_AUTHORIZATION: the Authorization value the Auth0 stream sends', 2);
  }
  let address: { host: string; port: number };
  try {
    address = parseListenAddress(values.listen ?? '');
  } catch (error) {
    throw new CliError(escapeForTerminal((error as Error).message), 2);
  }
  const listener = await startListener({
    ...address,
    authorization,
    quarantine: prefixedArchive(new ArchiveDirStore(archiveDir), AUTH0.archivePrefix),
  }).catch((error: unknown) => {
    throw new CliError(`--listen ${escapeForTerminal(values.listen ?? '')}: ${(error as Error).message}`);
  });
  const stop = () => void listener.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  io.stderr.write(`olp local: listening on http://${listener.address}/ for Auth0 logs; SIGINT or SIGTERM to stop\n`);
  return {
    name: `http://${listener.address}`,
    async *records() {
      try {
        for await (const batch of listener.batches()) {
          yield* batch;
          yield FLUSH;
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    },
  };
};

/** The forwarder for --forward, its destinations' secrets read from the environment or --secrets-file. */
const startForwarding = async (
  ruleSet: RuleSet,
  secretsFile: string | undefined,
  io: CliIo,
): Promise<EventForwarder> => {
  let text: string | undefined;
  if (secretsFile !== undefined) {
    try {
      text = await readFile(secretsFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'cannot be read';
      throw new CliError(`--secrets-file ${escapeForTerminal(secretsFile)}: ${code}`, 2);
    }
  }
  try {
    const forwarder = createForwarder(
      ruleSet,
      { env: io.env, ...(text === undefined ? {} : { secretsFile: { name: secretsFile ?? '', text } }) },
      (ms) => sleep(ms),
    );
    if (!forwarder.forwards) io.stderr.write('olp local: --forward: no alert rule forwards; nothing will be sent\n');
    return forwarder;
  } catch (error) {
    if (!(error instanceof ForwardingSecretsError)) throw error;
    throw new CliError(`--forward: ${escapeForTerminal(error.message)}`, 2);
  }
};

/** The digest records' signer from a private key file, or a one-line usage error naming it. */
const readSigningKey = async (file: string | undefined): Promise<KeyFileArchiveSigner | undefined> => {
  if (file === undefined) return undefined;
  let pem: Buffer;
  try {
    pem = await readFile(file);
  } catch (error) {
    throw new CliError(`--signing-key ${file}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`, 2);
  }
  try {
    return new KeyFileArchiveSigner(pem);
  } catch (error) {
    if (error instanceof SigningKeyError) throw new CliError(`--signing-key ${file} ${error.message}`, 2);
    throw error;
  }
};

const fromInputRecord = (record: InputRecord): PipelineInput =>
  'error' in record
    ? record
    : { line: record.line, envelope: record.envelope as Record<string, unknown>, raw: record.envelopeText };

const chooseInput = (values: Values, io: CliIo, sampleCount: number, eventSource: string | undefined): Input => {
  if (values.events !== undefined && values['okta-org'] !== undefined) {
    throw new CliError('give either --events or --okta-org, not both', 2);
  }
  if (values.events !== undefined) {
    const source = values.events;
    return {
      name: source === '-' ? 'stdin' : basename(source),
      async *records() {
        try {
          for await (const record of readEventInput(source, {
            stdin: io.stdin,
            ...(eventSource === undefined ? {} : { eventSource }),
          }))
            yield fromInputRecord(record);
        } catch (error) {
          throw new CliError((error as Error).message);
        }
      },
    };
  }
  if (values['okta-org'] !== undefined) return oktaInput(values, io, eventSource);
  if (values.since !== undefined || values.until !== undefined) {
    throw new CliError('--since and --until need --okta-org', 2);
  }
  io.stderr.write(`olp local: no input given, running the built-in sample stream (${sampleCount} events)\n`);
  return {
    name: 'sample',
    async *records() {
      const { deliveries } = generateSample({ count: sampleCount, seed: 7 });
      for (const [i, envelope] of deliveries.entries()) {
        yield { line: i + 1, envelope: envelope as Record<string, unknown>, raw: JSON.stringify(envelope) };
      }
    },
  };
};

const oktaInput = (values: Values, io: CliIo, pinned: string | undefined): Input => {
  const orgUrl = values['okta-org'] ?? '';
  let url: URL;
  try {
    url = new URL(orgUrl);
  } catch {
    throw new CliError(`--okta-org must be a URL like https://acme.okta.com, got "${orgUrl}"`, 2);
  }
  let credentials: OktaCredentials;
  try {
    parseOrgUrl(orgUrl);
    credentials = credentialsFromVariables(io.env);
  } catch (error) {
    if (error instanceof OktaCredentialsError || error instanceof OktaOrgUrlError) {
      throw new CliError(`--okta-org: ${escapeForTerminal(error.message)}`, 2);
    }
    throw error;
  }
  if (values.since === undefined) throw new CliError('--okta-org needs --since (an ISO instant, or e.g. 24h)', 2);
  const now = new Date();
  let since: Date;
  let until: Date | undefined;
  try {
    since = parseSince(values.since, now);
    until = values.until === undefined ? undefined : parseSince(values.until, now);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const eventSource = pinned ?? `aws.partner/okta.com/${url.hostname.split('.')[0]}/system-log-api`;
  return {
    name: url.hostname,
    async *records() {
      let line = 0;
      const events = readSystemLog({
        orgUrl: url.origin,
        credentials,
        since,
        ...(until === undefined ? {} : { until }),
        onProgress: ({ pages, events: count, waitingMs }) => {
          const wait = waitingMs === undefined ? '' : `, rate limited: waiting ${Math.ceil(waitingMs / 1000)} s`;
          io.stderr.write(`olp local: ${url.hostname}: ${pages} pages, ${count} events${wait}\n`);
        },
      });
      try {
        for await (const event of events) {
          line++;
          const wrapped = toEnvelope(event, eventSource);
          yield 'error' in wrapped
            ? { line, error: wrapped.error, raw: JSON.stringify(event) }
            : { line, envelope: wrapped.envelope as Record<string, unknown>, raw: JSON.stringify(wrapped.envelope) };
        }
      } catch (error) {
        throw new CliError((error as Error).message);
      }
    },
  };
};

/** A progress line on stderr for long inputs: rewritten in place on a terminal, a line every few seconds otherwise. */
class Progress {
  private last: number;
  private drawn = false;

  constructor(
    private readonly io: CliIo,
    private readonly counts: PipelineCounts,
    private readonly started: number,
  ) {
    this.last = started;
  }

  maybeReport(): void {
    const now = Date.now();
    if (now - this.last < PROGRESS_EVERY_MS) return;
    this.last = now;
    const c = this.counts;
    const rate = Math.round(c.read / ((now - this.started) / 1000));
    const line =
      `olp local: ${n(c.read)} events (${n(rate)}/s), ${n(c.duplicates)} duplicates dropped, ` +
      `${n(c.quarantined)} quarantined, ${n(c.windowsSealed)} windows sealed`;
    const tty = (this.io.stderr as { isTTY?: boolean }).isTTY === true;
    this.io.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    this.drawn = tty;
  }

  clear(): void {
    if (this.drawn) this.io.stderr.write('\r\u001b[K');
  }
}

const n = (value: number) => value.toLocaleString('en-US');
