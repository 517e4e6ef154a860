import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envelopeFields, envelopeText } from '../../lambdas/shared/system-log-envelope.ts';
import { DynamoWatchdogStore } from '../../lambdas/watchdog/dynamo-watchdog-store.ts';
import { oktaFeed } from '../../lambdas/watchdog/okta-feed.ts';
import { runWatchdog, type WatchdogReport, type WatchdogSettings } from '../../lambdas/watchdog/run-watchdog.ts';
import { initialState } from '../../lambdas/watchdog/watchdog-state.ts';
import { type LocalAlert, LocalPipeline } from '../../lib/local/local-pipeline.ts';
import { createKeyTable } from '../../lib/local/stand-ins.ts';
import { OktaClient } from '../../lib/okta/okta-client.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import { fixtureEnvelope } from '../support/events.ts';
import { FAKE_OKTA_TOKEN, type FakeOkta, startFakeOkta } from '../support/fake-okta.ts';
import { partsAreSorted, readArchiveDir } from '../support/pipeline.ts';
import { runOlp, tempDir } from '../support/run-cli.ts';
import { startDynamo } from '../support/stand-ins.ts';

/**
 * The feed watchdog's whole story on the stand-ins: a fake Okta org whose log stream delivers to the local pipeline
 * (the deployed topology on dynalite and fauxqs), fails two deliveries, is deactivated by Okta, which logs that and
 * keeps logging; the watchdog code the Lambda runs alerts once, reactivates when allowed and refills the gap; at the end
 * the archive holds every System Log event exactly once, in order. Time is simulated: the fake Okta's clock and the
 * watchdog's `now` move together, hours in the past of the wall clock (ingest rejects events from the future).
 */

const SOURCE = 'aws.partner/okta.com/acme/okta-logs';
const ENVELOPE = { source: SOURCE, account: '123456789012', region: 'us-east-1' };
const MINUTE = 60_000;
const RULES = compileRules(loadRules(), SOURCE);

const temp = tempDir('watchdog');
let n = 0;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A System Log event on the fixture's shape, published at `at`. */
const oktaEvent = (at: number, eventType = 'user.session.start'): Record<string, unknown> => ({
  ...fixtureEnvelope().detail,
  uuid: randomUUID(),
  published: new Date(at).toISOString(),
  eventType,
});

interface Story {
  readonly okta: FakeOkta;
  readonly pipeline: LocalPipeline;
  readonly alerts: LocalAlert[];
  readonly clock: { now: number };
  /** When the story began (the simulated clock's start). */
  readonly started: number;
  /** Events EventBridge accepted and the pipeline has not taken yet. */
  readonly inbox: object[];
  /** Whether deliveries fail (the partner event bus deleted, say). */
  broken: boolean;
  /** Okta logs `count` events, `stepMs` apart from the clock, which moves along. */
  logEvents(count: number, stepMs: number, eventType?: string): Promise<object[]>;
  /** The pipeline takes what EventBridge accepted. */
  flush(): Promise<void>;
  watchdog(overrides?: Partial<WatchdogSettings>): Promise<WatchdogReport>;
}

