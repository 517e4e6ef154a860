import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AlertDependencies, parseAlertQueueMessage, processAlert } from './process-alert.ts';

/** The use case's dependencies, plus where to report outcomes (the Lambda passes the Powertools singletons). */
export interface AlertRecordDependencies extends AlertDependencies {
  readonly logger?: Pick<Logger, 'info'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
}

const METRIC_OF = { published: 'AlertsPublished', duplicate: 'AlertsDeduplicated' } as const;

/** Handles one alert-queue record; throws to have SQS redeliver it. The deployed Lambda and the local runner share it. */
export function createAlertRecordHandler(deps: AlertRecordDependencies): (record: SQSRecord) => Promise<void> {
  return async (record) => {
    const message = parseAlertQueueMessage(record.body);
    const outcome = await processAlert(message, deps);
    deps.metrics?.addMetric(METRIC_OF[outcome], MetricUnit.Count, 1);
    deps.logger?.info(outcome === 'published' ? 'alert published' : 'alert already raised', {
      ruleId: message.rule.id,
      eventId: message.event.id,
      messageId: record.messageId,
    });
  };
}

/**
 * Handles one SQS batch and reports the failed records (partial batch response), so only they are redelivered.
 * A batch in which every record failed is reported the same way instead of thrown: SQS redelivers exactly those
 * messages either way, and callers (the Lambda, the local runner, tests) always get the list of failures.
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
