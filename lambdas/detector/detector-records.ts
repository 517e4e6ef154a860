import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type DetectorDependencies, type DetectorMessageOutcome, handleDetectorMessage } from './process-detection.ts';

export interface DetectorRecordDependencies extends DetectorDependencies {
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: Pick<Metrics, 'addMetric'>;
  readonly onOutcome?: (outcome: DetectorMessageOutcome) => void;
}

const METRIC_OF: Record<DetectorMessageOutcome['kind'], string> = {
  detected: 'DetectorEventsCounted',
  counted: 'DetectorEventsCounted',
  ungrouped: 'DetectorEventsUngrouped',
  unmatched: 'DetectorEventsUnmatched',
  rejected: 'DetectorMessagesRejected',
};

/** Counts every record the batch reports as failed: with partial batch responses, Lambda Errors stays at 0. */
export const DETECTOR_FAILED_RECORD_METRIC = 'DetectorRecordsFailed';

/**
 * Handles one SQS batch of the detector queue and reports the failed records (partial batch response), so only they
 * are redelivered; the deployed Lambda and the local runner share it.
 */
export function createDetectorBatchHandler(
  deps: DetectorRecordDependencies,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  const handleRecord = async (record: SQSRecord): Promise<void> => {
    let outcome: DetectorMessageOutcome;
    try {
      outcome = await handleDetectorMessage(record.body, record.messageId, deps);
    } catch (error) {
      deps.metrics?.addMetric(DETECTOR_FAILED_RECORD_METRIC, MetricUnit.Count, 1);
      deps.logger?.error('detector record failed; it will be redelivered', { messageId: record.messageId, error });
      throw error;
    }
    deps.metrics?.addMetric(METRIC_OF[outcome.kind], MetricUnit.Count, 1);
    if (outcome.kind === 'detected') {
      deps.metrics?.addMetric('Detections', MetricUnit.Count, outcome.detections);
      deps.logger?.info('detection sent to the alert queue', { ruleId: outcome.ruleId, eventId: outcome.id });
    }
    if (outcome.kind === 'rejected') {
      deps.logger?.warn('detector message quarantined', { messageId: record.messageId, reason: outcome.reason });
    }
    deps.onOutcome?.(outcome);
  };
  return async (event, context) =>
    processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
      ...(context === undefined ? {} : { context }),
      throwOnFullBatchFailure: false,
    });
}
