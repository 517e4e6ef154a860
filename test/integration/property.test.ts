import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { rescueExpired } from '../../lambdas/rescue/rescue-expired.ts';
import { runSequencer, type SequencerSettings } from '../../lambdas/sequencer/run-sequencer.ts';
import { S3ArchiveStore } from '../../lambdas/shared/s3-archive-store.ts';
import { InProcessEventStore } from '../../lib/local/in-process-event-store.ts';
import { makeEvents } from '../support/events.ts';
import { FaultPlan, InjectedFault } from '../support/faults.ts';
import {
  leftovers,
  newPipeline,
  type PipelineUnderTest,
  partsAreSorted,
  readArchive,
  SETTINGS,
  s3Client,
} from '../support/pipeline.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
const start = Date.parse('2026-11-01T09:00:00.000Z');
const DAY = 86_400_000;

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

/** How often the stream hands a failing record to its function (the stack's event source: 1 + 10 retries). */
const STREAM_ATTEMPTS = 11;

/**
 * The pipeline of test/support/pipeline.ts on the in-process events store of `olp local` instead of DynamoDB (the
 * archive stays on fauxqs): the same ingest, sequencer and rescue code; its TTL is the store's sweep, each deletion
 * handed to the rescue as DynamoDB Streams would, retried as the event source retries.
 */
const newInProcessPipeline = async (
  s3: S3Client,
  options: { wrap: FaultPlan['wrap']; store?: InProcessEventStore; bucket?: string; settings?: SequencerSettings },
): Promise<PipelineUnderTest & { readonly store: InProcessEventStore }> => {
  const settings = options.settings ?? SETTINGS;
  const bucket = options.bucket ?? `archive-${randomUUID()}`;
  if (options.bucket === undefined) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const store = options.store ?? new InProcessEventStore();
  const events = options.wrap(store, 'events');
  const archive = options.wrap(new S3ArchiveStore(s3, bucket), 'archive');
  const run = (now: number) => runSequencer({ events, archive }, settings, now);
  return {
    store,
    bucket,
    table: 'in-process',
    settings,
    events,
    archive,
    ingest: (raw, id, now) =>
      ingestEnvelope(
        raw,
        { id },
        {
          events,
          closedBefore: () => events.readClose(),
          quarantine: archive,
          now: () => now,
          newToken: randomUUID,
          pin: {},
        },
        settings,
      ),
    seal: async (now) => {
      const first = await run(now - settings.sealGuardSeconds * 1000);
      const second = await run(now);
      return {
        ...second,
        sealed: [...first.sealed, ...second.sealed],
        setAside: [...first.setAside, ...second.setAside],
      };
    },
    run,
    sweep: async (now) => {
      let rescued = 0;
      const expired = store.sweepExpired(now);
      for (const event of expired) {
        for (let attempt = 1; ; attempt++) {
          try {
            const [outcome] = await rescueExpired([event], { events, newToken: randomUUID, now: () => now });
            if (outcome === 'rescued') rescued++;
            break;
          } catch (error) {
            if (attempt >= STREAM_ATTEMPTS) throw error;
          }
        }
      }
      return { deleted: expired.length, rescued };
    },
    read: () => readArchive(s3, bucket),
  };
};

/** Two pipelines over one events table and bucket: before a deploy changes the layout, and after. */
type PipelinePair = (
  plan: FaultPlan,
  after: SequencerSettings | undefined,
) => Promise<{ before: PipelineUnderTest; after: PipelineUnderTest }>;

const STORES: ReadonlyArray<readonly [string, PipelinePair]> = [
  [
    'DynamoDB on dynalite',
    async (plan, settings) => {
      const before = await newPipeline(dynamo, s3Client(fauxqs), { wrap: plan.wrap });
      if (settings === undefined) return { before, after: before };
      const options = { wrap: plan.wrap, table: before.table, bucket: before.bucket, settings };
      return { before, after: await newPipeline(dynamo, s3Client(fauxqs), options) };
    },
  ],
  [
    'the in-process store of olp local',
    async (plan, settings) => {
      const before = await newInProcessPipeline(s3Client(fauxqs), { wrap: plan.wrap });
      if (settings === undefined) return { before, after: before };
      const options = { wrap: plan.wrap, store: before.store, bucket: before.bucket, settings };
      return { before, after: await newInProcessPipeline(s3Client(fauxqs), options) };
    },
  ],
];

/**
 * One event's deliveries: 1-3 copies, each arriving after a delay, some long enough to be late. Some events are old
 * (published up to six years before the stream starts, as a replay or backfill delivers them).
 */
const deliveries = fc.array(
  fc.record({
    copies: fc.array(fc.integer({ min: 0, max: 12 * 60_000 }), { minLength: 1, maxLength: 3 }),
    yearsOld: fc.option(fc.double({ min: 0.01, max: 6, noNaN: true }), { freq: 5 }),
  }),
  { minLength: 1, maxLength: 30 },
);

