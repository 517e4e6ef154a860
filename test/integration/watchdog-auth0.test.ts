import { randomUUID } from 'node:crypto';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { createSnsAlertPublisher } from '../../lambdas/alert/sns-publisher.ts';
import { ingestEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { createDynamoAlertClaims } from '../../lambdas/shared/dynamo-alert-claims.ts';
import { DynamoEventStore } from '../../lambdas/shared/dynamo-event-store.ts';
import { AUTH0, AUTH0_HTTP_SOURCE } from '../../lambdas/shared/log-sources.ts';
import type { ArchiveStore } from '../../lambdas/shared/ports.ts';
import { sqsQueueSender } from '../../lambdas/shared/sqs-queue-sender.ts';
import { stagedKeyOf } from '../../lambdas/shared/staged-event.ts';
import { type EnvelopeOrigin, wrapEvent } from '../../lambdas/shared/system-log-envelope.ts';
import { type Auth0StreamSelector, auth0Feed } from '../../lambdas/watchdog/auth0-feed.ts';
import { Auth0WatchdogState } from '../../lambdas/watchdog/auth0-watchdog-state.ts';
import { DynamoStateItem } from '../../lambdas/watchdog/dynamo-watchdog-store.ts';
import {
  type Auth0WatchdogReport,
  type Auth0WatchdogSettings,
  runAuth0Watchdog,
} from '../../lambdas/watchdog/run-auth0-watchdog.ts';
import { Auth0Client } from '../../lib/auth0/auth0-client.ts';
import { createKeyTable } from '../../lib/local/stand-ins.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import {
  type FakeAuth0,
  type FakeAuth0Log,
  type FakeAuth0StreamInput,
  LOG_SCOPES,
  LOG_STREAM_SCOPES,
  startFakeAuth0,
} from '../support/fake-auth0.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * The watchdog's Auth0 run on the stand-ins: a fake Auth0 tenant whose log stream delivers to the real ingest code
 * (dynalite for the Auth0 events table, fauxqs for the queues and the alert topic) until its sink fails and Auth0
 * suspends it, while the tenant keeps logging. The watchdog code the Lambda runs alerts once, resumes the stream and
 * refills exactly what was not delivered. Time is simulated: the fake's clock and the watchdog's `now` move together,
 * hours behind the wall clock (ingest refuses logs from the future).
 */

const SOURCE = 'aws.partner/auth0.com/acme-0123456789abcdef/auth0.logs';
const ACCOUNT = '123456789012';
const ENVELOPE: EnvelopeOrigin = { source: SOURCE, account: ACCOUNT, region: 'us-east-1' };
const STAGING = { windowSeconds: 60, allowedLatenessSeconds: 120, windowShards: 4, dedupeRetentionDays: 7 };
const MINUTE = 60_000;
const APP = { clientId: 'olp-watchdog', clientSecret: 'fake-client-secret-for-tests-only' };
const EVENTBRIDGE_STREAM: FakeAuth0StreamInput = {
  id: 'lst_0000000000000001',
  name: 'acme eventbridge',
  type: 'eventbridge',
  sink: { awsAccountId: ACCOUNT, awsRegion: 'us-east-1', awsPartnerEventSource: SOURCE },
};
const RULES = compileRules(loadRules(), { auth0: SOURCE }).filter((rule) => rule.source === 'auth0');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A quarantine that keeps what ingest sets aside, so a test can see that nothing was. */
const memoryArchive = (): ArchiveStore & { keys: string[] } => {
  const objects = new Map<string, Uint8Array | string>();
  return {
    keys: [] as string[],
    async put(key, body) {
      objects.set(key, body);
      this.keys.push(key);
    },
    async get(key) {
      const body = objects.get(key);
      return typeof body === 'string' ? new TextEncoder().encode(body) : body;
    },
  };
};

