/**
 * `npm run bench`: speed, request counts and cost of the pipeline, measured on this machine and written to
 * docs/benchmarks.md. A benchmark, not a test: nothing here asserts a timing.
 *
 * `npm run bench -- --json` prints the headline figures as one JSON object on stdout instead (progress goes to
 * stderr); `--events <n>` sizes every event set for a quick run. See USAGE.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ingestEnvelope, parseEnvelope } from '../lambdas/ingest/ingest-envelope.ts';
import { withStagingMemory } from '../lambdas/ingest/staging-memory.ts';
import { runSequencer, type SequencerSettings } from '../lambdas/sequencer/run-sequencer.ts';
import { DynamoEventStore, stagedEventItem } from '../lambdas/shared/dynamo-event-store.ts';
import type { ArchiveStore } from '../lambdas/shared/ports.ts';
import { batchesOf } from '../lambdas/shared/sqs-queue-sender.ts';
import { contentHash, type StagedEvent, stagedKeyOf, stageEvent } from '../lambdas/shared/staged-event.ts';
import { oktaFeed } from '../lambdas/watchdog/okta-feed.ts';
import { runWatchdog, type WatchdogSettings } from '../lambdas/watchdog/run-watchdog.ts';
import type { WatchdogState } from '../lambdas/watchdog/watchdog-state.ts';
import { TARGET_UTILISATION } from '../lib/constructs/pipeline-table.ts';
import { ArchiveDirStore } from '../lib/local/archive-dir-store.ts';
import { LocalPipeline } from '../lib/local/local-pipeline.ts';
import { generateSample } from '../lib/local/sample-stream.ts';
import { createKeyTable, standInClientConfig, startDynalite } from '../lib/local/stand-ins.ts';
import { OktaClient } from '../lib/okta/okta-client.ts';
import { loadRules } from '../lib/rules/index.ts';
import { FAKE_OKTA_TOKEN, startFakeOkta } from '../test/support/fake-okta.ts';
import { detectorRequests, huntAtScale } from './rules-at-scale.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `Usage: npm run bench -- [options]

Measures speed, DynamoDB and S3 requests, and the estimated AWS cost per million events, on the local stand-ins.
Without --json, writes docs/benchmarks.md and prints it.

  --json                   print one JSON object of the headline figures on stdout (progress on stderr); no file is
                           written
  --events <n>             size of every event set: the sample stream, the late events, the olp local run and the
                           watchdog's check (the years-wide run takes n/20, at most 1,000); for quick runs
  --sample-events <n>      unique events of the sample stream (default 20,000)
  --late-events <n>        late events drained at scale (default 20,000)
  --local-events <n>       sample events through olp local end to end (default 100,000)
  --watchdog-events <n>    System Log events the watchdog checks (default 50,000)
  --years-events <n>       events of the years-wide run (default 1,000)
  -h, --help               print this help

The sizes may also be given as BENCH_EVENTS, BENCH_LATE_EVENTS, BENCH_LOCAL_EVENTS, BENCH_WATCHDOG_EVENTS and
BENCH_YEARS_EVENTS (BENCH_EVENTS is the sample stream's size); a flag wins over its variable.`;

/** A bad command line: printed as one line with the usage hint, exit code 2. */
class BenchUsageError extends Error {}

const SIZE_LIMIT = 10_000_000;
const size = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < 1 || number > SIZE_LIMIT) {
    throw new BenchUsageError(`${name} must be a whole number from 1 to 10,000,000, got "${value}"`);
  }
  return number;
};

/** The options of one run: output and the size of each event set. */
const benchOptions = (args: readonly string[], env: NodeJS.ProcessEnv) => {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      options: {
        json: { type: 'boolean' },
        events: { type: 'string' },
        'sample-events': { type: 'string' },
        'late-events': { type: 'string' },
        'local-events': { type: 'string' },
        'watchdog-events': { type: 'string' },
        'years-events': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    throw new BenchUsageError((error as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const flag = (name: string) => size(values[name] as string | undefined, `--${name}`);
  const variable = (name: string) => size(env[name], name);
  const all = flag('events');
  return {
    help: values.help === true,
    json: values.json === true,
    sampleEvents: flag('sample-events') ?? all ?? variable('BENCH_EVENTS') ?? 20_000,
    lateEvents: flag('late-events') ?? all ?? variable('BENCH_LATE_EVENTS') ?? 20_000,
    localEvents: flag('local-events') ?? all ?? variable('BENCH_LOCAL_EVENTS') ?? 100_000,
    watchdogEvents: flag('watchdog-events') ?? all ?? variable('BENCH_WATCHDOG_EVENTS') ?? 50_000,
    yearsEvents:
      flag('years-events') ??
      (all === undefined ? undefined : Math.max(1, Math.min(1_000, Math.floor(all / 20)))) ??
      variable('BENCH_YEARS_EVENTS') ??
      1_000,
  };
};
type BenchOptions = ReturnType<typeof benchOptions>;

const BATCH_SIZE = 100; // the config's default ingestBatchSize
const SETTINGS: SequencerSettings = {
  windowSeconds: 60,
  allowedLatenessSeconds: 120,
  windowShards: 8,
  dedupeRetentionDays: 7,
  sealGuardSeconds: 90,
  maxWindowsPerRun: 100_000,
  maxLateMarkersPerRun: 20_000,
};
const log = (line: string) =>
  process.stderr.write(`bench ${(performance.now() / 1000).toFixed(0).padStart(4)} s: ${line}\n`);
const fmt = (n: number, digits = 2) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** CPU time (user + system, µs) of `work`, median of `rounds` after a warm-up. */
const cpuMicros = (work: () => void, rounds = 7): number => {
  work();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const before = process.cpuUsage();
    work();
    const used = process.cpuUsage(before);
    samples.push(used.user + used.system);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
};

/**
 * DynamoDB's item size, which write units are charged by (1 per KB or part of one) and read units (1 per 4 KB):
 * attribute names plus values (strings as UTF-8, binaries as their bytes, numbers about one byte per two digits).
 */
const itemBytes = (item: Record<string, AttributeValue>): number =>
  Object.entries(item).reduce((sum, [name, value]) => {
    const size =
      value.S !== undefined
        ? Buffer.byteLength(value.S)
        : value.B !== undefined
          ? value.B.length
          : value.N !== undefined
            ? Math.ceil(value.N.replace(/^-/, '').length / 2) + 1
            : 1;
    return sum + Buffer.byteLength(name) + size;
  }, 0);
const writeUnitsOf = (item: Record<string, AttributeValue>) => Math.ceil(itemBytes(item) / 1024);

/** The staged event's item in the shape before bodies were compressed: the reference its write units are set beside. */
const previousShapeItem = (event: StagedEvent): Record<string, AttributeValue> => ({
  pk: { S: event.pk },
  sk: { S: event.sk },
  windowStart: { N: String(event.windowStart) },
  publishedMs: { N: String(event.publishedMs) },
  body: { S: event.body },
  dedupeUntil: { N: String(event.dedupeUntil) },
  ...(event.expiresAt === undefined ? {} : { expiresAt: { N: String(event.expiresAt) } }),
  ...(event.late ? { late: { BOOL: true } } : {}),
});

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);

/**
 * Requests and capacity units of one client, by command, as DynamoDB would bill them: each request asks for its
 * consumed capacity (dynalite sizes items as DynamoDB does); a write whose condition failed is charged like one that
 * wrote, and a read request at least one unit (half when eventually consistent), which dynalite leaves out.
 */
class DynamoUsage {
  readonly requests = new Map<string, number>();
  readonly units = new Map<string, number>();

  request(command: string) {
    this.requests.set(command, (this.requests.get(command) ?? 0) + 1);
  }
  charge(command: string, units: number) {
    this.units.set(command, (this.units.get(command) ?? 0) + units);
  }
  count(command: string) {
    return this.requests.get(command) ?? 0;
  }
  get readUnits() {
    return [...this.units].reduce((sum, [command, n]) => sum + (READS.has(command) ? n : 0), 0);
  }
  get writeUnits() {
    return [...this.units].reduce((sum, [command, n]) => sum + (READS.has(command) ? 0 : n), 0);
  }
  get total() {
    return [...this.requests.values()].reduce((sum, n) => sum + n, 0);
  }
  reset() {
    this.requests.clear();
    this.units.clear();
  }
  /** `12 Query, 3 PutItem`. */
  describe() {
    return [...this.requests].map(([name, n]) => `${n} ${name}`).join(', ');
  }
}

type CapacityInput = {
  ReturnConsumedCapacity?: string;
  ConsistentRead?: boolean;
  Item?: Record<string, AttributeValue>;
};
type CapacityOutput = { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> };

/** dynalite, and clients on it that each count their requests and capacity units (see DynamoUsage). */
const startCountingDynalite = async () => {
  const server = await startDynalite();
  const clients: DynamoDBClient[] = [];
  const countingClient = () => {
    const client = new DynamoDBClient(standInClientConfig(server.endpoint));
    const usage = new DynamoUsage();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = (context.commandName ?? '?').replace(/Command$/, '');
        const input = args.input as CapacityInput;
        usage.request(command);
        input.ReturnConsumedCapacity = 'TOTAL';
        try {
          const result = await next(args);
          const consumed = [(result.output as CapacityOutput).ConsumedCapacity ?? []].flat();
          const units = consumed.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
          const least = input.ConsistentRead === true ? 1 : 0.5;
          usage.charge(command, READS.has(command) && command !== 'BatchGetItem' ? Math.max(units, least) : units);
          return result;
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) {
            usage.charge(command, input.Item === undefined ? 1 : writeUnitsOf(input.Item));
          }
          throw error;
        }
      },
      { step: 'initialize', name: 'countUsage' },
    );
    clients.push(client);
    return { client, usage };
  };
  const main = countingClient();
  return {
    client: main.client,
    usage: main.usage,
    countingClient,
    table: (name: string) => createKeyTable(main.client, name, { sortKey: true }),
    stop: async () => {
      for (const client of clients) client.destroy();
      await server.stop();
    },
  };
};

