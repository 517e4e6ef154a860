/** Alert severities, lowest first. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What the alert Lambda needs to know about the rule that matched; travels with each matched event. */
export interface AlertRuleSummary {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly description: string;
  readonly runbook: string;
  /** The rule file's subject template, when it has one ({title}, {actor}, {target}, ...). */
  readonly subject?: string | undefined;
}

/** An alert rule compiled for deployment: one EventBridge rule on the partner bus per alert rule. */
export interface CompiledAlertRule extends AlertRuleSummary {
  /** The EventBridge event pattern, scoped to the Okta source; the same object the local pattern engine evaluates. */
  readonly pattern: Record<string, unknown>;
}
