import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSequencer, type SequencerReport } from '../../lambdas/sequencer/run-sequencer.ts';
import { type PiiSettings, piiRedaction, type Redaction } from '../../lambdas/shared/pii.ts';
import { contentHash, type StagedEvent } from '../../lambdas/shared/staged-event.ts';
import { makeEvents } from '../support/events.ts';
import { newPipeline, type PipelineUnderTest, s3Client } from '../support/pipeline.ts';
import { runOlp } from '../support/run-cli.ts';
import { type DynamoStandIn, type MessagingStandIn, startDynamo, startMessaging } from '../support/stand-ins.ts';

/**
 * The sequencer with archive PII redaction (`archive: true`), on dynalite and a fauxqs bucket: archived lines are the
 * redacted events, each archived once (late supplements included), the integrity chain verifies with `olp archive
 * verify`, and nothing of the raw content, not even its hash, reaches the archive. Without redaction the lines are
 * the events as received.
 */

const KEY = Buffer.from('an-hmac-key-of-more-than-32-characters');
const hmac = (value: string) => `hmac-sha256:${createHmac('sha256', KEY).update(value).digest('hex')}`;
const SETTINGS: PiiSettings = {
  fields: ['username', 'name', 'email', 'ip', 'location'],
  method: 'hash',
  archive: true,
};
const hashing = piiRedaction('okta', SETTINGS, KEY);
const masking = piiRedaction('okta', { ...SETTINGS, method: 'mask' });
/** The personal data of the fixture event every test event copies (test/fixtures/okta-eventbridge-envelope.json). */
const RAW_PII = ['user@evership.biz', 'A User', '127.0.0.1', 'Fictionville', '19513'];

const start = Date.parse('2026-11-01T09:00:00.000Z');
const MINUTE = 60_000;
const at = (minutes: number) => start + minutes * MINUTE;

let dynamo: DynamoStandIn;
let fauxqs: MessagingStandIn;

beforeAll(async () => {
  [dynamo, fauxqs] = await Promise.all([startDynamo(), startMessaging()]);
});
afterAll(async () => {
  await Promise.all([dynamo.stop(), fauxqs.stop()]);
});

/** The sequencer as deployed, with this archive redaction: a run a guard before `now`, then one at `now`. */
const seal = async (p: PipelineUnderTest, now: number, redact?: Redaction): Promise<SequencerReport[]> => {
  const deps = { events: p.events, archive: p.archive, ...(redact === undefined ? {} : { redact }) };
  return [
    await runSequencer(deps, p.settings, now - p.settings.sealGuardSeconds * 1000),
    await runSequencer(deps, p.settings, now),
  ];
};

/** Stages an envelope; returns the staged event (for a duplicate, the one already staged). */
const ingest = async (p: PipelineUnderTest, envelope: unknown, now: number): Promise<StagedEvent> => {
  const outcome = await p.ingest(JSON.stringify(envelope), randomUUID(), now);
  if (outcome.kind === 'quarantined') throw new Error(`quarantined: ${outcome.reason}`);
  return outcome.event;
};

const verifyBucket = async (bucket: string) => {
  const run = await runOlp(['archive', 'verify', '--bucket', bucket, '--json'], {
    env: {
      AWS_ENDPOINT_URL: fauxqs.endpoint,
      AWS_ACCESS_KEY_ID: 'stand-in',
      AWS_SECRET_ACCESS_KEY: 'stand-in',
      AWS_REGION: 'us-east-1',
    },
  });
  return { code: run.code, ...(JSON.parse(run.stdout) as { ok: boolean; findings: unknown[]; events: number }) };
};

