import { escapeForTerminal } from '../../lambdas/shared/escape-text.ts';
import type { ArchiveSource } from '../archive/archive-reader.ts';
import { oneLine } from './args.ts';
import { CliError } from './io.ts';

/** What the commands that read an archive (`olp audit`, `olp archive`) share: AWS clients and one-line errors. */

/**
 * S3 and SQS clients configured from the environment the command was given (the SDK's own variables, so the result
 * is what the SDK would do with the process's environment), with path-style S3 on a custom endpoint.
 */
export const awsClientConfig = (env: NodeJS.ProcessEnv, service: 'S3' | 'SQS', region?: string) => {
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  const sessionToken = env.AWS_SESSION_TOKEN;
  return {
    region: region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint === undefined || endpoint === '' ? {} : { endpoint }),
    ...(accessKeyId && secretAccessKey
      ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } }
      : {}),
  };
};

/** Storage errors (no such bucket, access denied, unreadable directory) end the command in one line, exit 1. */
export const guarded = (source: ArchiveSource): ArchiveSource => {
  const fail = (error: unknown): never => {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new CliError(`reading the archive ${escapeForTerminal(source.name)}: ${escapeForTerminal(oneLine(text))}`);
  };
  return {
    name: source.name,
    async *list(prefix) {
      try {
        yield* source.list(prefix);
      } catch (error) {
        fail(error);
      }
    },
    get: (key) => source.get(key).catch(fail),
  };
};