interface Story {
  readonly auth0: FakeAuth0;
  readonly clock: { now: number };
  readonly events: DynamoEventStore;
  readonly quarantine: ReturnType<typeof memoryArchive>;
  /** Whether the sink fails (the partner event bus deleted, say). */
  broken: boolean;
  /** Logs from the stream that ingest has not taken yet. */
  readonly inbox: FakeAuth0Log[];
  /** The tenant logs `count` logs of `type`, `stepMs` apart, the clock moving along. */
  logLogs(count: number, stepMs: number, type?: string): Promise<FakeAuth0Log[]>;
  /** Ingest takes what the stream delivered. */
  flush(): Promise<void>;
  watchdog(overrides?: Partial<Auth0WatchdogSettings>): Promise<Auth0WatchdogReport>;
  /** What the watchdog put on the Auth0 ingest queue since last asked, ingested: log ids, origins, outcomes. */
  ingestRefilled(): Promise<Array<{ logId: string; origin: string | undefined; kind: string }>>;
  /** Messages on the alert queue since last asked (refilled logs an alert rule matched). */
  alertQueue(): Promise<Array<{ ruleId: string; logId: string }>>;
  /** Watchdog alerts published on the alert topic since last asked, by rule id. */
  published(): Promise<string[]>;
  /** Whether the events table holds each of these logs under its staging key. */
  staged(logs: readonly FakeAuth0Log[]): Promise<boolean[]>;
  rateLimitWaits: number;
}