describe('archive PII redaction in the sequencer', () => {
  it('archives the redacted events once each, late supplements included, with a chain that verifies', async () => {
    // Prepare: six events in three windows, and a second content of the first with another display name.
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const events = makeEvents(6, start, 30_000);
    const staged = [];
    for (const event of events) staged.push(await ingest(p, event, start));
    const [first] = events;
    if (first === undefined) throw new Error('no events');
    const firstUuid = String(first.detail.uuid).toLowerCase();
    const actor = { ...(first.detail.actor as object), displayName: 'Another Name' };
    const variant = await ingest(p, { ...first, id: randomUUID(), detail: { ...first.detail, actor } }, start);

    // Act: seal; then a late event of the first window, and a redelivery of an archived one.
    const sealed = (await seal(p, at(10), hashing)).flatMap((report) => report.sealed);
    const [late] = makeEvents(1, start + 5_000);
    const lateUuid = 'aaaaaaaa-fef4-11ed-a5b1-bbb7c1de1a4b';
    const lateStaged = await ingest(p, { ...late, detail: { ...late?.detail, uuid: lateUuid } }, at(20));
    const redelivered = await p.ingest(JSON.stringify(events[1]), randomUUID(), at(20));
    const supplemented = (await seal(p, at(25), hashing)).flatMap((report) => report.sealed);
    const again = (await seal(p, at(30), hashing)).flatMap((report) => report.sealed);
    const archive = await p.read();

    // Assess: eight archived forms: the two names hash apart, so the first uuid has two contents, flagged.
    expect(variant.sk).not.toBe(staged[0]?.sk);
    expect(sealed.map((window) => window.eventCount)).toEqual([3, 2, 2]);
    expect(lateStaged.late).toBe(true);
    expect(redelivered.kind).toBe('duplicate');
    // The late event joins the first window, whose manifest keeps listing the first uuid's two contents.
    expect(supplemented).toMatchObject([{ kind: 'late', eventCount: 1, conflicts: [firstUuid] }]);
    expect(again).toEqual([]);
    expect(archive.lines).toHaveLength(8);
    expect(archive.orphans).toEqual([]);
    for (const line of archive.lines) {
      for (const value of RAW_PII) expect(line).not.toContain(value);
      const event = JSON.parse(line);
      expect(event.actor.alternateId).toBe(hmac('user@evership.biz'));
      expect(event.client.geographicalContext.geolocation).toEqual({ lat: null, lon: null });
    }
    expect(archive.lines.map((line) => JSON.parse(line).uuid).sort()).toEqual(
      [...events.map((event) => event.detail.uuid), first.detail.uuid, lateUuid].sort(),
    );
    // The late part lists its event by the archived form's key; no raw content hash reaches the archive.
    const manifests = [...archive.windows.values()].map((window) => window.manifest);
    const latePart = manifests.flatMap((manifest) => manifest.parts).find((part) => part.kind === 'late');
    const lateLine = archive.lines.find((line) => line.includes(lateUuid));
    expect(latePart?.events).toEqual([`${lateUuid}#${contentHash(JSON.parse(lateLine ?? '{}'))}`]);
    const manifestText = JSON.stringify(manifests);
    for (const event of [...staged, variant, lateStaged]) expect(manifestText).not.toContain(event.hash);
    expect(manifests.flatMap((manifest) => manifest.conflicts)).toEqual([firstUuid]);
    // The staged late event is flagged archived (its TTL starts), as without redaction.
    const [flagged] = await p.events.getStaged([lateStaged]);
    expect(flagged?.archived).toBe(true);
    expect(await verifyBucket(p.bucket)).toMatchObject({ code: 0, ok: true, events: 8 });
  });

  it('archives once two contents of one event that differ only in masked values: the archive cannot tell them apart', async () => {
    // Prepare
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const [event] = makeEvents(1, start);
    if (event === undefined) throw new Error('no event');
    const actor = { ...(event.detail.actor as object), displayName: 'Another Name' };
    const first = await ingest(p, event, start);
    const second = await ingest(p, { ...event, id: randomUUID(), detail: { ...event.detail, actor } }, start);

    // Act
    const sealed = (await seal(p, at(10), masking)).flatMap((report) => report.sealed);
    const archive = await p.read();

    // Assess
    expect(second.sk).not.toBe(first.sk);
    expect(sealed).toMatchObject([{ kind: 'main', eventCount: 1, conflicts: [] }]);
    expect(archive.lines).toHaveLength(1);
    expect(JSON.parse(archive.lines[0] ?? '{}').actor).toMatchObject({
      alternateId: '***@evership.biz',
      displayName: '***',
    });
  });

  it('archives the events as received without archive redaction', async () => {
    // Prepare
    const p = await newPipeline(dynamo, s3Client(fauxqs));
    const events = makeEvents(4, start, 30_000);
    for (const event of events) await ingest(p, event, start);

    // Act
    await seal(p, at(10));
    const archive = await p.read();

    // Assess: each line is the event's text as it came in the envelope.
    expect(archive.lines.sort()).toEqual(events.map((event) => JSON.stringify(event.detail)).sort());
    expect(archive.lines.join('\n')).toContain('user@evership.biz');
  });
});
