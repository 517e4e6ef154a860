import { z } from 'zod';
import { OKTA_SOURCE_PREFIX, type SourcePin } from './okta-event.ts';

/**
 * What every consumer of rule-matched events (the alert and detector functions) reads from its environment: the
 * sources and account events must come from, and where it quarantines what it cannot accept.
 */
export const RuleConsumerEnv = z.object({
  /** The one Okta partner event source (the stack's configured `eventSourceName`). */
  EVENT_SOURCE_NAME: z.string().startsWith(OKTA_SOURCE_PREFIX, `must start with ${OKTA_SOURCE_PREFIX}`),
  /** The Auth0 sources accepted too, comma-separated (its partner event source, the HTTP sink's). */
  AUTH0_SOURCE_NAMES: z
    .string()
    .default('')
    .transform((value) => value.split(',').filter((name) => name !== '')),
  /** The stack's own account: envelopes naming another are quarantined. */
  EXPECTED_ACCOUNT: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  /** Where rejected messages go, under `quarantine/`. */
  QUARANTINE_BUCKET_NAME: z.string().min(1),
});

/** The source pin of a rule consumer: its Okta source and Auth0 sources, in its own account. */
export const pinOf = (env: z.infer<typeof RuleConsumerEnv>): SourcePin => ({
  source: [env.EVENT_SOURCE_NAME, ...env.AUTH0_SOURCE_NAMES],
  account: env.EXPECTED_ACCOUNT,
});
