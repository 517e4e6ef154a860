import { createHash, generateKeyPairSync } from 'node:crypto';
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DigestRecord, WindowManifest } from '../../lambdas/shared/archive-layout.ts';
import { contentHash } from '../../lambdas/shared/staged-event.ts';
import { generateSample } from '../../lib/local/sample-stream.ts';
import { type StandInServer, standInClientConfig, startFauxqsServer } from '../../lib/local/stand-ins.ts';
import { readArchiveDir } from '../support/pipeline.ts';
import { linesOf, runOlp, tempDir } from '../support/run-cli.ts';

/**
 * `olp archive verify` and `olp archive export` on archives built by `olp local` (signed with a key file, and
 * unsigned), as a directory and as a fauxqs bucket, untouched and tampered with in each way the chain must catch.
 */
const temp = tempDir('archive-command');
let fauxqs: StandInServer;
let s3: S3Client;
let signedDir: string;
let unsignedDir: string;
let n = 0;
const keys = { private: '', public: '', publicDer: '', other: '' };

/** Every event 1-2 times, shuffled, in more than one chunk of the local runner, with no allowed lateness: so later
 * chunks bring events of windows already sealed, archived as late supplements. */
const sample = generateSample({ count: 800, seed: 11 });
const shuffled = <T>(items: readonly T[], seed: number): T[] => {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) | 0;
    const j = (state >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
};
const uniqueUuids = sample.uniqueEvents.map((event) => (event as { uuid: string }).uuid.toLowerCase());

const buildArchive = async (dir: string, signed: boolean) => {
  const events = join(temp.dir, 'deliveries.jsonl');
  const deliveries = shuffled([...sample.deliveries, ...sample.deliveries.filter((_, i) => i % 2 === 0)], 3);
  await writeFile(events, `${deliveries.map((d) => JSON.stringify(d)).join('\n')}\n`);
  const args = ['local', '--events', events, '--json', '--lateness', '0', '--window', '10', '--archive-dir', dir];
  const run = await runOlp(signed ? [...args, '--signing-key', keys.private] : args);
  if (run.code !== 0) throw new Error(`olp local failed: ${run.stderr}`);
};

beforeAll(async () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  keys.private = join(temp.dir, 'signing.pem');
  keys.public = join(temp.dir, 'signing.pub.pem');
  keys.publicDer = join(temp.dir, 'signing.pub.der');
  keys.other = join(temp.dir, 'other.pub.pem');
  await writeFile(keys.private, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(keys.public, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(keys.publicDer, pair.publicKey.export({ type: 'spki', format: 'der' }));
  await writeFile(keys.other, other.publicKey.export({ type: 'spki', format: 'pem' }));
  signedDir = join(temp.dir, 'signed');
  unsignedDir = join(temp.dir, 'unsigned');
  fauxqs = await startFauxqsServer();
  s3 = new S3Client({ ...standInClientConfig(fauxqs.endpoint), forcePathStyle: true });
  await Promise.all([buildArchive(signedDir, true), buildArchive(unsignedDir, false)]);
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await fauxqs?.stop();
  temp.remove();
});

/** An archive to tamper with and verify: a copy of a directory, or a bucket holding the same objects. */
interface Target {
  readonly kind: 'dir' | 'bucket';
  /** The `olp archive` options that name it. */
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  keys(): Promise<string[]>;
  get(key: string): Promise<Buffer>;
  put(key: string, body: Buffer | string): Promise<void>;
  delete(key: string): Promise<void>;
}

const filesOf = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();

const dirTarget = async (from: string): Promise<Target> => {
  const dir = join(temp.dir, `copy-${n++}`);
  await cp(from, dir, { recursive: true });
  return {
    kind: 'dir',
    args: ['--dir', dir],
    env: {},
    keys: () => filesOf(dir),
    get: (key) => readFile(join(dir, key)),
    put: async (key, body) => writeFile(join(dir, key), body),
    delete: (key) => rm(join(dir, key)),
  };
};

const bucketTarget = async (from: string): Promise<Target> => {
  const bucket = `archive-${n++}`;
  const prefix = 'tenant-a/';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of await filesOf(from)) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: await readFile(join(from, key)) }));
  }
  return {
    kind: 'bucket',
    args: ['--bucket', bucket, '--prefix', 'tenant-a'],
    env: {
      AWS_ENDPOINT_URL: fauxqs.endpoint,
      AWS_ACCESS_KEY_ID: 'stand-in',
      AWS_SECRET_ACCESS_KEY: 'stand-in',
      AWS_REGION: 'us-east-1',
    },
    keys: async () => {
      const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return Contents.map((object) => (object.Key ?? '').slice(prefix.length)).sort();
    },
    get: async (key) => {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + key }));
      return Buffer.from((await Body?.transformToByteArray()) ?? []);
    },
    put: async (key, body) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: body }));
    },
    delete: async (key) => {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: prefix + key }));
    },
  };
};

