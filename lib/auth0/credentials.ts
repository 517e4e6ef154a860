/**
 * How olp authenticates to the Auth0 Management API: a Management API token (AUTH0_MGMT_TOKEN, e.g. one from the
 * dashboard's API Explorer), or the client credentials of a machine-to-machine application (AUTH0_CLIENT_ID and
 * AUTH0_CLIENT_SECRET), which olp exchanges at `/oauth/token` for tokens it renews itself. Nothing here reads
 * process.env: the CLI passes the environment it was given.
 */
export type Auth0Credentials =
  | { readonly kind: 'token'; readonly token: string }
  | {
      readonly kind: 'client_credentials';
      readonly clientId: string;
      readonly clientSecret: string;
      /**
       * The Management API's identifier to ask a token for. Default `https://<domain>/api/v2/`; with a custom domain it
       * is still the tenant's canonical one (`https://acme.us.auth0.com/api/v2/`), hence the override.
       */
      readonly audience?: string;
    };

/** Credentials that are missing, ambiguous or malformed. The message names the variables, never their values. */
export class Auth0CredentialsError extends Error {
  override readonly name = 'Auth0CredentialsError';
}

export const AUTH0_CREDENTIAL_VARIABLES = 'AUTH0_MGMT_TOKEN, or AUTH0_CLIENT_ID with AUTH0_CLIENT_SECRET';

/** The environment variables olp reads its Auth0 credentials from. */
export interface Auth0CredentialVariables {
  readonly AUTH0_MGMT_TOKEN?: string | undefined;
  readonly AUTH0_CLIENT_ID?: string | undefined;
  readonly AUTH0_CLIENT_SECRET?: string | undefined;
  readonly AUTH0_AUDIENCE?: string | undefined;
}

const given = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

// A header value must be one line; a pasted value with a line break would be refused by fetch with a message that may
// quote it.
const ONE_LINE = /^[^\p{Cc}]+$/u;

function checked(name: keyof Auth0CredentialVariables, value: string): string {
  const trimmed = value.trim();
  if (!ONE_LINE.test(trimmed)) throw new Auth0CredentialsError(`${name} must be one line without control characters`);
  return trimmed;
}

/**
 * Credentials from the variables given: AUTH0_MGMT_TOKEN, or AUTH0_CLIENT_ID with AUTH0_CLIENT_SECRET (and optionally
 * AUTH0_AUDIENCE). Throws Auth0CredentialsError when none, both kinds, or half a pair are set.
 */
export function auth0CredentialsFromVariables(variables: Auth0CredentialVariables): Auth0Credentials {
  const token = variables.AUTH0_MGMT_TOKEN;
  const clientId = variables.AUTH0_CLIENT_ID;
  const clientSecret = variables.AUTH0_CLIENT_SECRET;
  const audience = variables.AUTH0_AUDIENCE;
  if (given(token) && (given(clientId) || given(clientSecret))) {
    throw new Auth0CredentialsError(
      'set either AUTH0_MGMT_TOKEN or AUTH0_CLIENT_ID with AUTH0_CLIENT_SECRET, not both',
    );
  }
  if (given(token)) {
    if (given(audience)) {
      throw new Auth0CredentialsError(
        'AUTH0_AUDIENCE goes with AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET; a Management API token has its audience',
      );
    }
    return { kind: 'token', token: checked('AUTH0_MGMT_TOKEN', token) };
  }
  if (!given(clientId) && !given(clientSecret)) {
    throw new Auth0CredentialsError(`no Auth0 credentials: set ${AUTH0_CREDENTIAL_VARIABLES}`);
  }
  if (!given(clientId)) throw new Auth0CredentialsError('AUTH0_CLIENT_SECRET is set but AUTH0_CLIENT_ID is not');
  if (!given(clientSecret)) throw new Auth0CredentialsError('AUTH0_CLIENT_ID is set but AUTH0_CLIENT_SECRET is not');
  let checkedAudience: string | undefined;
  if (given(audience)) {
    checkedAudience = checked('AUTH0_AUDIENCE', audience);
    if (!URL.canParse(checkedAudience)) {
      throw new Auth0CredentialsError(
        'AUTH0_AUDIENCE must be the Management API identifier, like https://acme.us.auth0.com/api/v2/',
      );
    }
  }
  return {
    kind: 'client_credentials',
    clientId: checked('AUTH0_CLIENT_ID', clientId),
    clientSecret: checked('AUTH0_CLIENT_SECRET', clientSecret),
    ...(checkedAudience === undefined ? {} : { audience: checkedAudience }),
  };
}
