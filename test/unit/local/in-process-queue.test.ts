import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InProcessQueue } from '../../../lib/local/local-queues.ts';

describe('InProcessQueue', () => {
  it('hands every message over in SQS batches of at most 10, with its attributes, once when it succeeds', async () => {
    // Prepare
    const queue = new InProcessQueue('ingest');
    await queue.send(Array.from({ length: 25 }, (_, i) => ({ body: `m${i}`, attributes: { line: String(i + 1) } })));
    const batches: SQSEvent[] = [];

    // Act
    await queue.drain(async (event) => {
      batches.push(event);
      return [];
    });

    // Assess
    expect(batches.every((batch) => batch.Records.length <= 10)).toBe(true);
    const records = batches.flatMap((batch) => batch.Records);
    expect(records.map((record) => record.body).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`).sort());
    expect(records.find((record) => record.body === 'm7')?.messageAttributes.line?.stringValue).toBe('8');
    expect(records.every((record) => record.attributes.ApproximateReceiveCount === '1')).toBe(true);
    expect(new Set(records.map((record) => record.messageId)).size).toBe(25);
  });

  it('receives a failed record again, its receive count one higher, until it succeeds', async () => {
    // Prepare
    const queue = new InProcessQueue('alert');
    await queue.send([{ body: 'flaky' }, { body: 'fine' }]);
    const seen: Array<[string, string]> = [];

    // Act
    await queue.drain(async (event) => {
      const failed: string[] = [];
      for (const record of event.Records) {
        seen.push([record.body, record.attributes.ApproximateReceiveCount]);
        if (record.body === 'flaky' && Number(record.attributes.ApproximateReceiveCount) < 3) {
          failed.push(record.messageId);
        }
      }
      return failed;
    });

    // Assess
    expect(seen.filter(([body]) => body === 'flaky')).toEqual([
      ['flaky', '1'],
      ['flaky', '2'],
      ['flaky', '3'],
    ]);
    expect(seen.filter(([body]) => body === 'fine')).toEqual([['fine', '1']]);
  });

  it('is empty once drained: a second drain hands over nothing', async () => {
    const queue = new InProcessQueue('ingest');
    await queue.send([{ body: 'once' }]);
    await queue.drain(async () => []);
    let handled = 0;
    await queue.drain(async (event) => {
      handled += event.Records.length;
      return [];
    });
    expect(handled).toBe(0);
  });
});
