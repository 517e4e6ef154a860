import { findByEventSourceName, setLogStreamStatus } from '../../lib/okta/log-streams.ts';
import type { OktaClient } from '../../lib/okta/okta-client.ts';
import { readSystemLogPages } from '../../lib/okta/system-log.ts';
import type { OktaFeed } from './run-watchdog.ts';

/** Okta's Log Streaming and System Log APIs for the watchdog, over one client (one token, one rate-limit budget). */
export const oktaFeed = (client: OktaClient, eventSourceName: string): OktaFeed => ({
  findStream: () => findByEventSourceName(client, eventSourceName),
  activate: (id) => setLogStreamStatus(client, id, 'ACTIVE'),
  readPages: (since, until) => readSystemLogPages({ orgUrl: client.orgUrl, client, since, until }),
});
