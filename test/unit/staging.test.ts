import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { buildPart, conflictingUuids } from '../../lambdas/sequencer/window-part.ts';
import { stagedEventItem, toStaged } from '../../lambdas/shared/dynamo-event-store.ts';
import { decodeStagedBody, encodeStagedBody, StagedBodyError } from '../../lambdas/shared/staged-body.ts';
import { contentHash, type StagedEvent, shardOf, stageEvent } from '../../lambdas/shared/staged-event.ts';
import { archiveWindowAt, windowStartOf, withWindowSize } from '../../lambdas/shared/window.ts';
import { envelopeWith, fixtureEnvelope } from '../support/events.ts';

const settings = { windowSeconds: 60, allowedLatenessSeconds: 120, windowShards: 8, dedupeRetentionDays: 7 };
const T0 = Date.parse('2026-11-01T09:00:00.000Z');

const staged = (
  uuid: string,
  published: string,
  extra: Record<string, unknown> = {},
  closedBefore = Number.NEGATIVE_INFINITY,
): StagedEvent => {
  const detail = { ...fixtureEnvelope().detail, uuid, published, ...extra };
  return stageEvent({ uuid, published }, JSON.stringify(detail), settings, T0, closedBefore);
};
const HOUR = 3_600_000;

describe('windows', () => {
  it('aligns windows to the epoch', () => {
    expect(windowStartOf(T0 + 59_999, 60)).toBe(T0);
    expect(windowStartOf(T0 + 60_000, 60)).toBe(T0 + 60_000);
  });

  it('changes the archive window length only at a whole hour after what is sealed or closed', () => {
    // Prepare: 60 s windows, then 300 s configured while 09:06 is the next window to seal.
    const sizes = withWindowSize([{ from: -Infinity, seconds: 60 }], 300, T0 + 6 * 60_000);

    // Act
    const before = archiveWindowAt(T0 + 6 * 60_000 + 1, sizes);
    const after = archiveWindowAt(T0 + HOUR + 7 * 60_000, sizes);

    // Assess: until 10:00 the old length, from 10:00 the new; no window straddles the change.
    expect(sizes).toEqual([
      { from: -Infinity, seconds: 60 },
      { from: T0 + HOUR, seconds: 300 },
    ]);
    expect(before).toEqual({ start: T0 + 6 * 60_000, end: T0 + 7 * 60_000 });
    expect(after).toEqual({ start: T0 + HOUR + 5 * 60_000, end: T0 + HOUR + 10 * 60_000 });
    expect(archiveWindowAt(T0 + HOUR - 1, sizes).end).toBe(T0 + HOUR);
  });

  it('replaces a change that has not taken effect yet, and keeps the history when nothing changes', () => {
    const changed = withWindowSize([{ from: -Infinity, seconds: 60 }], 300, T0);
    expect(withWindowSize(changed, 300, T0 + 10 * HOUR)).toEqual(changed);
    expect(withWindowSize(changed, 600, T0)).toEqual([
      { from: -Infinity, seconds: 60 },
      { from: T0, seconds: 600 },
    ]);
  });
});

