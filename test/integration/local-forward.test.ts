import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { envelopeWith } from '../support/events.ts';
import { runOlp, tempDir } from '../support/run-cli.ts';

/**
 * `olp local --forward` against HTTP endpoints on 127.0.0.1: one that takes every request, one that always answers
 * 500. The first must receive exactly the events its rule matched, each as the deployed API destination sends it
 * (the System Log event as JSON, the connection's header); the second's failures must end up in the summary.
 */

const API_KEY = 'local-client-token-7f3a9c';
const BASIC_PASSWORD = 'local-basic-password-2b8e';

interface Received {
  readonly path: string;
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

const received: Received[] = [];
let server: Server;
let origin = '';
const temp = tempDir('local-forward');

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        method: request.method ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.statusCode = request.url === '/fail' ? 500 : 200;
      response.end(request.url === '/fail' ? 'upstream is down' : '{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  temp.remove();
});

beforeEach(() => {
  received.length = 0;
});

const rule = (id: string, eventType: string, forward: string) => `
  - id: ${id}
    title: Rule ${id}
    severity: high
    description: What ${id} means.
    runbook: What to do about ${id}.
    match: { eventType: [${eventType}] }
    forward: [${forward}]
`;

/** A rule directory whose destinations point at the local server, and an input file of Okta envelopes. */
const prepare = async (name: string) => {
  const rulesDir = join(temp.dir, `${name}-rules`);
  await mkdir(rulesDir);
  await writeFile(
    join(rulesDir, 'forwarding.yaml'),
    `destinations:
  - name: receiver
    url: ${origin}/hook
    auth: { type: api-key, header: x-api-client-token, secretName: olp/test-receiver }
  - name: broken
    url: ${origin}/fail
    auth: { type: basic, secretName: olp/test-broken }
rules:${rule('forward-me', 'olp.test.forward_me', 'receiver')}${rule('fail-me', 'olp.test.fail_me', 'broken')}`,
  );
  const start = Date.parse('2026-11-01T09:00:00.000Z');
  const envelope = (i: number, eventType: string) =>
    envelopeWith({
      uuid: `${(0x20000000 + i).toString(16)}-fef4-11ed-a5b1-bbb7c1de1a4b`,
      published: new Date(start + i * 1000).toISOString(),
      eventType,
    });
  const forwarded = [0, 3, 6].map((i) => envelope(i, 'olp.test.forward_me'));
  const failing = [1, 4].map((i) => envelope(i, 'olp.test.fail_me'));
  const others = [2, 5, 7].map((i) => envelope(i, 'user.session.start'));
  const input = join(temp.dir, `${name}.jsonl`);
  await writeFile(
    input,
    `${[...forwarded, ...failing, ...others].map((record) => JSON.stringify(record)).join('\n')}\n`,
  );
  const secretsFile = join(temp.dir, `${name}-secrets.json`);
  await writeFile(secretsFile, JSON.stringify({ 'olp/test-broken': { username: 'olp', password: BASIC_PASSWORD } }));
  const args = ['local', '--events', input, '--rules', rulesDir, '--archive-dir', join(temp.dir, `${name}-archive`)];
  return { args, secretsFile, forwarded, failing };
};

const ENV = { OLP_SECRET_OLP_TEST_RECEIVER: JSON.stringify({ apiKey: API_KEY }) };

describe('olp local --forward', () => {
  it('posts exactly the matched events to their destination with its key, and lists the failing one in the summary', async () => {
    // Prepare
    const { args, secretsFile, forwarded, failing } = await prepare('forward');

    // Act
    const run = await runOlp([...args, '--forward', '--secrets-file', secretsFile], { env: ENV });

    // Assess: the receiver got each matched System Log event once, as its JSON body, with the key in its header.
    expect(run.code).toBe(0);
    const hook = received.filter((request) => request.path === '/hook');
    expect(hook.map((request) => JSON.parse(request.body)).sort((a, b) => a.uuid.localeCompare(b.uuid))).toEqual(
      forwarded.map((envelope) => envelope.detail),
    );
    for (const request of hook) {
      expect(request.method).toBe('POST');
      expect(request.headers['x-api-client-token']).toBe(API_KEY);
      expect(request.headers['content-type']).toBe('application/json; charset=utf-8');
    }
    // The failing endpoint was tried a bounded number of times per event, with the secret file's credentials.
    const fail = received.filter((request) => request.path === '/fail');
    expect(fail).toHaveLength(failing.length * 3);
    expect(new Set(fail.map((request) => request.headers.authorization))).toEqual(
      new Set([`Basic ${Buffer.from(`olp:${BASIC_PASSWORD}`).toString('base64')}`]),
    );
    expect(run.stdout).toMatch(/^ {2}forwarded {14}3\n {6}3 x receiver$/m);
    expect(run.stdout).toMatch(/^ {2}not forwarded {10}2\n {6}2 x broken$/m);
    for (const envelope of failing) {
      expect(run.stdout).toContain(`broken: ${envelope.detail.uuid} (fail-me): HTTP 500 after 3 attempts`);
    }
    expect(`${run.stdout}${run.stderr}`).not.toContain(API_KEY);
    expect(`${run.stdout}${run.stderr}`).not.toContain(BASIC_PASSWORD);
  });

  it('sends nothing without --forward', async () => {
    const { args } = await prepare('no-forward');
    const run = await runOlp(args, { env: ENV });
    expect(run.code).toBe(0);
    expect(received).toEqual([]);
    expect(run.stdout).not.toContain('forwarded');
  });

  it('refuses to start when a destination secret is missing, naming where it looks', async () => {
    // Prepare
    const { args } = await prepare('missing-secret');

    // Act
    const run = await runOlp([...args, '--forward'], { env: ENV });

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('destination broken needs secret olp/test-broken: set OLP_SECRET_OLP_TEST_BROKEN');
    expect(run.stderr).toContain('"username": "...", "password": "..."');
    expect(received).toEqual([]);
  });
});
