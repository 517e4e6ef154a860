import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestKey, mainPartKey, manifestKey } from '../../lambdas/shared/archive-layout.ts';
import { parseRecord } from '../../lambdas/shared/digest-record.ts';
import type { ArchiveStore, SequencerState } from '../../lambdas/shared/ports.ts';
import { makeEvents } from '../support/events.ts';
import { type Fault, FaultPlan, InjectedFault } from '../support/faults.ts';
import { newPipeline, type PipelineUnderTest, s3Client } from '../support/pipeline.ts';
import { runOlp } from '../support/run-cli.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * The integrity chain as the sequencer writes it, on dynalite and a fauxqs bucket, checked with `olp archive verify
 * --bucket`: one record per run that wrote anything, and a chain that verifies whatever step of a run fails, without
 * any part or record ever written twice with different content.
 */
let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
const start = Date.parse('2026-11-01T09:00:00.000Z');
const MINUTE = 60_000;
const at = (minutes: number) => start + minutes * MINUTE;

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

const sha = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** `olp archive verify --bucket` against fauxqs, as an operator would run it against S3. */
const verifyBucket = async (bucket: string) => {
  const run = await runOlp(['archive', 'verify', '--bucket', bucket, '--json'], {
    env: {
      AWS_ENDPOINT_URL: fauxqs.endpoint,
      AWS_ACCESS_KEY_ID: 'stand-in',
      AWS_SECRET_ACCESS_KEY: 'stand-in',
      AWS_REGION: 'us-east-1',
    },
  });
  return {
    code: run.code,
    stderr: run.stderr,
    ...(JSON.parse(run.stdout) as { ok: boolean; findings: unknown[]; events: number }),
  };
};

/**
 * Remembers every content each key was written with. Manifests gain parts, so they change by design; parts and
 * digest records never may.
 */
class PutLog {
  readonly contents = new Map<string, Set<string>>();

  wrap = <T extends object>(store: T, name: 'events' | 'archive'): T => {
    if (name !== 'archive') return store;
    const archive = store as unknown as ArchiveStore;
    const wrapped: ArchiveStore = {
      put: async (key, body, contentType) => {
        await archive.put(key, body, contentType);
        const seen = this.contents.get(key) ?? new Set<string>();
        seen.add(sha(body));
        this.contents.set(key, seen);
      },
      get: (key) => archive.get(key),
    };
    return wrapped as unknown as T;
  };

  /** Keys other than manifests written with more than one content. */
  rewritten(): string[] {
    return [...this.contents]
      .filter(([key, seen]) => seen.size > 1 && !key.endsWith('manifest.json'))
      .map(([key]) => key);
  }
}

/**
 * A crash: the first call that `matches` fails (before it runs, or after it succeeded, losing only the answer), and so
 * does every call of either store after it, as nothing runs once a Lambda is gone, until `revive()` (the next
 * invocation).
 */
class Crash {
  private dead = false;
  fired = false;

  constructor(
    private readonly matches: (call: { store: 'events' | 'archive'; method: string; args: unknown[] }) => boolean,
    private readonly phase: 'before' | 'after',
  ) {}

  revive(): void {
    this.dead = false;
  }

  wrap = <T extends object>(store: T, name: 'events' | 'archive'): T =>
    new Proxy(store, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return async (...args: unknown[]) => {
          if (this.dead) throw new InjectedFault(`${name}.${property} after the crash`);
          const hit = !this.fired && this.matches({ store: name, method: property, args });
          if (hit && this.phase === 'before') this.die(`before ${name}.${property}`);
          const result = await value.apply(target, args);
          if (hit) this.die(`after ${name}.${property}`);
          return result;
        };
      },
    });

  private die(where: string): never {
    this.fired = true;
    this.dead = true;
    throw new InjectedFault(where);
  }
}

const records = async (p: PipelineUnderTest) => {
  const s3 = s3Client(fauxqs);
  const found = [];
  for (let sequence = 1; ; sequence++) {
    const object = await s3
      .send(new GetObjectCommand({ Bucket: p.bucket, Key: digestKey(sequence) }))
      .catch(() => undefined);
    if (object?.Body === undefined) break;
    found.push(parseRecord(await object.Body.transformToByteArray()));
  }
  return found;
};

describe('the integrity chain the sequencer writes', () => {
  it('writes one digest record per run that sealed anything, covering every part and manifest it wrote', async () => {
    // Prepare: events in three windows, sealed by one run.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    for (const [i, event] of makeEvents(6, start, 30_000).entries()) {
      await p.ingest(JSON.stringify(event), `m${i}`, start);
    }

    // Act
    const report = await p.seal(at(10));
    const quiet = await p.run(at(11));

    // Assess
    expect(report.sealed).toHaveLength(3);
    expect(report.digest).toMatchObject({ sequence: 1, objects: 6 });
    expect(quiet.digest).toBeUndefined();
    const [record] = await records(p);
    expect(record?.windows.map((window) => window.objects.map((object) => object.kind))).toEqual([
      ['main', 'manifest'],
      ['main', 'manifest'],
      ['main', 'manifest'],
    ]);
    expect(await verifyBucket(p.bucket)).toMatchObject({ code: 0, ok: true, events: 6 });
  });

  it('records a late supplement with the new version of its manifest only', async () => {
    // Prepare
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const [onTime, late] = makeEvents(2, start, 1_000);
    await p.ingest(JSON.stringify(onTime), 'm1', start);
    await p.seal(at(10));

    // Act
    await p.ingest(JSON.stringify(late), 'm2', at(11));
    await p.seal(at(12));

    // Assess
    const all = await records(p);
    const second = all[1];
    expect(all).toHaveLength(2);
    expect(second?.windows[0]?.objects.map((object) => [object.kind, object.key.split('/').at(-1)])).toEqual([
      ['late', 'late-0001.jsonl.gz'],
      ['manifest', 'manifest.json'],
    ]);
    expect(await verifyBucket(p.bucket)).toMatchObject({ code: 0, ok: true, events: 2 });
  });
});

describe('an archive sealed before the integrity chain existed (an upgraded stack)', () => {
  it('starts the chain where sealing stood, and verifies the windows before it against their manifests only', async () => {
    // Prepare: a window sealed, then the chain and the state's knowledge of it removed, as before this release.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const [old, fresh] = makeEvents(2, start, 0);
    await p.ingest(JSON.stringify(old), 'm1', start);
    await p.seal(at(10));
    await s3Client(fauxqs).send(new DeleteObjectCommand({ Bucket: p.bucket, Key: digestKey(1) }));
    const {
      digestHead: _head,
      undigested: _journal,
      ...before
    } = (await p.events.getSequencerState()) as SequencerState;
    await p.events.putSequencerState(before);

    // Act
    const later = JSON.stringify({ ...fresh, detail: { ...fresh?.detail, published: new Date(at(20)).toISOString() } });
    await p.ingest(later, 'm2', at(20));
    await p.seal(at(30));

    // Assess
    const [first] = await records(p);
    // It starts where the state stood when the first record was written: after the old window, before the new one.
    const from = Date.parse(first?.sealed.from ?? '');
    expect(from).toBeGreaterThanOrEqual(before.nextWindow);
    expect(from).toBeLessThanOrEqual(at(20));
    const verified = await verifyBucket(p.bucket);
    expect(verified).toMatchObject({ code: 0, ok: true, events: 2 });
    expect(verified.stderr).toContain('1 windows were sealed before the integrity chain began');
  });
});

describe('a sequencer run that stops part way', () => {
  const events = makeEvents(4, start, 20_000);

  it.each([
    ['after writing a part, before its manifest', 'archive', (key: string) => key.endsWith('manifest.json'), 'before'],
    ['after the manifest, before the digest record', 'archive', (key: string) => key.startsWith('digests/'), 'before'],
    ['after the digest record, before the state', 'archive', (key: string) => key.startsWith('digests/'), 'after'],
    [
      'when saving the state that names the new head',
      'events',
      (state: SequencerState) => state.digestHead !== undefined,
      'before',
    ],
  ] as const)('leaves a chain the next run completes: crash %s', async (_name, store, matches, phase) => {
    // Prepare
    const log = new PutLog();
    const crash = new Crash(
      (call) =>
        call.store === store &&
        (store === 'archive'
          ? call.method === 'put' && (matches as (key: string) => boolean)(String(call.args[0]))
          : call.method === 'putSequencerState' &&
            (matches as (state: SequencerState) => boolean)(call.args[0] as SequencerState)),
      phase,
    );
    const p = await newPipeline(dynamo, s3Client(fauxqs), {
      wrap: (real, name) => crash.wrap(log.wrap(real, name), name),
    });
    for (const [i, event] of events.entries()) await p.ingest(JSON.stringify(event), `m${i}`, start);

    // Act: the sealing run crashes; the next scheduled run succeeds.
    const failed = await p.seal(at(10)).catch((error: Error) => error);
    crash.revive();
    const next = await p.run(at(11));

    // Assess
    expect(crash.fired).toBe(true);
    expect(failed).toBeInstanceOf(InjectedFault);
    expect(next.setAside).toEqual([]);
    expect(await verifyBucket(p.bucket)).toMatchObject({ code: 0, ok: true, findings: [], events: 4 });
    expect(log.rewritten()).toEqual([]);
    expect(await records(p)).toHaveLength(1);
  });

  it('takes over the part a crashed run left, when events arrived meanwhile, and writes them as a supplement', async () => {
    // Prepare: the run writes the main part and stops; then a late event of the same window is staged.
    const log = new PutLog();
    const crash = new Crash(
      (call) => call.method === 'put' && String(call.args[0]).endsWith('manifest.json'),
      'before',
    );
    const p = await newPipeline(dynamo, s3Client(fauxqs), {
      wrap: (real, name) => crash.wrap(log.wrap(real, name), name),
    });
    const [first, second, third] = makeEvents(3, start, 10_000);
    await p.ingest(JSON.stringify(first), 'm1', start);
    await p.ingest(JSON.stringify(second), 'm2', start);
    await p.seal(at(10)).catch(() => undefined);
    crash.revive();
    const orphan = [...(log.contents.get(mainPartKey(start)) ?? [])];
    await p.ingest(JSON.stringify(third), 'm3', at(10) + 5_000);

    // Act
    await p.run(at(11));

    // Assess: the main part kept its one content; the late event went into late-0001; the chain verifies.
    const archive = await p.read();
    const [window] = archive.windows.values();
    expect(orphan).toHaveLength(1);
    expect(log.contents.get(mainPartKey(start))).toEqual(new Set(orphan));
    expect(window?.manifest.parts.map((part) => [part.kind, part.eventCount])).toEqual([
      ['main', 2],
      ['late', 1],
    ]);
    expect(archive.lines).toHaveLength(3);
    expect(await verifyBucket(p.bucket)).toMatchObject({ code: 0, ok: true, events: 3 });
  });

  it('sets a window aside rather than take over or write over an object it did not write', async () => {
    // Prepare: something else put an object where the window's main part goes.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const s3 = s3Client(fauxqs);
    await s3.send(new PutObjectCommand({ Bucket: p.bucket, Key: mainPartKey(start), Body: 'not the sequencer' }));
    await p.ingest(JSON.stringify(makeEvents(1)[0]), 'm1', start);

    // Act
    const report = await p.seal(at(10));

    // Assess
    expect(report.setAside).toEqual([
      {
        window: '2026-11-01T09:00:00Z',
        reason: expect.stringMatching(/events\.jsonl\.gz exists, is listed in no manifest/),
      },
    ]);
    const object = await s3.send(new GetObjectCommand({ Bucket: p.bucket, Key: mainPartKey(start) }));
    expect(await object.Body?.transformToString()).toBe('not the sequencer');
    const manifest = await s3
      .send(new GetObjectCommand({ Bucket: p.bucket, Key: manifestKey(start) }))
      .catch(() => undefined);
    expect(manifest).toBeUndefined();
  });
});

describe('a chain that survives a failure or a crash at any write', () => {
  /** On-time events in three windows, late events after sealing (supplements), and a redelivery. */
  const events = makeEvents(6, start, 20_000);
  const scenario = async (p: PipelineUnderTest, revive: () => void) => {
    const retry = async (action: () => Promise<unknown>) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await action();
        } catch (error) {
          if (!(error instanceof InjectedFault) || attempt > 3) throw error;
          revive();
        }
      }
    };
    for (const i of [0, 1, 2, 3]) await retry(() => p.ingest(JSON.stringify(events[i]), `a${i}`, at(0)));
    await retry(() => p.seal(at(10)));
    for (const i of [4, 5, 1]) await retry(() => p.ingest(JSON.stringify(events[i]), `b${i}`, at(11)));
    await retry(() => p.seal(at(12)));
    await retry(() => p.seal(at(14)));
  };

  it('verifies, with no part or record ever written with two contents', { timeout: 600_000 }, async () => {
    // Prepare: a fault-free run counts the writes where a fault can go.
    const counting = new FaultPlan();
    await scenario(await newPipeline(dynamo, s3Client(fauxqs), { wrap: counting.wrap }), () => {});
    const faults: Array<Fault & { mode: 'fail' | 'crash' }> = [];
    for (const [key, count] of counting.calls) {
      if (key !== 'archive.put' && key !== 'events.putSequencerState') continue;
      const [store, method] = key.split('.') as ['events' | 'archive', string];
      for (let nth = 1; nth <= count; nth++) {
        for (const phase of ['before', 'after'] as const) {
          for (const mode of ['fail', 'crash'] as const) faults.push({ store, method, nth, phase, mode });
        }
      }
    }
    expect(faults.length).toBeGreaterThan(60);

    for (const fault of faults) {
      // Act: `fail` loses one call and the run goes on; `crash` loses everything after it in that run.
      const log = new PutLog();
      let fired: () => boolean;
      let revive = () => {};
      let wrap: <T extends object>(store: T, name: 'events' | 'archive') => T;
      if (fault.mode === 'fail') {
        const plan = new FaultPlan(fault);
        fired = () => plan.hasFired;
        wrap = (store, name) => plan.wrap(log.wrap(store, name), name);
      } else {
        let calls = 0;
        const crash = new Crash(
          ({ store, method }) => store === fault.store && method === fault.method && ++calls === fault.nth,
          fault.phase,
        );
        fired = () => crash.fired;
        revive = () => crash.revive();
        wrap = (store, name) => crash.wrap(log.wrap(store, name), name);
      }
      const p = await newPipeline(dynamo, s3Client(fauxqs), { wrap });
      await scenario(p, revive);

      // Assess
      const context = JSON.stringify(fault);
      expect(fired(), context).toBe(true);
      const verified = await verifyBucket(p.bucket);
      expect(verified, context).toMatchObject({ code: 0, ok: true, findings: [], events: 6 });
      expect(log.rewritten(), context).toEqual([]);
    }
  });
});