describe('stageEvent', () => {
  it('keys a redelivery identically and another content differently', () => {
    // Prepare
    const uuid = 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b';

    // Act
    const first = staged(uuid, '2026-11-01T09:00:10.000Z');
    const again = staged(uuid.toUpperCase(), '2026-11-01T09:00:10.000Z');
    const changed = staged(uuid, '2026-11-01T09:00:10.000Z', { displayMessage: 'changed' });

    // Assess
    expect(again.pk).toBe(first.pk);
    expect(again.sk).not.toBe(first.sk); // the body holds the uppercase uuid: another content
    expect(changed.pk).toBe(first.pk);
    expect(changed.sk).not.toBe(first.sk);
    expect(changed.uuid).toBe(first.uuid);
  });

  it('spreads one window over every shard', () => {
    // Prepare
    const uuids = Array.from({ length: 400 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

    // Act
    const shards = new Set(uuids.map((uuid) => shardOf(uuid, 8)));

    // Assess
    expect([...shards].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('keeps the dedupe record for the retention from arrival; an on-time event starts its TTL then', () => {
    const event = staged('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', '2026-10-01T00:00:00.000Z');
    expect(event.dedupeUntil).toBe(T0 / 1000 + 7 * 86_400);
    expect(event.expiresAt).toBe(event.dedupeUntil);
    expect(event.late).toBe(false);
  });

  it('stages an event published before the close late, with no TTL until it is archived', () => {
    const published = '2026-11-01T08:59:59.999Z';
    const event = staged('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', published, {}, T0);
    expect(event.late).toBe(true);
    expect(event.expiresAt).toBeUndefined();
    expect(event.dedupeUntil).toBe(T0 / 1000 + 7 * 86_400);
    expect(staged('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', '2026-11-01T09:00:00.000Z', {}, T0).late).toBe(false);
  });
});

describe('parseEnvelope', () => {
  it('stages the detail exactly as received', () => {
    // Prepare
    const envelope = fixtureEnvelope();

    // Act
    const parsed = parseEnvelope(JSON.stringify(envelope), {}, Date.parse('2023-05-30T14:18:00Z'));

    // Assess
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.body).toBe(JSON.stringify(envelope.detail));
    expect(contentHash(parsed.content)).toBe(contentHash(envelope.detail));
  });

  it('keys the same event identically however it was serialised: key order, spacing, escapes, number form', () => {
    // Prepare: the stream's text and the System Log API's text of one event.
    const uuid = 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b';
    const stream = `{"uuid":"${uuid}","published":"2026-11-01T09:00:10.000Z","eventType":"user.session.start","n":1.50,"s":"A"}`;
    const api = `{ "s": "\\u0041", "n": 1.5, "eventType": "user.session.start",\n "published": "2026-11-01T09:00:10.000Z", "uuid": "${uuid}" }`;

    // Act
    const fromStream = stageEvent(JSON.parse(stream), stream, settings, T0, Number.NEGATIVE_INFINITY);
    const fromApi = stageEvent(JSON.parse(api), api, settings, T0, Number.NEGATIVE_INFINITY);
    const changed = stageEvent(
      JSON.parse(stream),
      stream.replace('"A"', '"B"'),
      settings,
      T0,
      Number.NEGATIVE_INFINITY,
    );

    // Assess
    expect(fromApi.sk).toBe(fromStream.sk);
    expect(changed.sk).not.toBe(fromStream.sk);
  });

  it('quarantines JSON nested deeper than any event, which no recursive walk could take', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const raw = JSON.stringify(fixtureEnvelope()).replace('"severity":"INFO"', `"severity":${deep}`);
    const parsed = parseEnvelope(raw, {}, T0);
    expect(parsed.ok ? '' : parsed.reason).toBe('not an Okta EventBridge event: nested more than 256 levels deep');
  });

  it('keeps every digit and key order of the event, pretty-printed or not', () => {
    // Prepare: a number JavaScript cannot hold, and keys out of any sorted order.
    const detail =
      '{"uuid":"c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b","published":"2023-05-30T14:17:58.126Z",' +
      '"eventType":"user.session.start","z":12345678901234567890,"a":1.50,"s":"a  b\\n"}';
    const envelope = (d: string) =>
      `{"version":"0","id":"1","detail-type":"SystemLog","source":"aws.partner/okta.com/acme/logs",` +
      `"account":"123456789012","time":"2023-05-30T14:18:00Z","region":"us-east-1","resources":[],"detail":${d}}`;
    const pretty = detail.replaceAll(',"', ',\n    "').replace('{', '{\n    ').replace(/}$/, '\n}');

    // Act
    const compact = parseEnvelope(envelope(detail), {}, T0);
    const fromPretty = parseEnvelope(envelope(pretty), {}, T0);

    // Assess
    expect(compact.ok && compact.body).toBe(detail);
    expect(fromPretty.ok && fromPretty.body).toBe(detail);
  });

  it("stages an event whose other fields changed shape: only uuid, published and eventType are the pipeline's", () => {
    // Prepare
    const reshaped = envelopeWith({ actor: 'system', target: { id: 'x' }, client: 'n/a' });

    // Act
    const parsed = parseEnvelope(JSON.stringify(reshaped), {}, Date.parse('2023-05-30T14:18:00Z'));

    // Assess
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && JSON.parse(parsed.body)).toEqual(reshaped.detail);
  });

  const rejected: Array<[string, string]> = [
    ['{not json', 'not JSON'],
    [JSON.stringify({ ...fixtureEnvelope(), 'detail-type': 'Other' }), 'not an Okta EventBridge event: detail-type'],
    [JSON.stringify(envelopeWith({ published: 'yesterday' })), 'invalid System Log event in detail: published'],
    [JSON.stringify(envelopeWith({ uuid: 42 })), 'invalid System Log event in detail: uuid'],
    [
      JSON.stringify(envelopeWith({ published: '2026-11-01T10:00:00.001Z' })),
      'published: 2026-11-01T10:00:00.001Z is in the future',
    ],
    [
      JSON.stringify(fixtureEnvelope()).replace('{"version"', '{"detail":{"uuid":"x"},"version"'),
      'ambiguous JSON: key detail appears twice',
    ],
    [
      JSON.stringify(fixtureEnvelope()).replace('"eventType":', '"eventType":"user.session.end","eventType":'),
      'ambiguous JSON: key detail.eventType appears twice',
    ],
  ];
  it.each(rejected.map(([raw, reason]) => ({ raw, reason })))(
    'rejects input with a reason that says "$reason"',
    ({ raw, reason }) => {
      const parsed = parseEnvelope(raw, {}, T0);
      expect(parsed.ok).toBe(false);
      expect(parsed.ok ? '' : parsed.reason).toContain(reason);
    },
  );
});

describe('parseEnvelope with a pinned source', () => {
  const pin = { source: 'aws.partner/okta.com/acme/okta-logs', account: '123456789012' };
  const envelope = (overrides: Record<string, unknown>) =>
    JSON.stringify({ ...fixtureEnvelope(), source: pin.source, account: pin.account, ...overrides });

  it('accepts the pinned source and account', () => {
    expect(parseEnvelope(envelope({}), pin, Date.parse('2023-05-30T14:18:00Z')).ok).toBe(true);
  });

  it.each([
    ['another org', { source: 'aws.partner/okta.com/evil/okta-logs' }, 'source: must be aws.partner/okta.com/acme'],
    ['another stream of the org', { source: 'aws.partner/okta.com/acme/other' }, 'source: must be'],
    ['another account', { account: '210987654321' }, 'account: must be 123456789012'],
    ['another detail-type', { 'detail-type': 'SystemLogs' }, 'detail-type'],
    ['a non-Okta source', { source: 'aws.partner/auth0.com/acme/auth0.logs' }, 'source'],
  ])('quarantines an envelope from %s', (_name, overrides, reason) => {
    const parsed = parseEnvelope(envelope(overrides), pin, T0);
    expect(parsed.ok ? '' : parsed.reason).toContain(reason);
  });
});

describe('buildPart', () => {
  it('sorts by published then uuid, one event per line, and hashes the bytes', () => {
    // Prepare
    const events = [
      staged('00000000-0000-4000-8000-000000000003', '2026-11-01T09:00:30.000Z'),
      staged('00000000-0000-4000-8000-000000000002', '2026-11-01T09:00:10.000Z'),
      staged('00000000-0000-4000-8000-000000000001', '2026-11-01T09:00:10.000Z'),
    ];

    // Act
    const { bytes, part } = buildPart('main', 'k', events);

    // Assess
    const lines = gunzipSync(bytes).toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).uuid)).toEqual([
      '00000000-0000-4000-8000-000000000001',
      '00000000-0000-4000-8000-000000000002',
      '00000000-0000-4000-8000-000000000003',
    ]);
    expect(part).toMatchObject({
      eventCount: 3,
      firstPublished: '2026-11-01T09:00:10.000Z',
      lastPublished: '2026-11-01T09:00:30.000Z',
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(part.events).toBeUndefined();
  });

  it('gives the same bytes for the same events in any order', () => {
    const a = staged('00000000-0000-4000-8000-000000000001', '2026-11-01T09:00:10.000Z');
    const b = staged('00000000-0000-4000-8000-000000000002', '2026-11-01T09:00:20.000Z');
    expect(Buffer.from(buildPart('late', 'k', [a, b]).bytes)).toEqual(
      Buffer.from(buildPart('late', 'k', [b, a]).bytes),
    );
    expect(buildPart('late', 'k', [b, a]).part.events).toEqual([a.sk, b.sk]);
  });

  it('flags a uuid archived with two contents', () => {
    const uuid = '00000000-0000-4000-8000-000000000001';
    const events = [
      staged(uuid, '2026-11-01T09:00:10.000Z'),
      staged(uuid, '2026-11-01T09:00:10.000Z', { displayMessage: 'other' }),
      staged('00000000-0000-4000-8000-000000000002', '2026-11-01T09:00:10.000Z'),
    ];
    expect(conflictingUuids(events)).toEqual([uuid]);
  });
});