const receiveAll = async (messaging: MessagingStandIn, queueUrl: string) => {
  const messages: Array<{ body: string; attributes: Record<string, string | undefined> }> = [];
  for (;;) {
    const { Messages = [] } = await messaging.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return messages;
    for (const message of Messages) {
      messages.push({
        body: message.Body ?? '',
        attributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
        ),
      });
      await messaging.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
};

const startStory = async (
  options: {
    readonly stream?: FakeAuth0StreamInput;
    readonly selector?: Auth0StreamSelector;
    readonly envelope?: EnvelopeOrigin;
    readonly rateLimitEvery?: number;
  } = {},
): Promise<Story> => {
  const clock = { now: Date.now() - 6 * 60 * MINUTE };
  const dynamo: DynamoStandIn = await startDynamo();
  cleanups.push(() => dynamo.stop());
  const messaging = await startMessaging();
  cleanups.push(() => messaging.stop());
  await createKeyTable(dynamo.client, 'events-auth0', { sortKey: true });
  await createKeyTable(dynamo.client, 'alert-claims', { sortKey: false });
  const queue = async (name: string) =>
    (await messaging.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
  const ingestUrl = await queue('ingest-auth0');
  const alertUrl = await queue('alert');
  const detectorUrl = await queue('detector');
  const subscriberUrl = await queue('alert-subscriber');
  const { TopicArn = '' } = await messaging.sns.send(new CreateTopicCommand({ Name: 'alerts' }));
  const { Attributes } = await messaging.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: subscriberUrl, AttributeNames: ['QueueArn'] }),
  );
  await messaging.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }));

  const inbox: FakeAuth0Log[] = [];
  const story = { broken: false, rateLimitWaits: 0 } as { broken: boolean; rateLimitWaits: number };
  const auth0 = await startFakeAuth0({
    apps: [{ ...APP, scopes: [...LOG_STREAM_SCOPES, ...LOG_SCOPES] }],
    streams: [options.stream ?? EVENTBRIDGE_STREAM],
    now: () => clock.now,
    deliver: async (log) => {
      if (story.broken) throw new Error('the partner event bus does not exist');
      inbox.push(log);
    },
    ...(options.rateLimitEvery === undefined ? {} : { rateLimit: { every: options.rateLimitEvery } }),
  });
  cleanups.push(() => auth0.stop());
  const client = new Auth0Client({
    domain: auth0.url,
    credentials: { kind: 'client_credentials', ...APP },
    now: () => clock.now,
    // The fake's clock is simulated: its x-ratelimit-reset is already due by the time a real wait would end.
    sleep: async () => {},
    onRateLimit: () => {
      story.rateLimitWaits++;
    },
  });

  const events = new DynamoEventStore(dynamo.client, 'events-auth0');
  const quarantine = memoryArchive();
  const envelope = options.envelope ?? ENVELOPE;
  const selector = options.selector ?? { eventSourceName: SOURCE };
  const ingest = (raw: string, origin: 'stream' | 'backfill') =>
    ingestEnvelope(
      raw,
      { id: randomUUID() },
      {
        events,
        closedBefore: async () => undefined,
        quarantine,
        now: () => clock.now,
        newToken: randomUUID,
        pin: { source: envelope.source, account: ACCOUNT },
        source: AUTH0,
      },
      STAGING,
      origin,
    );
  let n = 0;
  return Object.assign(story, {
    auth0,
    clock,
    events,
    quarantine,
    inbox,
    async logLogs(count: number, stepMs: number, type = 's') {
      const written: FakeAuth0Log[] = [];
      for (let i = 0; i < count; i++) {
        clock.now += stepMs;
        n++;
        written.push(
          ...(await auth0.log([
            {
              date: new Date(clock.now).toISOString(),
              type,
              description: type === 's' ? 'Successful login' : 'Blocked Account',
              client_id: 'AcmeWebC1ient0000000000000000001',
              client_name: 'Acme Web',
              ip: '203.0.113.45',
              user_id: `auth0|user${n}`,
              user_name: `user${n}@acme.example`,
              details: { prompts: [], elapsedTime: n },
            },
          ])),
        );
      }
      return written;
    },
    async flush() {
      for (const log of inbox.splice(0)) {
        const record = log as unknown as Record<string, unknown>;
        await ingest(wrapEvent(record, JSON.stringify(log), envelope, AUTH0).text, 'stream');
      }
    },
    watchdog(overrides: Partial<Auth0WatchdogSettings> = {}) {
      return runAuth0Watchdog(
        {
          feed: auth0Feed(client, selector),
          state: new DynamoStateItem(dynamo.client, 'events-auth0', Auth0WatchdogState),
          staged: events,
          ingestQueue: sqsQueueSender(messaging.sqs, ingestUrl),
          alertQueue: sqsQueueSender(messaging.sqs, alertUrl),
          detectorQueue: sqsQueueSender(messaging.sqs, detectorUrl),
          claims: createDynamoAlertClaims({
            client: dynamo.client,
            tableName: 'alert-claims',
            retentionDays: 30,
            now: () => clock.now,
          }),
          publisher: createSnsAlertPublisher({ client: messaging.sns, topicArn: TopicArn }),
          rules: RULES,
          now: () => clock.now,
          remainingMs: () => Number.POSITIVE_INFINITY,
        },
        {
          staging: STAGING,
          envelope,
          wanted: 'eventSourceName' in selector ? selector.eventSourceName : selector.httpEndpoint,
          checkDelayMs: 7 * MINUTE,
          maxCheckAgeMs: 6 * 24 * 60 * MINUTE,
          autoReactivate: true,
          maxPagesPerRun: 50,
          stopBeforeDeadlineMs: 0,
          ...overrides,
        },
      );
    },
    async ingestRefilled() {
      const refilled = [];
      for (const message of await receiveAll(messaging, ingestUrl)) {
        const origin = message.attributes.origin;
        const outcome = await ingest(message.body, origin === 'backfill' ? 'backfill' : 'stream');
        const logId = (JSON.parse(message.body) as { detail: { log_id: string } }).detail.log_id;
        refilled.push({ logId, origin, kind: outcome.kind });
      }
      return refilled;
    },
    async alertQueue() {
      return (await receiveAll(messaging, alertUrl)).map((message) => {
        const { rule, event } = JSON.parse(message.body) as { rule: { id: string }; event: { detail: FakeAuth0Log } };
        return { ruleId: rule.id, logId: event.detail.log_id };
      });
    },
    async published() {
      // An SNS notification whose Message is the JSON message structure; SQS subscribers read its `sqs` text.
      return (await receiveAll(messaging, subscriberUrl)).map((message) => {
        const notification = JSON.parse(message.body) as { Message: string };
        const structure = JSON.parse(notification.Message) as { sqs: string };
        return (JSON.parse(structure.sqs) as { ruleId: string }).ruleId;
      });
    },
    async staged(logs: readonly FakeAuth0Log[]) {
      const keys = logs.map((log) => stagedKeyOf({ uuid: log.log_id, published: String(log.data.date) }, log, STAGING));
      const found = new Set((await events.getStaged(keys)).map((item) => `${item.pk}|${item.sk}`));
      return keys.map((key) => found.has(`${key.pk}|${key.sk}`));
    },
  });
};