/** Counts archive requests (S3 PUT and GET) per kind of object. */
class CountingArchive implements ArchiveStore {
  puts = 0;
  gets = 0;
  /** Digest records: each is signed by KMS deployed. */
  digestPuts = 0;
  constructor(private readonly inner: ArchiveStore) {}
  put(key: string, body: Uint8Array | string, contentType: string) {
    this.puts++;
    if (key.startsWith('digests/')) this.digestPuts++;
    return this.inner.put(key, body, contentType);
  }
  get(key: string) {
    this.gets++;
    return this.inner.get(key);
  }
}

/** The store, counting calls by method (what ingest writes, whatever the request). */
const countCalls = <T extends object>(inner: T) => {
  const calls = new Map<string, number>();
  const store = new Proxy(inner, {
    get: (target, property, receiver) => {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(property, (calls.get(property) ?? 0) + 1);
        return value.apply(target, args);
      };
    },
  });
  return {
    store,
    counts: () => ({
      stage: calls.get('stage') ?? 0,
      announce: calls.get('announce') ?? 0,
      putLateMarker: calls.get('putLateMarker') ?? 0,
    }),
  };
};

/**
 * `count` late events spread over `windowCount` one-minute windows sealed long ago (a backfill of old days), staged
 * through ingest on dynalite, then drained by sequencer runs a minute apart with the deployed bounds.
 */
const lateEventsAtScale = async (count: number, windowCount: number) => {
  const dynamo = await startCountingDynalite();
  await dynamo.table('late');
  const store = new DynamoEventStore(dynamo.client, 'late');
  const archive = new CountingArchive(new ArchiveDirStore(await mkdtemp(join(tmpdir(), 'olp-bench-late-'))));
  const base = Date.parse('2026-09-01T00:00:00Z');
  let now = base + 60 * 86_400_000;
  for (const at of [now, now + 90_000]) await runSequencer({ events: store, archive }, SETTINGS, at);
  now += 120_000;
  const template = (generateSample({ count: 1, seed: 5 }).deliveries[0] ?? {}) as { detail: Record<string, unknown> };
  const raws = Array.from({ length: count }, (_, i) => {
    const uuid = `${(0x30000000 + i).toString(16)}-fef4-11ed-a5b1-bbb7c1de1a4b`;
    const published = new Date(base + (i % windowCount) * 60_000 + (i % 59) * 1000).toISOString();
    return JSON.stringify({ ...template, detail: { ...template.detail, uuid, published } });
  });
  const close = await store.readClose();
  const deps = {
    events: store,
    quarantine: archive,
    now: () => now,
    newToken: randomUUID,
    closedBefore: async () => close,
    pin: {},
  };
  let late = 0;
  for (let i = 0; i < raws.length; i += 16) {
    const outcomes = await Promise.all(
      raws.slice(i, i + 16).map((raw, j) => ingestEnvelope(raw, { id: `late-${i + j}` }, deps, SETTINGS)),
    );
    late += outcomes.filter((o) => o.kind === 'staged' && o.event.late).length;
  }
  const stagingWriteUnits = dynamo.usage.writeUnits;
  dynamo.usage.reset();
  archive.puts = 0;
  archive.gets = 0;
  let runs = 0;
  let supplements = 0;
  let maxSupplementsPerWindowPerRun = 0;
  const started = performance.now();
  for (;;) {
    now += 60_000;
    const report = await runSequencer({ events: store, archive }, SETTINGS, now);
    runs++;
    const perWindow = new Map<string, number>();
    for (const w of report.sealed) perWindow.set(w.window, (perWindow.get(w.window) ?? 0) + 1);
    maxSupplementsPerWindowPerRun = Math.max(maxSupplementsPerWindowPerRun, ...perWindow.values());
    supplements += report.sealed.length;
    log(`late at scale: run ${runs}, ${report.sealed.length} supplements`);
    if (!report.moreToDo) break;
  }
  const seconds = (performance.now() - started) / 1000;
  const requests = dynamo.usage.total;
  const byCommand = dynamo.usage.describe();
  const { readUnits, writeUnits } = dynamo.usage;
  await dynamo.stop();
  return {
    late,
    runs,
    supplements,
    maxSupplementsPerWindowPerRun,
    requests,
    byCommand,
    stagingWriteUnits,
    readUnits,
    writeUnits,
    s3: archive.puts + archive.gets,
    s3Detail: `${archive.puts} PUT, ${archive.gets} GET`,
    seconds,
  };
};

/**
 * `olp local`'s pipeline over these envelopes in chunks of 1,000, as the command feeds it, on its in-process store:
 * seconds, its counts, and the resident memory before and after.
 */
const localRun = async (deliveries: readonly object[], onChunk?: (done: number) => void) => {
  const archiveDir = await mkdtemp(join(tmpdir(), 'olp-bench-run-'));
  const pipeline = await LocalPipeline.start({
    archiveDir,
    store: 'in-process',
    rules: loadRules(),
    windowSeconds: 60,
    allowedLatenessSeconds: 120,
    dedupeRetentionDays: 7,
    alertDedupeRetentionDays: 30,
    inputName: 'bench',
    onAlert: () => {},
  });
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  for (let i = 0; i < deliveries.length; i += 1000) {
    await pipeline.push(
      deliveries.slice(i, i + 1000).map((envelope, j) => ({
        line: i + j + 1,
        envelope: envelope as Record<string, unknown>,
        raw: JSON.stringify(envelope),
      })),
    );
    onChunk?.(Math.min(i + 1000, deliveries.length));
  }
  const counts = await pipeline.finish();
  const seconds = (performance.now() - started) / 1000;
  const rssAfter = process.memoryUsage().rss;
  await pipeline.stop();
  await rm(archiveDir, { recursive: true, force: true });
  return {
    seconds,
    counts,
    rssBefore,
    rssAfter,
    archived: counts.archived,
    windows: counts.windowsSealed + counts.lateSupplements,
  };
};

/** Reports the process's peak resident memory (kB) on stderr as it exits. */
const REPORT_PEAK_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('peak-rss-kb '+process.resourceUsage().maxRSS+'\\n'))`;

/**
 * `olp local --events <file>` as a user runs it, in a process of its own: seconds from start to exit, its peak
 * resident memory, and the counts of its summary. `extra` picks the store (`--stand-ins`).
 */
const localCli = async (file: string, extra: readonly string[] = [], keepArchiveIn?: string) => {
  const archiveDir = keepArchiveIn ?? (await mkdtemp(join(tmpdir(), 'olp-bench-cli-')));
  const bin = fileURLToPath(new URL('../bin/olp.js', import.meta.url));
  const args = ['--import', REPORT_PEAK_RSS, bin, 'local', '--events', file, '--json', '--archive-dir', archiveDir];
  const started = performance.now();
  const child = spawn(process.execPath, [...args, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  if (keepArchiveIn === undefined) await rm(archiveDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`olp local ${extra.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  const count = (label: string) => Number(new RegExp(`${label}\\s+([\\d,]+)`).exec(stderr)?.[1]?.replaceAll(',', ''));
  return {
    seconds,
    peakRssMb: Number(/peak-rss-kb (\d+)/.exec(stderr)?.[1]) / 1000,
    read: count('events read'),
    staged: count('unique \\(staged\\)'),
    duplicates: count('duplicates dropped'),
    quarantined: count('quarantined'),
    archived: count('events archived'),
    alerts: count('alerts'),
  };
};

/**
 * The same events twice, shuffled, with `published` spread from 2020 to 2026 (a few a week) or within one hour: the
 * years-wide run must cost about what the hour-long one does, since sealing follows the windows that hold events.
 */