const targets = [
  ['a directory', dirTarget],
  ['a fauxqs bucket', bucketTarget],
] as const;

interface VerifyJson {
  ok: boolean;
  objects: number;
  events: number;
  findings: Array<{ kind: string; key: string; detail: string }>;
}

const verify = async (target: Target, extra: string[] = []) => {
  const run = await runOlp(['archive', 'verify', ...target.args, '--json', ...extra], { env: target.env });
  return { code: run.code, stderr: run.stderr, result: JSON.parse(run.stdout) as VerifyJson };
};

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The archive's windows: manifest keys and their manifests, in key order. */
const windowsOf = async (target: Target) => {
  const windows: Array<{ key: string; manifest: WindowManifest }> = [];
  for (const key of await target.keys()) {
    if (key.endsWith('manifest.json')) {
      windows.push({ key, manifest: WindowManifest.parse(JSON.parse((await target.get(key)).toString('utf8'))) });
    }
  }
  return windows;
};

/** A window with a main part of at least two lines, in published order, and the lines of that part. */
const windowWithMain = async (target: Target) => {
  for (const window of await windowsOf(target)) {
    const main = window.manifest.parts.find((part) => part.kind === 'main' && part.eventCount >= 3);
    if (main !== undefined) {
      const lines = gunzipSync(await target.get(main.key))
        .toString('utf8')
        .trimEnd()
        .split('\n');
      return { ...window, main, lines };
    }
  }
  throw new Error('no window with a main part of three events');
};

const writeManifest = (target: Target, key: string, manifest: WindowManifest) =>
  target.put(key, `${JSON.stringify(manifest, null, 2)}\n`);

const digestsOf = async (target: Target) => (await target.keys()).filter((key) => key.startsWith('digests/'));

