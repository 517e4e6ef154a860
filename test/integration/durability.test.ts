import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestKey } from '../../lambdas/shared/archive-layout.ts';
import { makeEvents } from '../support/events.ts';
import {
  leftovers,
  newPipeline,
  type PipelineUnderTest,
  partsAreSorted,
  SETTINGS,
  s3Client,
} from '../support/pipeline.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * The archive's promise over time and change: sequencer outages longer than the dedupe retention with DynamoDB's TTL
 * running (test/support/ttl-sweeper.ts), windows that cannot be sealed, layout changes on a live stack, a lost
 * state item, and sealing work that follows events rather than time.
 */
let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
const start = Date.parse('2026-11-01T09:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

type Envelope = ReturnType<typeof makeEvents>[number];
const uuids = (events: readonly Envelope[]) => events.map((event) => String(event.detail.uuid)).sort();
const published = (event: Envelope | undefined) => Date.parse(String(event?.detail.published));
/** The same event under another uuid, so event sets built from `makeEvents` stay distinct. */
const renamed = (event: Envelope, n: number): Envelope => ({
  ...event,
  detail: { ...event.detail, uuid: `${(0x20000000 + n).toString(16)}-fef4-11ed-a5b1-bbb7c1de1a4b` },
});

/** The archive holds each event once, sorted, with nothing unlisted and no work left behind. */
const expectExactlyOnce = async (p: PipelineUnderTest, events: readonly Envelope[]) => {
  const archive = await p.read();
  expect(archive.lines.map((line) => JSON.parse(line).uuid).sort()).toEqual(uuids(events));
  expect(new Set(archive.lines).size).toBe(archive.lines.length);
  expect(partsAreSorted(archive)).toBe(true);
  expect(archive.orphans).toEqual([]);
  expect(await leftovers(p.events)).toEqual({ markers: [], pending: [] });
  return archive;
};

/** Delivers each event once, `delayMs` after it was published, in order. */
const deliver = async (p: PipelineUnderTest, events: readonly Envelope[], delayMs = 5_000, prefix = 'm') => {
  for (const [i, event] of events.entries()) {
    await p.ingest(JSON.stringify(event), `${prefix}${i}`, published(event) + delayMs);
  }
};

describe('a sequencer stopped longer than the dedupe retention, with TTL deleting expired items', () => {
  it('archives every event once when it resumes after twice the retention', async () => {
    // Prepare: the sequencer ran once, then stopped; events kept arriving for two hours.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    await p.seal(start);
    const events = makeEvents(100, start, 72_000);
    await deliver(p, events);

    // Act: TTL runs every two days of the outage; the sequencer resumes after 14 days.
    let rescued = 0;
    for (let day = 2; day <= 14; day += 2) rescued += (await p.sweep(start + day * DAY)).rescued;
    const report = await p.seal(start + 14 * DAY);

    // Assess: every expired item was staged again and then archived once.
    expect(rescued).toBe(100);
    expect(report.setAside).toEqual([]);
    await expectExactlyOnce(p, events);
  });

  it('loses nothing when events keep arriving during the outage and TTL runs before, during and after', async () => {
    // Prepare
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    await p.seal(start);
    const before = makeEvents(20, start, 60_000);
    const during = makeEvents(40, start + 3 * DAY, 3_600_000).map(renamed);

    // Act
    await deliver(p, before);
    await p.sweep(start + 8 * DAY);
    await deliver(p, during);
    await p.sweep(start + 12 * DAY);
    await p.seal(start + 16 * DAY);
    await p.sweep(start + 40 * DAY);
    await p.seal(start + 40 * DAY);

    // Assess: and items archived then expired are not staged again.
    const archive = await expectExactlyOnce(p, [...before, ...during]);
    expect((await p.sweep(start + 80 * DAY)).rescued).toBe(0);
    expect((await p.read()).lines).toEqual(archive.lines);
  });

  it('lets items of a window sealed in time expire without staging them again', async () => {
    // Prepare
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const events = makeEvents(10, start, 20_000);
    await deliver(p, events);
    await p.seal(start + 10 * MINUTE);

    // Act
    const swept = await p.sweep(start + 30 * DAY);

    // Assess
    expect(swept).toEqual({ deleted: 10, rescued: 0 });
    await expectExactlyOnce(p, events);
  });
});

describe('a window that cannot be sealed as planned', () => {
  it('is set aside with a readable record while every other window and supplement is sealed', async () => {
    // Prepare: the archive holds a damaged manifest for the first of three windows.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const s3 = s3Client(fauxqs);
    await s3.send(new PutObjectCommand({ Bucket: p.bucket, Key: manifestKey(start), Body: 'not json' }));
    const events = makeEvents(6, start, 30_000);
    await deliver(p, events);

    // Act
    const first = await p.seal(start + 10 * MINUTE);
    const late = makeEvents(8, start, 30_000).slice(6);
    await deliver(p, late, 20 * MINUTE, 'late');
    const second = await p.seal(start + 30 * MINUTE);
    const record = await p.events.getSetAside(start);

    // Assess
    expect(first.setAside).toEqual([
      { window: '2026-11-01T09:00:00Z', reason: expect.stringContaining('ArchiveCorruptError') },
    ]);
    expect(first.sealed.map((w) => w.window)).toEqual(['2026-11-01T09:01:00Z', '2026-11-01T09:02:00Z']);
    expect(second.sealed.map((w) => [w.window, w.kind])).toEqual([['2026-11-01T09:03:00Z', 'late']]);
    expect(second.setAsideCount).toBe(1);
    expect(record).toMatchObject({ window: '2026-11-01T09:00:00Z', reason: expect.stringContaining('not JSON') });
    expect(record?.attempts).toBeGreaterThanOrEqual(2);
  });

  it('keeps its events through TTL and seals them once an operator repairs the archive', async () => {
    // Prepare
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const s3 = s3Client(fauxqs);
    await s3.send(new PutObjectCommand({ Bucket: p.bucket, Key: manifestKey(start), Body: '{}' }));
    const events = makeEvents(6, start, 30_000);
    await deliver(p, events);
    await p.seal(start + 10 * MINUTE);

    // Act: days pass, TTL runs; then the damaged manifest is removed.
    const swept = await p.sweep(start + 20 * DAY);
    await p.seal(start + 20 * DAY);
    await s3.send(new DeleteObjectCommand({ Bucket: p.bucket, Key: manifestKey(start) }));
    const repaired = await p.seal(start + 21 * DAY);

    // Assess: only the set-aside window's events were staged again.
    expect(swept.rescued).toBe(2);
    expect(repaired.setAsideCount).toBe(0);
    expect(await p.events.getSetAside(start)).toBeUndefined();
    await expectExactlyOnce(p, events);
  });
});

describe('a late supplement that cannot be written', () => {
  it('sets its window aside until the archive is repaired, then archives its late events once', async () => {
    // Prepare: windows sealed long ago, with no events; one of them has a damaged manifest.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const s3 = s3Client(fauxqs);
    const late = start + 2 * DAY;
    await p.seal(late);
    await s3.send(new PutObjectCommand({ Bucket: p.bucket, Key: manifestKey(start), Body: '[]' }));
    const events = makeEvents(4, start, 30_000);
    await deliver(p, events, 2 * DAY + MINUTE, 'late');

    // Act
    const broken = await p.seal(late + 10 * MINUTE);
    const stillBroken = await p.seal(late + 20 * MINUTE);
    await s3.send(new DeleteObjectCommand({ Bucket: p.bucket, Key: manifestKey(start) }));
    const repaired = await p.seal(late + 30 * MINUTE);

    // Assess
    expect(broken.setAside.map((w) => w.window)).toContain('2026-11-01T09:00:00Z');
    expect(broken.sealed.map((w) => w.window)).toEqual(['2026-11-01T09:01:00Z']);
    expect(stillBroken.setAsideCount).toBe(1);
    expect(await p.events.getSetAside(start + 10 * DAY)).toBeUndefined();
    expect(repaired.setAsideCount).toBe(0);
    expect(await p.events.getSetAside(start)).toBeUndefined();
    await expectExactlyOnce(p, events);
  });
});

describe('layout changes on a live stack', () => {
  /** Ingest and sequencer of the same table and bucket, as configured before and after a deploy. */
  const pair = async (before: Partial<typeof SETTINGS>, after: Partial<typeof SETTINGS>) => {
    const old = await newPipeline(dynamo, s3Client(fauxqs), { settings: { ...SETTINGS, ...before } });
    const next = await newPipeline(dynamo, s3Client(fauxqs), {
      settings: { ...SETTINGS, ...after },
      table: old.table,
      bucket: old.bucket,
    });
    return { old, next };
  };

  it.each([
    ['windowSeconds 60 -> 300', { windowSeconds: 60 }, { windowSeconds: 300 }],
    ['windowSeconds 300 -> 60', { windowSeconds: 300 }, { windowSeconds: 60 }],
    ['windowShards 8 -> 4', { windowShards: 8 }, { windowShards: 4 }],
    ['windowShards 4 -> 8', { windowShards: 4 }, { windowShards: 8 }],
    ['both at once', { windowSeconds: 60, windowShards: 8 }, { windowSeconds: 600, windowShards: 2 }],
  ])('%s neither loses nor doubles an event, redeliveries included', async (_name, before, after) => {
    // Prepare: 60 events over two hours, across the whole hour at which a new window length takes effect; the old
    // layout stages the first half and seals part of it.
    const { old, next } = await pair(before, after);
    const events = makeEvents(60, start, 60_000);
    await deliver(old, events.slice(0, 30));
    await old.seal(start + 20 * MINUTE);

    // Act: the deploy. The new sequencer runs while an old ingest instance still writes, then only the new layout;
    // some events are delivered again under the new layout.
    await next.seal(start + 31 * MINUTE);
    await deliver(old, events.slice(30, 36), 5_000, 'old');
    await deliver(next, events.slice(36));
    await deliver(next, events.slice(0, 40), 5_000, 'again');
    await next.seal(start + 3 * 60 * MINUTE);
    await next.seal(start + 5 * 60 * MINUTE);

    // Assess
    const archive = await expectExactlyOnce(next, events);
    expect([...archive.windows.values()].flatMap((w) => w.manifest.conflicts)).toEqual([]);
  });
});

describe('a missing sequencer state', () => {
  it('seals from the oldest staged window when the sequencer first runs days after the first events', async () => {
    // Prepare: first deploy; the sequencer fails for three days while events arrive.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const events = makeEvents(20, start, 3 * 3_600_000);
    await deliver(p, events);

    // Act
    await p.seal(start + 3 * DAY);

    // Assess
    await expectExactlyOnce(p, events);
  });

  it('neither loses nor doubles when the state item is deleted after sealing', async () => {
    // Prepare
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const events = makeEvents(30, start, 20_000);
    await deliver(p, events.slice(0, 20));
    await p.seal(start + 20 * MINUTE);

    // Act: the state is gone; redeliveries of archived events and new events arrive.
    await dynamo.client.send(
      new DeleteItemCommand({ TableName: p.table, Key: { pk: { S: 'sequencer' }, sk: { S: 'state' } } }),
    );
    await deliver(p, events.slice(10), 25 * MINUTE, 'after');
    await p.seal(start + 60 * MINUTE);

    // Assess
    await expectExactlyOnce(p, events);
  });
});

describe('sealing work', () => {
  it('follows the windows that hold events, not the span of time between them', async () => {
    // Prepare: a few events a year apart, from 2020 to 2026, counting the partitions the sequencer queries.
    let queries = 0;
    const p = await newPipeline(dynamo, s3Client(fauxqs), {
      wrap: (store, name) =>
        name === 'events'
          ? new Proxy(store, {
              get: (target, property, receiver) => {
                if (property === 'queryPartition') queries++;
                return Reflect.get(target, property, receiver);
              },
            })
          : store,
    });
    const years = [2020, 2021, 2022, 2023, 2024, 2025, 2026];
    const events = years.map((year, i) =>
      renamed(makeEvents(1, Date.parse(`${year}-03-0${i + 1}T10:00:00Z`))[0] as Envelope, i),
    );
    for (const [i, event] of events.entries()) await p.ingest(JSON.stringify(event), `m${i}`, start);

    // Act
    await p.seal(start + 10 * MINUTE);

    // Assess: one query per shard of each of the seven windows.
    expect(queries).toBe(years.length * SETTINGS.windowShards);
    await expectExactlyOnce(p, events);
  });
});

describe('late events at scale', () => {
  it('drains 1,500 late events over 500 sealed windows in bounded runs, one supplement per window per run', async () => {
    // Prepare: windows sealed long ago, then a backfill of late events for them, with a budget of 500 markers a run.
    const settings = { ...SETTINGS, maxLateMarkersPerRun: 500 };
    const p = await newPipeline(dynamo, s3Client(fauxqs), { settings });
    const late = start + 40 * DAY;
    await p.seal(late);
    const events = makeEvents(1_500, start, 1_000).map((event, i) =>
      renamed(
        { ...event, detail: { ...event.detail, published: new Date(start + (i % 500) * MINUTE).toISOString() } },
        i,
      ),
    );
    for (let i = 0; i < events.length; i += 25) {
      await Promise.all(events.slice(i, i + 25).map((event, j) => p.ingest(JSON.stringify(event), `b${i + j}`, late)));
    }

    // Act
    const runs: Array<Awaited<ReturnType<typeof p.run>>> = [];
    for (let minute = 1; minute <= 10; minute++) {
      runs.push(await p.run(late + minute * MINUTE));
      if (runs.at(-1)?.moreToDo === false) break;
    }

    // Assess
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.at(-1)?.moreToDo).toBe(false);
    for (const run of runs) {
      expect(new Set(run.sealed.map((w) => w.window)).size).toBe(run.sealed.length);
    }
    await expectExactlyOnce(p, events);
  }, 120_000);
});