const yearsWideRuns = async (count: number) => {
  const { deliveries } = generateSample({ count, seed: 9 });
  const unique = new Map<string, { detail: Record<string, unknown> }>();
  for (const envelope of deliveries as Array<{ detail: Record<string, unknown> }>) {
    unique.set(String(envelope.detail.uuid), envelope);
  }
  const spanMs = Date.parse('2026-11-01T00:00:00Z') - Date.parse('2020-01-01T00:00:00Z');
  const spread = (span: number) =>
    [...unique.values()].map((envelope, i) => ({
      ...envelope,
      detail: {
        ...envelope.detail,
        published: new Date(Date.parse('2020-01-01T00:00:00Z') + Math.floor((i * span) / unique.size)).toISOString(),
      },
    }));
  // Twice each, in an order unrelated to time.
  const shuffledTwice = (events: object[]) => {
    const out = [...events, ...events];
    let state = 7;
    for (let i = out.length - 1; i > 0; i--) {
      state = (Math.imul(state, 1_103_515_245) + 12_345) | 0;
      const j = (state >>> 0) % (i + 1);
      [out[i], out[j]] = [out[j] as object, out[i] as object];
    }
    return out;
  };
  return {
    years: await localRun(shuffledTwice(spread(spanMs))),
    hour: await localRun(shuffledTwice(spread(3_600_000))),
    count: unique.size,
  };
};

/**
 * The feed watchdog checking `count` System Log events (a tenth of them never delivered by the stream) on dynalite,
 * read from the fake Okta server in pages of 1,000; the queues count what would be sent. The reference is dynalite
 * answering the same BatchGetItem lookups alone.
 */
const watchdogAtScale = async (count: number) => {
  const dynamo = await startCountingDynalite();
  await dynamo.table('events');
  const store = new DynamoEventStore(dynamo.client, 'events');
  const start = Date.now() - 3 * 86_400_000;
  const template = (generateSample({ count: 1, seed: 7 }).deliveries[0] ?? {}) as { detail: Record<string, unknown> };
  const events = Array.from({ length: count }, (_, i) => ({
    ...template.detail,
    uuid: `${(0x50000000 + i).toString(16)}-fef4-11ed-a5b1-bbb7c1de1a4b`,
    published: new Date(start + i * 50).toISOString(),
  }));
  const settings: WatchdogSettings = {
    staging: { windowSeconds: 60, allowedLatenessSeconds: 120, windowShards: 8, dedupeRetentionDays: 7 },
    envelope: { source: 'aws.partner/okta.com/acme/okta-logs', account: '123456789012', region: 'us-east-1' },
    checkDelayMs: 420_000,
    maxCheckAgeMs: 6 * 86_400_000,
    autoReactivate: false,
    maxPagesPerRun: Number.POSITIVE_INFINITY,
    stopBeforeDeadlineMs: 0,
  };
  const delivered = events.filter((_, i) => i % 10 !== 0);
  for (let i = 0; i < delivered.length; i += 64) {
    await Promise.all(
      delivered.slice(i, i + 64).map((event) => {
        const body = JSON.stringify(event);
        return store.stage(stageEvent(event, body, settings.staging, start, Number.NEGATIVE_INFINITY, event));
      }),
    );
  }
  const okta = await startFakeOkta({ events, now: Date.now });
  const client = new OktaClient({ orgUrl: okta.url, credentials: { kind: 'ssws', token: FAKE_OKTA_TOKEN } });
  const sends = { ingest: 0, ingestMessages: 0, alert: 0, detector: 0 };
  const counting = (kind: 'ingest' | 'alert' | 'detector') => ({
    send: async (messages: readonly { body: string }[]) => {
      sends[kind] += batchesOf(messages).length;
      if (kind === 'ingest') sends.ingestMessages += messages.length;
    },
  });
  // The state in memory: its one item per run is not what is measured here.
  let stored: { state: WatchdogState; version: number } | undefined;
  const deps = {
    okta: oktaFeed(client, 'okta-logs'),
    state: {
      read: async () => stored,
      write: async (state: WatchdogState) => {
        stored = { state, version: (stored?.version ?? 0) + 1 };
        return true;
      },
    },
    staged: store,
    ingestQueue: counting('ingest'),
    alertQueue: counting('alert'),
    detectorQueue: counting('detector'),
    claims: { claim: async () => true, release: async () => {} },
    publisher: { publish: async () => {} },
    rules: [],
    now: Date.now,
    remainingMs: () => Number.POSITIVE_INFINITY,
  };
  // A first run places the cursor; moved back before the events, as a watchdog running all along would have it.
  await runWatchdog(deps, settings);
  if (stored !== undefined) stored = { ...stored, state: { ...stored.state, checkedBefore: start } };
  dynamo.usage.reset();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const report = await runWatchdog(deps, settings);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const batchGets = dynamo.usage.count('BatchGetItem');
  const readUnits = dynamo.usage.readUnits;
  const oktaCalls = okta.requests.filter((request) => request.path === '/api/v1/logs').length;
  // Reference: the same lookups against dynalite alone, 100 keys a request as the watchdog sends them.
  const keys = events.map((event) => stagedKeyOf(event, event, settings.staging));
  const refStarted = performance.now();
  for (let i = 0; i < keys.length; i += 1000) await store.getStaged(keys.slice(i, i + 1000));
  const refSeconds = (performance.now() - refStarted) / 1000;
  await okta.stop();
  await dynamo.stop();
  return {
    count,
    checked: report.checked,
    backfilled: report.backfilled,
    seconds,
    cpuMsPer1000: ((cpu.user + cpu.system) / 1000 / report.checked) * 1000,
    refSeconds,
    batchGets,
    oktaCalls,
    sqsBatches: sends.ingest,
    rruPerEvent: readUnits / report.checked,
  };
};

/** Public on-demand list prices, us-east-1 (USD, November 2026); free tiers ignored. */
const PRICE = {
  eventBridgePartnerEvent: 1.0 / 1e6,
  sqsRequest: 0.4 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  lambdaArmGbSecond: 0.0000133334,
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  storageGbMonth: 0.25,
  pointInTimeRecoveryGbMonth: 0.2,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  kmsSymmetricRequest: 0.03 / 10_000,
  kmsAsymmetricRequest: 0.15 / 10_000,
  snsPublish: 0.5 / 1e6,
  snsEmail: 2 / 100_000,
  logsIngestedGb: 0.5,
};

/**
 * What the estimate assumes where this machine cannot measure: Lambda durations (the stand-ins answer in well under
 * a millisecond, AWS in a few), the rates of alerts and of the stateful detector's matches, and log volume. Memory
 * sizes are the stack's.
 */
const ASSUME = {
  ingest: { secondsPerBatch: 0.5, gb: 0.5 },
  sequencer: { secondsPerRun: 0.5, gb: 1 },
  /** TTL deletes every staged item in the end; the stream hands them over in batches of 100. */
  rescue: { batch: 100, secondsPerBatch: 0.2, gb: 0.25 },
  alert: { rate: 0.001, batch: 10, secondsPerBatch: 0.3, gb: 0.25 },
  watchdog: { everyMinutes: 5, secondsPerRun: 2, gb: 0.5 },
  detector: { batch: 10, secondsPerBatch: 0.2, gb: 0.25 },
  /** SQS hands Lambda at most 10 messages per ReceiveMessage and takes 10 per DeleteMessageBatch. */
  sqsMessagesPerRequest: 10,
  /** Lambda's START, END and REPORT lines plus one EMF metrics line per invocation; more for the sequencer's report. */
  logBytes: { perInvocation: 1_000, perSequencerRun: 2_000 },
  /** DynamoDB bills 100 bytes of overhead per stored item. */
  itemOverheadBytes: 100,
};

/** What was measured, per unique event, for the cost estimate. */
interface Measured {
  readonly deliveriesPerEvent: number;
  readonly ingestWriteUnits: number;
  readonly ingestReadUnits: number;
  readonly sealReadUnits: number;
  readonly sealWriteUnits: number;
  readonly stagedItemBytes: number;
  readonly sequencerRuns: number;
  readonly s3Puts: number;
  readonly s3Gets: number;
  readonly digestRecords: number;
  /** Minutes of traffic per event at the sample's rate (one archive window a minute). */
  readonly minutes: number;
  readonly watchdogReadUnits: number;
  readonly dedupeRetentionDays: number;
  /** Detector-queue messages per unique event (every stateful rule's pre-filter matches), and their capacity. */
  readonly detectorMessages: number;
  readonly detectorWriteUnitsPerMessage: number;
  readonly detectorReadUnitsPerMessage: number;
}

