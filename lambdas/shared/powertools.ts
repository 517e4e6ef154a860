import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** One logger and one metrics instance per function, shared by its modules (Powertools reads its settings from env). */
export const logger = new Logger({ serviceName: 'okta-log-pipeline' });
export const metrics = new Metrics({ namespace: 'OktaLogPipeline', serviceName: 'okta-log-pipeline' });

/**
 * A second source's functions (LOG_SOURCE, see log-sources.ts) report under a `source` dimension of their own, so the
 * Okta alarms, which watch the metrics with the `service` dimension alone, never count another source's events.
 */
const source = process.env.LOG_SOURCE;
if (source !== undefined && source !== 'okta') {
  metrics.setDefaultDimensions({ source });
  logger.appendKeys({ source });
}
