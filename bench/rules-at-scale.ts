import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DetectorDependencies, handleDetectorMessage } from '../lambdas/detector/process-detection.ts';
import { createDynamoDetectorStore } from '../lambdas/shared/dynamo-detector-store.ts';
import { DirArchiveSource } from '../lib/archive/archive-reader.ts';
import { exportArchive } from '../lib/archive/export-archive.ts';
import { HUNT_SOURCES, huntArchive } from '../lib/hunt/hunt-archive.ts';
import { compileRules, loadRules } from '../lib/rules/index.ts';
import { routeEvent } from '../lib/rules/routing.ts';

/**
 * The figures of the alert rules at scale: `olp hunt` over an archive (against reading the same archive alone), and
 * the detector's DynamoDB requests per event of the sample stream.
 */

const ALL = { since: Number.NEGATIVE_INFINITY, until: Number.POSITIVE_INFINITY };

const cpuSeconds = (before: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
};

export interface HuntFigures {
  readonly events: number;
  readonly singleEventRules: number;
  readonly statefulRules: number;
  /** Single-event rules only, per CPU second of this process. */
  readonly singleEventsPerSecond: number;
  /** The same, per second of wall-clock time: reading overlaps matching, as parts are gunzipped on other threads. */
  readonly singleEventsPerWallSecond: number;
  /** Every rule of the pack, stateful ones included. */
  readonly allRulesEventsPerSecond: number;
  /** Reading the same archive (list, gunzip, parse, order) and nothing else: the reference. */
  readonly readEventsPerSecond: number;
}

/** Events per second of CPU: the machine is shared with the stand-ins, so wall time would measure them too. */
async function perCpuSecond(run: () => Promise<number>): Promise<number> {
  const before = process.cpuUsage();
  const events = await run();
  return events / cpuSeconds(before);
}

export async function huntAtScale(archiveDir: string): Promise<HuntFigures> {
  const source = new DirArchiveSource(archiveDir);
  const rules = loadRules();
  const all = compileRules(rules, HUNT_SOURCES);
  const single = all.filter((rule) => rule.detect === undefined);
  const hunt = async (compiled: typeof all) =>
    (await huntArchive({ source, range: ALL, rules: compiled, onAlert: () => {} })).events;
  // Once to warm the JIT and the file cache, then measured.
  await hunt(single);
  const readEventsPerSecond = await perCpuSecond(
    async () => (await exportArchive({ source, range: ALL, write: async () => true })).events,
  );
  const singleEventsPerSecond = await perCpuSecond(() => hunt(single));
  const started = performance.now();
  const huntedEvents = await hunt(single);
  const singleEventsPerWallSecond = huntedEvents / ((performance.now() - started) / 1000);
  const allRulesEventsPerSecond = await perCpuSecond(() => hunt(all));
  return {
    events: await hunt(single),
    singleEventRules: single.length,
    statefulRules: all.length - single.length,
    singleEventsPerSecond,
    singleEventsPerWallSecond,
    allRulesEventsPerSecond,
    readEventsPerSecond,
  };
}

export interface DetectorFigures {
  readonly events: number;
  /** Detector-queue messages: events a stateful rule's pre-filter matched, once per rule. */
  readonly detectorMessages: number;
  readonly putsPerMessage: number;
  readonly queriesPerMessage: number;
  readonly writeUnitsPerMessage: number;
  readonly readUnitsPerMessage: number;
  /** Per event of the stream, all rules together: what the cost estimate multiplies. */
  readonly messagesPerEvent: number;
  readonly detections: number;
}

interface Usage {
  count(command: string): number;
  readonly readUnits: number;
  readonly writeUnits: number;
  reset(): void;
}

/** The detector's code on the DynamoDB store (dynalite), for the events of `envelopes`, counted by `usage`. */
export async function detectorRequests(
  envelopes: readonly Record<string, unknown>[],
  client: DynamoDBClient,
  usage: Usage,
  tableName: string,
): Promise<DetectorFigures> {
  const eventSource = String(envelopes[0]?.source ?? 'aws.partner/okta.com/acme/okta-logs');
  const rules = compileRules(loadRules(), { okta: eventSource });
  let detections = 0;
  const deps: DetectorDependencies = {
    store: createDynamoDetectorStore(client, tableName),
    alertQueue: {
      send: async (messages) => {
        detections += messages.length;
      },
    },
    quarantine: { put: async () => {}, get: async () => undefined },
    pin: {},
    keepSeconds: 86_400,
    now: Date.now,
  };
  usage.reset();
  let messages = 0;
  for (const envelope of envelopes) {
    for (const body of routeEvent(rules, envelope).detections) {
      await handleDetectorMessage(body, `bench-${++messages}`, deps);
    }
  }
  const per = (n: number) => (messages === 0 ? 0 : n / messages);
  return {
    events: envelopes.length,
    detectorMessages: messages,
    putsPerMessage: per(usage.count('PutItem')),
    queriesPerMessage: per(usage.count('Query')),
    writeUnitsPerMessage: per(usage.writeUnits),
    readUnitsPerMessage: per(usage.readUnits),
    messagesPerEvent: messages / envelopes.length,
    detections,
  };
}
