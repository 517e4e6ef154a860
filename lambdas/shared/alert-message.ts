import { z } from 'zod';
import { SEVERITIES } from '../../lib/rules/types.ts';
import { OktaEnvelope } from './okta-event.ts';

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
  event: OktaEnvelope,
});
export type AlertQueueMessage = z.infer<typeof AlertQueueMessage>;
