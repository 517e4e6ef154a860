import type { AddressInfo } from 'node:net';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { type FauxqsServer, startFauxqs } from 'fauxqs';

/**
 * The local stand-ins for AWS, shared by `olp local`, the tests and the benchmark: dynalite for DynamoDB and fauxqs
 * for SNS, SQS and S3, both in this process on 127.0.0.1. Clients need an explicit endpoint (fauxqs's queue URLs name
 * hosts that do not resolve) and accept any credentials, so none are ever looked up.
 */
export const STAND_IN_REGION = 'us-east-1';
export const standInClientConfig = (endpoint: string) => ({
  endpoint,
  region: STAND_IN_REGION,
  credentials: { accessKeyId: 'stand-in', secretAccessKey: 'stand-in' },
});

export interface StandInServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** dynalite on a free port; in memory, or persisted under `path`. Tables are ACTIVE as soon as created. */
export const startDynalite = async (options: { path?: string } = {}): Promise<StandInServer> => {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path === undefined ? {} : { path: options.path }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
};

/** fauxqs on a free port of 127.0.0.1 (it would bind every interface by default). */
export const startFauxqsServer = async (): Promise<StandInServer & { readonly server: FauxqsServer }> => {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  return { endpoint: `http://127.0.0.1:${server.port}`, server, stop: () => server.stop() };
};

/** A table shaped like the stack's: string partition key `pk`, and a string sort key `sk` when asked; on demand. */
export const createKeyTable = async (client: DynamoDBClient, name: string, options: { sortKey: boolean }) => {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        ...(options.sortKey ? [{ AttributeName: 'sk', AttributeType: 'S' as const }] : []),
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        ...(options.sortKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : []),
      ],
    }),
  );
};
