import { once } from 'node:events';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_AUTH0_SOURCE,
  DEFAULT_EVENT_SOURCE,
  InputError,
  type InputRecord,
  readEventInput,
  toEnvelope,
} from '../../lib/local/event-input.ts';
import { fixturePath, tempDir } from '../support/run-cli.ts';

const fixtureEnvelope = (): { detail: Record<string, unknown> } & Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../fixtures/okta-eventbridge-envelope.json', import.meta.url), 'utf8'));

const rawEvent = (uuid: string, published = '2026-11-04T09:27:33.512Z', eventType = 'user.session.start') => ({
  ...fixtureEnvelope().detail,
  uuid,
  published,
  eventType,
});

const readAll = async (source: string, options: Parameters<typeof readEventInput>[1] = {}): Promise<InputRecord[]> => {
  const records: InputRecord[] = [];
  for await (const record of readEventInput(source, options)) records.push(record);
  return records;
};

/** What a record came to: `envelope` with its id and source, or `error`, with its line. */
const summaryOf = (record: InputRecord) =>
  'error' in record
    ? { line: record.line, error: record.error }
    : {
        line: record.line,
        source: record.envelope.source,
        eventType: Reflect.get(Object(record.envelope.detail), 'eventType'),
      };

const errorOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
};

describe('readEventInput', () => {
  let dir: string;
  let remove: () => void;

  beforeEach(() => {
    ({ dir, remove } = tempDir('event-input'));
  });

  afterEach(() => remove());

  const write = (name: string, content: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('reads JSON Lines of envelopes and raw events, numbering records by line and skipping blank lines', async () => {
    // Prepare
    const envelope = fixtureEnvelope();
    const path = write(
      'events.jsonl',
      `${JSON.stringify(envelope)}\n\n   \n${JSON.stringify(rawEvent('0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e01'))}\r\n`,
    );

    // Act
    const records = await readAll(path);

    // Assess
    expect(records.map(summaryOf)).toEqual([
      { line: 1, source: envelope.source, eventType: 'user.session.access_admin_app' },
      { line: 4, source: DEFAULT_EVENT_SOURCE, eventType: 'user.session.start' },
    ]);
    expect(records[0]).toMatchObject({ envelope, raw: JSON.stringify(envelope) });
  });

  it('reads a JSON array, numbering records by their 1-based index', async () => {
    // Prepare
    const events = [fixtureEnvelope(), rawEvent('0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e01'), 42];
    const path = write('events.json', JSON.stringify(events, null, 2));

    // Act
    const records = await readAll(path, { eventSource: 'aws.partner/okta.com/acme/okta-logs' });

    // Assess
    expect(records.map(summaryOf)).toEqual([
      {
        line: 1,
        source: 'aws.partner/okta.com/evership/evershipsecuritylake',
        eventType: 'user.session.access_admin_app',
      },
      { line: 2, source: 'aws.partner/okta.com/acme/okta-logs', eventType: 'user.session.start' },
      { line: 3, error: expect.stringContaining('a JSON number') },
    ]);
    expect(records[2]?.raw).toBe('42');
  });

  it('reads a single pretty-printed JSON object as one record', async () => {
    // Act
    const records = await readAll(fixturePath('../okta-eventbridge-envelope.json'));

    // Assess
    expect(records.map(summaryOf)).toEqual([
      {
        line: 1,
        source: 'aws.partner/okta.com/evership/evershipsecuritylake',
        eventType: 'user.session.access_admin_app',
      },
    ]);
  });

  it('reports a broken JSON array once, at the line where parsing failed', async () => {
    // Prepare
    const path = write('broken.json', '[\n  {"uuid": "a"},\n  {"uuid": "b"}\n  {"uuid": "c"}\n]\n');

    // Act
    const records = await readAll(path);

    // Assess
    expect(records).toEqual([{ line: 4, error: expect.stringMatching(/^not JSON: /), raw: '  {"uuid": "c"}' }]);
  });

  it('reads JSON Lines whose first value is an array line by line', async () => {
    // Prepare
    const event = rawEvent('0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e01');
    const path = write('lines.jsonl', `[1, 2]\n${JSON.stringify(event)}\n`);

    // Act
    const records = await readAll(path);

    // Assess
    expect(records.map(summaryOf)).toEqual([
      { line: 1, error: expect.stringContaining('a JSON array') },
      { line: 2, source: DEFAULT_EVENT_SOURCE, eventType: 'user.session.start' },
    ]);
  });

  it('gunzips a .gz file, and a gzipped file whatever its name', async () => {
    // Prepare
    const lines = `${JSON.stringify(fixtureEnvelope())}\n${JSON.stringify(rawEvent('0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e01'))}\n`;
    const byName = write('events.jsonl.gz', gzipSync(lines));
    const byMagic = write('events.jsonl', gzipSync(lines));

    // Act
    const fromName = await readAll(byName);
    const fromMagic = await readAll(byMagic);

    // Assess
    expect(fromName.map(summaryOf)).toEqual([
      {
        line: 1,
        source: 'aws.partner/okta.com/evership/evershipsecuritylake',
        eventType: 'user.session.access_admin_app',
      },
      { line: 2, source: DEFAULT_EVENT_SOURCE, eventType: 'user.session.start' },
    ]);
    expect(fromMagic).toEqual(fromName);
  });

  it('reads stdin for "-", plain or gzipped, in chunks of any size', async () => {
    // Prepare
    const text = `${JSON.stringify(rawEvent('0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e01'))}\nnot json\n`;
    const gzipped = gzipSync(text);
    const oneByteChunks = Array.from(gzipped, (byte) => Buffer.from([byte]));

    // Act
    const plain = await readAll('-', { stdin: Readable.from([text]) });
    const unzipped = await readAll('-', { stdin: Readable.from(oneByteChunks) });

    // Assess
    expect(plain.map(summaryOf)).toEqual([
      { line: 1, source: DEFAULT_EVENT_SOURCE, eventType: 'user.session.start' },
      { line: 2, error: expect.stringMatching(/^not JSON: /) },
    ]);
    expect(unzipped).toEqual(plain);
  });

  it('reports bad lines with their line number and reads on', async () => {
    // Act
    const records = await readAll(fixturePath('raw-events.jsonl'));

    // Assess
    expect(records.map(summaryOf)).toEqual([
      { line: 1, source: DEFAULT_EVENT_SOURCE, eventType: 'system.log_stream.lifecycle.deactivate' },
      { line: 3, source: DEFAULT_EVENT_SOURCE, eventType: 'user.session.start' },
      { line: 4, error: 'not JSON: Unexpected end of JSON input' },
      { line: 5, source: DEFAULT_EVENT_SOURCE, eventType: 'system.api_token.create' },
      {
        line: 6,
        error:
          'not an event: neither an EventBridge envelope (missing detail-type, detail, source), a System Log event ' +
          '(missing uuid, published, eventType) nor an Auth0 log (missing log_id, data)',
      },
    ]);
    expect(records[2]?.raw).toBe('{"uuid": "0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e03", "published": ');
  });

  it('names the path of a file that does not exist, of a directory and of broken gzip data', async () => {
    // Prepare
    const missing = join(dir, 'missing.jsonl');
    const broken = write('broken.jsonl.gz', gzipSync('{"a": 1}\n'.repeat(100)).subarray(0, 30));

    // Act
    const errors = await Promise.all([readAll(missing), readAll(dir), readAll(broken)].map(errorOf));

    // Assess
    expect(errors.every((error) => error instanceof InputError)).toBe(true);
    expect(errors.map((error) => (error instanceof Error ? error.message : error))).toEqual([
      `${missing}: no such file`,
      `${dir}: is a directory, not an event file`,
      `${broken}: not valid gzip data (unexpected end of file)`,
    ]);
  });

  it('streams a file of 100,000 events', async () => {
    // Prepare
    const path = join(dir, 'many.jsonl');
    const out = createWriteStream(path);
    const line = JSON.stringify({
      uuid: '0b6f2d3e-8a1c-11f0-9d2e-5b1f0c7a4e01',
      published: '2026-11-04T09:27:33.512Z',
      eventType: 'user.session.start',
    });
    for (let i = 0; i < 100_000; i += 1) {
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    }
    out.end();
    await finished(out);

    // Act
    let count = 0;
    let lastLine = 0;
    let errors = 0;
    for await (const record of readEventInput(path)) {
      count += 1;
      lastLine = record.line;
      if ('error' in record) errors += 1;
    }

    // Assess
    expect({ count, lastLine, errors }).toEqual({ count: 100_000, lastLine: 100_000, errors: 0 });
  });

  it('lets the reader stop early without errors', async () => {
    // Prepare
    const path = write('events.jsonl', `${JSON.stringify(fixtureEnvelope())}\n`.repeat(5000));

    // Act
    const first: InputRecord[] = [];
    for await (const record of readEventInput(path)) {
      first.push(record);
      if (first.length === 2) break;
    }
    // Anything left to go wrong would surface as an unhandled error before the next macrotask.
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(first.map((record) => record.line)).toEqual([1, 2]);
  });
});

describe('toEnvelope', () => {
  it('keeps an EventBridge envelope as it is', () => {
    // Prepare
    const envelope = fixtureEnvelope();

    // Act
    const result = toEnvelope(envelope, DEFAULT_EVENT_SOURCE);

    // Assess
    expect(result).toEqual({ envelope });
    expect('envelope' in result && result.envelope).toBe(envelope);
  });

  it('wraps a raw System Log event in the envelope Okta Log Streaming sends, leaving the event untouched', () => {
    // Prepare
    const event = rawEvent('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', '2023-05-30T14:17:58.126Z');
    const copy = structuredClone(event);

    // Act
    const result = toEnvelope(event, 'aws.partner/okta.com/acme/okta-logs');

    // Assess
    expect(result).toEqual({
      envelope: {
        version: '0',
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        'detail-type': 'SystemLog',
        source: 'aws.partner/okta.com/acme/okta-logs',
        account: '000000000000',
        time: '2023-05-30T14:17:58Z',
        region: 'us-east-1',
        resources: [],
        detail: copy,
      },
    });
    expect('envelope' in result && result.envelope.detail).toBe(event);
    expect(Object.keys('envelope' in result ? result.envelope : {})).toEqual(Object.keys(fixtureEnvelope()));
  });

  it('derives the same envelope id from the same uuid, whatever its case, and another from another uuid', () => {
    // Prepare
    const idOf = (event: object): unknown => {
      const result = toEnvelope(event, DEFAULT_EVENT_SOURCE);
      return 'envelope' in result ? result.envelope.id : result.error;
    };

    // Act
    const first = idOf(rawEvent('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b'));
    const again = idOf(rawEvent('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b', '2026-01-01T00:00:00Z'));
    const upper = idOf(rawEvent('C6ED294A-FEF4-11ED-A5B1-BBB7C1DE1A4B'));
    const other = idOf(rawEvent('c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4c'));

    // Assess
    expect(again).toBe(first);
    expect(upper).toBe(first);
    expect(other).not.toBe(first);
  });

  it('gives the envelope time in UTC to the second, and keeps a published it cannot read', () => {
    // Prepare
    const timeOf = (published: unknown): unknown => {
      const result = toEnvelope({ uuid: 'x', published, eventType: 'user.session.start' }, DEFAULT_EVENT_SOURCE);
      return 'envelope' in result ? result.envelope.time : result.error;
    };

    // Act
    const times = [
      timeOf('2023-05-30T14:17:58.123456789Z'),
      timeOf('2023-05-30T16:17:58.900+02:00'),
      timeOf('2023-05-30T14:17:58Z'),
      timeOf('yesterday'),
      timeOf(null),
    ];

    // Assess
    expect(times).toEqual([
      '2023-05-30T14:17:58Z',
      '2023-05-30T14:17:58Z',
      '2023-05-30T14:17:58Z',
      'yesterday',
      'null',
    ]);
  });

  it('says why a value is neither an envelope nor a raw event', () => {
    // Act
    const errors = [
      toEnvelope([1], DEFAULT_EVENT_SOURCE),
      toEnvelope('text', DEFAULT_EVENT_SOURCE),
      toEnvelope({ 'detail-type': 'SystemLog', detail: {} }, DEFAULT_EVENT_SOURCE),
      toEnvelope({ uuid: 'a', published: 'b', eventType: 'c', detail: {} }, DEFAULT_EVENT_SOURCE),
    ];

    // Assess
    expect(errors).toEqual([
      { error: 'not an event: a JSON array, expected an EventBridge envelope, a System Log event or an Auth0 log' },
      { error: 'not an event: a JSON string, expected an EventBridge envelope, a System Log event or an Auth0 log' },
      {
        error:
          'not an event: neither an EventBridge envelope (missing source), a System Log event ' +
          '(missing uuid, published, eventType) nor an Auth0 log (missing log_id, data)',
      },
      {
        error:
          'not an event: neither an EventBridge envelope (missing detail-type, source), a System Log event ' +
          '(it has a detail field) nor an Auth0 log (missing log_id, data)',
      },
    ]);
  });
});

describe('Auth0 logs in local input', () => {
  it('wraps a bare Auth0 log as an Auth0 log stream would send it, and keeps an Auth0 envelope as it is', () => {
    const log = {
      log_id: '900201',
      data: { date: '2026-12-01T10:00:00.125Z', type: 'fp', description: 'Wrong password' },
    };
    const wrapped = toEnvelope(log, DEFAULT_EVENT_SOURCE);
    expect(wrapped).toEqual({
      envelope: expect.objectContaining({
        'detail-type': 'Auth0 log',
        source: DEFAULT_AUTH0_SOURCE,
        time: '2026-12-01T10:00:00Z',
        detail: log,
      }),
    });
    const envelope = { 'detail-type': 'Auth0 log', source: 'aws.partner/auth0.com/acme/auth0.logs', detail: log };
    expect(toEnvelope(envelope, DEFAULT_EVENT_SOURCE)).toEqual({ envelope });
  });
});
