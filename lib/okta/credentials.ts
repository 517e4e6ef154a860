import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * How olp authenticates to Okta: an SSWS API token, or an OAuth 2.0 service app (client credentials with
 * private_key_jwt), which is what Okta recommends: scoped, not tied to one admin, no 30-day idle expiry.
 */
export type OktaCredentials =
  | { readonly kind: 'ssws'; readonly token: string }
  | {
      readonly kind: 'private_key_jwt';
      readonly clientId: string;
      readonly privateKey: OktaSigningKey;
    };

/** A private key ready to sign client assertions, with the JWS algorithm its type and curve call for. */
export interface OktaSigningKey {
  readonly key: KeyObject;
  readonly alg: 'RS256' | 'ES256' | 'ES384' | 'ES512';
  /** The key id Okta knows the public key by, when the app holds several keys. */
  readonly kid?: string;
}

/** Credentials that are missing, ambiguous or unreadable. The message names the variables, never their values. */
export class OktaCredentialsError extends Error {
  override readonly name = 'OktaCredentialsError';
}

export const CREDENTIAL_VARIABLES = 'OKTA_API_TOKEN, or OKTA_CLIENT_ID with OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE';

const EC_ALGORITHMS: Readonly<Record<string, OktaSigningKey['alg']>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

function parseJwk(text: string, where: string): { jwk: JsonWebKey; kid?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new OktaCredentialsError(`${where} looks like JSON but is not valid JSON`);
  }
  // The Admin Console offers the key as a JWK; a JWKS holding exactly one key is accepted too.
  const keys = (parsed as { keys?: unknown }).keys;
  const candidate = Array.isArray(keys) && keys.length === 1 ? keys[0] : parsed;
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
    throw new OktaCredentialsError(`${where} is not a JWK object`);
  }
  const jwk = candidate as JsonWebKey & { kid?: unknown };
  return typeof jwk.kid === 'string' && jwk.kid !== '' ? { jwk, kid: jwk.kid } : { jwk };
}

/**
 * Reads a private key given as PEM (PKCS#8, PKCS#1 or SEC1) or as a JWK (JSON), for RS256 or ES256/384/512.
 * `where` names the source in errors (a variable or a file), since the key itself must never be shown.
 */
export function loadSigningKey(text: string, where: string, keyId?: string): OktaSigningKey {
  const trimmed = text.trim();
  let key: KeyObject;
  let kid = keyId;
  try {
    if (trimmed.startsWith('{')) {
      const parsed = parseJwk(trimmed, where);
      key = createPrivateKey({ key: parsed.jwk, format: 'jwk' });
      kid ??= parsed.kid;
    } else {
      // A PEM pasted into an env file often arrives with literal \n sequences instead of line breaks.
      const pem = trimmed.includes('\n') ? trimmed : trimmed.replace(/\\n/g, '\n');
      key = createPrivateKey(pem);
    }
  } catch (error) {
    if (error instanceof OktaCredentialsError) throw error;
    // Node's message may quote part of the input; say only what went wrong in general terms.
    throw new OktaCredentialsError(
      `${where} is not a usable private key (expected an unencrypted PEM private key or a private JWK)`,
    );
  }
  if (key.type !== 'private') {
    throw new OktaCredentialsError(`${where} holds a public key; Okta needs the private key to sign with`);
  }
  let alg: OktaSigningKey['alg'] | undefined;
  if (key.asymmetricKeyType === 'rsa') {
    alg = 'RS256';
  } else if (key.asymmetricKeyType === 'ec') {
    alg = EC_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''];
  }
  if (alg === undefined) {
    throw new OktaCredentialsError(`${where} must be an RSA or EC (P-256, P-384, P-521) private key`);
  }
  return kid === undefined || kid === '' ? { key, alg } : { key, alg, kid };
}

/** The environment variables olp reads its Okta credentials from. */
export interface CredentialVariables {
  readonly OKTA_API_TOKEN?: string | undefined;
  readonly OKTA_CLIENT_ID?: string | undefined;
  readonly OKTA_PRIVATE_KEY?: string | undefined;
  readonly OKTA_PRIVATE_KEY_FILE?: string | undefined;
  readonly OKTA_PRIVATE_KEY_ID?: string | undefined;
}