const startStory = async (): Promise<Story> => {
  const clock = { now: Date.now() - 6 * 60 * MINUTE };
  const alerts: LocalAlert[] = [];
  const inbox: object[] = [];
  const story = { broken: false } as { broken: boolean };
  const okta = await startFakeOkta({
    events: [],
    pageLimitMax: 100,
    now: () => clock.now,
    streams: [
      {
        id: '0oa1stream',
        name: 'acme okta-logs',
        settings: { accountId: '123456789012', eventSourceName: 'okta-logs', region: 'us-east-1' },
      },
    ],
    deliver: async (event) => {
      if (story.broken) throw new Error('the partner event bus does not exist');
      inbox.push(event);
    },
  });
  const pipeline = await LocalPipeline.start({
    archiveDir: join(temp.dir, `archive-${n++}`),
    rules: loadRules(),
    windowSeconds: 60,
    allowedLatenessSeconds: 120,
    dedupeRetentionDays: 7,
    alertDedupeRetentionDays: 30,
    inputName: 'okta log stream',
    eventSourceName: SOURCE,
    onAlert: (alert) => alerts.push(alert),
  });
  cleanups.push(
    () => pipeline.stop(),
    () => okta.stop(),
  );
  const client = new OktaClient({
    orgUrl: okta.url,
    credentials: { kind: 'ssws', token: FAKE_OKTA_TOKEN },
    now: () => clock.now,
    sleep: async () => {},
  });
  let line = 0;
  return Object.assign(story, {
    okta,
    pipeline,
    alerts,
    clock,
    inbox,
    started: clock.now,
    async logEvents(count: number, stepMs: number, eventType?: string) {
      const logged: object[] = [];
      for (let i = 0; i < count; i++) {
        clock.now += stepMs;
        const event = oktaEvent(clock.now, eventType);
        logged.push(event);
        await okta.log([event]);
      }
      return logged;
    },
    async flush() {
      const records = inbox.splice(0).map((event) => {
        const record = event as Record<string, unknown>;
        const envelope = { ...envelopeFields(record, ENVELOPE), detail: event };
        return { line: ++line, envelope, raw: envelopeText(record, JSON.stringify(event), ENVELOPE) };
      });
      await pipeline.push(records);
    },
    async watchdog(overrides: Partial<WatchdogSettings> = {}) {
      const settings: WatchdogSettings = {
        staging: { windowSeconds: 60, allowedLatenessSeconds: 120, windowShards: 1, dedupeRetentionDays: 7 },
        envelope: ENVELOPE,
        checkDelayMs: 7 * MINUTE,
        maxCheckAgeMs: 6 * 24 * 60 * MINUTE,
        autoReactivate: false,
        maxPagesPerRun: 50,
        stopBeforeDeadlineMs: 0,
        ...overrides,
      };
      const report = await runWatchdog(
        pipeline.watchdogDeps(oktaFeed(client, 'okta-logs'), RULES, () => clock.now),
        settings,
      );
      await pipeline.process();
      return report;
    },
  });
};

/** How often each uuid is archived, read through the manifests (each part's SHA-256 and count checked). */
const archivedCounts = async (pipeline: LocalPipeline) => {
  const contents = await readArchiveDir(pipeline.archiveDir);
  const counts = new Map<string, number>();
  for (const line of contents.lines) {
    const uuid = (JSON.parse(line) as { uuid: string }).uuid;
    counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
  }
  return { contents, counts };
};

const uuidsOf = (events: readonly object[]) => events.map((event) => (event as { uuid: string }).uuid);
const ruleCount = (alerts: readonly LocalAlert[], ruleId: string) => alerts.filter((a) => a.ruleId === ruleId).length;

