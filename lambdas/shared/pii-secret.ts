import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { z } from 'zod';
import type { SourceName } from './log-sources.ts';
import { hashesPii, type PiiSources, PiiSourcesJson, piiKeyFromText, piiRedactions, type Redaction } from './pii.ts';

/**
 * The PII settings of a deployed function (its environment) and the HMAC key they may need, read from Secrets
 * Manager with Powertools parameters at run time. The stack holds only the secret's name.
 */

/** How long a read key is used before Secrets Manager is asked again: a rotated key is picked up within this. */
export const PII_KEY_MAX_AGE_SECONDS = 300;

/** The environment variables a function with PII settings reads; both absent means no PII controls. */
export const PiiEnv = z
  .object({
    /** Each source's settings, JSON (lib/config.ts `oktaPii`, `auth0Pii`). */
    PII_SETTINGS: PiiSourcesJson.optional(),
    /** The Secrets Manager secret (name or ARN) holding the HMAC key; required when a setting hashes. */
    PII_HASH_SECRET_NAME: z.string().min(1).optional(),
  })
  .refine(
    (env) => env.PII_SETTINGS === undefined || !hashesPii(env.PII_SETTINGS) || env.PII_HASH_SECRET_NAME !== undefined,
    {
      message: 'PII_HASH_SECRET_NAME must be set when PII_SETTINGS hash values',
      path: ['PII_HASH_SECRET_NAME'],
    },
  );
export type PiiEnv = z.infer<typeof PiiEnv>;

/** The HMAC key from the secret (cached PII_KEY_MAX_AGE_SECONDS); its value is never logged or put in an error. */
export async function readPiiKey(secretName: string): Promise<Uint8Array> {
  const secret = await getSecret(secretName, { maxAge: PII_KEY_MAX_AGE_SECONDS });
  if (typeof secret !== 'string') throw new Error(`secret ${secretName} must hold a string: the PII HMAC key`);
  return piiKeyFromText(secret, `secret ${secretName}`);
}

/**
 * The redactions for this invocation: for `alerts` every configured source, for `archive` those with `archive: true`.
 * The key is read only when one of them hashes.
 */
export async function loadPiiRedactions(
  env: PiiEnv,
  scope: 'alerts' | 'archive',
): Promise<Partial<Record<SourceName, Redaction>>> {
  const sources: PiiSources = env.PII_SETTINGS ?? {};
  const secretName = env.PII_HASH_SECRET_NAME;
  const key = hashesPii(sources, scope) && secretName !== undefined ? await readPiiKey(secretName) : undefined;
  return piiRedactions(sources, key, scope);
}