interface CostLine {
  readonly path: string;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  /** USD per unit. */
  readonly price: number;
  /** Counted as the pipeline's own: everything except EventBridge's partner ingestion, which any consumer pays. */
  readonly pipeline: boolean;
  /** How many units the list price is quoted for; 1 by default. */
  readonly per?: number;
  /** Capacity units of the events table, which provisioned capacity would bill instead (see leversOf). */
  readonly eventsTable?: true;
  /** Capacity units of the detector table, likewise. */
  readonly detectorTable?: true;
}

/** The itemised estimate per million unique events. */
const costPerMillion = (m: Measured): CostLine[] => {
  const M = 1_000_000;
  const deliveries = M * m.deliveriesPerEvent;
  const ingestBatches = deliveries / BATCH_SIZE;
  const minutes = M * m.minutes;
  const gbMonths = ((m.stagedItemBytes + ASSUME.itemOverheadBytes) * M * (m.dedupeRetentionDays / 30)) / 1e9;
  const rescueBatches = M / ASSUME.rescue.batch;
  const alerts = M * ASSUME.alert.rate;
  const alertBatches = alerts / ASSUME.alert.batch;
  const watchdogRuns = minutes / ASSUME.watchdog.everyMinutes;
  const matched = M * m.detectorMessages;
  const detectorBatches = matched / ASSUME.detector.batch;
  const sqsPerMessage = 1 + 2 / ASSUME.sqsMessagesPerRequest;
  const logGb =
    ((ingestBatches + rescueBatches + alertBatches + watchdogRuns) * ASSUME.logBytes.perInvocation +
      M * m.sequencerRuns * ASSUME.logBytes.perSequencerRun) /
    1e9;
  const ingestPath = 'ingest';
  return [
    {
      path: ingestPath,
      item: 'EventBridge partner events ingested (any consumer pays these)',
      quantity: deliveries,
      unit: 'events',
      per: 1_000_000,
      price: PRICE.eventBridgePartnerEvent,
      pipeline: false,
    },
    {
      path: ingestPath,
      item: 'SQS ingest queue: a send per delivery, receives and batch deletes of 10',
      quantity: deliveries * sqsPerMessage,
      unit: 'requests',
      per: 1_000_000,
      price: PRICE.sqsRequest,
      pipeline: true,
    },
    {
      path: ingestPath,
      item: `ingest Lambda invocations (batches of ${BATCH_SIZE})`,
      quantity: ingestBatches,
      unit: 'requests',
      per: 1_000_000,
      price: PRICE.lambdaRequest,
      pipeline: true,
    },
    {
      path: ingestPath,
      item: `ingest Lambda duration, Arm, ${ASSUME.ingest.secondsPerBatch} s per batch at ${ASSUME.ingest.gb * 1024} MB`,
      quantity: ingestBatches * ASSUME.ingest.secondsPerBatch * ASSUME.ingest.gb,
      unit: 'GB-s',
      price: PRICE.lambdaArmGbSecond,
      pipeline: true,
    },
    {
      path: ingestPath,
      item: 'DynamoDB write units: staged items, rejected duplicates, announcements, late markers (measured)',
      quantity: M * m.ingestWriteUnits,
      unit: 'WRU',
      per: 1_000_000,
      price: PRICE.writeUnit,
      pipeline: true,
      eventsTable: true,
    },
    {
      path: ingestPath,
      item: "DynamoDB read units: ingest's reads of the close, one per batch (measured; deployed, one per 10 s)",
      quantity: M * m.ingestReadUnits,
      unit: 'RRU',
      per: 1_000_000,
      price: PRICE.readUnit,
      pipeline: true,
      eventsTable: true,
    },
    {
      path: 'sealing',
      item: "DynamoDB read units: the windows' partitions, late events, markers, state (measured)",
      quantity: M * m.sealReadUnits,
      unit: 'RRU',
      per: 1_000_000,
      price: PRICE.readUnit,
      pipeline: true,
      eventsTable: true,
    },
    {
      path: 'sealing',
      item: 'DynamoDB write units: state, announcements removed, archived flags, markers removed (measured)',
      quantity: M * m.sealWriteUnits,
      unit: 'WRU',
      per: 1_000_000,
      price: PRICE.writeUnit,
      pipeline: true,
      eventsTable: true,
    },
    {
      path: 'sealing',
      item: 'sequencer Lambda invocations (one a minute)',
      quantity: M * m.sequencerRuns,
      unit: 'requests',
      per: 1_000_000,
      price: PRICE.lambdaRequest,
      pipeline: true,
    },
    {
      path: 'sealing',
      item: `sequencer Lambda duration, Arm, ${ASSUME.sequencer.secondsPerRun} s per run at ${ASSUME.sequencer.gb * 1024} MB`,
      quantity: M * m.sequencerRuns * ASSUME.sequencer.secondsPerRun * ASSUME.sequencer.gb,
      unit: 'GB-s',
      price: PRICE.lambdaArmGbSecond,
      pipeline: true,
    },
    {
      path: 'sealing',
      item: 'S3 PUT: parts, manifests, digest records (measured; the archive is SSE-S3, no KMS call)',
      quantity: M * m.s3Puts,
      unit: 'requests',
      per: 1_000,
      price: PRICE.s3Put,
      pipeline: true,
    },
    {
      path: 'sealing',
      item: 'S3 GET: manifests and the next digest record checked before writing (measured)',
      quantity: M * m.s3Gets,
      unit: 'requests',
      per: 1_000,
      price: PRICE.s3Get,
      pipeline: true,
    },
    {
      path: 'sealing',
      item: 'KMS Sign (ECC), one per digest record (measured)',
      quantity: M * m.digestRecords,
      unit: 'requests',
      per: 10_000,
      price: PRICE.kmsAsymmetricRequest,
      pipeline: true,
    },
    {
      path: 'retention',
      item: `DynamoDB storage, ${m.dedupeRetentionDays} days of staged items (measured size + 100 bytes each)`,
      quantity: gbMonths,
      unit: 'GB-month',
      price: PRICE.storageGbMonth,
      pipeline: true,
    },
    {
      path: 'retention',
      item: 'DynamoDB point-in-time recovery of the same (table size)',
      quantity: gbMonths,
      unit: 'GB-month',
      price: PRICE.pointInTimeRecoveryGbMonth,
      pipeline: true,
    },
    {
      path: 'retention',
      item: `rescue Lambda on TTL deletions: invocations (TTL deletes and stream reads are free)`,
      quantity: rescueBatches,
      unit: 'requests',
      per: 1_000_000,
      price: PRICE.lambdaRequest,
      pipeline: true,
    },
    {
      path: 'retention',
      item: `rescue Lambda duration, ${ASSUME.rescue.secondsPerBatch} s per batch of ${ASSUME.rescue.batch} at ${ASSUME.rescue.gb * 1024} MB`,
      quantity: rescueBatches * ASSUME.rescue.secondsPerBatch * ASSUME.rescue.gb,
      unit: 'GB-s',
      price: PRICE.lambdaArmGbSecond,
      pipeline: true,
    },
    {
      path: 'retention',
      item: "rescue's read of the sequencer state, one per batch",
      quantity: rescueBatches,
      unit: 'RRU',
      per: 1_000_000,
      price: PRICE.readUnit,
      pipeline: true,
      eventsTable: true,
    },
    {
      path: 'operations',
      item: `CloudWatch Logs: ${ASSUME.logBytes.perInvocation} bytes per invocation, ${ASSUME.logBytes.perSequencerRun} per sequencer run (metrics are EMF lines: no PutMetricData)`,
      quantity: logGb,
      unit: 'GB',
      price: PRICE.logsIngestedGb,
      pipeline: true,
    },
    {
      path: `alerts, ${ASSUME.alert.rate * 1000} per 1,000 events`,
      item: 'SQS alert queue: send, receives and batch deletes of 10',
      quantity: alerts * sqsPerMessage,
      unit: 'requests',
      per: 1_000_000,
      price: PRICE.sqsRequest,
      pipeline: true,
    },
    {
      path: `alerts, ${ASSUME.alert.rate * 1000} per 1,000 events`,
      item: `alert Lambda, batches of ${ASSUME.alert.batch}: invocations and ${ASSUME.alert.secondsPerBatch} s at ${ASSUME.alert.gb * 1024} MB each`,
      quantity: alertBatches,
      unit: 'invocations',
      per: 1_000_000,
      price: PRICE.lambdaRequest + ASSUME.alert.secondsPerBatch * ASSUME.alert.gb * PRICE.lambdaArmGbSecond,
      pipeline: true,
    },
    {
      path: `alerts, ${ASSUME.alert.rate * 1000} per 1,000 events`,
      item: 'alert claims: one conditional write each (under 1 KB)',
      quantity: alerts,
      unit: 'WRU',
      per: 1_000_000,
      price: PRICE.writeUnit,
      pipeline: true,
    },
    {
      path: `alerts, ${ASSUME.alert.rate * 1000} per 1,000 events`,
      item: 'SNS publish to the KMS-encrypted topic, one email delivery, one KMS data key each',
      quantity: alerts,
      unit: 'alerts',
      per: 1_000_000,
      price: PRICE.snsPublish + PRICE.snsEmail + PRICE.kmsSymmetricRequest,
      pipeline: true,
    },
    {
      path: 'feed watchdog',
      item: 'lookups of every event by staging key, keys only, eventually consistent (measured read units)',
      quantity: M * m.watchdogReadUnits,
      unit: 'RRU',
      per: 1_000_000,
      price: PRICE.readUnit,
      pipeline: true,
      eventsTable: true,
    },
    {
      path: 'feed watchdog',
      item: `watchdog Lambda every ${ASSUME.watchdog.everyMinutes} minutes, ${ASSUME.watchdog.secondsPerRun} s at ${ASSUME.watchdog.gb * 1024} MB`,
      quantity: watchdogRuns,
      unit: 'runs',
      per: 1_000_000,
      price: PRICE.lambdaRequest + ASSUME.watchdog.secondsPerRun * ASSUME.watchdog.gb * PRICE.lambdaArmGbSecond,
      pipeline: true,
    },
    {
      path: `stateful detector (${fmt(m.detectorMessages, 3)} messages per event, measured)`,
      item: 'SQS: a send per message, receives and batch deletes of 10',
      quantity: matched * sqsPerMessage,
      unit: 'requests',
      per: 1_000_000,
      price: PRICE.sqsRequest,
      pipeline: true,
    },
    {
      path: `stateful detector (${fmt(m.detectorMessages, 3)} messages per event, measured)`,
      item: `detector Lambda, batches of ${ASSUME.detector.batch}: invocations and ${ASSUME.detector.secondsPerBatch} s at ${ASSUME.detector.gb * 1024} MB each`,
      quantity: detectorBatches,
      unit: 'invocations',
      per: 1_000_000,
      price: PRICE.lambdaRequest + ASSUME.detector.secondsPerBatch * ASSUME.detector.gb * PRICE.lambdaArmGbSecond,
      pipeline: true,
    },
    {
      path: `stateful detector (${fmt(m.detectorMessages, 3)} messages per event, measured)`,
      item: 'its writes: one member per message and count (measured)',
      quantity: matched * m.detectorWriteUnitsPerMessage,
      unit: 'WRU',
      per: 1_000_000,
      price: PRICE.writeUnit,
      pipeline: true,
      detectorTable: true,
    },
    {
      path: `stateful detector (${fmt(m.detectorMessages, 3)} messages per event, measured)`,
      item: 'its reads: one query per message and count, strongly consistent (measured)',
      quantity: matched * m.detectorReadUnitsPerMessage,
      unit: 'RRU',
      per: 1_000_000,
      price: PRICE.readUnit,
      pipeline: true,
      detectorTable: true,
    },
  ];
};

