import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeWith, makeEvents } from '../support/events.ts';
import { leftovers, newPipeline, partsAreSorted, s3Client } from '../support/pipeline.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
const start = Date.parse('2026-11-01T09:00:00.000Z');
const minutes = (n: number) => n * 60_000;

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

const pipeline = () => newPipeline(dynamo, s3Client(fauxqs));

describe('ingest and sequencer on dynalite and fauxqs S3', () => {
  it('archives each event once per window, sorted by published, whatever the redeliveries and order', async () => {
    // Prepare
    const p = await pipeline();
    const events = makeEvents(40);
    const deliveries = [...events, ...events.slice(0, 15), ...events.slice(5, 10)].reverse();

    // Act
    const outcomes = [];
    for (const [i, event] of deliveries.entries()) outcomes.push(await p.ingest(JSON.stringify(event), `m${i}`, start));
    const report = await p.seal(start + minutes(30));
    const archive = await p.read();

    // Assess
    expect(outcomes.filter((o) => o.kind === 'staged')).toHaveLength(40);
    expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(20);
    expect(archive.lines).toHaveLength(40);
    expect(new Set(archive.lines.map((line) => JSON.parse(line).uuid)).size).toBe(40);
    expect(partsAreSorted(archive)).toBe(true);
    expect(archive.orphans).toEqual([]);
    expect(report.sealed.reduce((sum, window) => sum + window.eventCount, 0)).toBe(40);
    expect([...archive.windows.keys()][0]).toBe('archive/dt=2026-11-01/hour=09/window=2026-11-01T09-00-00Z/');
  });

  it('keeps each line exactly as received', async () => {
    // Prepare
    const p = await pipeline();
    const [event] = makeEvents(1);

    // Act
    await p.ingest(JSON.stringify(event), 'm1', start);
    await p.seal(start + minutes(10));
    const archive = await p.read();

    // Assess
    expect(archive.lines).toEqual([JSON.stringify(event?.detail)]);
  });

  it('seals a window only once the run that closed it is a guard old', async () => {
    // Prepare: the window 09:00-09:01 ends, then its allowed lateness (120 s) passes.
    const p = await pipeline();
    await p.ingest(JSON.stringify(makeEvents(1)[0]), 'm1', start);
    const closing = start + minutes(1) + 120_000;

    // Act
    const before = await p.run(closing - 1);
    const closed = await p.run(closing);
    const early = await p.run(closing + 29_000);
    const due = await p.run(closing + 30_000);

    // Assess
    expect([before.sealed, closed.sealed, early.sealed]).toEqual([[], [], []]);
    expect(due.sealed).toEqual([{ window: '2026-11-01T09:00:00Z', kind: 'main', eventCount: 1, conflicts: [] }]);
  });

  it('stages an event late once its window is closed, before the window is sealed', async () => {
    // Prepare
    const p = await pipeline();
    const [early, late] = makeEvents(2, start, 1_000);
    await p.ingest(JSON.stringify(early), 'm1', start);
    await p.run(start + minutes(3));

    // Act: the window is closed, not yet sealed; then it is sealed.
    const outcome = await p.ingest(JSON.stringify(late), 'm2', start + minutes(3) + 1_000);
    await p.seal(start + minutes(5));
    const archive = await p.read();

    // Assess: the late arrival is in the main part, since the seal read it; its marker is gone.
    expect(outcome.kind === 'staged' && outcome.event.late).toBe(true);
    expect([...archive.windows.values()].map((w) => w.manifest.parts.map((part) => part.kind))).toEqual([['main']]);
    expect(archive.lines).toHaveLength(2);
    expect(await leftovers(p.events)).toEqual({ markers: [], pending: [] });
  });

  it('archives an event that arrives after its window was sealed in a late supplement, once', async () => {
    // Prepare
    const p = await pipeline();
    const [onTime, late] = makeEvents(2, start, 1_000);
    await p.ingest(JSON.stringify(onTime), 'm1', start);
    await p.seal(start + minutes(10));

    // Act
    const first = await p.ingest(JSON.stringify(late), 'm2', start + minutes(11));
    await p.seal(start + minutes(12));
    const again = await p.ingest(JSON.stringify(late), 'm3', start + minutes(13));
    const onTimeAgain = await p.ingest(JSON.stringify(onTime), 'm4', start + minutes(13));
    await p.seal(start + minutes(14));
    const archive = await p.read();

    // Assess
    expect(first.kind === 'staged' && first.event.late).toBe(true);
    expect(again.kind).toBe('duplicate');
    expect(onTimeAgain.kind).toBe('duplicate');
    const window = [...archive.windows.values()][0];
    expect(window?.manifest.parts.map((part) => [part.kind, part.eventCount])).toEqual([
      ['main', 1],
      ['late', 1],
    ]);
    expect(window?.manifest.parts[1]?.key).toMatch(/late-0001\.jsonl\.gz$/);
    expect(window?.manifest.eventCount).toBe(2);
    expect(archive.lines).toHaveLength(2);
    expect((await leftovers(p.events)).markers).toEqual([]);
  });

  it('starts a manifest for a window whose events all arrived late', async () => {
    // Prepare
    const p = await pipeline();
    await p.seal(start + minutes(60));

    // Act
    const outcome = await p.ingest(JSON.stringify(makeEvents(1)[0]), 'm1', start + minutes(61));
    await p.seal(start + minutes(62));
    const archive = await p.read();

    // Assess
    expect(outcome.kind === 'staged' && outcome.event.late).toBe(true);
    expect([...archive.windows.values()].map((w) => w.manifest.parts.map((part) => part.kind))).toEqual([['late']]);
  });

  it('takes the same event serialised another way (as the System Log API writes it) as a duplicate, not a conflict', async () => {
    // Prepare: the stream's envelope, and the same event with its keys reversed, spaced and escaped differently.
    const p = await pipeline();
    const [event] = makeEvents(1);
    const detail = event?.detail as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(detail).reverse());
    const apiText = JSON.stringify(reordered, null, 1).replaceAll('"SUCCESS"', '"\\u0053UCCESS"');
    const api = JSON.stringify({ ...event, detail: '@' }).replace('"@"', apiText);

    // Act
    const first = await p.ingest(JSON.stringify(event), 'm1', start);
    const again = await p.ingest(api, 'm2', start);
    const late = await p.ingest(api, 'm3', start + minutes(11));
    await p.seal(start + minutes(10));
    await p.seal(start + minutes(14));
    const archive = await p.read();

    // Assess
    expect([first.kind, again.kind, late.kind]).toEqual(['staged', 'duplicate', 'duplicate']);
    expect(archive.lines).toEqual([JSON.stringify(detail)]);
    expect([...archive.windows.values()][0]?.manifest.conflicts).toEqual([]);
  });

  it('keeps and flags the same uuid with different content', async () => {
    // Prepare
    const p = await pipeline();
    const [event] = makeEvents(1);
    const changed = envelopeWith({ ...event?.detail, displayMessage: 'User accessing Okta admin app (edited)' });

    // Act
    await p.ingest(JSON.stringify(event), 'm1', start);
    const second = await p.ingest(JSON.stringify(changed), 'm2', start);
    const report = await p.seal(start + minutes(10));
    const archive = await p.read();

    // Assess
    expect(second.kind).toBe('staged');
    expect(archive.lines).toHaveLength(2);
    expect(report.sealed[0]?.conflicts).toEqual([event?.detail.uuid]);
    expect([...archive.windows.values()][0]?.manifest.conflicts).toEqual([event?.detail.uuid]);
  });

  it('flags a late event whose uuid was archived on time with other content', async () => {
    // Prepare
    const p = await pipeline();
    const [event] = makeEvents(1);
    await p.ingest(JSON.stringify(event), 'm1', start);
    await p.seal(start + minutes(10));

    // Act
    await p.ingest(JSON.stringify(envelopeWith({ ...event?.detail, severity: 'WARN' })), 'm2', start + minutes(11));
    await p.seal(start + minutes(12));
    const archive = await p.read();

    // Assess
    expect(archive.lines).toHaveLength(2);
    expect([...archive.windows.values()][0]?.manifest.conflicts).toEqual([event?.detail.uuid]);
  });

  it('never overwrites a window the archive holds: events it does not list yet go into a supplement', async () => {
    // Prepare: a second pipeline (new events table, so new state) writing to the same archive, with one event the
    // archive holds and one it does not.
    const first = await pipeline();
    const [a, b] = makeEvents(2, start, 1_000);
    await first.ingest(JSON.stringify(a), 'm1', start);
    await first.seal(start + minutes(10));
    const before = await first.read();
    const second = await newPipeline(dynamo, s3Client(fauxqs), { bucket: first.bucket });
    await second.ingest(JSON.stringify(a), 'm2', start);
    await second.ingest(JSON.stringify(b), 'm3', start);

    // Act
    const report = await second.seal(start + minutes(10));
    const after = await second.read();

    // Assess
    const [window] = after.windows.values();
    expect(window?.manifest.parts.map((part) => part.kind)).toEqual(['main', 'late']);
    expect(window?.manifest.parts[0]).toEqual([...before.windows.values()][0]?.manifest.parts[0]);
    expect(after.lines).toEqual([JSON.stringify(a?.detail), JSON.stringify(b?.detail)]);
    expect(report.setAside).toEqual([]);
  });

  it('quarantines a bad event with its reason and raw body, and stages nothing', async () => {
    // Prepare
    const p = await pipeline();
    const bad = JSON.stringify(envelopeWith({ published: 'not a date' }));

    // Act
    const outcome = await p.ingest(bad, 'msg-1', start);
    await p.seal(start + minutes(10));
    const archive = await p.read();

    // Assess
    expect(outcome.kind).toBe('quarantined');
    expect(archive.lines).toEqual([]);
    expect(archive.quarantine).toHaveLength(1);
    expect(archive.quarantine[0]?.key).toBe('quarantine/dt=2026-11-01/msg-1.json');
    expect(archive.quarantine[0]?.record).toMatchObject({
      reason: expect.stringContaining('detail: published: must be an ISO-8601 instant'),
      origin: { id: 'msg-1' },
      raw: bad,
    });
  });
});