const given = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * Credentials from the variables the caller read (the CLI passes its environment; nothing here reads process.env):
 * OKTA_API_TOKEN, or OKTA_CLIENT_ID with OKTA_PRIVATE_KEY (PEM or JWK text) or OKTA_PRIVATE_KEY_FILE, and optionally
 * OKTA_PRIVATE_KEY_ID. Throws OktaCredentialsError when none, both kinds, or an unreadable key are given.
 */
export function credentialsFromVariables(
  variables: CredentialVariables,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): OktaCredentials {
  const token = variables.OKTA_API_TOKEN;
  const clientId = variables.OKTA_CLIENT_ID;
  const keyText = variables.OKTA_PRIVATE_KEY;
  const keyFile = variables.OKTA_PRIVATE_KEY_FILE;
  if (given(token) && given(clientId)) {
    throw new OktaCredentialsError('set either OKTA_API_TOKEN or OKTA_CLIENT_ID (with a private key), not both');
  }
  if (given(token)) {
    return { kind: 'ssws', token: token.trim() };
  }
  if (!given(clientId)) {
    if (given(keyText) || given(keyFile)) {
      throw new OktaCredentialsError('a private key is set but OKTA_CLIENT_ID is not');
    }
    throw new OktaCredentialsError(`no Okta credentials: set ${CREDENTIAL_VARIABLES}`);
  }
  if (given(keyText) && given(keyFile)) {
    throw new OktaCredentialsError('set either OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE, not both');
  }
  const keyId = given(variables.OKTA_PRIVATE_KEY_ID) ? variables.OKTA_PRIVATE_KEY_ID.trim() : undefined;
  let privateKey: OktaSigningKey;
  if (given(keyText)) {
    privateKey = loadSigningKey(keyText, 'OKTA_PRIVATE_KEY', keyId);
  } else if (given(keyFile)) {
    let text: string;
    try {
      text = readFile(keyFile);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new OktaCredentialsError(
        `OKTA_PRIVATE_KEY_FILE "${keyFile}" cannot be read${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
    privateKey = loadSigningKey(text, `OKTA_PRIVATE_KEY_FILE "${keyFile}"`, keyId);
  } else {
    throw new OktaCredentialsError('OKTA_CLIENT_ID needs OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE');
  }
  return { kind: 'private_key_jwt', clientId: clientId.trim(), privateKey };
}

/**
 * Credentials from the deployed watchdog's Secrets Manager secret: a JSON object with the CLI's variable names as keys,
 * `{"OKTA_API_TOKEN": "..."}` or `{"OKTA_CLIENT_ID": "...", "OKTA_PRIVATE_KEY": "<PEM or JWK>"[, "OKTA_PRIVATE_KEY_ID":
 * "..."]}`. Errors name the secret and the keys, never a value.
 */
export function credentialsFromSecret(text: string, secretName: string): OktaCredentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new OktaCredentialsError(`secret ${secretName} is not a JSON object with ${CREDENTIAL_VARIABLES}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new OktaCredentialsError(`secret ${secretName} is not a JSON object with ${CREDENTIAL_VARIABLES}`);
  }
  const record = parsed as Record<string, unknown>;
  const field = (name: keyof CredentialVariables): string | undefined => {
    const value = record[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new OktaCredentialsError(`secret ${secretName}: ${name} must be a string`);
    return value;
  };
  if (record.OKTA_PRIVATE_KEY_FILE !== undefined) {
    throw new OktaCredentialsError(`secret ${secretName}: put the key itself in OKTA_PRIVATE_KEY, not a file path`);
  }
  try {
    return credentialsFromVariables({
      OKTA_API_TOKEN: field('OKTA_API_TOKEN'),
      OKTA_CLIENT_ID: field('OKTA_CLIENT_ID'),
      OKTA_PRIVATE_KEY: field('OKTA_PRIVATE_KEY'),
      OKTA_PRIVATE_KEY_ID: field('OKTA_PRIVATE_KEY_ID'),
    });
  } catch (error) {
    if (error instanceof OktaCredentialsError) {
      throw new OktaCredentialsError(`secret ${secretName}: ${error.message}`);
    }
    throw error;
  }
}
