/**
 * `npm run bench`: speed, request counts and cost of the pipeline, measured on this machine and written to
 * docs/benchmarks.md. A benchmark, not a test: nothing here asserts a timing.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ingestEnvelope, parseEnvelope } from '../lambdas/ingest/ingest-envelope.ts';
import { withStagingMemory } from '../lambdas/ingest/staging-memory.ts';
import { runSequencer, type SequencerSettings } from '../lambdas/sequencer/run-sequencer.ts';
import { DynamoEventStore, stagedEventItem } from '../lambdas/shared/dynamo-event-store.ts';
import type { ArchiveStore } from '../lambdas/shared/ports.ts';
import { batchesOf } from '../lambdas/shared/sqs-queue-sender.ts';
import { contentHash, stagedKeyOf, stageEvent } from '../lambdas/shared/staged-event.ts';
import { oktaFeed } from '../lambdas/watchdog/okta-feed.ts';
import { runWatchdog, type WatchdogSettings } from '../lambdas/watchdog/run-watchdog.ts';
import type { WatchdogState } from '../lambdas/watchdog/watchdog-state.ts';
import { ArchiveDirStore } from '../lib/local/archive-dir-store.ts';
import { LocalPipeline } from '../lib/local/local-pipeline.ts';
import { generateSample } from '../lib/local/sample-stream.ts';
import { createKeyTable, standInClientConfig, startDynalite } from '../lib/local/stand-ins.ts';
import { OktaClient } from '../lib/okta/okta-client.ts';
import { loadRules } from '../lib/rules/index.ts';
import { FAKE_OKTA_TOKEN, startFakeOkta } from '../test/support/fake-okta.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
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

/** DynamoDB's item size: attribute names plus values (strings as UTF-8, numbers about one byte per two digits). */
const itemBytes = (item: Record<string, { S?: string; N?: string; BOOL?: boolean }>): number =>
  Object.entries(item).reduce((sum, [name, value]) => {
    const size =
      value.S !== undefined
        ? Buffer.byteLength(value.S)
        : value.N !== undefined
          ? Math.ceil(value.N.replace(/^-/, '').length / 2) + 1
          : 1;
    return sum + Buffer.byteLength(name) + size;
  }, 0);

