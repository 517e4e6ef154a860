import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AlertDependencies, type AlertOutcome, handleAlertMessage } from './process-alert.ts';

/** What became of one record, for callers that report it (the local runner lists failed alerts with their reason). */
export type AlertRecordReport =
  | (AlertOutcome & { readonly messageId: string })
  | { readonly kind: 'failed'; readonly messageId: string; readonly reason: string };

/** The use case's dependencies, plus where to report outcomes (the Lambda passes the Powertools singletons). */
export interface AlertRecordDependencies extends AlertDependencies {
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  readonly onReport?: (report: AlertRecordReport) => void;
}

const METRIC_OF: Record<AlertOutcome['kind'], string> = {
  published: 'AlertsPublished',
  duplicate: 'AlertsDeduplicated',
  rejected: 'AlertsRejected',
};

/** Counts every record the batch reports as failed: with partial batch responses, Lambda Errors stays at 0. */
export const FAILED_RECORD_METRIC = 'AlertRecordsFailed';

/** Handles one alert-queue record; throws to have SQS redeliver it. The deployed Lambda and the local runner share it. */
export function createAlertRecordHandler(deps: AlertRecordDependencies): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    let outcome: AlertOutcome;
    try {
      outcome = await handleAlertMessage(record.body, record.messageId, deps);
    } catch (error) {
      // Counted and reported here because the batch response hides it from Lambda's error count; then rethrown so
      // the record is redelivered.
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      deps.metrics?.addMetric(FAILED_RECORD_METRIC, MetricUnit.Count, 1);
      deps.logger?.error('alert record failed; it will be redelivered', { messageId: record.messageId, error });
      deps.onReport?.({ kind: 'failed', messageId: record.messageId, reason });
      throw error;
    }
    deps.metrics?.addMetric(METRIC_OF[outcome.kind], MetricUnit.Count, 1);
    deps.onReport?.({ ...outcome, messageId: record.messageId });
    if (outcome.kind === 'rejected') {
      deps.logger?.warn('alert message quarantined', {
        messageId: record.messageId,
        reason: outcome.reason,
        key: outcome.key,
      });
      return;
    }
    deps.logger?.info(outcome.kind === 'published' ? 'alert published' : 'alert already raised', {
      ruleId: outcome.ruleId,
      eventId: outcome.uuid,
      messageId: record.messageId,
    });
  };
}

/**
 * Handles one SQS batch and reports the failed records (partial batch response), so only they are redelivered.
 * A batch in which every record failed is reported the same way instead of thrown: SQS redelivers exactly those
 * messages either way, and callers (the Lambda, the local runner, tests) always get the list of failures. Lambda
 * Errors then stays at 0, so each failed record is counted in FAILED_RECORD_METRIC, which the alarm watches.
 */
export function createAlertBatchHandler(
  deps: AlertRecordDependencies,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const handleRecord = createAlertRecordHandler(deps);
  // A processor keeps the state of the batch it is working on: one per batch keeps concurrent local batches apart.
  return async (event, context) =>
    processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
      ...(context === undefined ? {} : { context }),
      throwOnFullBatchFailure: false,
    });
}
