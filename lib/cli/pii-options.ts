import { readFile } from 'node:fs/promises';
import { escapeForTerminal } from '../../lambdas/shared/escape-text.ts';
import type { SourceName } from '../../lambdas/shared/log-sources.ts';
import {
  hashesPii,
  PiiKeyError,
  type PiiSettings,
  PiiSettingsError,
  parsePiiSettings,
  piiKeyFromText,
} from '../../lambdas/shared/pii.ts';
import { CliError } from './io.ts';

/**
 * `olp local`'s PII options: each source's settings as the deployed stack takes them (the JSON of `oktaPii` and
 * `auth0Pii` in cdk.json), given inline or as `@file`; the HMAC key only from a file, never on the command line.
 */
export const PII_OPTIONS = {
  'okta-pii': { type: 'string' },
  'auth0-pii': { type: 'string' },
  'pii-key-file': { type: 'string' },
} as const;

export const PII_HELP = `PII controls (as the deployed oktaPii and auth0Pii settings):
  --okta-pii <json|@file>  redact Okta events in alerts, e.g. '{"fields":["username","email"],"method":"mask"}';
                           with "archive": true, in the archived lines too
  --auth0-pii <json|@file> the same for Auth0 logs; fields first_name, last_name, username, email, phone, address
                           or paths like data.user_name
  --pii-key-file <file>    the HMAC key for method "hash" (at least 32 characters; the file's final newline is not
                           part of it)`;

type PiiValues = { readonly [K in keyof typeof PII_OPTIONS]?: string | undefined };

const FLAGS: ReadonlyArray<readonly [SourceName, keyof typeof PII_OPTIONS]> = [
  ['okta', 'okta-pii'],
  ['auth0', 'auth0-pii'],
];

/** The text of an option given inline or as `@file`. */
const optionText = async (value: string, flag: string): Promise<string> => {
  if (!value.startsWith('@')) return value;
  const path = value.slice(1);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'cannot be read';
    throw new CliError(escapeForTerminal(`${flag} ${path}: ${code}`), 2);
  }
};

/** The PII settings and key the options give, or undefined without any; a usage error names the flag at fault. */
export async function readPiiOptions(
  values: PiiValues,
): Promise<{ sources: Partial<Record<SourceName, PiiSettings>>; key?: Uint8Array } | undefined> {
  const sources: Partial<Record<SourceName, PiiSettings>> = {};
  for (const [source, flag] of FLAGS) {
    const value = values[flag];
    if (value === undefined) continue;
    try {
      sources[source] = parsePiiSettings(source, await optionText(value, `--${flag}`));
    } catch (error) {
      if (error instanceof PiiSettingsError) throw new CliError(escapeForTerminal(`--${flag} ${error.message}`), 2);
      throw error;
    }
  }
  const keyFile = values['pii-key-file'];
  if (Object.keys(sources).length === 0) {
    if (keyFile !== undefined) throw new CliError('--pii-key-file needs --okta-pii or --auth0-pii', 2);
    return undefined;
  }
  if (keyFile === undefined) {
    if (hashesPii(sources)) {
      throw new CliError('method "hash" needs the HMAC key: --pii-key-file <file> (at least 32 characters)', 2);
    }
    return { sources };
  }
  try {
    return {
      sources,
      key: piiKeyFromText(await optionText(`@${keyFile}`, '--pii-key-file'), `--pii-key-file ${keyFile}`),
    };
  } catch (error) {
    if (error instanceof PiiKeyError) throw new CliError(escapeForTerminal(error.message), 2);
    throw error;
  }
}