const costOf = (line: CostLine) => line.quantity * line.price;
const sumCost = (lines: readonly CostLine[]) => lines.reduce((sum, line) => sum + costOf(line), 0);

/** `$0.625 per 1,000,000 WRU`. */
const priceLabel = (line: CostLine): string => {
  const per = line.per ?? 1;
  return `$${fmt(line.price * per, 10)} per ${per === 1 ? '' : `${fmt(per, 0)} `}${line.unit}`;
};

/** Provisioned capacity for the events and detector tables, with auto scaling holding them at this utilisation. */
const PROVISIONED = { writeUnitHour: 0.00065, readUnitHour: 0.00013, utilisation: TARGET_UTILISATION / 100 };

/**
 * Cuts not deployed, each computed from the estimate's lines: what it saves per million events, and the pipeline's
 * own cost with it. Provisioned capacity bills capacity-hours; a unit-hour at the target utilisation carries
 * 3,600 x utilisation requests.
 */
/** What a line's units would cost a million of on provisioned capacity, auto scaled to the target utilisation. */
const provisionedPrice = (line: CostLine) =>
  (line.unit === 'WRU' ? PROVISIONED.writeUnitHour : PROVISIONED.readUnitHour) / (3600 * PROVISIONED.utilisation);

/** What provisioned capacity saves on the lines billed by the events or detector table. */
const provisionedSaving = (lines: readonly CostLine[]) =>
  lines
    .filter((line) => line.eventsTable === true || line.detectorTable === true)
    .reduce((sum, line) => sum + line.quantity * (line.price - provisionedPrice(line)), 0);

const isDetectorLine = (line: CostLine) => line.path.startsWith('stateful detector');

const leversOf = (lines: readonly CostLine[], pipelineAdded: number) => {
  const provisioned = provisionedSaving(lines);
  const detector = sumCost(lines.filter(isDetectorLine));
  const detectorProvisioned = provisionedSaving(lines.filter(isDetectorLine));
  return [
    {
      lever: `tableCapacity provisioned: the events and detector tables auto scaled at ${PROVISIONED.utilisation * 100}% utilisation ($${PROVISIONED.writeUnitHour} per write unit-hour, $${PROVISIONED.readUnitHour} per read unit-hour), traffic steady enough to keep it there`,
      saves: provisioned,
    },
    { lever: 'the same, with no stateful rule deployed', saves: provisioned - detectorProvisioned + detector },
  ].map((lever) => ({ ...lever, pipelineAdded: pipelineAdded - lever.saves }));
};

/**
 * The stateful detector's cost per million detector-queue messages, on demand and provisioned: its share of an
 * org's cost follows how many events the stateful rules' pre-filters pass there, which the sample cannot stand for.
 */
const detectorPerMillionMessages = (lines: readonly CostLine[], messagesPerEvent: number) => {
  const detector = lines.filter(isDetectorLine);
  const onDemand = sumCost(detector) / messagesPerEvent;
  return { onDemand, provisioned: onDemand - provisionedSaving(detector) / messagesPerEvent };
};

