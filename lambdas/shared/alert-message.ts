import { z } from 'zod';
import { SEVERITIES } from '../../lib/rules/types.ts';

/** What a stateful rule's detector found: one group in one window of `published` time. */
export const Detection = z.object({
  /** The claim key: a UUIDv5 of (rule, group, window), so the alert fires once however the events arrived. */
  key: z.uuid(),
  /** The field the rule groups by, and the group's value (as the event held it; escaped where shown). */
  groupBy: z.string().min(1).max(200),
  group: z.string().max(1024),
  windowStart: z.iso.datetime({ offset: true }),
  windowEnd: z.iso.datetime({ offset: true }),
  /** What the detector saw, in words: "at least 10 of: Failed sign-ins", "2 steps: ...". */
  finding: z.string().min(1).max(2048),
});
export type Detection = z.infer<typeof Detection>;

/** The rule fields every alert-queue message carries (EventBridge's input template writes them). */
export const AlertRuleFields = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  severity: z.enum(SEVERITIES),
  description: z.string(),
  runbook: z.string(),
  subject: z.string().min(1).optional(),
  suppress: z.object({ by: z.string().min(1), forSeconds: z.number().int().positive() }).optional(),
});

/** An EventBridge event of one of the log sources (lambdas/shared/log-sources.ts), checked there in full. */
export const SourceEventEnvelope = z.looseObject({
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  detail: z.unknown(),
});

/**
 * The body of one message on the alert queue: the rule that matched and the EventBridge event it matched; from a
 * stateful rule's detector, also what it detected (the event is the one that completed the detection).
 * The deployed EventBridge rule target builds it with an input transformer; the local runner builds the same object.
 */
export const AlertQueueMessage = z.object({
  rule: AlertRuleFields,
  event: SourceEventEnvelope,
  detection: Detection.optional(),
});
export type AlertQueueMessage = z.infer<typeof AlertQueueMessage>;