/** dynalite with a client that counts requests by command. */
const startCountingDynalite = async () => {
  const server = await startDynalite();
  const client = new DynamoDBClient(standInClientConfig(server.endpoint));
  const requests = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests.set(context.commandName ?? '?', (requests.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return {
    client,
    requests,
    table: (name: string) => createKeyTable(client, name, { sortKey: true }),
    stop: async () => {
      client.destroy();
      await server.stop();
    },
  };
};

/** Counts archive requests (S3 PUT and GET) per kind of object. */
class CountingArchive implements ArchiveStore {
  puts = 0;
  gets = 0;
  constructor(private readonly inner: ArchiveStore) {}
  put(key: string, body: Uint8Array | string, contentType: string) {
    this.puts++;
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
  dynamo.requests.clear();
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
  const requests = [...dynamo.requests.values()].reduce((sum, n) => sum + n, 0);
  const byCommand = [...dynamo.requests].map(([name, n]) => `${n} ${name.replace('Command', '')}`).join(', ');
  await dynamo.stop();
  return {
    late,
    runs,
    supplements,
    maxSupplementsPerWindowPerRun,
    requests,
    byCommand,
    s3: archive.puts + archive.gets,
    s3Detail: `${archive.puts} PUT, ${archive.gets} GET`,
    seconds,
  };
};

/**
 * `olp local`'s pipeline over these envelopes in chunks of 1,000, as the command feeds it: seconds, its counts, and the
 * resident memory before and after.
 */
const localRun = async (deliveries: readonly object[], onChunk?: (done: number) => void) => {
  const archiveDir = await mkdtemp(join(tmpdir(), 'olp-bench-run-'));
  const pipeline = await LocalPipeline.start({
    archiveDir,
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
  let stagedBytes = 0;
  const delivered = events.filter((_, i) => i % 10 !== 0);
  for (let i = 0; i < delivered.length; i += 64) {
    await Promise.all(
      delivered.slice(i, i + 64).map((event) => {
        const body = JSON.stringify(event);
        const staged = stageEvent(event, body, settings.staging, start, Number.NEGATIVE_INFINITY, event);
        stagedBytes += itemBytes(stagedEventItem(staged));
        return store.stage(staged);
      }),
    );
  }
  const okta = await startFakeOkta({ events, now: Date.now });
  const client = new OktaClient({ orgUrl: okta.url, credentials: { kind: 'ssws', token: FAKE_OKTA_TOKEN } });
  const sends = { ingest: 0, ingestMessages: 0, alert: 0 };
  const counting = (kind: 'ingest' | 'alert') => ({
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
    claims: { claim: async () => true, release: async () => {} },
    publisher: { publish: async () => {} },
    rules: [],
    now: Date.now,
    remainingMs: () => Number.POSITIVE_INFINITY,
  };
  // A first run places the cursor; moved back before the events, as a watchdog running all along would have it.
  await runWatchdog(deps, settings);
  if (stored !== undefined) stored = { ...stored, state: { ...stored.state, checkedBefore: start } };
  dynamo.requests.clear();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const report = await runWatchdog(deps, settings);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const batchGets = dynamo.requests.get('BatchGetItemCommand') ?? 0;
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
    rruPerEvent: Math.ceil(stagedBytes / delivered.length / 4096),
  };
};

const main = async () => {
  const results: string[] = [];
  const sample = generateSample({ count: Number(process.env.BENCH_EVENTS ?? 20_000), seed: 1 });
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

  // 2. DynamoDB requests and write units on the ingest path, batches of the configured size, on dynalite.
  const dynamo = await startCountingDynalite();
  await dynamo.table('events');
  const store = new DynamoEventStore(dynamo.client, 'events');
  const countingStore = countCalls(store);
  const archive = new CountingArchive(new ArchiveDirStore(await mkdtemp(join(tmpdir(), 'olp-bench-'))));
  let staged = 0;
  let stagedBytes = 0;
  let stagedWcu = 0;
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
    const close = await store.readClose();
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
      const bytes = itemBytes(stagedEventItem(outcome.event));
      stagedBytes += bytes;
      stagedWcu += Math.ceil(bytes / 1024);
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
  log(
    `DynamoDB (${fmt(performance.now() / 1000, 1)} s): ${ingest.stage} staging puts, ${ingest.announce} announcements, ` +
      `${ingest.putLateMarker} markers for ${unique} unique events; ${sequencerRuns} sequencer runs`,
  );

  // 3. Late events at scale: 20,000 events of 3,000 windows sealed long ago (a backfill of old days).
  const lateScale = await lateEventsAtScale(Number(process.env.BENCH_LATE_EVENTS ?? 20_000), 3_000);
  log(`late at scale: ${lateScale.runs} runs, ${lateScale.requests} DynamoDB requests, ${lateScale.s3} S3 requests`);

  // 4. dynalite's own conditional-put rate, and the local pipeline end to end on 100,000 sample events.
  await dynamo.table('raw');
  const items = Array.from({ length: 20_000 }, (_, i) => ({
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

  const big = generateSample({ count: Number(process.env.BENCH_LOCAL_EVENTS ?? 100_000), seed: 3 });
  const e2e = await localRun(big.deliveries, (done) => {
    if (done % 20_000 < 1000) log(`local: ${done} of ${big.deliveries.length}`);
  });
  const { counts } = e2e;
  const e2eSeconds = e2e.seconds;
  const memoryBefore = e2e.rssBefore;
  const peakRss = e2e.rssAfter;
  const e2eRate = big.deliveries.length / e2eSeconds;
  log(`local end to end: ${fmt(e2eRate, 0)} deliveries/s`);
  const wide = await yearsWideRuns(Number(process.env.BENCH_YEARS_EVENTS ?? 1_000));
  const watchdog = await watchdogAtScale(Number(process.env.BENCH_WATCHDOG_EVENTS ?? 50_000));
  log(`watchdog: ${watchdog.checked} checked in ${fmt(watchdog.seconds, 1)} s, ${watchdog.backfilled} refilled`);
  log(`years-wide: ${fmt(wide.years.seconds, 1)} s, one hour: ${fmt(wide.hour.seconds, 1)} s`);

  // 5. Cost per million unique events at public list prices (us-east-1, on-demand, November 2026).
  const perMillion = 1_000_000 / unique;
  const deliveriesPerEvent = raws.length / unique;
  const invocationsPerMillion = (1_000_000 * deliveriesPerEvent) / BATCH_SIZE;
  const lambdaGbSeconds = invocationsPerMillion * 0.5 * 0.5; // 512 MB, 0.5 s per batch of 100 (an assumption, see below)
  const itemWcu = Math.ceil(stagedBytes / staged / 1024);
  // Staged items, rejected duplicates (a failed conditional put costs the item's size), small announcement and
  // marker items, and the sequencer's flag on each late event once archived (an update costs the item's size).
  const wcuPerMillion =
    (stagedWcu +
      (ingest.stage - staged) * itemWcu +
      ingest.announce +
      ingest.putLateMarker +
      (dynamo.requests.get('UpdateItemCommand') ?? 0) * itemWcu) *
    perMillion;
  const rcuPerMillion = (stagedBytes / 4096) * perMillion; // the sequencer reads each staged item once, consistently
  const storageGbMonth = ((stagedBytes / staged) * 1_000_000 * (SETTINGS.dedupeRetentionDays / 30)) / 1e9;
  const windowsPerMillion = (windows / unique) * 1_000_000;
  const s3Puts = (archive.puts / Math.max(windows, 1)) * windowsPerMillion;
  // [item, quantity, list price in USD, for how many units, unit]
  const cost: ReadonlyArray<readonly [string, number, number, number, string]> = [
    ['EventBridge partner events ingested', 1_000_000 * deliveriesPerEvent, 1.0, 1e6, 'events'],
    [
      'SQS requests (send, receive, delete)',
      1_000_000 * deliveriesPerEvent + 2 * invocationsPerMillion,
      0.4,
      1e6,
      'requests',
    ],
    ['Lambda requests', invocationsPerMillion, 0.2, 1e6, 'requests'],
    ['Lambda duration (Arm)', lambdaGbSeconds, 0.0000133334, 1, 'GB-s'],
    ['DynamoDB write request units', wcuPerMillion, 0.625, 1e6, 'WRU'],
    ['DynamoDB read request units (sequencer)', rcuPerMillion, 0.125, 1e6, 'RRU'],
    ['DynamoDB storage (dedupe retention)', storageGbMonth, 0.25, 1, 'GB-month'],
    ['S3 PUT requests (parts, manifests)', s3Puts, 0.005, 1000, 'requests'],
  ];
  const costOf = (quantity: number, price: number, per: number) => (quantity / per) * price;
  const total = cost.reduce((sum, [, quantity, price, per]) => sum + costOf(quantity, price, per), 0);

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
    `| mean staged item size | ${fmt(stagedBytes / staged, 0)} bytes |`,
    `| write units per unique event (staged items only) | ${fmt(stagedWcu / staged, 2)} |`,
    `| late events in this run | ${late} |`,
    `| sequencer runs (one per minute of event time) / windows sealed / late supplements | ${sequencerRuns} / ${windows} / ${supplements} |`,
    `| sequencer Query requests per sealed window (${SETTINGS.windowShards} shards; each run also lists pending buckets and ${16} marker partitions) | ${fmt((dynamo.requests.get('QueryCommand') ?? 0) / Math.max(windows, 1), 1)} |`,
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
    `| S3 requests per sealed window (part + manifest) | ${fmt(archive.puts / Math.max(windows, 1), 2)} PUT, ${fmt(archive.gets / Math.max(windows, 1), 2)} GET |`,
    `| windows sealed for this event set | ${windows} |`,
    '',
    '## Late events at scale',
    '',
    `${fmt(lateScale.late, 0)} late events over 3,000 one-minute windows sealed long ago (a backfill of old days), staged`,
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
    `| read units per event checked (strongly consistent, ${watchdog.rruPerEvent} per item of this size) | ${watchdog.rruPerEvent} |`,
    `| events refilled / SQS SendMessageBatch requests for them | ${fmt(watchdog.backfilled, 0)} / ${fmt(watchdog.sqsBatches, 0)} |`,
    `| added cost per million events checked (read units at $0.125 per million; refills cost as delivered events) | $${fmt(watchdog.rruPerEvent * 0.125, 3)} |`,
    '',
    '## Local end to end',
    '',
    '| figure | value |',
    '|---|---|',
    `| \`olp local\` pipeline, ${fmt(big.deliveries.length, 0)} deliveries of ${fmt(big.uniqueEvents.length, 0)} sample events | ${fmt(e2eRate, 0)} deliveries/s (${fmt(e2eSeconds, 1)} s) |`,
    `| dynalite alone, conditional PutItem, 16 in flight | ${fmt(dynalitePutsPerSecond, 0)} puts/s |`,
    `| ratio | ${fmt(e2eRate / dynalitePutsPerSecond)} |`,
    `| resident memory after the run | ${fmt(peakRss / 1e6, 0)} MB (${fmt((peakRss - memoryBefore) / 1e6, 0)} MB more than at its start) |`,
    `| summary: staged / duplicates / quarantined / archived | ${counts.staged} / ${counts.duplicates} / ${counts.quarantined} / ${counts.archived} |`,
    `| ${fmt(wide.count, 0)} events published from 2020 to 2026 (a few a week), each twice, shuffled | ${fmt(wide.years.seconds, 1)} s, ${fmt(wide.years.archived, 0)} archived in ${fmt(wide.years.windows, 0)} parts |`,
    `| the same events published within one hour, each twice, shuffled (reference) | ${fmt(wide.hour.seconds, 1)} s, ${fmt(wide.hour.archived, 0)} archived in ${fmt(wide.hour.windows, 0)} parts |`,
    '',
    'The years-wide run seals one window per event against one per minute for the hour; the empty years',
    'between them cost nothing.',
    '',
    'Each delivery crosses fauxqs SQS (send, receive, delete), the pattern engine for every alert rule, and a',
    'conditional put on dynalite, all in one process; dynalite is the ceiling. In memory, dynalite keeps every staged',
    'event, which is most of the memory; `--data-dir` keeps it on disk instead.',
    '',
    '## Estimated AWS cost per million unique events',
    '',
    'Quantities from the counts above, at public on-demand list prices for us-east-1; free tiers ignored.',
    '',
    '| item | quantity | list price (USD) | cost (USD) |',
    '|---|---|---|---|',
    ...cost.map(
      ([item, quantity, price, per, unit]) =>
        `| ${item} | ${fmt(quantity, 2)} ${unit} | ${price} per ${per === 1 ? '' : `${fmt(per, 0)} `}${unit} | ${fmt(costOf(quantity, price, per), 4)} |`,
    ),
    `| **total** | | | **${fmt(total, 2)}** |`,
    '',
    'Assumptions: Lambda duration of 0.5 s per batch of 100 at 512 MB (DynamoDB writes in parallel); one',
    `sealed window per minute of traffic (${fmt(windowsPerMillion, 0)} windows per million events at this sample's rate);`,
    'not counted: CloudWatch Logs and metrics, S3 storage (gzipped JSON Lines, about a tenth of the raw size), SNS',
    "alerts, KMS requests, and the Lambda pollers' empty SQS receives (a fixed cost per month, not per event).",
    '',
  );
  const path = new URL('../docs/benchmarks.md', import.meta.url);
  await writeFile(path, results.join('\n'));
  process.stdout.write(results.join('\n'));
};

await main();
