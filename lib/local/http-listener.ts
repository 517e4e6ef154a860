import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { receiveAuth0Post } from '../../lambdas/http-sink/receive-auth0.ts';
import type { ArchiveStore } from '../../lambdas/shared/ports.ts';
import type { PipelineInput } from './local-pipeline.ts';

/**
 * The Auth0 HTTP sink on this machine: the deployed sink's code (receiveAuth0Post: Authorization check, size limit,
 * the three body formats, quarantine of unreadable bodies) behind a plain HTTP server, feeding the local pipeline
 * instead of SQS. Alerts are matched by the local pipeline as it takes the logs, so the sink's own alert queue is not
 * used here.
 */

/** What one POST turned into: the records for the pipeline. */
export type ListenerBatch = readonly PipelineInput[];

export interface Listener {
  /** `host:port` the server listens on (the port the OS chose when 0 was asked for). */
  readonly address: string;
  /** Each accepted POST's logs, in arrival order; ends once the listener is closed and drained. */
  batches(): AsyncIterable<ListenerBatch>;
  close(): Promise<void>;
}

/** The largest body the local sink accepts, as the deployed one (4 MiB). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** `host:port`, e.g. 127.0.0.1:8080; the host defaults to 127.0.0.1 (only this machine can post). */
export const parseListenAddress = (text: string): { host: string; port: number } => {
  const match = /^(?:(\[[0-9a-fA-F:]+\]|[\w.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (match === null || !Number.isInteger(port) || port > 65_535) {
    throw new Error(`--listen must be [host:]port, e.g. 127.0.0.1:8080, got "${text}"`);
  }
  return { host: (match[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
};

const readBody = (request: IncomingMessage): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Keep reading (so the connection stays usable) but stop keeping what is over the limit.
      if (size <= MAX_BODY_BYTES + 1) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });

export const startListener = async (options: {
  readonly host: string;
  readonly port: number;
  /** The Authorization value Auth0 is configured to send. */
  readonly authorization: string;
  /** Where unreadable bodies are quarantined (the archive's `auth0/` part). */
  readonly quarantine: ArchiveStore;
}): Promise<Listener> => {
  const pending: ListenerBatch[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let line = 0;
  const deps = {
    expectedAuthorization: async () => options.authorization,
    ingestQueue: {
      send: async (messages: ReadonlyArray<{ body: string }>) => {
        pending.push(
          messages.map((message) => ({
            line: ++line,
            envelope: JSON.parse(message.body) as Record<string, unknown>,
            raw: message.body,
          })),
        );
        wake?.();
      },
    },
    alertQueue: { send: async () => {} },
    detectorQueue: { send: async () => {} },
    quarantine: options.quarantine,
    rules: [],
    now: Date.now,
  };
  let requests = 0;
  const server = createServer(async (request, response) => {
    const reply = (statusCode: number, body: string) => {
      response.writeHead(statusCode, { 'content-type': 'application/json' });
      response.end(body);
    };
    try {
      if (request.method !== 'POST') return reply(405, JSON.stringify({ message: 'POST Auth0 logs here' }));
      const body = await readBody(request);
      const answer = await receiveAuth0Post(
        {
          headers: { authorization: request.headers.authorization },
          body: body === undefined ? 'x'.repeat(MAX_BODY_BYTES + 1) : body.toString('utf8'),
          isBase64Encoded: false,
          requestId: `listen-${++requests}`,
        },
        deps,
        { account: '000000000000', region: 'us-east-1', maxBodyBytes: MAX_BODY_BYTES },
      );
      reply(answer.statusCode, answer.body);
    } catch (error) {
      reply(500, JSON.stringify({ message: (error as Error).name }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    address: `${address.includes(':') ? `[${address}]` : address}:${port}`,
    async *batches() {
      for (;;) {
        const next = pending.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (closed) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      closed = true;
      wake?.();
    },
  };
};