describe('olp archive verify', () => {
  it('finds an untouched archive intact, signed with a key file (PEM and DER public key) and unsigned', async () => {
    for (const [, make] of targets) {
      // Prepare
      const signed = await make(signedDir);
      const unsigned = await make(unsignedDir);

      // Act
      const pem = await verify(signed, ['--public-key', keys.public]);
      const der = await verify(signed, ['--public-key', keys.publicDer]);
      const plain = await verify(unsigned);

      // Assess
      for (const run of [pem, der, plain]) {
        expect(run.code, signed.kind).toBe(0);
        expect(run.result, signed.kind).toMatchObject({ ok: true, findings: [], events: 800 });
      }
      expect(Object.keys(pem.result).sort()).toEqual(['events', 'findings', 'objects', 'ok']);
      expect(pem.result.objects).toBeGreaterThan((await digestsOf(signed)).length);
    }
  });

  it('archives late supplements in the archives under test, over more than one digest record', async () => {
    const windows = await windowsOf(await dirTarget(signedDir));
    expect(windows.some((window) => window.manifest.parts.some((part) => part.kind === 'late'))).toBe(true);
    expect((await digestsOf(await dirTarget(signedDir))).length).toBeGreaterThanOrEqual(2);
  });

  it('fails every record when the public key is not the one that signed, or the chain is unsigned', async () => {
    for (const [, make] of targets) {
      const signed = await make(signedDir);
      const records = await digestsOf(signed);
      const wrong = await verify(signed, ['--public-key', keys.other]);
      const unsigned = await verify(await make(unsignedDir), ['--public-key', keys.public]);
      expect(wrong.code).toBe(3);
      expect(wrong.result.findings).toEqual(
        records.map((key) => ({ kind: 'signature', key, detail: expect.stringContaining('does not verify') })),
      );
      expect(unsigned.code).toBe(3);
      expect(unsigned.result.findings.map((f) => [f.kind, f.detail])).toContainEqual(['signature', 'is not signed']);
    }
  });

  describe.each(targets)('on %s', (_name, make) => {
    it('reports one changed line of a part, its manifest hash fixed, as altered part and manifest', async () => {
      // Prepare
      const target = await make(signedDir);
      const window = await windowWithMain(target);
      const event = JSON.parse(window.lines[0] as string);
      const lines = [JSON.stringify({ ...event, displayMessage: 'nothing to see here' }), ...window.lines.slice(1)];
      const bytes = gzipSync(`${lines.join('\n')}\n`);
      await target.put(window.main.key, bytes);
      const parts = window.manifest.parts.map((part) =>
        part.key === window.main.key ? { ...part, sha256: sha(bytes) } : part,
      );
      await writeManifest(target, window.key, { ...window.manifest, parts });

      // Act
      const run = await verify(target, ['--public-key', keys.public]);

      // Assess
      expect(run.code).toBe(3);
      expect(run.result.findings).toEqual([
        {
          kind: 'altered',
          key: window.main.key,
          detail: expect.stringMatching(/does not match the SHA-256 digests\//),
        },
        { kind: 'altered', key: window.key, detail: expect.stringMatching(/does not match the SHA-256 digests\//) },
      ]);
    });

    it("reports a deleted window's manifest and parts as missing", async () => {
      // Prepare
      const target = await make(signedDir);
      const [, window] = await windowsOf(target);
      if (window === undefined) throw new Error('expected two windows at least');
      const removed = [window.key, ...window.manifest.parts.map((part) => part.key)].sort();
      for (const key of removed) await target.delete(key);

      // Act
      const run = await verify(target);

      // Assess
      expect(run.code).toBe(3);
      expect(run.result.findings.map((f) => [f.kind, f.key]).sort()).toEqual(removed.map((key) => ['missing', key]));
    });

    it('reports a forged part as uncovered, and a forged manifest entry for it as an altered manifest', async () => {
      // Prepare
      const target = await make(signedDir);
      const window = await windowWithMain(target);
      const forged = window.key.replace('manifest.json', 'late-0099.jsonl.gz');
      const event = { ...JSON.parse(window.lines[0] as string), uuid: 'forged00-0000-4000-8000-000000000000' };
      const bytes = gzipSync(`${JSON.stringify(event)}\n`);
      await target.put(forged, bytes);
      const alone = await verify(target);
      const part = {
        kind: 'late' as const,
        key: forged,
        eventCount: 1,
        firstPublished: event.published,
        lastPublished: event.published,
        sha256: sha(bytes),
        events: [`${event.uuid}#${contentHash(event)}`],
      };
      await writeManifest(target, window.key, {
        ...window.manifest,
        eventCount: window.manifest.eventCount + 1,
        parts: [...window.manifest.parts, part],
      });

      // Act
      const listed = await verify(target);

      // Assess
      expect(alone.code).toBe(3);
      expect(alone.result.findings).toEqual([{ kind: 'uncovered', key: forged, detail: expect.any(String) }]);
      expect(listed.code).toBe(3);
      expect(listed.result.findings.map((f) => [f.kind, f.key])).toEqual([
        ['uncovered', forged],
        ['altered', window.key],
      ]);
    });

    it('reports lines reordered in a part as out of order, even with the hashes fixed', async () => {
      // Prepare: swap the first line with the last, which sorts after it.
      const target = await make(signedDir);
      const window = await windowWithMain(target);
      const lines = [...window.lines];
      [lines[0], lines[lines.length - 1]] = [lines[lines.length - 1] as string, lines[0] as string];
      const bytes = gzipSync(`${lines.join('\n')}\n`);
      await target.put(window.main.key, bytes);
      const parts = window.manifest.parts.map((p) => (p.key === window.main.key ? { ...p, sha256: sha(bytes) } : p));
      await writeManifest(target, window.key, { ...window.manifest, parts });

      // Act
      const run = await verify(target);

      // Assess
      expect(run.code).toBe(3);
      expect(run.result.findings.map((f) => [f.kind, f.key])).toEqual(
        expect.arrayContaining([
          ['order', window.main.key],
          ['altered', window.main.key],
        ]),
      );
    });

    it('reports the objects of dropped last digest records as uncovered', async () => {
      // Prepare
      const target = await make(signedDir);
      const records = await digestsOf(target);
      const dropped = records.slice(-2);
      const listed = new Set<string>();
      for (const key of dropped) {
        const record = JSON.parse((await target.get(key)).toString('utf8')) as DigestRecord;
        for (const window of record.windows) for (const object of window.objects) listed.add(object.key);
      }
      // Parts never change: a part a dropped record listed is listed nowhere else.
      const parts = [...listed].filter((key) => !key.endsWith('manifest.json'));
      expect(parts.length).toBeGreaterThan(0);
      for (const key of dropped) await target.delete(key);

      // Act
      const run = await verify(target, ['--public-key', keys.public]);

      // Assess
      expect(run.code).toBe(3);
      const uncovered = run.result.findings.filter((f) => f.kind === 'uncovered').map((f) => f.key);
      expect(uncovered).toEqual(expect.arrayContaining(parts));
    });

    it('reports a part rewritten together with its manifest (counts and hashes fixed) as altered', async () => {
      // Prepare: the last event of the part is removed, and the manifest made to agree.
      const target = await make(signedDir);
      const window = await windowWithMain(target);
      const lines = window.lines.slice(0, -1);
      const bytes = gzipSync(`${lines.join('\n')}\n`);
      await target.put(window.main.key, bytes);
      const last = JSON.parse(lines.at(-1) as string).published as string;
      const parts = window.manifest.parts.map((part) =>
        part.key === window.main.key
          ? { ...part, sha256: sha(bytes), eventCount: lines.length, lastPublished: new Date(last).toISOString() }
          : part,
      );
      await writeManifest(target, window.key, {
        ...window.manifest,
        eventCount: window.manifest.eventCount - 1,
        parts,
      });

      // Act
      const run = await verify(target);

      // Assess
      expect(run.code).toBe(3);
      expect(run.result.findings.map((f) => [f.kind, f.key])).toEqual(
        expect.arrayContaining([
          ['altered', window.main.key],
          ['altered', window.key],
        ]),
      );
    });

    it('finds a cut tail against the head noted earlier (--head), and accepts the head it was given', async () => {
      // Prepare
      const target = await make(signedDir);
      const records = await digestsOf(target);
      const head = sha(await target.get(records.at(-1) as string));
      const kept = await verify(target, ['--head', head]);
      // The last record and everything it listed removed: nothing else in the archive tells.
      const record = JSON.parse((await target.get(records.at(-1) as string)).toString('utf8')) as DigestRecord;
      const before = records.at(-2) as string;
      const previous = JSON.parse((await target.get(before)).toString('utf8')) as DigestRecord;
      const stillListed = new Set(previous.windows.flatMap((w) => w.objects.map((o) => o.key)));
      for (const window of record.windows) {
        for (const object of window.objects) if (!stillListed.has(object.key)) await target.delete(object.key);
      }
      await target.delete(records.at(-1) as string);

      // Act
      const cut = await verify(target, ['--head', head]);

      // Assess
      expect(kept.code).toBe(0);
      expect(cut.code).toBe(3);
      expect(cut.result.findings.map((f) => [f.kind, f.key])).toContainEqual(['head', 'digests/']);
    });
  });

  it('checks only the windows of --since/--until, against the chain from the record that sealed the first', async () => {
    // Prepare: one part altered in a window before the range, and one inside it.
    const target = await dirTarget(signedDir);
    const windows = await windowsOf(target);
    const inside = windows.find((window) => window.key.includes('T09-01-30Z'));
    const before = windows[0];
    if (inside === undefined || before === undefined) throw new Error('expected windows at 09:00:00 and 09:01:30');
    const range = ['--since', '2026-11-01T09:01:00Z', '--until', '2026-11-01T09:02:00Z'];
    const intact = await verify(target, range);
    const alter = async (window: { manifest: WindowManifest }) => {
      const key = window.manifest.parts[0]?.key as string;
      await target.put(key, gzipSync('{"uuid":"x","published":"2026-11-01T09:00:00Z"}\n'));
      return key;
    };
    await alter(before);

    // Act
    const outside = await verify(target, range);
    const key = await alter(inside);
    const within = await verify(target, range);

    // Assess
    expect(intact.code).toBe(0);
    expect(intact.result.events).toBeGreaterThan(0);
    expect(intact.result.events).toBeLessThan(800);
    expect(outside.code).toBe(0);
    expect(within.code).toBe(3);
    expect(within.result.findings).toContainEqual(expect.objectContaining({ kind: 'altered', key }));
    const folder = inside.key.replace('manifest.json', '');
    expect(within.result.findings.filter((finding) => !finding.key.startsWith(folder))).toEqual([]);
  });

  it('prints findings and the summary as text, with anything from the archive escaped', async () => {
    // Prepare: a file whose name carries an escape sequence, in a window folder.
    const target = await dirTarget(signedDir);
    const [window] = await windowsOf(target);
    const hostile = (window?.key ?? '').replace('manifest.json', 'late-\u001b[2J\u202e.jsonl.gz');
    await target.put(hostile, 'x');

    // Act
    const run = await runOlp(['archive', 'verify', ...target.args, '--public-key', keys.public]);

    // Assess
    expect(run.code).toBe(3);
    expect(run.stdout.includes('\u001b') || run.stdout.includes('\u202e')).toBe(false);
    const lines = linesOf(run.stdout);
    expect(lines[0]).toMatch(/^uncovered {2}archive\/.*late-\\u001b\[2J\\u202e\.jsonl\.gz {2}in the window's folder/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^signatures {3}signed by local:[0-9a-f]{16}, signatures checked$/),
    );
    expect(lines).toContainEqual('result       NOT INTACT');
  });

  it.each([
    [['verify'], '--dir or --bucket is required'],
    [['verify', '--dir', 'x', '--bucket', 'b-1'], 'either --dir or --bucket'],
    [['verify', '--dir', '/no/such/dir'], 'is not a directory'],
    [['verify', '--bucket', 'Not_A_Bucket'], '--bucket must be an S3 bucket name'],
    [['verify', '--dir', '.', '--since', 'yesterday'], '--since must be an ISO-8601'],
    [['verify', '--dir', '.', '--since', '2026-11-02', '--until', '2026-11-01'], '--until must be after --since'],
    [['verify', '--dir', '.', '--out', 'x.jsonl'], '--out goes with export'],
    [['verify', '--dir', '.', '--head', 'abc'], '--head must be a SHA-256'],
    [['verify', '--dir', '.', '--public-key', '/no/such/key.pem'], '--public-key /no/such/key.pem: ENOENT'],
    [['export', '--dir', '.', '--json'], '--json goes with verify'],
    [['audit'], 'unknown subcommand "audit"'],
  ])('refuses %j with exit 2 and one line', async (args, message) => {
    const run = await runOlp(['archive', ...args]);
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain(message);
  });

  it('refuses a public key that is not EC P-256', async () => {
    const rsa = join(temp.dir, 'rsa.pem');
    await writeFile(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const run = await runOlp(['archive', 'verify', '--dir', signedDir, '--public-key', rsa]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not an EC P-256');
  });

  it('exits 1 with one line when the bucket cannot be read', async () => {
    const target = await bucketTarget(signedDir);
    const run = await runOlp(['archive', 'verify', '--bucket', 'no-such-bucket'], { env: target.env });
    expect(run.code).toBe(1);
    expect(linesOf(run.stderr)).toEqual([
      expect.stringMatching(/^olp archive: reading the archive s3:\/\/no-such-bucket\/: /),
    ]);
  });
});

describe('olp archive export', () => {
  /** The events of the sample in archive order: (published, uuid, content hash). */
  const expectedOrder = (lines: readonly string[]) =>
    [...lines]
      .map((line) => JSON.parse(line) as { uuid: string; published: string })
      .sort(
        (a, b) =>
          Date.parse(a.published) - Date.parse(b.published) ||
          (a.uuid.toLowerCase() < b.uuid.toLowerCase() ? -1 : a.uuid.toLowerCase() > b.uuid.toLowerCase() ? 1 : 0),
      )
      .map((event) => event.uuid.toLowerCase());

  it('writes every archived event once, in (published, uuid) order, late supplements merged, each line as archived', async () => {
    // Prepare
    const archived = await readArchiveDir(signedDir);

    // Act
    const run = await runOlp(['archive', 'export', '--dir', signedDir, '--public-key', keys.public]);

    // Assess
    expect(run.code).toBe(0);
    const lines = linesOf(run.stdout);
    expect(lines).toHaveLength(800);
    expect(lines.map((line) => JSON.parse(line).uuid.toLowerCase())).toEqual(expectedOrder(lines));
    expect(new Set(lines.map((line) => JSON.parse(line).uuid.toLowerCase()))).toEqual(new Set(uniqueUuids));
    expect([...lines].sort()).toEqual([...archived.lines].sort());
  });

  it('writes the same lines gzipped to a .gz file, plain to any other, from a directory or a bucket', async () => {
    // Prepare
    const plain = (await runOlp(['archive', 'export', '--dir', signedDir])).stdout;
    const bucket = await bucketTarget(signedDir);
    const gz = join(temp.dir, 'export.jsonl.gz');
    const text = join(temp.dir, 'export.jsonl');

    // Act
    const toGz = await runOlp(['archive', 'export', ...bucket.args, '--out', gz], { env: bucket.env });
    const toText = await runOlp(['archive', 'export', '--dir', signedDir, '--out', text]);

    // Assess
    expect([toGz.code, toText.code]).toEqual([0, 0]);
    expect([toGz.stdout, toText.stdout]).toEqual(['', '']);
    expect(gunzipSync(await readFile(gz)).toString('utf8')).toBe(plain);
    expect(await readFile(text, 'utf8')).toBe(plain);
    expect((await readdir(temp.dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('writes only the events published in [since, until)', async () => {
    // Prepare
    const all = linesOf((await runOlp(['archive', 'export', '--dir', signedDir])).stdout);
    const since = '2026-11-01T09:00:20Z';
    const until = '2026-11-01T09:00:50.5Z';

    // Act
    const run = await runOlp(['archive', 'export', '--dir', signedDir, '--since', since, '--until', until]);

    // Assess
    expect(run.code).toBe(0);
    const expected = all.filter((line) => {
      const at = Date.parse(JSON.parse(line).published);
      return at >= Date.parse(since) && at < Date.parse(until);
    });
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    expect(linesOf(run.stdout)).toEqual(expected);
  });

  it('refuses an archive that is not intact, writing nothing, and exports it anyway with --no-verify', async () => {
    // Prepare: one part removed.
    const target = await dirTarget(signedDir);
    const window = await windowWithMain(target);
    await target.delete(window.main.key);
    const out = join(temp.dir, 'refused.jsonl');

    // Act
    const refused = await runOlp(['archive', 'export', ...target.args, '--out', out]);
    const anyway = await runOlp(['archive', 'export', ...target.args, '--no-verify']);

    // Assess
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(new RegExp(`missing +${window.main.key.replaceAll('.', '\\.')}`));
    expect(linesOf(refused.stderr).at(-1)).toContain('nothing exported');
    expect(await stat(out).catch(() => undefined)).toBeUndefined();
    expect(anyway.code).toBe(3);
    expect(linesOf(anyway.stdout)).toHaveLength(800 - window.main.eventCount);
    expect(anyway.stderr).toContain(`left out ${window.main.key}: listed in its manifest but missing`);
  });
});
