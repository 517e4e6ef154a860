import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { mainPartKey, manifestKey, WindowManifest } from '../../lambdas/shared/archive-layout.ts';
import { contentHash } from '../../lambdas/shared/staged-event.ts';
import { envelopeIdOf } from '../../lambdas/shared/system-log-envelope.ts';
import { type StandInServer, standInClientConfig, startFauxqsServer } from '../../lib/local/stand-ins.ts';
import { makeEvents } from '../support/events.ts';
import { FAKE_OKTA_TOKEN, type FakeOkta, type FakeOktaOptions, startFakeOkta } from '../support/fake-okta.ts';
import { readArchiveDir } from '../support/pipeline.ts';
import { type CliRun, linesOf, runOlp, tempDir } from '../support/run-cli.ts';

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const TOKEN_ENV = { OKTA_API_TOKEN: FAKE_OKTA_TOKEN };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// Two days back, on a whole hour: inside the 180 days the System Log API serves, and sealed long ago.
const HOUR_START = Math.floor((Date.now() - 48 * HOUR) / HOUR) * HOUR;
const SINCE = new Date(HOUR_START).toISOString();
const UNTIL = new Date(HOUR_START + HOUR).toISOString();

/**
 * 60 System Log events, two per instant, 14 s apart from minute 1 of the hour: 7 windows of 60 s, holding 8 or 10
 * events each. Okta writes one uuid in uppercase; the pipeline and the audit compare lowercased.
 */
const EVENTS: Array<Record<string, unknown> & { uuid: string; published: string }> = makeEvents(
  60,
  HOUR_START + MINUTE,
).map((envelope, i) => {
  const event = envelope.detail as Record<string, unknown> & { uuid: string; published: string };
  return i === 7 ? { ...event, uuid: event.uuid.toUpperCase() } : event;
});
const uuidOf = (i: number): string => (EVENTS[i]?.uuid ?? '').toLowerCase();
const windowOf = (i: number): number => Math.floor(Date.parse(EVENTS[i]?.published ?? '') / MINUTE) * MINUTE;

/** Events 18-25 are the whole window of minute 3; 7 (the uppercase uuid), 41 and 50 share windows with others. */
const WHOLE_WINDOW = [18, 19, 20, 21, 22, 23, 24, 25];
const SCATTERED = [7, 41, 50];
const DROPPED = new Set([...WHOLE_WINDOW, ...SCATTERED]);
const MISSING = [...DROPPED].map(uuidOf).sort();

const temp = tempDir('audit');
let n = 0;
const fresh = (name: string): string => join(temp.dir, `${name}-${n++}`);

/** An archive built the way users build one: `olp local` over a file of raw System Log events. */
async function buildArchive(events: readonly object[]): Promise<string> {
  const input = fresh('events.jsonl');
  await writeFile(input, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
  const dir = fresh('archive');
  const run = await runOlp(['local', '--events', input, '--archive-dir', dir, '--event-source-name', SOURCE, '--json']);
  if (run.code !== 0) throw new Error(`olp local failed: ${run.stderr}`);
  return dir;
}

/** Every file of a directory, by its key (its path relative to the directory). */
async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path).split(sep).join('/'), await readFile(path));
  }
  return files;
}

const copyOf = async (template: string): Promise<string> => {
  const dir = fresh('copy');
  await cp(template, dir, { recursive: true });
  return dir;
};

const manifestOf = async (dir: string, windowStart: number): Promise<WindowManifest> =>
  WindowManifest.parse(JSON.parse(await readFile(join(dir, manifestKey(windowStart)), 'utf8')));

const jsonOf = (run: CliRun) => {
  const lines = linesOf(run.stdout);
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? '') as {
    since: string;
    until: string;
    okta: number;
    archived: number;
    missing: string[];
    filled: number;
  };
};

let completeArchive: string;
let partialArchive: string;
let fakes: FakeOkta[] = [];
let servers: StandInServer[] = [];