const ids = (logs: readonly FakeAuth0Log[]) => logs.map((log) => log.log_id);
/** The PATCH requests Auth0 carried out (a 429 is not one). */
const patches = (auth0: FakeAuth0) =>
  auth0.requests.filter((request) => request.method === 'PATCH' && request.status === 200);

describe('the feed watchdog on the Auth0 log stream', () => {
  it('alerts once when Auth0 suspends the stream, resumes it, refills exactly the missing logs; a rerun does nothing', async () => {
    // Prepare: the stream delivers; the watchdog starts after the newest log ingest staged.
    const story = await startStory({ rateLimitEvery: 7 });
    const early = await story.logLogs(5, MINUTE);
    await story.flush();
    story.clock.now += 10 * MINUTE;
    const first = await story.watchdog();
    expect(first).toMatchObject({ status: 'active', alerts: [], backfilled: 0 });
    expect(first.started).toEqual({ after: early.at(-1)?.log_id, staged: true });

    // The stream delivers twenty more; then two deliveries fail (three attempts each), Auth0 suspends the stream and
    // the tenant logs on, an account block among them.
    const delivered = await story.logLogs(20, 20_000);
    await story.flush();
    story.broken = true;
    const failed = await story.logLogs(2, 5_000);
    expect(story.auth0.deliveries.failed).toBe(2);
    story.auth0.setStatus('lst_0000000000000001', 'suspended');
    const whileSuspended = [
      ...(await story.logLogs(15, 30_000)),
      ...(await story.logLogs(1, 10_000, 'limit_wc')),
      ...(await story.logLogs(14, 30_000)),
    ];
    expect(story.inbox).toEqual([]);
    story.broken = false;
    story.clock.now += 10 * MINUTE;
    const missing = [...failed, ...whileSuspended];
    expect(await story.staged(missing)).toEqual(missing.map(() => false));

    // Act: two runs at once (a retried schedule tick, say).
    const runs = await Promise.all([story.watchdog(), story.watchdog()]);

    // Assert: one run did the work, the other stopped; one alert per kind, one resume.
    const [run, other] = runs[0].lostRace ? [runs[1], runs[0]] : runs;
    expect(other.lostRace).toBe(true);
    expect(run).toMatchObject({ status: 'suspended', resumed: true, lostRace: false, rateLimited: false });
    expect(run.alerts).toEqual(['olp-watchdog-auth0-log-stream-down', 'olp-watchdog-auth0-log-stream-resumed']);
    expect(story.auth0.streams[0]?.status).toBe('active');
    expect(patches(story.auth0)).toHaveLength(1);
    expect(patches(story.auth0)[0]?.body).toEqual({ status: 'active' });
    // Exactly the missing logs, as backfill; the account block to the alert queue.
    expect(run.checked).toBe(delivered.length + missing.length);
    expect(run.backfilled).toBe(missing.length);
    const refilled = await story.ingestRefilled();
    expect(refilled.map((r) => r.logId).sort()).toEqual(ids(missing).sort());
    expect(refilled.every((r) => r.origin === 'backfill' && r.kind === 'staged')).toBe(true);
    expect(await story.alertQueue()).toEqual([{ ruleId: 'auth0-account-blocked', logId: whileSuspended[15]?.log_id }]);
    expect(await story.published()).toEqual([
      'olp-watchdog-auth0-log-stream-down',
      'olp-watchdog-auth0-log-stream-resumed',
    ]);
    // Every log the tenant wrote is staged now, nothing quarantined; Auth0's 429s were waited out.
    expect(await story.staged(story.auth0.logs)).toEqual(story.auth0.logs.map(() => true));
    expect(story.quarantine.keys).toEqual([]);
    expect(story.rateLimitWaits).toBeGreaterThan(0);

    // Act: the next run, with the stream delivering again.
    const after = await story.logLogs(5, 20_000);
    await story.flush();
    story.clock.now += 10 * MINUTE;
    const again = await story.watchdog();

    // Assert: nothing to do, nothing said.
    expect(again).toMatchObject({ status: 'active', alerts: [], resumed: false, backfilled: 0, checked: after.length });
    expect(patches(story.auth0)).toHaveLength(1);
    expect(await story.ingestRefilled()).toEqual([]);
    expect(await story.alertQueue()).toEqual([]);
    expect(await story.published()).toEqual([]);
    expect(again.checkpoint).toBe(after.at(-1)?.log_id);
  }, 60_000);

  it('waits for a log until it is checkDelay old, and starts after the oldest log when none is staged', async () => {
    // Prepare: the watchdog is deployed during an outage: nothing of the last logs reached the events table.
    const story = await startStory();
    story.auth0.setStatus('lst_0000000000000001', 'paused');
    const logged = await story.logLogs(6, MINUTE);
    story.clock.now += 3 * MINUTE;

    // Act: the two oldest logs are 8 and 7 minutes old, the others younger than the check delay.
    const first = await story.watchdog({ autoReactivate: false });

    // Assert: it starts after the oldest log old enough to check, refills the other, and none of the young ones.
    expect(first.started).toEqual({ after: logged[0]?.log_id, staged: false });
    expect(first).toMatchObject({ status: 'paused', backfilled: 1, checked: 1, resumed: false });
    expect(first.alerts).toEqual(['olp-watchdog-auth0-log-stream-down']);
    expect(story.auth0.streams[0]?.status).toBe('paused');
    expect((await story.ingestRefilled()).map((r) => r.logId)).toEqual(ids(logged.slice(1, 2)));

    // Act: later, every log is old enough.
    story.clock.now += 10 * MINUTE;
    const second = await story.watchdog({ autoReactivate: false });

    // Assert: the rest refilled; the episode not alerted again.
    expect(second).toMatchObject({ backfilled: 4, alerts: [] });
    expect((await story.ingestRefilled()).map((r) => r.logId)).toEqual(ids(logged.slice(2)));
    expect(await story.published()).toEqual(['olp-watchdog-auth0-log-stream-down']);
  }, 60_000);

  it('passes logs older than the dedupe retention allows with one alert naming them, and checks the rest', async () => {
    // Prepare: the watchdog starts; then the stream is paused for half an hour and nobody resumes it.
    const story = await startStory();
    await story.logLogs(1, MINUTE);
    await story.flush();
    story.clock.now += 10 * MINUTE;
    await story.watchdog({ autoReactivate: false });
    story.auth0.setStatus('lst_0000000000000001', 'paused');
    const logged = await story.logLogs(30, MINUTE);
    story.clock.now += 10 * MINUTE;

    // Act: a watchdog that may check only the last 25 minutes (as one whose dedupe retention they would outlast).
    const run = await story.watchdog({ autoReactivate: false, maxCheckAgeMs: 25 * MINUTE });
    const again = await story.watchdog({ autoReactivate: false, maxCheckAgeMs: 25 * MINUTE });

    // Assert: the 14 logs dated before the limit passed with one alert, the 16 after it refilled.
    expect(run).toMatchObject({ unchecked: 14, checked: 16, backfilled: 16 });
    expect(run.alerts).toEqual(['olp-watchdog-auth0-log-stream-down', 'olp-watchdog-auth0-logs-unchecked']);
    expect((await story.ingestRefilled()).map((r) => r.logId).sort()).toEqual(ids(logged.slice(14)).sort());
    expect(again).toMatchObject({ alerts: [], unchecked: 0, backfilled: 0 });
    expect(await story.published()).toEqual([
      'olp-watchdog-auth0-log-stream-down',
      'olp-watchdog-auth0-logs-unchecked',
    ]);
  }, 60_000);

  it('sends a log that is not a valid Auth0 log to ingest, which quarantines it with its reason, once', async () => {
    const story = await startStory();
    await story.logLogs(1, MINUTE);
    await story.flush();
    story.clock.now += 10 * MINUTE;
    await story.watchdog({ autoReactivate: false });
    story.auth0.setStatus('lst_0000000000000001', 'paused');
    const bad = await story.logLogs(1, MINUTE, 'Not A Type Code');
    const good = await story.logLogs(1, MINUTE);
    story.clock.now += 10 * MINUTE;

    const run = await story.watchdog({ autoReactivate: false });
    const refilled = await story.ingestRefilled();
    const again = await story.watchdog({ autoReactivate: false });

    // The bad log went to ingest and was quarantined there, not staged; the good one was refilled.
    expect(refilled).toHaveLength(2);
    expect(refilled).toEqual(
      expect.arrayContaining([
        { logId: good[0]?.log_id, origin: 'backfill', kind: 'staged' },
        { logId: bad[0]?.log_id, origin: 'backfill', kind: 'quarantined' },
      ]),
    );
    expect(story.quarantine.keys).toHaveLength(1);
    expect(await story.staged([...bad, ...good])).toEqual([false, true]);
    expect(run).toMatchObject({ checked: 1, backfilled: 1, checkpoint: good[0]?.log_id });
    expect(again).toMatchObject({ checked: 0, backfilled: 0 });
  }, 60_000);

  it('alerts on and resumes a stream that hides PII, but refills nothing: its logs are not the API copies', async () => {
    const story = await startStory({
      stream: { ...EVENTBRIDGE_STREAM, pii_config: { log_fields: ['email'], method: 'hash', algorithm: 'xxhash' } },
    });
    await story.logLogs(3, MINUTE);
    await story.flush();
    story.auth0.setStatus('lst_0000000000000001', 'suspended');
    await story.logLogs(3, MINUTE);
    story.clock.now += 10 * MINUTE;

    const run = await story.watchdog();

    expect(run).toMatchObject({ status: 'suspended', resumed: true, backfilled: 0, checked: 0 });
    expect(run.gapCheckSkipped).toMatch(/hides PII fields \(pii_config\)/);
    expect(await story.ingestRefilled()).toEqual([]);
    expect(story.auth0.requests.some((request) => request.path === '/api/v2/logs')).toBe(false);
  }, 60_000);

  it('finds an http stream by the sink URL, and alerts once when no stream delivers there', async () => {
    // Prepare: the tenant's http stream posts to another URL than the deployed sink's.
    const sinkUrl = 'https://abcdefghij.lambda-url.us-east-1.on.aws/';
    const story = await startStory({
      stream: {
        id: 'lst_0000000000000002',
        name: 'acme http',
        type: 'http',
        sink: { httpEndpoint: 'https://elsewhere.example/auth0', httpAuthorization: 'Bearer abc' },
      },
      selector: { httpEndpoint: sinkUrl },
      envelope: { source: AUTH0_HTTP_SOURCE, account: ACCOUNT, region: 'us-east-1' },
    });
    await story.logLogs(2, MINUTE);
    story.clock.now += 10 * MINUTE;

    // Act
    const missing = await story.watchdog();
    const still = await story.watchdog();
    const stream = story.auth0.streams[0];
    if (stream === undefined) throw new Error('the fake lost its stream');
    stream.sink.httpEndpoint = sinkUrl.slice(0, -1);
    const found = await story.watchdog();

    // Assert: one alert for the missing stream; the one to the sink's URL (less its trailing slash) is found.
    expect(missing).toMatchObject({ status: 'missing', alerts: ['olp-watchdog-auth0-log-stream-missing'] });
    expect(still).toMatchObject({ status: 'missing', alerts: [] });
    expect(found).toMatchObject({ status: 'active', alerts: [] });
    expect(await story.published()).toEqual(['olp-watchdog-auth0-log-stream-missing']);
    // The logs the missing stream never delivered were refilled in the HTTP sink's envelope.
    // None of the logs was staged: the first run started after the oldest and refilled the other.
    expect((await story.ingestRefilled()).map((r) => r.logId)).toEqual(ids(story.auth0.logs.slice(1)));
  }, 60_000);

  it('leaves the run to the next one when Auth0 keeps answering 429, changing nothing', async () => {
    const story = await startStory({ rateLimitEvery: 1 });
    await story.logLogs(2, MINUTE);
    story.auth0.setStatus('lst_0000000000000001', 'suspended');
    story.clock.now += 10 * MINUTE;

    const run = await story.watchdog();

    expect(run).toMatchObject({ status: 'unknown', rateLimited: true, alerts: [], resumed: false, checked: 0 });
    expect(run.gapCheckSkipped).toMatch(/rate-limited/);
    expect(story.rateLimitWaits).toBeGreaterThan(0);
    expect(await story.published()).toEqual([]);
    expect(story.auth0.streams[0]?.status).toBe('suspended');
  }, 60_000);
});