describe('the feed watchdog on the stand-ins', () => {
  it('alerts once when Okta deactivates the stream, reactivates it, refills the gap: every event archived once', async () => {
    // Prepare: ten minutes delivered, then two failed deliveries deactivate the stream; Okta logs on for twenty
    // minutes, among them a privilege grant that no rule saw.
    const story = await startStory();
    await story.watchdog(); // deployed with the pipeline: it checks from here on
    await story.logEvents(30, 20_000);
    await story.flush();
    story.broken = true;
    await story.logEvents(40, 30_000);
    await story.logEvents(1, 10_000, 'user.account.privilege.grant');
    expect(story.okta.deliveries.failed).toBe(2);
    expect(story.okta.streams[0]?.status).toBe('INACTIVE');
    story.clock.now += 10 * MINUTE;
    story.broken = false;

    // Act: the watchdog runs, with autoReactivate.
    const first = await story.watchdog({ autoReactivate: true });

    // Assert: one inactive alert and one follow-up, the stream active again, the gap sent to ingest.
    expect(first.status).toBe('INACTIVE');
    expect(first.reactivated).toBe(true);
    expect(story.okta.streams[0]?.status).toBe('ACTIVE');
    expect(first.alerts).toEqual(['olp-watchdog-log-stream-inactive', 'olp-watchdog-log-stream-reactivated']);
    expect(first.backfilled).toBeGreaterThan(40);
    expect(ruleCount(story.alerts, 'olp-watchdog-log-stream-inactive')).toBe(1);
    expect(ruleCount(story.alerts, 'olp-watchdog-log-stream-reactivated')).toBe(1);
    // The deactivation never travelled down the dead stream: it alerts through the watchdog, once.
    expect(ruleCount(story.alerts, 'log-stream-deactivated')).toBe(1);
    expect(ruleCount(story.alerts, 'admin-role-granted-to-user')).toBe(1);

    // Act: the stream delivers again; more runs, two of them at once.
    await story.logEvents(30, 20_000);
    await story.flush();
    const again = await story.watchdog({ autoReactivate: true });
    story.clock.now += 15 * MINUTE;
    await Promise.all([story.watchdog(), story.watchdog()]);
    const last = await story.watchdog();
    await story.pipeline.finish();

    // Assert: no second alert for the same episode or event, overlapping runs included.
    expect(again.alerts).toEqual([]);
    expect(last.backfilled).toBe(0);
    expect(ruleCount(story.alerts, 'olp-watchdog-log-stream-inactive')).toBe(1);
    expect(ruleCount(story.alerts, 'log-stream-deactivated')).toBe(1);
    expect(ruleCount(story.alerts, 'admin-role-granted-to-user')).toBe(1);
    // Every System Log event, lifecycle events included, archived exactly once and in order.
    const { contents, counts } = await archivedCounts(story.pipeline);
    const logged = uuidsOf(story.okta.systemLog());
    expect([...counts.keys()].sort()).toEqual([...logged].sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(partsAreSorted(contents)).toBe(true);
    expect(contents.orphans).toEqual([]);
    // And olp audit, reading the same System Log, finds nothing missing.
    const audit = await runOlp(
      [
        'audit',
        '--okta-org',
        story.okta.url,
        '--since',
        new Date(story.started).toISOString(),
        '--until',
        new Date(story.clock.now).toISOString(),
        '--archive-dir',
        story.pipeline.archiveDir,
        '--json',
      ],
      { env: { OKTA_API_TOKEN: FAKE_OKTA_TOKEN } },
    );
    expect(audit.stderr).not.toMatch(/missing|problem|error/i);
    expect(audit.code).toBe(0);
    const result = JSON.parse(audit.stdout) as { okta: number; archived: number; missing: string[] };
    expect(result).toMatchObject({ okta: logged.length, archived: logged.length, missing: [] });
  }, 120_000);

  it('refills events lost while the stream was briefly down into sealed windows, as late parts marked backfill', async () => {
    // Prepare: the two failed deliveries fall in windows that other events fill and that are sealed before the
    // watchdog runs; an admin reactivates the stream at once, and it delivers on.
    const story = await startStory();
    await story.watchdog();
    await story.logEvents(30, 20_000);
    story.broken = true;
    const lost = await story.logEvents(2, 5_000);
    story.broken = false;
    const stream = story.okta.streams[0];
    if (stream === undefined) throw new Error('the fake has no stream');
    const admin = new OktaClient({ orgUrl: story.okta.url, credentials: { kind: 'ssws', token: FAKE_OKTA_TOKEN } });
    await admin.request({
      call: 'activate',
      method: 'POST',
      target: `/api/v1/logStreams/${stream.id}/lifecycle/activate`,
    });
    await story.logEvents(40, 20_000);
    await story.flush();
    story.clock.now += 10 * MINUTE;
    const before = await readArchiveDir(story.pipeline.archiveDir);

    // Act
    const report = await story.watchdog();
    await story.pipeline.finish();

    // Assert: the stream was ACTIVE, so no episode alert; the lost events were refilled into late parts that list
    // them as backfilled, beside main parts left byte-identical.
    expect(report.status).toBe('ACTIVE');
    expect(report.alerts).toEqual([]);
    expect(report.backfilled).toBe(2 + 2); // the two lost events, and the deactivation and activation events
    const after = await readArchiveDir(story.pipeline.archiveDir);
    const lostKeys = new Set(uuidsOf(lost));
    const lateParts = [...after.windows.values()].flatMap(({ manifest }) =>
      manifest.parts.filter((part) => part.kind === 'late'),
    );
    const backfilled = lateParts.flatMap((part) => part.backfilled ?? []).map((key) => key.split('#')[0]);
    for (const uuid of lostKeys) expect(backfilled).toContain(uuid);
    for (const [prefix, window] of before.windows) {
      const main = window.manifest.parts.find((part) => part.kind === 'main');
      expect(after.windows.get(prefix)?.manifest.parts.find((part) => part.kind === 'main')).toEqual(main);
    }
    const { counts } = await archivedCounts(story.pipeline);
    expect([...counts.keys()].sort()).toEqual(uuidsOf(story.okta.systemLog()).sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    // The deactivation alert fires once, though the activation and deactivation events came only from the API.
    expect(ruleCount(story.alerts, 'log-stream-deactivated')).toBe(1);
  }, 120_000);

  it('skips, with one alert, a range older than the dedupe retention allows checking', async () => {
    // Prepare: a first run sets the cursor; then the watchdog is stopped for ten days.
    const story = await startStory();
    await story.logEvents(5, 20_000);
    await story.flush();
    story.clock.now += 10 * MINUTE;
    await story.watchdog();
    story.clock.now += 10 * 24 * 60 * MINUTE;

    // Act
    const skipping = await story.watchdog();
    const next = await story.watchdog();

    // Assert
    expect(skipping.skipped).toBeDefined();
    expect(skipping.alerts).toEqual(['olp-watchdog-range-unchecked']);
    expect(next.skipped).toBeUndefined();
    expect(ruleCount(story.alerts, 'olp-watchdog-range-unchecked')).toBe(1);
  }, 60_000);

  it('stops after maxPagesPerRun and resumes where it stopped, never archiving a refilled event twice', async () => {
    // Prepare: a stream that never delivered 250 events; pages of 100 (the fake's cap), one page per run.
    const story = await startStory();
    await story.watchdog();
    story.broken = true;
    await story.logEvents(250, 2_000);
    story.clock.now += 10 * MINUTE;
    story.broken = false;

    // Act
    const runs: WatchdogReport[] = [];
    for (let i = 0; i < 6; i++) runs.push(await story.watchdog({ maxPagesPerRun: 1 }));
    await story.pipeline.finish();

    // Assert: the first runs each read a page and said there was more; the last found nothing new.
    expect(runs[0]?.moreToDo).toBe(true);
    expect(runs.at(-1)?.moreToDo).toBe(false);
    expect(runs.at(-1)?.backfilled).toBe(0);
    const { counts } = await archivedCounts(story.pipeline);
    expect([...counts.keys()].sort()).toEqual(uuidsOf(story.okta.systemLog()).sort());
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
  }, 120_000);
});

describe('the watchdog state on dynalite', () => {
  it('is written only over the version it was read at, so a run that read an older state cannot overwrite it', async () => {
    const dynamo = await startDynamo();
    cleanups.push(() => dynamo.stop());
    await createKeyTable(dynamo.client, 'events', { sortKey: true });
    const store = new DynamoWatchdogStore(dynamo.client, 'events');
    const state = initialState(1_000);

    expect(await store.read()).toBeUndefined();
    expect(await store.write(state, undefined)).toBe(true);
    // A second first write, as an overlapping first run would try, fails.
    expect(await store.write({ ...state, checkedBefore: 5 }, undefined)).toBe(false);
    expect(await store.read()).toEqual({ state, version: 1 });
    expect(await store.write({ ...state, checkedBefore: 2_000 }, 1)).toBe(true);
    expect(await store.write({ ...state, checkedBefore: 3_000 }, 1)).toBe(false);
    expect(await store.read()).toEqual({ state: { ...state, checkedBefore: 2_000 }, version: 2 });
  });
});