beforeAll(async () => {
  [completeArchive, partialArchive] = await Promise.all([
    buildArchive(EVENTS),
    buildArchive(EVENTS.filter((_, i) => !DROPPED.has(i))),
  ]);
});
afterEach(async () => {
  await Promise.all([...fakes.map((fake) => fake.stop()), ...servers.map((server) => server.stop())]);
  fakes = [];
  servers = [];
});
afterAll(async () => {
  await rm(temp.dir, { recursive: true, force: true });
});

async function okta(options: Partial<FakeOktaOptions> = {}): Promise<FakeOkta> {
  const started = await startFakeOkta({ events: EVENTS, ...options });
  fakes.push(started);
  return started;
}

const audit = (org: FakeOkta, archive: string[], extra: string[] = [], env: NodeJS.ProcessEnv = TOKEN_ENV) =>
  runOlp(['audit', '--okta-org', org.url, '--since', SINCE, '--until', UNTIL, ...archive, ...extra], { env });

describe('olp audit --archive-dir', () => {
  it('exits 0 with nothing missing when the archive holds every System Log event', async () => {
    // Prepare
    const org = await okta();

    // Act
    const run = await audit(org, ['--archive-dir', completeArchive], ['--json']);

    // Assess
    expect(run.code).toBe(0);
    const json = jsonOf(run);
    expect(Object.keys(json)).toEqual(['since', 'until', 'okta', 'archived', 'missing', 'filled']);
    expect(json).toEqual({ since: SINCE, until: UNTIL, okta: 60, archived: 60, missing: [], filled: 0 });
  });

  it('exits 3 listing exactly the uuids the archive lacks, lowercased and sorted', async () => {
    // Prepare
    const org = await okta();

    // Act
    const [json, readable] = await Promise.all([
      audit(org, ['--archive-dir', partialArchive], ['--json']),
      audit(org, ['--archive-dir', partialArchive]),
    ]);

    // Assess
    expect(json.code).toBe(3);
    expect(jsonOf(json)).toEqual({ since: SINCE, until: UNTIL, okta: 60, archived: 49, missing: MISSING, filled: 0 });
    expect(readable.code).toBe(3);
    expect(readable.stdout).toMatch(/^events\s+60$/m);
    expect(readable.stdout).toMatch(/^archived\s+49$/m);
    expect(readable.stdout).toMatch(/^missing\s+11$/m);
    for (const uuid of MISSING) expect(readable.stdout).toContain(`  ${uuid}  `);
  });

  it('--fill seals the missing events once, as late supplements listing them as backfilled, sealed parts untouched', async () => {
    // Prepare
    const org = await okta();
    const dir = await copyOf(partialArchive);
    const before = await filesOf(dir);

    // Act
    const filled = await audit(org, ['--archive-dir', dir], ['--fill', '--json']);
    const afterFill = await filesOf(dir);
    const again = await audit(org, ['--archive-dir', dir], ['--json']);
    const fillAgain = await audit(org, ['--archive-dir', dir], ['--fill', '--json']);

    // Assess: the fill
    expect(filled.code).toBe(0);
    expect(jsonOf(filled)).toMatchObject({ okta: 60, archived: 49, missing: MISSING, filled: 11 });
    // Every main part and every manifest of an untouched window is byte for byte what it was.
    const supplemented = new Set(SCATTERED.map((i) => manifestKey(windowOf(i))));
    for (const [key, bytes] of before) {
      if (supplemented.has(key)) continue;
      expect(afterFill.get(key), key).toEqual(bytes);
    }
    const keyOf = (i: number) => `${uuidOf(i)}#${contentHash(EVENTS[i])}`;
    for (const i of SCATTERED) {
      const manifest = await manifestOf(dir, windowOf(i));
      const previous = WindowManifest.parse(JSON.parse(before.get(manifestKey(windowOf(i)))?.toString('utf8') ?? ''));
      expect(manifest.parts.slice(0, -1)).toEqual(previous.parts);
      expect(manifest.parts.at(-1)).toMatchObject({
        kind: 'late',
        eventCount: 1,
        events: [keyOf(i)],
        backfilled: [keyOf(i)],
      });
      expect(previous.parts.some((part) => part.backfilled !== undefined)).toBe(false);
    }
    // The window that was missing whole is sealed now, its main part all backfilled.
    const whole = await manifestOf(dir, windowOf(WHOLE_WINDOW[0] ?? 0));
    expect(before.has(manifestKey(windowOf(WHOLE_WINDOW[0] ?? 0)))).toBe(false);
    expect(whole.parts).toHaveLength(1);
    expect(whole.parts[0]).toMatchObject({ kind: 'main', eventCount: 8 });
    expect(whole.parts[0]?.backfilled?.sort()).toEqual(WHOLE_WINDOW.map(keyOf).sort());
    // The archive as an independent reader sees it: every event once, each as Okta sent it, nothing unlisted.
    const archive = await readArchiveDir(dir);
    expect(archive.lines.sort()).toEqual(EVENTS.map((event) => JSON.stringify(event)).sort());
    expect(archive.orphans).toEqual([]);

    // Assess: nothing missing any more, and a second fill fills nothing and writes nothing
    expect(again.code).toBe(0);
    expect(jsonOf(again)).toMatchObject({ okta: 60, archived: 60, missing: [], filled: 0 });
    expect(fillAgain.code).toBe(0);
    expect(jsonOf(fillAgain)).toMatchObject({ missing: [], filled: 0 });
    expect(await filesOf(dir)).toEqual(afterFill);
  });

  it('reads page after page of the System Log, waiting out a 429, and counts every event once', async () => {
    // Prepare
    const org = await okta({ pageLimitMax: 15, rateLimit: { every: 3 } });

    // Act
    const run = await audit(org, ['--archive-dir', completeArchive], ['--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(jsonOf(run)).toMatchObject({ okta: 60, archived: 60, missing: [] });
    const pages = org.requests.filter((request) => request.path === '/api/v1/logs' && request.status === 200);
    expect(pages.length).toBeGreaterThanOrEqual(4);
    expect(new Set(pages.map((request) => request.query.get('after'))).size).toBe(pages.length);
    expect(org.requests.some((request) => request.status === 429)).toBe(true);
    expect(run.stderr).toMatch(/olp audit: 127\.0\.0\.1:\d+: \d+ pages, \d+ events, rate limited: waiting \d+ s/);
    expect(run.stderr).toMatch(new RegExp(`: ${pages.length} pages, 60 events\n`));
  });

  it('reports a part that does not match its SHA-256, and one that is gone, with exit 3; --fill fills nothing', async () => {
    // Prepare: one main part with an event's text changed, another main part deleted.
    const org = await okta();
    const dir = await copyOf(completeArchive);
    const tampered = mainPartKey(windowOf(0));
    const lines = gunzipSync(await readFile(join(dir, tampered))).toString('utf8');
    await writeFile(join(dir, tampered), gzipSync(lines.replace('"user.session.start"', '"user.session.end"')));
    const deleted = mainPartKey(windowOf(30));
    await rm(join(dir, deleted));
    const before = await filesOf(dir);
    const inThoseWindows = EVENTS.flatMap((_, i) =>
      windowOf(i) === windowOf(0) || windowOf(i) === windowOf(30) ? [uuidOf(i)] : [],
    ).sort();

    // Act
    const run = await audit(org, ['--archive-dir', dir], ['--json']);
    const fill = await audit(org, ['--archive-dir', dir], ['--fill']);

    // Assess
    expect(run.code).toBe(3);
    expect(jsonOf(run).missing).toEqual(inThoseWindows);
    expect(run.stderr).toContain(`olp audit: ${tampered}: does not match the SHA-256 its manifest lists\n`);
    expect(run.stderr).toContain(`olp audit: ${deleted}: listed in its manifest but missing\n`);
    expect(fill.code).toBe(3);
    expect(fill.stdout).toMatch(/^problems\s+2$/m);
    expect(fill.stdout).toMatch(/^filled\s+0: nothing filled: the archive has problems/m);
    expect(await filesOf(dir)).toEqual(before);
  });

  it('counts a window whose manifest was never written as holding nothing', async () => {
    // Prepare: a seal interrupted after the main part, before the manifest.
    const org = await okta();
    const dir = await copyOf(completeArchive);
    await rm(join(dir, manifestKey(windowOf(41))));
    const inWindow = EVENTS.flatMap((_, i) => (windowOf(i) === windowOf(41) ? [uuidOf(i)] : [])).sort();

    // Act
    const run = await audit(org, ['--archive-dir', dir]);

    // Assess
    expect(run.code).toBe(3);
    expect(inWindow).toHaveLength(8);
    expect(run.stdout).toMatch(/^missing\s+8$/m);
    for (const uuid of inWindow) expect(run.stdout).toContain(uuid);
    expect(run.stdout).toContain('1 window folders hold objects but no manifest');
  });

  it('exits 1 with one line naming the call when Okta refuses the credentials', async () => {
    // Prepare
    const org = await okta();

    // Act
    const run = await audit(org, ['--archive-dir', completeArchive], [], { OKTA_API_TOKEN: 'not-the-token' });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/missing/);
    // One line, and nothing else: Okta is asked before the archive is read.
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(/^olp audit: .*System Log.*401/);
    expect(run.stderr).not.toContain('not-the-token');
  });
});

describe('olp audit --bucket', () => {
  let fauxqs: StandInServer;
  let s3: S3Client;
  let sqs: SQSClient;
  let awsEnv: NodeJS.ProcessEnv;

  /** A fresh bucket holding the complete archive at its root and the partial one under `tenant-a/`. */
  async function bucketWithArchives(): Promise<string> {
    fauxqs = await startFauxqsServer();
    servers.push(fauxqs);
    s3 = new S3Client({ ...standInClientConfig(fauxqs.endpoint), forcePathStyle: true });
    sqs = new SQSClient(standInClientConfig(fauxqs.endpoint));
    awsEnv = {
      ...TOKEN_ENV,
      AWS_ENDPOINT_URL: fauxqs.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'stand-in',
      AWS_SECRET_ACCESS_KEY: 'stand-in',
    };
    const bucket = 'okta-archive';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const [prefix, dir] of [
      ['', completeArchive],
      ['tenant-a/', partialArchive],
    ] as const) {
      for (const [key, body] of await filesOf(dir)) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, Body: body }));
      }
    }
    return bucket;
  }

  afterEach(() => {
    s3?.destroy();
    sqs?.destroy();
  });

  it('reads the archive from the bucket, under --prefix when given', async () => {
    // Prepare
    const org = await okta();
    const bucket = await bucketWithArchives();

    // Act
    const [root, tenant] = await Promise.all([
      audit(org, ['--bucket', bucket], ['--json'], awsEnv),
      audit(org, ['--bucket', bucket, '--prefix', 'tenant-a'], ['--json'], awsEnv),
    ]);

    // Assess
    expect(root.code).toBe(0);
    expect(jsonOf(root)).toMatchObject({ okta: 60, archived: 60, missing: [] });
    expect(tenant.code).toBe(3);
    expect(jsonOf(tenant)).toMatchObject({ okta: 60, archived: 49, missing: MISSING });
    expect(tenant.stderr).toContain('olp audit: archive s3://okta-archive/tenant-a/: 6 windows, 49 events\n');
  });

  it('exits 1 with one line when the bucket cannot be read', async () => {
    // Prepare
    const org = await okta();
    await bucketWithArchives();

    // Act
    const run = await audit(org, ['--bucket', 'no-such-bucket'], ['--json'], awsEnv);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const errors = linesOf(run.stderr).filter((line) => !/ pages, \d+ events$/.test(line));
    expect(errors).toEqual([
      expect.stringMatching(/^olp audit: reading the archive s3:\/\/no-such-bucket\/: NoSuchBucket/),
    ]);
  });

  it('--fill sends each missing event to the ingest queue as the envelope ingest accepts, with origin backfill', async () => {
    // Prepare
    const org = await okta();
    const bucket = await bucketWithArchives();
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: 'ingest' }));

    // Act
    const run = await audit(
      org,
      ['--bucket', bucket, '--prefix', 'tenant-a/'],
      ['--fill', '--ingest-queue-url', QueueUrl, '--event-source-name', SOURCE],
      awsEnv,
    );
    const messages: Message[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) break;
      messages.push(...Messages);
      for (const message of Messages) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^filled\s+11: sent to the ingest queue .* archives them within minutes/m);
    expect(messages).toHaveLength(11);
    const byUuid = new Map(EVENTS.map((event) => [event.uuid.toLowerCase(), event]));
    const received: string[] = [];
    for (const message of messages) {
      expect(message.MessageAttributes?.origin).toEqual({ DataType: 'String', StringValue: 'backfill' });
      const envelope = JSON.parse(message.Body ?? '');
      const uuid = String(envelope.detail.uuid).toLowerCase();
      received.push(uuid);
      expect(envelope).toMatchObject({
        version: '0',
        id: envelopeIdOf(uuid),
        'detail-type': 'SystemLog',
        source: SOURCE,
        account: '000000000000',
        region: 'us-east-1',
        detail: byUuid.get(uuid),
      });
      // The body passes the deployed ingest's checks for the stack's source and the queue's account.
      expect(parseEnvelope(message.Body ?? '', { source: SOURCE, account: '000000000000' }, Date.now()).ok).toBe(true);
    }
    expect(received.sort()).toEqual(MISSING);
  });
});

