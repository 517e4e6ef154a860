import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseEnvelope } from '../../lambdas/ingest/ingest-envelope.ts';
import { buildPart, conflictingUuids } from '../../lambdas/sequencer/window-part.ts';
import { contentHash, type StagedEvent, shardOf, stageEvent } from '../../lambdas/shared/staged-event.ts';
import { isLate, windowStartOf } from '../../lambdas/shared/window.ts';
import { envelopeWith, fixtureEnvelope } from '../support/events.ts';

const settings = { windowSeconds: 60, allowedLatenessSeconds: 120, windowShards: 8, dedupeRetentionDays: 7 };
const T0 = Date.parse('2026-11-01T09:00:00.000Z');

const staged = (uuid: string, published: string, extra: Record<string, unknown> = {}): StagedEvent => {
  const detail = { ...fixtureEnvelope().detail, uuid, published, ...extra };
  return stageEvent({ uuid, published }, JSON.stringify(detail), settings, T0);
};

describe('windows', () => {
  it('aligns windows to the epoch', () => {
    expect(windowStartOf(T0 + 59_999, 60)).toBe(T0);
    expect(windowStartOf(T0 + 60_000, 60)).toBe(T0 + 60_000);
  });

  it('calls an event late once its window end plus the lateness has passed', () => {
    expect(isLate(T0, T0 + 60_000 + 119_999, settings)).toBe(false);
    expect(isLate(T0, T0 + 60_000 + 120_000, settings)).toBe(true);
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

  it('keeps the dedupe record for the retention from arrival', () => {
    const event = staged('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', '2026-10-01T00:00:00.000Z');
    expect(event.expiresAt).toBe(T0 / 1000 + 7 * 86_400);
    expect(event.late).toBe(true);
  });
});

describe('parseEnvelope', () => {
  it('stages the detail exactly as received', () => {
    // Prepare
    const envelope = fixtureEnvelope();

    // Act
    const parsed = parseEnvelope(JSON.stringify(envelope), settings, Date.parse('2023-05-30T14:18:00Z'));

    // Assess
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(JSON.parse(parsed.staged.body)).toEqual(envelope.detail);
    expect(parsed.staged.hash).toBe(contentHash(JSON.stringify(envelope.detail)));
    expect(parsed.staged.late).toBe(false);
  });

  it("stages an event whose other fields changed shape: only uuid, published and eventType are the pipeline's", () => {
    // Prepare
    const reshaped = envelopeWith({ actor: 'system', target: { id: 'x' }, client: 'n/a' });

    // Act
    const parsed = parseEnvelope(JSON.stringify(reshaped), settings, Date.parse('2023-05-30T14:18:00Z'));

    // Assess
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && JSON.parse(parsed.staged.body)).toEqual(reshaped.detail);
  });

  it.each([
    ['{not json', 'not JSON'],
    [JSON.stringify({ ...fixtureEnvelope(), 'detail-type': 'Other' }), 'not an Okta EventBridge event: detail-type'],
    [JSON.stringify(envelopeWith({ published: 'yesterday' })), 'invalid System Log event in detail: published'],
    [JSON.stringify(envelopeWith({ uuid: 42 })), 'invalid System Log event in detail: uuid'],
    [
      JSON.stringify(envelopeWith({ published: '2026-11-01T10:00:00.001Z' })),
      'published: 2026-11-01T10:00:00.001Z is in the future',
    ],
  ])('rejects %s with a reason naming the field', (raw, reason) => {
    const parsed = parseEnvelope(raw, settings, T0);
    expect(parsed.ok).toBe(false);
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