const main = async (options: BenchOptions) => {
  const results: string[] = [];
  const sample = generateSample({ count: options.sampleEvents, seed: 1 });
  const raws = sample.deliveries.map((envelope) => JSON.stringify(envelope));
  const unique = sample.uniqueEvents.length;
  const now = Date.parse('2026-11-01T12:00:00Z');
  log(
    `${raws.length} deliveries of ${unique} events, mean ${fmt(raws.reduce((s, r) => s + r.length, 0) / raws.length, 0)} bytes`,
  );

  // 1. Ingest CPU against JSON.parse of the same events.
  const parseOnly = cpuMicros(() => {
    for (const raw of raws) JSON.parse(raw);
  });
  const ingestCpu = cpuMicros(() => {
    for (const raw of raws) {
      const parsed = parseEnvelope(raw, {}, now);
      if (parsed.ok)
        stagedEventItem(
          stageEvent(
            { uuid: parsed.event.id, published: parsed.event.published },
            parsed.body,
            SETTINGS,
            now,
            Number.NEGATIVE_INFINITY,
            parsed.content,
          ),
        );
    }
  });
  const details = raws.map((raw) => (JSON.parse(raw) as { detail: unknown }).detail);
  const canonicalCpu = cpuMicros(() => {
    for (const detail of details) contentHash(detail);
  });
  log(`CPU: JSON.parse ${fmt(parseOnly / raws.length)} µs/event, ingest ${fmt(ingestCpu / raws.length)} µs/event`);

  // 2. DynamoDB requests and capacity units, on dynalite: ingest in batches of the configured size through one warm
  // Lambda's store, the sequencer through its own, so what each side reads and writes is counted apart.
  const dynamo = await startCountingDynalite();
  await dynamo.table('events');
  const ingestSide = dynamo.countingClient();
  const sealSide = dynamo.countingClient();
  const store = new DynamoEventStore(sealSide.client, 'events');
  const ingestStore = new DynamoEventStore(ingestSide.client, 'events');
  const countingStore = countCalls(ingestStore);
  const archive = new CountingArchive(new ArchiveDirStore(await mkdtemp(join(tmpdir(), 'olp-bench-'))));
  let staged = 0;
  let stagedBytes = 0;
  let stagedWcu = 0;
  let previousBytes = 0;
  let previousWcu = 0;
  let late = 0;
  // Each batch is ingested as it arrives: the clock is the latest `published` so far plus a second of delivery delay.
  // The sequencer runs every minute of that clock, as deployed, so windows close and late arrivals are counted.
  let clock = Number.NEGATIVE_INFINITY;
  let nextRun = Number.NEGATIVE_INFINITY;
  let sequencerRuns = 0;
  const sealed: Array<{ kind: string }> = [];
  const stager = withStagingMemory(countingStore.store); // one warm ingest Lambda
  for (let i = 0; i < raws.length; i += BATCH_SIZE) {
    for (const envelope of sample.deliveries.slice(i, i + BATCH_SIZE)) {
      clock = Math.max(clock, Date.parse((envelope as { detail: { published: string } }).detail.published) + 1000);
    }
    const batchClock = clock;
    if (batchClock >= nextRun) {
      sealed.push(...(await runSequencer({ events: store, archive }, SETTINGS, batchClock)).sealed);
      sequencerRuns++;
      nextRun = batchClock + 60_000;
    }
    const close = await ingestStore.readClose();
    const deps = {
      events: stager,
      quarantine: archive,
      now: () => batchClock,
      newToken: randomUUID,
      closedBefore: async () => close,
      pin: {},
    };
    const outcomes = await Promise.all(
      raws.slice(i, i + BATCH_SIZE).map((raw, j) => ingestEnvelope(raw, { id: `m${i + j}` }, deps, SETTINGS)),
    );
    for (const outcome of outcomes) {
      if (outcome.kind !== 'staged') continue;
      staged++;
      if (outcome.event.late) late++;
      const item = stagedEventItem(outcome.event);
      stagedBytes += itemBytes(item);
      stagedWcu += writeUnitsOf(item);
      const previous = previousShapeItem(outcome.event);
      previousBytes += itemBytes(previous);
      previousWcu += writeUnitsOf(previous);
    }
  }
  const ingest = countingStore.counts();
  const ingestPuts = ingest.stage + ingest.announce + ingest.putLateMarker;
  for (const at of [now + 3_600_000, now + 3_600_000 + 90_000]) {
    sealed.push(...(await runSequencer({ events: store, archive }, SETTINGS, at)).sealed);
    sequencerRuns++;
  }
  const windows = sealed.filter((w) => w.kind === 'main').length;
  const supplements = sealed.filter((w) => w.kind === 'late').length;
  const ingestUsage = ingestSide.usage;
  const sealUsage = sealSide.usage;
  log(
    `DynamoDB: ${ingest.stage} staging puts, ${ingest.announce} announcements, ` +
      `${ingest.putLateMarker} markers for ${unique} unique events, ${fmt(ingestUsage.writeUnits / unique)} write ` +
      `units each; ${sequencerRuns} sequencer runs, ${fmt(sealUsage.readUnits / unique, 3)} read units per event`,
  );

  // 3. Late events at scale: 20,000 events of 3,000 windows sealed long ago (a backfill of old days); a smaller set
  // keeps the same events per window.
  const lateWindows = Math.max(1, Math.min(3_000, Math.round((options.lateEvents * 3) / 20)));
  const lateScale = await lateEventsAtScale(options.lateEvents, lateWindows);
  log(`late at scale: ${lateScale.runs} runs, ${lateScale.requests} DynamoDB requests, ${lateScale.s3} S3 requests`);

  // 4. dynalite's own conditional-put rate, and the local pipeline end to end on 100,000 sample events.
  await dynamo.table('raw');
  const items = Array.from({ length: Math.min(20_000, options.localEvents) }, (_, i) => ({
    pk: { S: `k${i % 1000}` },
    sk: { S: `s${i}` },
    body: { S: raws[i % raws.length] ?? '' },
  }));
  const putStart = performance.now();
  for (let i = 0; i < items.length; i += 16) {
    await Promise.all(
      items.slice(i, i + 16).map((Item) =>
        dynamo.client
          .send(new PutItemCommand({ TableName: 'raw', Item, ConditionExpression: 'attribute_not_exists(pk)' }))
          .catch((error) => {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }),
      ),
    );
  }
  const dynalitePutsPerSecond = items.length / ((performance.now() - putStart) / 1000);
  await dynamo.stop();
  log(`dynalite: ${fmt(dynalitePutsPerSecond, 0)} conditional puts/s`);

  // The sample as a file, run by `olp local` in its own process: in-process (the default), then on the stand-ins.
  const big = generateSample({ count: options.localEvents, seed: 3 });
  const sampleDir = await mkdtemp(join(tmpdir(), 'olp-bench-sample-'));
  const sampleFile = join(sampleDir, 'sample.jsonl');
  await writeFile(
    sampleFile,
    (function* () {
      for (const delivery of big.deliveries) yield `${JSON.stringify(delivery)}\n`;
    })(),
  );
  const huntDir = await mkdtemp(join(tmpdir(), 'olp-bench-hunt-'));
  const e2e = await localCli(sampleFile, [], huntDir);
  const e2eSeconds = e2e.seconds;
  const peakRss = e2e.peakRssMb * 1e6;
  const e2eRate = big.deliveries.length / e2eSeconds;
  log(`local end to end: ${fmt(e2eRate, 0)} deliveries/s, peak ${fmt(e2e.peakRssMb, 0)} MB`);
  const standIns = await localCli(sampleFile, ['--stand-ins']);
  const standInsRate = big.deliveries.length / standIns.seconds;
  await rm(sampleDir, { recursive: true, force: true });
  log(`local end to end on the stand-ins: ${fmt(standInsRate, 0)} deliveries/s, peak ${fmt(standIns.peakRssMb, 0)} MB`);
  const sameCounts = ['read', 'staged', 'duplicates', 'quarantined', 'archived', 'alerts'].every(
    (key) => e2e[key as keyof typeof e2e] === standIns[key as keyof typeof standIns],
  );
  // olp hunt over the archive the in-process run wrote, against reading that archive alone.
  const hunt = await huntAtScale(huntDir);
  await rm(huntDir, { recursive: true, force: true });
  log(
    `hunt: ${fmt(hunt.singleEventsPerWallSecond, 0)} events/s (single-event rules; ${fmt(hunt.singleEventsPerSecond, 0)} per CPU second), read alone ${fmt(hunt.readEventsPerSecond, 0)}/s`,
  );
  // The detector's DynamoDB requests for the deliveries of the sample, on dynalite.
  const detector = await (async () => {
    const counted = await startCountingDynalite();
    await counted.table('detector');
    const deliveries = big.deliveries.slice(0, Math.min(20_000, big.deliveries.length)) as Record<string, unknown>[];
    const figures = await detectorRequests(deliveries, counted.client, counted.usage, 'detector');
    await counted.stop();
    return figures;
  })();
  log(
    `detector: ${fmt(detector.messagesPerEvent, 3)} messages per delivery, ${fmt(detector.putsPerMessage, 2)} puts and ${fmt(detector.queriesPerMessage, 2)} queries each`,
  );
  const wide = await yearsWideRuns(options.yearsEvents);
  const watchdog = await watchdogAtScale(options.watchdogEvents);
  log(`watchdog: ${watchdog.checked} checked in ${fmt(watchdog.seconds, 1)} s, ${watchdog.backfilled} refilled`);
  log(`years-wide: ${fmt(wide.years.seconds, 1)} s, one hour: ${fmt(wide.hour.seconds, 1)} s`);

  // 5. Cost per million unique events at public list prices (us-east-1, on-demand, November 2026).
  const detectorMessagesPerEvent = detector.messagesPerEvent * (raws.length / unique);
  const detectorRequestsPerDelivery =
    detector.messagesPerEvent * (detector.putsPerMessage + detector.queriesPerMessage);
  const cost = costPerMillion({
    deliveriesPerEvent: raws.length / unique,
    ingestWriteUnits: ingestUsage.writeUnits / unique,
    ingestReadUnits: ingestUsage.readUnits / unique,
    sealReadUnits: sealUsage.readUnits / unique,
    sealWriteUnits: sealUsage.writeUnits / unique,
    stagedItemBytes: stagedBytes / staged,
    sequencerRuns: sequencerRuns / unique,
    s3Puts: archive.puts / unique,
    s3Gets: archive.gets / unique,
    digestRecords: archive.digestPuts / unique,
    minutes: windows / unique,
    watchdogReadUnits: watchdog.rruPerEvent,
    dedupeRetentionDays: SETTINGS.dedupeRetentionDays,
    detectorMessages: detectorMessagesPerEvent,
    detectorWriteUnitsPerMessage: detector.writeUnitsPerMessage,
    detectorReadUnitsPerMessage: detector.readUnitsPerMessage,
  });
  const total = sumCost(cost);
  const pipelineAdded = sumCost(cost.filter((line) => line.pipeline));
  const detectorCost = sumCost(cost.filter(isDetectorLine));
  const detectorPerMessage = detectorPerMillionMessages(cost, detectorMessagesPerEvent);
  const eventBridge = total - pipelineAdded;
  const levers = leversOf(cost, pipelineAdded);
  const windowsPerMillion = (windows / unique) * 1_000_000;
  log(`cost per million events: $${fmt(total)}, of which the pipeline's own $${fmt(pipelineAdded)}`);

  const figures = {
    sampleEvents: unique,
    deliveries: raws.length,
    /** Every DynamoDB write unit ingest spends, per unique event (measured on dynalite, sized as DynamoDB bills). */
    wruPerUniqueEvent: ingestUsage.writeUnits / unique,
    /** Reference: the staged items alone in the item shape before compression, same events, same run. */
    wruPerUniqueEventPreviousShape: previousWcu / staged,
    stagedItemWruPerUniqueEvent: stagedWcu / staged,
    stagedItemBytes: stagedBytes / staged,
    stagedItemBytesPreviousShape: previousBytes / staged,
    putsPerUniqueEvent: ingest.stage / unique,
    rruPerUniqueEventAtSeal: sealUsage.readUnits / unique,
    wruPerUniqueEventAtSeal: sealUsage.writeUnits / unique,
    ingestCpuRatio: ingestCpu / parseOnly,
    ingestCpuMicrosPerDelivery: ingestCpu / raws.length,
    costPerMillionUsd: total,
    pipelineAddedCostPerMillionUsd: pipelineAdded,
    eventBridgeCostPerMillionUsd: eventBridge,
    detectorCostPerMillionUsd: detectorCost,
    /** The detector's cost per million detector-queue messages, on demand and with tableCapacity provisioned. */
    detectorCostPerMillionMessagesUsd: detectorPerMessage,
    localDeliveriesPerSecond: e2eRate,
    localPeakRssMb: peakRss / 1e6,
    localStandInsDeliveriesPerSecond: standInsRate,
    dynalitePutsPerSecond,
    watchdogEventsPerSecond: watchdog.checked / watchdog.seconds,
    /** olp hunt, single-event rules, events per second (wall clock) over the archive of the local run. */
    huntEventsPerSecond: hunt.singleEventsPerWallSecond,
    huntEventsPerCpuSecond: hunt.singleEventsPerSecond,
    huntAllRulesEventsPerSecond: hunt.allRulesEventsPerSecond,
    huntReadEventsPerSecond: hunt.readEventsPerSecond,
    detectorMessagesPerDelivery: detector.messagesPerEvent,
    detectorPutsPerMessage: detector.putsPerMessage,
    detectorQueriesPerMessage: detector.queriesPerMessage,
    detectorRequestsPerDelivery,
    levers,
    cost: cost.map((line) => ({
      path: line.path,
      item: line.item,
      quantity: line.quantity,
      unit: line.unit,
      usd: costOf(line),
      pipeline: line.pipeline,
    })),
  };
  if (options.json) {
    // One line: `npm run bench -- --json | tail -n 1` takes it from under npm's own banner.
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  results.push(
    '# Benchmarks',
    '',
    `Measured by \`npm run bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} x ${cpu}.`,
    'Figures come from this machine and the local stand-ins; rerun the command to refresh them.',
    '',
    `Event set: the built-in sample stream, ${fmt(unique, 0)} unique events delivered ${fmt(raws.length, 0)} times`,
    `(duplicates and out-of-order arrival as Okta delivers), mean envelope ${fmt(raws.reduce((s, r) => s + r.length, 0) / raws.length, 0)} bytes.`,
    '',
    '## Ingest CPU',
    '',
    '| work per event | CPU µs | ratio to JSON.parse |',
    '|---|---|---|',
    `| \`JSON.parse\` of the SQS body | ${fmt(parseOnly / raws.length)} | 1.00 |`,
    `| ingest: parse, validate the envelope and the event's core fields, cut out and hash the event, build the DynamoDB item | ${fmt(ingestCpu / raws.length)} | ${fmt(ingestCpu / parseOnly)} |`,
    `| of which the content hash over the event's canonical JSON (key order, spacing and escapes do not count) | ${fmt(canonicalCpu / raws.length)} | ${fmt(canonicalCpu / parseOnly)} |`,
    '',
    'Median of 7 rounds over all deliveries, user + system CPU. The SDK call itself (request signing, HTTP) is not',
    'included; the end-to-end figure below includes everything.',
    '',
    '## DynamoDB',
    '',
    '| figure | value |',
    '|---|---|',
    `| staging PutItem requests per unique event | ${(ingest.stage / unique).toFixed(3)} |`,
    `| bucket announcements per unique event (one per minute of events and ingest Lambda) | ${(ingest.announce / unique).toFixed(4)} |`,
    `| late markers per unique event (late events only) | ${(ingest.putLateMarker / unique).toFixed(4)} |`,
    `| all ingest write requests per unique event | ${(ingestPuts / unique).toFixed(3)} |`,
    `| all ingest write requests per delivery | ${(ingestPuts / raws.length).toFixed(3)} |`,
    `| mean staged item size, as DynamoDB sizes it | ${fmt(stagedBytes / staged, 0)} bytes (the item shape before: ${fmt(previousBytes / staged, 0)} bytes) |`,
    `| write units per staged item | ${(stagedWcu / staged).toFixed(3)} (the item shape before: ${(previousWcu / staged).toFixed(3)}) |`,
    `| **write units per unique event, every ingest write** (staged items, rejected duplicates, announcements, markers; measured) | **${fmt(ingestUsage.writeUnits / unique, 3)}** |`,
    `| read units per unique event at sealing (the windows' partitions, late events, markers, state; measured) | ${fmt(sealUsage.readUnits / unique, 3)} |`,
    `| write units per unique event at sealing (state, announcements removed, flags, markers removed; measured) | ${fmt(sealUsage.writeUnits / unique, 3)} |`,
    `| late events in this run | ${late} |`,
    `| sequencer runs (one per minute of event time) / windows sealed / late supplements | ${sequencerRuns} / ${windows} / ${supplements} |`,
    `| sequencer Query requests per sealed window (${SETTINGS.windowShards} shards; each run also lists pending buckets and ${16} marker partitions) | ${fmt(sealUsage.count('Query') / Math.max(windows, 1), 1)} |`,
    '',
    'Capacity units are what dynalite reports for each request (ReturnConsumedCapacity), which sizes items as',
    'DynamoDB bills them: a write unit per KB of item or part of one, a read unit per 4 KB of what a strongly',
    'consistent read returns. A write whose condition fails is charged as if it wrote, and every read request',
    'at least one unit; dynalite reports neither, so the bench adds them. The staged text is stored compressed',
    '(lambdas/shared/staged-body.ts), so an event of about 1.8 KB fits one write unit.',
    '',
    `Batches of ${BATCH_SIZE} (the default ingestBatchSize) through one ingest process, as on one warm Lambda: it`,
    'remembers the events it staged, so a duplicate costs a write only when its copies reach different Lambdas',
    '(or the memory of 10,000 events has moved on); then the conditional put rejects it.',
    '',
    '## Lambda and S3',
    '',
    '| figure | value |',
    '|---|---|',
    `| ingest invocations per 1,000 events, full batches of ${BATCH_SIZE} | ${fmt(1000 / BATCH_SIZE, 0)} |`,
    '| ingest invocations per 1,000 events at 1 event/s (one per 10 s batching window) | 100 |',
    `| S3 requests per sealed window (part, manifest, digest record) | ${fmt(archive.puts / Math.max(windows, 1), 2)} PUT, ${fmt(archive.gets / Math.max(windows, 1), 2)} GET |`,
    `| windows sealed for this event set | ${windows} |`,
    '',
    '## Late events at scale',
    '',
    `${fmt(lateScale.late, 0)} late events over ${fmt(lateWindows, 0)} one-minute windows sealed long ago (a backfill of old days), staged`,
    'through ingest on dynalite, then drained by sequencer runs one minute apart with the deployed bounds',
    `(at most ${fmt(SETTINGS.maxLateMarkersPerRun, 0)} markers read per run, at most one supplement per window per run).`,
    '',
    '| figure | value |',
    '|---|---|',
    `| sequencer runs to drain | ${lateScale.runs} |`,
    `| late supplements written | ${fmt(lateScale.supplements, 0)} (at most ${lateScale.maxSupplementsPerWindowPerRun} per window per run) |`,
    `| DynamoDB requests while draining | ${fmt(lateScale.requests, 0)}: ${lateScale.byCommand} |`,
    `| S3 requests while draining | ${fmt(lateScale.s3, 0)} (${lateScale.s3Detail}) |`,
    `| wall time on dynalite | ${fmt(lateScale.seconds, 1)} s |`,
    '',
    '## The feed watchdog',
    '',
    `The watchdog's check of ${fmt(watchdog.checked, 0)} System Log events, one in ten never delivered by the stream, read from`,
    'the fake Okta server in pages of 1,000 and looked up in the events table on dynalite, in one run.',
    '',
    '| figure | value |',
    '|---|---|',
    `| events checked per second | ${fmt(watchdog.checked / watchdog.seconds, 0)} (${fmt(watchdog.seconds, 1)} s) |`,
    `| dynalite alone, the same BatchGetItem lookups (reference) | ${fmt(watchdog.checked / watchdog.refSeconds, 0)} events/s (${fmt(watchdog.refSeconds, 1)} s) |`,
    `| ratio | ${fmt(watchdog.refSeconds / watchdog.seconds)} |`,
    `| watchdog CPU per 1,000 events checked | ${fmt(watchdog.cpuMsPer1000, 1)} ms (this process, fake Okta and dynalite included) |`,
    `| System Log API calls per 1,000 events | ${fmt((watchdog.oktaCalls / watchdog.checked) * 1000, 2)} |`,
    `| BatchGetItem requests per 1,000 events | ${fmt((watchdog.batchGets / watchdog.checked) * 1000, 1)} |`,
    `| read units per event checked (keys only, eventually consistent; measured) | ${fmt(watchdog.rruPerEvent, 3)} |`,
    `| events refilled / SQS SendMessageBatch requests for them | ${fmt(watchdog.backfilled, 0)} / ${fmt(watchdog.sqsBatches, 0)} |`,
    `| added cost per million events checked (read units at $0.125 per million; refills cost as delivered events) | $${fmt(watchdog.rruPerEvent * 0.125, 4)} |`,
    '',
    '## Alert rules at scale',
    '',
    '| figure | value |',
    '|---|---|',
    `| \`olp hunt\` over the archive of the run below (${fmt(hunt.events, 0)} events), ${hunt.singleEventRules} single-event rules | ${fmt(hunt.singleEventsPerWallSecond, 0)} events per second (${fmt(hunt.singleEventsPerSecond, 0)} per CPU second) |`,
    `| the same with every rule of the pack (${hunt.statefulRules} stateful rules too) | ${fmt(hunt.allRulesEventsPerSecond, 0)} events per CPU second |`,
    `| reading the same archive alone (list, gunzip, parse, order; reference) | ${fmt(hunt.readEventsPerSecond, 0)} events per CPU second |`,
    `| detector-queue messages per delivery (the stateful rules' pre-filters; ${fmt(detector.events, 0)} deliveries of the sample) | ${fmt(detector.messagesPerEvent, 3)} |`,
    `| detector requests per message: PutItem / Query (dynalite) | ${fmt(detector.putsPerMessage, 2)} / ${fmt(detector.queriesPerMessage, 2)} |`,
    `| detector requests per event: DynamoDB requests per delivery of the sample (messages x requests each) | ${fmt(detectorRequestsPerDelivery, 3)} |`,
    `| detector capacity per message: write / read units | ${fmt(detector.writeUnitsPerMessage, 2)} / ${fmt(detector.readUnitsPerMessage, 2)} |`,
    `| detections sent to the alert queue (each claimed once there) | ${fmt(detector.detections, 0)} |`,
    '',
    'Per second of wall-clock time, and per CPU second of this process (parts are gunzipped on other threads while',
    'events are matched, so the two differ). A detection is sent again by every event of its window past the count;',
    'the alert claim publishes it once.',
    '',
    '## Local end to end',
    '',
    '| figure | value |',
    '|---|---|',
    `| \`olp local --events <file>\`, ${fmt(big.deliveries.length, 0)} deliveries of ${fmt(big.uniqueEvents.length, 0)} sample events, in-process store (the default) | ${fmt(e2eRate, 0)} deliveries/s (${fmt(e2eSeconds, 1)} s, start-up included) |`,
    `| its peak resident memory | ${fmt(e2e.peakRssMb, 0)} MB |`,
    `| the same file with \`--stand-ins\` (dynalite and fauxqs; reference) | ${fmt(standInsRate, 0)} deliveries/s (${fmt(standIns.seconds, 1)} s), peak ${fmt(standIns.peakRssMb, 0)} MB |`,
    `| dynalite alone, conditional PutItem, 16 in flight (reference) | ${fmt(dynalitePutsPerSecond, 0)} puts/s |`,
    `| in-process store against the stand-ins / against dynalite's put rate | ${fmt(e2eRate / standInsRate, 1)}x / ${fmt(e2eRate / dynalitePutsPerSecond, 1)}x |`,
    `| summary: read / staged / duplicates / quarantined / archived / alerts | ${e2e.read} / ${e2e.staged} / ${e2e.duplicates} / ${e2e.quarantined} / ${e2e.archived} / ${e2e.alerts} (the stand-ins: ${sameCounts ? 'the same' : `${standIns.read} / ${standIns.staged} / ${standIns.duplicates} / ${standIns.quarantined} / ${standIns.archived} / ${standIns.alerts}`}) |`,
    `| ${fmt(wide.count, 0)} events published from 2020 to 2026 (a few a week), each twice, shuffled | ${fmt(wide.years.seconds, 1)} s, ${fmt(wide.years.archived, 0)} archived in ${fmt(wide.years.windows, 0)} parts |`,
    `| the same events published within one hour, each twice, shuffled (reference) | ${fmt(wide.hour.seconds, 1)} s, ${fmt(wide.hour.archived, 0)} archived in ${fmt(wide.hour.windows, 0)} parts |`,
    '',
    'The years-wide run seals one window per event against one per minute for the hour; the empty years',
    'between them cost nothing.',
    '',
    'By default the tables, queues and alert topic are in the process, behind the ports the Lambdas use, and an',
    "archived event's body is dropped (its key stays, as the dedupe record): what remains per delivery is the Lambdas'",
    'own work (ingest validation and hashing, the pattern engine, alert formatting, sealing). With `--stand-ins` (and',
    'with `--data-dir`) each delivery crosses fauxqs SQS and a conditional put on dynalite through the AWS SDK;',
    'dynalite keeps every staged event in memory.',
    '',
    '## Estimated AWS cost per million unique events',
    '',
    'Quantities per million unique events from the counts above (the sample delivers each event',
    `${fmt(raws.length / unique, 3)} times), at public on-demand list prices for us-east-1; free tiers ignored.`,
    'Per-minute work (sealing, the watchdog) is spread over the events of a minute',
    `at this sample's rate: ${fmt(unique / Math.max(windows, 1), 0)} events a minute, ${fmt(windowsPerMillion, 0)} minutes per million events.`,
    '',
    '| path | item | quantity | list price | cost (USD) |',
    '|---|---|---|---|---|',
    ...cost.map(
      (line) =>
        `| ${line.path} | ${line.item} | ${fmt(line.quantity, 2)} ${line.unit} | ${priceLabel(line)} | ${fmt(costOf(line), 4)} |`,
    ),
    `| **total** | | | | **${fmt(total, 2)}** |`,
    `| EventBridge partner ingestion (reference: any consumer of the stream pays it) | | | | ${fmt(eventBridge, 2)} |`,
    `| **added by the pipeline** | | | | **${fmt(pipelineAdded, 2)}** |`,
    `| of which the stateful detector | | | | ${fmt(detectorCost, 2)} |`,
    '',
    'Two lines are the floor of this design on on-demand capacity: the SQS requests of every delivery through the',
    `ingest queue and the one conditional write of every event ($${fmt(sumCost(cost.filter((line) => line.path === 'ingest' && (line.unit === 'WRU' || line.item.startsWith('SQS')))), 2)} together). What the tables' capacity does to it (\`tableCapacity\`, README "Configuration"):`,
    '',
    "| configuration | saves (USD per million events) | the pipeline's own cost then |",
    '|---|---|---|',
    ...levers.map((lever) => `| ${lever.lever} | ${fmt(lever.saves, 3)} | ${fmt(lever.pipelineAdded, 2)} |`),
    '',
    `The stateful detector costs $${fmt(detectorPerMessage.onDemand, 2)} per million detector-queue messages on demand, $${fmt(detectorPerMessage.provisioned, 2)}`,
    `provisioned; its share follows how many events the stateful rules' pre-filters pass (failed and successful sign-ins,`,
    `Okta Verify pushes), a failed sign-in once for each of the three rules that count it. The sample, built to set the`,
    `rules off, passes ${fmt(detectorMessagesPerEvent, 2)} messages per event; multiply by your org's rate to price your own.`,
    '',
    'Assumptions, beyond the measured counts: Lambda durations as stated on each line (the stand-ins answer',
    "in well under a millisecond, so this machine cannot measure them; memory sizes are the stack's); SQS receives",
    'and deletes 10 messages a request; an alert for 1 event in 1,000, mailed to one address; the stateful',
    "detector's messages and capacity measured on the sample's deliveries (Alert rules at scale), its Lambda at batch 10;",
    "about 1 KB of logs per invocation. Not counted: fixed monthly costs (KMS keys, the pollers' empty receives,",
    'alarms, custom metrics), S3 storage of the archive, data transfer.',
    '',
  );
  const path = new URL('../docs/benchmarks.md', import.meta.url);
  await writeFile(path, results.join('\n'));
  process.stdout.write(results.join('\n'));
};

const parsed = (() => {
  try {
    return benchOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`bench: ${error.message} (see --help)\n`);
    process.exit(2);
  }
})();
if (parsed.help) process.stdout.write(`${USAGE}\n`);
else await main(parsed);
