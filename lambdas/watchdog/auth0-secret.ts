import {
  type Auth0Credentials,
  Auth0CredentialsError,
  auth0CredentialsFromVariables,
} from '../../lib/auth0/credentials.ts';

/**
 * The watchdog's Auth0 credentials from its Secrets Manager secret: a JSON object with the CLI's variable names,
 * AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET of a machine-to-machine application (and AUTH0_AUDIENCE for a tenant behind
 * a custom domain). Errors name the secret and the variables, never a value.
 */
export function auth0CredentialsFromSecret(text: string, secretName: string): Auth0Credentials {
  const expected = `a JSON object with AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Auth0CredentialsError(`secret ${secretName} is not ${expected}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Auth0CredentialsError(`secret ${secretName} is not ${expected}`);
  }
  const record = parsed as Record<string, unknown>;
  // A Management API token expires (the API Explorer's after a day): a scheduled function needs one it can renew.
  if (record.AUTH0_MGMT_TOKEN !== undefined) {
    throw new Auth0CredentialsError(
      `secret ${secretName}: AUTH0_MGMT_TOKEN expires and cannot be renewed; store AUTH0_CLIENT_ID and ` +
        'AUTH0_CLIENT_SECRET of a machine-to-machine application instead',
    );
  }
  const field = (name: 'AUTH0_CLIENT_ID' | 'AUTH0_CLIENT_SECRET' | 'AUTH0_AUDIENCE'): string | undefined => {
    const value = record[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new Auth0CredentialsError(`secret ${secretName}: ${name} must be a string`);
    return value;
  };
  if (field('AUTH0_CLIENT_ID') === undefined && field('AUTH0_CLIENT_SECRET') === undefined) {
    throw new Auth0CredentialsError(`secret ${secretName}: no Auth0 credentials, it must be ${expected}`);
  }
  try {
    return auth0CredentialsFromVariables({
      AUTH0_CLIENT_ID: field('AUTH0_CLIENT_ID'),
      AUTH0_CLIENT_SECRET: field('AUTH0_CLIENT_SECRET'),
      AUTH0_AUDIENCE: field('AUTH0_AUDIENCE'),
    });
  } catch (error) {
    if (error instanceof Auth0CredentialsError) {
      throw new Auth0CredentialsError(`secret ${secretName}: ${error.message}`);
    }
    throw error;
  }
}
