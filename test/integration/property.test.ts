import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvents } from '../support/events.ts';
import { FaultPlan, InjectedFault } from '../support/faults.ts';
import { newPipeline, partsAreSorted, s3Client } from '../support/pipeline.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
const start = Date.parse('2026-11-01T09:00:00.000Z');

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

/** One event's deliveries: 1-3 copies, each arriving after a delay, some long enough to be late. */
const deliveries = fc.array(
  fc.record({ copies: fc.array(fc.integer({ min: 0, max: 12 * 60_000 }), { minLength: 1, maxLength: 3 }) }),
  { minLength: 1, maxLength: 30 },
);

describe('property: any redeliveries, order, batching and failures give an exactly-once, ordered archive', () => {
  it('holds for random streams', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        deliveries,
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0, max: 0.15, noNaN: true }),
        fc.integer(),
        async (spec, batchSize, failureRate, seed) => {
          // Prepare: N events, each delivered 1-3 times, fully shuffled by arrival time.
          const events = makeEvents(spec.length, start, 9_000);
          let random = seed;
          const next = () => {
            random = (Math.imul(random, 1_103_515_245) + 12_345) | 0;
            return ((random >>> 0) % 10_000) / 10_000;
          };
          const queue = spec
            .flatMap(({ copies }, i) =>
              copies.map((delay) => ({
                raw: JSON.stringify(events[i]),
                arrival: Date.parse(String(events[i]?.detail.published)) + delay,
              })),
            )
            .sort((a, b) => a.arrival - b.arrival);
          let failing = true;
          const plan = new FaultPlan(() => {
            if (!failing || next() >= failureRate) return undefined;
            return next() < 0.5 ? 'before' : 'after';
          });
          const p = await newPipeline(dynamo, s3Client(fauxqs), { wrap: plan.wrap });

          // Act: batches in arrival order; a failed record comes back in a later batch (SQS redelivery); the
          // sequencer runs between batches on the same clock and, if it fails, on the next tick.
          let now = start;
          let id = 0;
          while (queue.length > 0) {
            const batch = queue.splice(0, batchSize);
            now = Math.max(now, ...batch.map((d) => d.arrival));
            const results = await Promise.allSettled(batch.map((d) => p.ingest(d.raw, `m${id++}`, now)));
            results.forEach((result, i) => {
              const delivery = batch[i];
              if (result.status === 'rejected') {
                if (!(result.reason instanceof InjectedFault)) throw result.reason;
                if (delivery) queue.push({ ...delivery, arrival: now + 1_000 });
              }
            });
            await p.seal(now, start).catch((error: unknown) => {
              if (!(error instanceof InjectedFault)) throw error;
            });
          }
          failing = false;
          await p.seal(now + 60 * 60_000, start);
          const archive = await p.read();

          // Assess
          const archived = archive.lines.map((line) => JSON.parse(line).uuid).sort();
          expect(archived).toEqual(events.map((event) => event.detail.uuid).sort());
          expect(new Set(archive.lines).size).toBe(archive.lines.length);
          expect(partsAreSorted(archive)).toBe(true);
          expect(archive.orphans).toEqual([]);
          expect(await p.events.listLateMarkers()).toEqual([]);
        },
      ),
      { numRuns: 25, seed: 20261122 },
    );
  });
});
