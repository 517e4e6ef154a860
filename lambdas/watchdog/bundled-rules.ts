import { readFileSync } from 'node:fs';
import type { CompiledAlertRule } from '../../lib/rules/types.ts';

/**
 * The compiled alert rules ship beside the watchdog's bundle as a file (lib/constructs/feed-watchdog.ts writes it at
 * synth): up to 250 rules do not fit the 4 KB of a function's environment.
 */
export const ALERT_RULES_FILE = 'alert-rules.json';

/** The rules bundled beside `moduleUrl` (the handler's `import.meta.url`). */
export const readBundledRules = (moduleUrl: string | URL): CompiledAlertRule[] =>
  JSON.parse(readFileSync(new URL(`./${ALERT_RULES_FILE}`, moduleUrl), 'utf8')) as CompiledAlertRule[];
