import { readFileSync } from 'node:fs';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveAuth0Post } from '../../lambdas/http-sink/receive-auth0.ts';
import { parseEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { AUTH0, AUTH0_HTTP_SOURCE } from '../../lambdas/shared/log-sources.ts';
import type { ArchiveStore } from '../../lambdas/shared/ports.ts';
import { sqsQueueSender } from '../../lambdas/shared/sqs-queue-sender.ts';
import { compileRules, loadRules } from '../../lib/rules/index.ts';
import { type MessagingStandIn, startMessaging } from '../support/stand-ins.ts';

/**
 * The Auth0 HTTP sink's use case with its queues on fauxqs: what Auth0 POSTs comes out on the ingest queue as Auth0
 * log envelopes that ingest accepts, and on the alert queue for the Auth0 rules that match. The quarantine is kept in
 * memory here (its S3 adapter is covered by the ingest tests on fauxqs).
 */

const SECRET = 'Bearer s3cr3t-sink-token';
const ACCOUNT = '123456789012';
const fixture = (name: string) =>
  (
    JSON.parse(readFileSync(new URL(`../fixtures/auth0/${name}.json`, import.meta.url), 'utf8')) as {
      matches: Array<{ envelope: { detail: Record<string, unknown> } }>;
    }
  ).matches.map((match) => match.envelope.detail);

let messaging: MessagingStandIn;
let queues: { ingest: string; alert: string; detector: string };
beforeAll(async () => {
  messaging = await startMessaging();
  const create = async (name: string) =>
    (await messaging.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
  queues = { ingest: await create('auth0-ingest'), alert: await create('alert'), detector: await create('detector') };
});
afterAll(async () => messaging.stop());

const drain = async (url: string): Promise<string[]> => {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await messaging.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((message) => message.Body ?? ''));
  }
};

const sink = () => {
  const quarantined = new Map<string, string>();
  const store: ArchiveStore = {
    put: async (key, body) => void quarantined.set(key, String(body)),
    get: async () => undefined,
  };
  const deps = {
    expectedAuthorization: async () => SECRET,
    ingestQueue: sqsQueueSender(messaging.sqs, queues.ingest),
    alertQueue: sqsQueueSender(messaging.sqs, queues.alert),
    detectorQueue: sqsQueueSender(messaging.sqs, queues.detector),
    quarantine: store,
    rules: compileRules(loadRules(), { okta: 'aws.partner/okta.com/acme/okta-logs', auth0: AUTH0_HTTP_SOURCE }),
    now: () => Date.parse('2026-11-08T09:05:00Z'),
  };
  const post = (body: string, authorization: string | null = SECRET, isBase64Encoded = false) =>
    receiveAuth0Post(
      { headers: authorization === null ? {} : { authorization }, body, isBase64Encoded, requestId: 'r1' },
      deps,
      { account: ACCOUNT, region: 'us-east-1', maxBodyBytes: 64 * 1024 },
    );
  return { post, quarantined };
};

describe('the Auth0 HTTP sink', () => {
  const logs = [...fixture('auth0-failed-login'), ...fixture('auth0-mfa-push-rejected')];

  it.each([
    ['a JSON array', () => JSON.stringify(logs)],
    ['JSON lines', () => logs.map((log) => JSON.stringify(log)).join('\n')],
  ])(
    'takes %s: every log to ingest as an Auth0 envelope ingest accepts, matching logs to the alert queue',
    async (_, body) => {
      const { post } = sink();

      const result = await post(body());

      expect(result).toEqual({ statusCode: 200, body: JSON.stringify({ accepted: logs.length }) });
      const ingested = await drain(queues.ingest);
      expect(ingested).toHaveLength(logs.length);
      const parsed = ingested.map((raw) =>
        parseEnvelope(raw, { source: AUTH0_HTTP_SOURCE, account: ACCOUNT }, Date.now(), AUTH0),
      );
      expect(parsed.map((outcome) => (outcome.ok ? outcome.event.id : outcome.reason))).toEqual(
        logs.map((log) => log.log_id),
      );
      const alerts = (await drain(queues.alert)).map((raw) => JSON.parse(raw) as { rule: { id: string } });
      expect(alerts.map((alert) => alert.rule.id).sort()).toEqual(
        expect.arrayContaining(['auth0-failed-login', 'auth0-mfa-push-rejected']),
      );
    },
  );

  it('takes one log as a JSON object, base64-encoded as a function URL may pass it', async () => {
    const { post } = sink();
    const result = await post(Buffer.from(JSON.stringify(logs[0])).toString('base64'), SECRET, true);
    expect(result.statusCode).toBe(200);
    expect(await drain(queues.ingest)).toHaveLength(1);
    await drain(queues.alert);
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong one', 'Bearer guess'],
    ['the right one with a suffix', `${SECRET}x`],
  ])('answers 401 to %s, and sends and keeps nothing', async (_, authorization) => {
    const { post, quarantined } = sink();
    expect((await post(JSON.stringify(logs), authorization)).statusCode).toBe(401);
    expect(await drain(queues.ingest)).toEqual([]);
    expect(quarantined.size).toBe(0);
  });

  it('answers 413 over the size limit, 400 to a body it cannot read (quarantined with the reason)', async () => {
    const { post, quarantined } = sink();
    expect((await post('x'.repeat(64 * 1024 + 1))).statusCode).toBe(413);
    const bad = await post('<html>oops</html>');
    expect(bad.statusCode).toBe(400);
    const [record] = [...quarantined.values()].map((text) => JSON.parse(text) as { reason: string; raw: string });
    expect(record).toMatchObject({ reason: expect.stringContaining('not JSON: line 1'), raw: '<html>oops</html>' });
    expect(await drain(queues.ingest)).toEqual([]);
  });
});
