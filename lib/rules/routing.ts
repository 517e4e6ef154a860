import type { AlertQueueMessage } from '../../lambdas/shared/alert-message.ts';
import { matchingRules, ruleSummary } from './compile.ts';
import type { CompiledAlertRule } from './types.ts';

/** The queue messages one event makes, by where they go: alerts to the alert queue, stateful matches to detectors. */
export interface RoutedMessages {
  readonly alerts: string[];
  readonly detections: string[];
}

/**
 * What the partner bus's rules would send for one EventBridge envelope: for each single-event rule that matches, an
 * alert-queue message; for each stateful rule whose pre-filter matches, a detector-queue message
 * (lambdas/detector/detector-message.ts). The same bodies the
 * deployed input templates write (lib/constructs/alerting.ts, detection.ts); the local runner, the HTTP sink and the
 * watchdog build them here.
 */
export function routeEvent(rules: readonly CompiledAlertRule[], envelope: Record<string, unknown>): RoutedMessages {
  const alerts: string[] = [];
  const detections: string[] = [];
  for (const rule of matchingRules(rules, envelope)) {
    const event = envelope as AlertQueueMessage['event'];
    if (rule.detect === undefined) {
      alerts.push(JSON.stringify({ rule: ruleSummary(rule), event } satisfies AlertQueueMessage));
    } else {
      detections.push(JSON.stringify({ rule: { ...ruleSummary(rule), detect: rule.detect }, event }));
    }
  }
  return { alerts, detections };
}
