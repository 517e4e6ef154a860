import { z } from 'zod';
import { RULE_KINDS } from '../../lib/rules/types.ts';
import { AlertRuleFields, SourceEventEnvelope } from '../shared/alert-message.ts';

const Pattern = z.record(z.string(), z.unknown()).nullable();

const Part = z.object({
  label: z.string().min(1).max(80),
  pattern: Pattern,
  atLeast: z.number().int().min(1).optional(),
});

/** A stateful rule's detector as the rule's EventBridge target writes it (lib/rules DetectSpec). */
export const DetectSpecFields = z.object({
  kind: z.enum(RULE_KINDS),
  groupBy: z.string().min(1).max(200),
  windowSeconds: z.number().int().positive(),
  counts: z
    .array(Part.required({ atLeast: true }))
    .min(1)
    .max(5)
    .optional(),
  distinct: z.object({ field: z.string().min(1).max(200), atLeast: z.number().int().min(1) }).optional(),
  steps: z.array(Part).min(2).max(5).optional(),
  travel: z.object({ atLeastKmh: z.number().positive(), ignoreUnderKm: z.number().min(0) }).optional(),
});

/**
 * The body of one message on the detector queue: a stateful rule (its summary and its detector) and an event its
 * pre-filter matched. Built by the rule's EventBridge target (input template) and, locally, by the runner.
 */
export const DetectorQueueMessage = z.object({
  rule: AlertRuleFields.extend({ detect: DetectSpecFields }),
  event: SourceEventEnvelope,
});
export type DetectorQueueMessage = z.infer<typeof DetectorQueueMessage>;