/** Where in the stream the sequencer stops, and for how long (up to three times the dedupe retention). */
const outage = fc.option(
  fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), days: fc.integer({ min: 1, max: 21 }) }),
);

/** Where in the stream a deploy changes the window length and shards, and to what. */
const layoutChange = fc.option(
  fc.record({
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    windowSeconds: fc.constantFrom(30, 60, 300, 600),
    windowShards: fc.integer({ min: 1, max: 8 }),
  }),
);

describe.each(STORES)(
  'property: any redeliveries, order, batching, failures, outages and layouts give an exactly-once archive, on %s',
  (_, pipelines) => {
    it('holds for random streams', { timeout: 600_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(
          deliveries,
          fc.integer({ min: 1, max: 10 }),
          fc.double({ min: 0, max: 0.15, noNaN: true }),
          outage,
          layoutChange,
          fc.integer(),
          async (spec, batchSize, failureRate, stop, change, seed) => {
            // Prepare: N events, each delivered 1-3 times, fully shuffled by arrival time.
            const events = makeEvents(spec.length, start, 9_000).map((event, i) => {
              const yearsOld = spec[i]?.yearsOld;
              if (yearsOld === null || yearsOld === undefined) return event;
              const published = new Date(start - Math.round(yearsOld * 365 * DAY)).toISOString();
              return { ...event, detail: { ...event.detail, published } };
            });
            let random = seed;
            const next = () => {
              random = (Math.imul(random, 1_103_515_245) + 12_345) | 0;
              return ((random >>> 0) % 10_000) / 10_000;
            };
            const queue = spec
              .flatMap(({ copies, yearsOld }, i) =>
                copies.map((delay) => ({
                  raw: JSON.stringify(events[i]),
                  // An old event arrives with the stream, as a replay would deliver it.
                  arrival:
                    (yearsOld == null ? Date.parse(String(events[i]?.detail.published)) : start + i * 9_000) + delay,
                })),
              )
              .sort((a, b) => a.arrival - b.arrival);
            let failing = true;
            const plan = new FaultPlan(() => {
              if (!failing || next() >= failureRate) return undefined;
              return next() < 0.5 ? 'before' : 'after';
            });
            const { before, after } = await pipelines(
              plan,
              change === null
                ? undefined
                : { ...SETTINGS, windowSeconds: change.windowSeconds, windowShards: change.windowShards },
            );
            const total = queue.length;
            const stopAt = stop === null ? Number.POSITIVE_INFINITY : Math.floor(stop.at * total);
            const changeAt = change === null ? Number.POSITIVE_INFINITY : Math.floor(change.at * total);

            // Act: batches in arrival order; a failed record comes back in a later batch (SQS redelivery); the
            // sequencer runs between batches on the same clock and, if it fails, on the next tick. During an outage it
            // does not run while days pass and DynamoDB's TTL deletes what expired; a deploy switches the layout.
            let now = start;
            let id = 0;
            let delivered = 0;
            let outageOver = stop === null;
            while (queue.length > 0) {
              const p = delivered >= changeAt ? after : before;
              const batch = queue.splice(0, batchSize);
              delivered += batch.length;
              now = Math.max(now, ...batch.map((d) => d.arrival));
              const results = await Promise.allSettled(batch.map((d) => p.ingest(d.raw, `m${id++}`, now)));
              results.forEach((result, i) => {
                const delivery = batch[i];
                if (result.status === 'rejected') {
                  if (!(result.reason instanceof InjectedFault)) throw result.reason;
                  if (delivery) queue.push({ ...delivery, arrival: now + 1_000 });
                }
              });
              if (!outageOver && delivered >= stopAt && stop !== null) {
                // The outage: days pass with TTL running and no sequencer; redeliveries still arrive after it.
                for (let day = 1; day <= stop.days; day++) await p.sweep(now + day * DAY);
                now += stop.days * DAY;
                outageOver = true;
              }
              await p.sweep(now);
              if (outageOver || delivered < stopAt) {
                await p.seal(now).catch((error: unknown) => {
                  if (!(error instanceof InjectedFault)) throw error;
                });
              }
            }
            failing = false;
            await after.seal(now + 60 * 60_000);
            await after.seal(now + 2 * 60 * 60_000);
            const archive = await after.read();

            // Assess
            const archived = archive.lines.map((line) => JSON.parse(line).uuid).sort();
            expect(archived).toEqual(events.map((event) => event.detail.uuid).sort());
            expect(new Set(archive.lines).size).toBe(archive.lines.length);
            expect(partsAreSorted(archive)).toBe(true);
            expect(archive.orphans).toEqual([]);
            expect(await leftovers(after.events)).toEqual({ markers: [], pending: [] });
          },
        ),
        { numRuns: 40, seed: 20261203 },
      );
    });
  },
);
