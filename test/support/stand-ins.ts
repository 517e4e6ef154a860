import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import dynalite from 'dynalite';
import { type FauxqsServer, startFauxqs } from 'fauxqs';

/** Local stand-ins for AWS: every client gets an explicit endpoint, a region and dummy credentials. */
export const STAND_IN_REGION = 'us-east-1';
const credentials = { accessKeyId: 'stand-in', secretAccessKey: 'stand-in' };
const clientConfig = (endpoint: string) => ({ endpoint, region: STAND_IN_REGION, credentials, maxAttempts: 1 });

export interface DynamoStandIn {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

/** dynalite in this process, on a free port of 127.0.0.1, with tables ACTIVE as soon as they are created. */
export async function startDynamo(): Promise<DynamoStandIn> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient(clientConfig(endpoint));
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export interface MessagingStandIn {
  readonly endpoint: string;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly server: FauxqsServer;
  stop(): Promise<void>;
}

/** fauxqs (SNS, SQS) in this process, on a free port of 127.0.0.1. */
export async function startMessaging(): Promise<MessagingStandIn> {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sns = new SNSClient(clientConfig(endpoint));
  const sqs = new SQSClient(clientConfig(endpoint));
  return {
    endpoint,
    sns,
    sqs,
    server,
    async stop() {
      sns.destroy();
      sqs.destroy();
      await server.stop();
    },
  };
}