describe('the staged item', () => {
  /** The item as ingest wrote it before bodies were compressed: it stays in a deployed table until its TTL. */
  const legacyItem = (event: StagedEvent) => ({
    pk: { S: event.pk },
    sk: { S: event.sk },
    windowStart: { N: String(event.windowStart) },
    publishedMs: { N: String(event.publishedMs) },
    body: { S: event.body },
    dedupeUntil: { N: String(event.dedupeUntil) },
    ...(event.expiresAt === undefined ? {} : { expiresAt: { N: String(event.expiresAt) } }),
    ...(event.late ? { late: { BOOL: true } } : {}),
    ...(event.archived === true ? { archived: { BOOL: true } } : {}),
    ...(event.origin === undefined ? {} : { origin: { S: event.origin } }),
  });
  const onTime = staged('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', '2026-11-01T09:00:10.000Z');
  const late = stageEvent(
    { uuid: 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4c', published: '2026-11-01T08:50:00.000Z' },
    JSON.stringify({ ...fixtureEnvelope().detail, uuid: 'c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4c' }),
    settings,
    T0,
    T0,
    undefined,
    'backfill',
  );

  it('keeps the text byte for byte, whatever it holds', () => {
    const texts = [
      JSON.stringify(fixtureEnvelope().detail),
      JSON.stringify(fixtureEnvelope().detail, null, 2),
      '{"displayMessage":"Zoë signed in from Zürich \u00e9 😀","s":"a\\u0000b","n":12345678901234567890}',
      '{}',
      JSON.stringify({ debugData: 'x'.repeat(200_000) }),
    ];
    for (const text of texts) expect(decodeStagedBody(encodeStagedBody(text))).toBe(text);
  });

  it("stores an Okta event's text in about a quarter of its size", () => {
    const text = JSON.stringify(fixtureEnvelope().detail);
    const stored = encodeStagedBody(text);
    expect(stored.length).toBeLessThan(Buffer.byteLength(text) / 3);
  });

  it('refuses bytes of a format it does not know, or that do not inflate, naming what is wrong', () => {
    const stored = encodeStagedBody('{"uuid":"x"}');
    expect(() => decodeStagedBody(Uint8Array.of(2, ...stored.subarray(1)))).toThrow(
      new StagedBodyError('staged body has unknown format 2 (this code reads 1)'),
    );
    expect(() => decodeStagedBody(new Uint8Array())).toThrow('staged body is empty');
    expect(() => decodeStagedBody(Uint8Array.of(1, 0xff, 0xff, 0xff))).toThrow(
      /^staged body of format 1 does not inflate: /,
    );
  });

  it('writes short names, no bucket start, and dedupeUntil only where it differs from the TTL', () => {
    expect(Object.keys(stagedEventItem(onTime)).sort()).toEqual(['b', 'expiresAt', 'p', 'pk', 'sk']);
    expect(Object.keys(stagedEventItem(late)).sort()).toEqual(['b', 'd', 'l', 'o', 'p', 'pk', 'sk']);
    expect(Object.keys(stagedEventItem({ ...late, archived: true, expiresAt: late.dedupeUntil })).sort()).toEqual([
      'a',
      'b',
      'expiresAt',
      'l',
      'o',
      'p',
      'pk',
      'sk',
    ]);
  });

  it('reads back every field from the current shape and from the shape before it', () => {
    for (const event of [onTime, late, { ...late, archived: true, expiresAt: late.dedupeUntil }]) {
      expect(toStaged(stagedEventItem(event))).toEqual(event);
      expect(toStaged(legacyItem(event))).toEqual(event);
    }
    // An old item the sequencer flagged archived under the current name.
    expect(toStaged({ ...legacyItem(late), a: { BOOL: true } }).archived).toBe(true);
  });

  it('names the missing attribute of an item that is no staged event', () => {
    const { b: _body, ...bodiless } = stagedEventItem(onTime);
    expect(() => toStaged(bodiless)).toThrow('events table item is missing string attribute body');
    expect(() => toStaged({ ...stagedEventItem(onTime), pk: { S: 'pending' } })).toThrow(
      'events table item pending is not in a staging partition (w#<bucket start>#<shard>)',
    );
  });
});
