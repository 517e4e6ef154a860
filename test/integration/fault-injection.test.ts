import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeWith, makeEvents } from '../support/events.ts';
import { type Fault, FaultPlan, InjectedFault } from '../support/faults.ts';
import { leftovers, newPipeline, type PipelineUnderTest, partsAreSorted, s3Client } from '../support/pipeline.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * Fails the pipeline at every write (and the first reads) it makes, before the write and after it, then lets SQS-like
 * redelivery and the next scheduled sequencer run retry, and checks the archive is still exactly once.
 */
let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;
const start = Date.parse('2026-11-01T09:00:00.000Z');
const at = (minutes: number) => start + minutes * 60_000;

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

const events = makeEvents(6, start, 20_000);
const invalid = JSON.stringify(envelopeWith({ eventType: 'not an event type' }));
type Step = { ingest: string; now: number } | { seal: number };
const ev = (i: number) => JSON.stringify(events[i]);
/** On-time events with a duplicate, a seal, then late events, redeliveries after sealing and a bad event. */
const SCENARIO: Step[] = [
  { ingest: ev(0), now: at(0) },
  { ingest: ev(1), now: at(0) },
  { ingest: ev(0), now: at(0) },
  { ingest: ev(3), now: at(1) },
  { ingest: ev(2), now: at(1) },
  { seal: at(10) },
  { ingest: ev(4), now: at(11) },
  { ingest: ev(1), now: at(11) },
  { ingest: invalid, now: at(11) },
  { seal: at(12) },
  { ingest: ev(4), now: at(13) },
  { ingest: ev(5), now: at(13) },
  { seal: at(14) },
  { seal: at(17) },
  // A window set aside by a fault in the run before is sealed by the next run.
  { seal: at(20) },
];

/** Runs the scenario; a failed delivery is redelivered and a failed sequencer run runs again, as in AWS. */
const run = async (p: PipelineUnderTest) => {
  const retry = async (action: () => Promise<unknown>) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await action();
      } catch (error) {
        if (!(error instanceof InjectedFault) || attempt > 3) throw error;
      }
    }
  };
  for (const [i, step] of SCENARIO.entries()) {
    if ('seal' in step) await retry(() => p.seal(step.seal));
    else await retry(() => p.ingest(step.ingest, `message-${i}`, step.now));
  }
};

const assertExactlyOnce = async (p: PipelineUnderTest) => {
  const archive = await p.read();
  expect(archive.lines.map((line) => JSON.parse(line).uuid).sort()).toEqual(
    events.map((event) => event.detail.uuid).sort(),
  );
  expect(partsAreSorted(archive)).toBe(true);
  expect(archive.orphans).toEqual([]);
  expect(archive.quarantine.map((q) => q.key)).toEqual(['quarantine/dt=2026-11-01/message-8.json']);
  expect(await leftovers(p.events)).toEqual({ markers: [], pending: [] });
};

const READS = new Set([
  'readClose',
  'getSequencerState',
  'listPending',
  'queryPartition',
  'getStaged',
  'listLateMarkers',
  'getSetAside',
  'get',
]);

describe('exactly once under failure', () => {
  const faults: Fault[] = [];

  beforeAll(async () => {
    // A fault-free run counts the calls, which says where a fault can go.
    const plan = new FaultPlan();
    const p = await newPipeline(dynamo, s3Client(fauxqs), { wrap: plan.wrap });
    await run(p);
    await assertExactlyOnce(p);
    for (const [key, count] of plan.calls) {
      const [store, method] = key.split('.') as ['events' | 'archive', string];
      // Every write, at every call; reads fail only before (a read has nothing to lose after).
      const phases = READS.has(method) ? (['before'] as const) : (['before', 'after'] as const);
      const calls = READS.has(method) ? 1 : count;
      for (let nth = 1; nth <= calls; nth++) for (const phase of phases) faults.push({ store, method, nth, phase });
    }
  });

  it('covers every write the pipeline makes', () => {
    const methods = new Set(faults.map((fault) => `${fault.store}.${fault.method}`));
    for (const write of [
      'events.stage',
      'events.announce',
      'events.putLateMarker',
      'events.deleteLateMarker',
      'events.deletePending',
      'events.markArchived',
      'events.putSequencerState',
      'archive.put',
    ]) {
      expect(methods).toContain(write);
    }
    expect(faults.length).toBeGreaterThan(60);
  });

  it('neither loses nor doubles an event whatever single step fails', { timeout: 300_000 }, async () => {
    for (const fault of faults) {
      // Prepare
      const plan = new FaultPlan(fault);
      const p = await newPipeline(dynamo, s3Client(fauxqs), { wrap: plan.wrap });

      // Act
      await run(p);

      // Assess
      expect(plan.hasFired, JSON.stringify(fault)).toBe(true);
      await assertExactlyOnce(p).catch((error: Error) => {
        throw new Error(`with fault ${JSON.stringify(fault)}: ${error.message}`);
      });
    }
  });
});
