import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { FauxqsServer } from 'fauxqs';
import { STAND_IN_REGION, standInClientConfig, startDynalite, startFauxqsServer } from '../../lib/local/stand-ins.ts';

export { STAND_IN_REGION };

/** Tests fail fast instead of retrying against a stand-in. */
const clientConfig = (endpoint: string) => ({ ...standInClientConfig(endpoint), maxAttempts: 1 });

export interface DynamoStandIn {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

/** dynalite in this process, on a free port of 127.0.0.1, in memory, with a client for it. */
export async function startDynamo(): Promise<DynamoStandIn> {
  const server = await startDynalite();
  const client = new DynamoDBClient(clientConfig(server.endpoint));
  return {
    endpoint: server.endpoint,
    client,
    async stop() {
      client.destroy();
      await server.stop();
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

/** fauxqs (SNS, SQS, S3) in this process, on a free port of 127.0.0.1, with SNS and SQS clients. */
export async function startMessaging(): Promise<MessagingStandIn> {
  const fauxqs = await startFauxqsServer();
  const sns = new SNSClient(clientConfig(fauxqs.endpoint));
  const sqs = new SQSClient(clientConfig(fauxqs.endpoint));
  return {
    endpoint: fauxqs.endpoint,
    sns,
    sqs,
    server: fauxqs.server,
    async stop() {
      sns.destroy();
      sqs.destroy();
      await fauxqs.stop();
    },
  };
}
