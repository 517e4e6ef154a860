import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** One logger and one metrics instance per function, shared by its modules (Powertools reads its settings from env). */
export const logger = new Logger({ serviceName: 'okta-log-pipeline' });
export const metrics = new Metrics({ namespace: 'OktaLogPipeline', serviceName: 'okta-log-pipeline' });
