import { z } from 'zod';
import { SEVERITIES } from '../../lib/rules/types.ts';

/**
 * The body of one message on the alert queue: the rule that matched and the EventBridge event it matched.
 * The deployed EventBridge rule target builds it with an input transformer; the local runner builds the same object.
 */
export const AlertQueueMessage = z.object({
  rule: z.object({
    id: z.string().min(1),
    title: z.string().min(1),
    severity: z.enum(SEVERITIES),
    description: z.string(),
    runbook: z.string(),
    subject: z.string().min(1).optional(),
  }),
  /** An EventBridge event of one of the log sources (lambdas/shared/log-sources.ts), checked there in full. */
  event: z.looseObject({ 'detail-type': z.string(), source: z.string(), account: z.string(), detail: z.unknown() }),
});
export type AlertQueueMessage = z.infer<typeof AlertQueueMessage>;
