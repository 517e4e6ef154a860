import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PiiKeyError } from '../../lambdas/shared/pii.ts';
import { loadPiiRedactions, PiiEnv } from '../../lambdas/shared/pii-secret.ts';

/**
 * The deployed functions' read of the HMAC key: Powertools parameters' getSecret through the AWS SDK, against a
 * stand-in for Secrets Manager's GetSecretValue on 127.0.0.1 (no Secrets Manager stand-in exists on npm; the
 * protocol is one JSON POST). The key is read only when a setting hashes, then cached.
 */

const KEY = 'a-deployed-hmac-key-of-at-least-32-chars';
const SECRETS: Record<string, string> = { 'olp/pii-hash': `${KEY}\n`, 'olp/short': 'short-value' };

let server: Server;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      requests.push(`${request.headers['x-amz-target']} ${SecretId}`);
      const value = SECRETS[SecretId];
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      if (value === undefined) {
        response.statusCode = 400;
        response.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
        return;
      }
      response.end(JSON.stringify({ Name: SecretId, SecretString: value, VersionId: 'v1' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'stand-in',
    AWS_SECRET_ACCESS_KEY: 'stand-in',
  });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const envWith = (method: 'mask' | 'hash', secret?: string) =>
  PiiEnv.parse({
    PII_SETTINGS: JSON.stringify({ okta: { fields: ['username'], method, archive: true } }),
    ...(secret === undefined ? {} : { PII_HASH_SECRET_NAME: secret }),
  });

describe('the PII HMAC key from Secrets Manager', () => {
  it('is not read when nothing hashes', async () => {
    const redactions = await loadPiiRedactions(envWith('mask'), 'alerts');
    expect(redactions.okta?.event({ actor: { alternateId: 'jane@acme.com' } })).toEqual({
      actor: { alternateId: '***@acme.com' },
    });
    expect(requests).toEqual([]);
  });

  it('is read once through the SDK, without its final newline, and cached for the next batches', async () => {
    const first = await loadPiiRedactions(envWith('hash', 'olp/pii-hash'), 'alerts');
    const second = await loadPiiRedactions(envWith('hash', 'olp/pii-hash'), 'archive');
    const expected = `hmac-sha256:${createHmac('sha256', KEY).update('jane@acme.com').digest('hex')}`;
    for (const redactions of [first, second]) {
      expect(redactions.okta?.event({ actor: { alternateId: 'jane@acme.com' } })).toEqual({
        actor: { alternateId: expected },
      });
    }
    expect(requests).toEqual(['secretsmanager.GetSecretValue olp/pii-hash']);
  });

  it('refuses a key that is too short, naming the secret and never its value', async () => {
    const error = await loadPiiRedactions(envWith('hash', 'olp/short'), 'alerts').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PiiKeyError);
    expect((error as Error).message).toMatch(/^secret olp\/short must hold the HMAC key/);
    expect((error as Error).message).not.toContain('short-value');
  });

  it('fails when the secret cannot be read, so nothing goes out unredacted', async () => {
    await expect(loadPiiRedactions(envWith('hash', 'olp/missing'), 'alerts')).rejects.toThrow();
  });
});