describe('olp audit usage', () => {
  const archive = ['--archive-dir', '.'];
  const range = ['--since', '24h'];
  const org = ['--okta-org', 'https://acme.okta.com'];
  it.each([
    [[...range, ...archive], '--okta-org is required'],
    [['--okta-org', 'http://acme.okta.com', ...range, ...archive], '--okta-org: the Okta org URL must use https'],
    [[...org, ...archive], '--since is required'],
    [[...org, '--since', 'yesterday', ...archive], '--since: "yesterday" is neither'],
    [[...org, ...range, '--until', 'soon', ...archive], '--until: "soon" is neither'],
    [[...org, '--since', '2h', '--until', '3h', ...archive], '--until (', 'must be after --since'],
    [[...org, ...range], '--archive-dir or --bucket is required'],
    [[...org, ...range, ...archive, '--bucket', 'b-1'], 'either --archive-dir or --bucket'],
    [[...org, ...range, ...archive, '--prefix', 'p'], '--prefix goes with --bucket'],
    [[...org, ...range, '--archive-dir', '/no/such/dir'], '--archive-dir: "/no/such/dir" is not a directory'],
    [[...org, ...range, '--bucket', 'Not_A_Bucket'], '--bucket must be an S3 bucket name'],
    [[...org, ...range, '--bucket', 'b-1', '--fill', '--event-source-name', SOURCE], 'needs --ingest-queue-url'],
    [
      [
        ...org,
        ...range,
        '--bucket',
        'b-1',
        '--fill',
        '--ingest-queue-url',
        'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
      ],
      'needs --event-source-name',
    ],
    [
      [
        ...org,
        ...range,
        '--bucket',
        'b-1',
        '--fill',
        '--ingest-queue-url',
        'https://example.com/q',
        '--event-source-name',
        SOURCE,
      ],
      '--ingest-queue-url must be a queue URL',
    ],
    [
      [...org, ...range, ...archive, '--ingest-queue-url', 'https://sqs.eu-west-1.amazonaws.com/123456789012/q'],
      '--ingest-queue-url goes with',
    ],
    [[...org, ...range, ...archive, '--event-source-name', 'okta-logs'], '--event-source-name must'],
    [[...org, ...range, ...archive, '--bogus'], "Unknown option '--bogus'"],
  ])('%j: exit 2, one line naming the flag', async (args, ...messages) => {
    // Act
    const run = await runOlp(['audit', ...args], { env: TOKEN_ENV });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(linesOf(run.stderr)).toHaveLength(1);
    for (const message of messages) expect(run.stderr).toContain(message);
  });

  it('exits 2 naming the variables when no Okta credentials are set', async () => {
    const run = await runOlp(['audit', '--okta-org', 'https://acme.okta.com', '--since', '24h', '--archive-dir', '.']);
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([expect.stringContaining('OKTA_API_TOKEN')]);
  });

  it('prints its usage for --help, exit 0', async () => {
    const run = await runOlp(['audit', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage:\n {2}olp audit --okta-org <url> --since/);
    expect(run.stdout).toContain('Exit codes:');
  });
});
