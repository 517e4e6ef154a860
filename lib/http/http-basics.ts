/**
 * What olp's API clients (Okta, Auth0) share about talking HTTP: which hosts may be reached in clear text, how a
 * failed connection is named, and how error text is kept short and free of credentials.
 */

/** Plain `http://` is accepted only for these (local stand-ins): anywhere else a credential would cross in clear. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why fetch could not reach the server, in one word where Node gives one (ECONNREFUSED, ENOTFOUND, ...). */
export const networkFailureReason = (error: unknown): string => {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return (error as Error).message;
};

/** At most `max` characters of an API's error text, marked when cut. */
export const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}...` : text);

/** `text` with every secret of at least `minLength` characters replaced by `[redacted]`. */
export const redactSecrets = (text: string, secrets: readonly string[], minLength = 1): string =>
  secrets
    .filter((secret) => secret.length >= minLength)
    .reduce((out, secret) => out.split(secret).join('[redacted]'), text);
