import { createHash, timingSafeEqual } from 'node:crypto';
import { routeEvent } from '../../lib/rules/routing.ts';
import type { CompiledAlertRule } from '../../lib/rules/types.ts';
import { AUTH0, AUTH0_HTTP_SOURCE } from '../shared/log-sources.ts';
import type { ArchiveStore } from '../shared/ports.ts';
import { quarantine } from '../shared/quarantine.ts';
import type { QueueMessage, QueueSender } from '../shared/sqs-queue-sender.ts';
import { type EnvelopeOrigin, wrapEvent } from '../shared/system-log-envelope.ts';
import { splitAuth0Body } from './auth0-body.ts';

/**
 * One POST from an Auth0 HTTP log stream: check the Authorization header, split the body into logs, and put each on
 * the Auth0 ingest queue in the envelope an Auth0 log stream to EventBridge would have used (source
 * AUTH0_HTTP_SOURCE), and the logs an Auth0 alert rule matches on the alert queue (a stateful rule's on the detector
 * queue), as the rules on a bus would. Ingest
 * then validates, dedupes and stages them like any other log. Answers fast: Auth0 pauses a stream whose sink fails.
 */

export interface HttpRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
  /** Names the request in quarantine records (the Lambda request id). */
  readonly requestId: string;
}

export interface HttpAnswer {
  readonly statusCode: number;
  readonly body: string;
}

export interface HttpSinkDeps {
  /** The Authorization value the stream was created with (a Secrets Manager value deployed). */
  readonly expectedAuthorization: () => Promise<string>;
  readonly ingestQueue: QueueSender;
  readonly alertQueue: QueueSender;
  /** Where logs a stateful Auth0 rule's pre-filter matches go, as the rule's EventBridge target would send them. */
  readonly detectorQueue: QueueSender;
  /** Where an unreadable body goes, with its reason. */
  readonly quarantine: ArchiveStore;
  /** The deployed Auth0 alert rules, compiled for AUTH0_HTTP_SOURCE. */
  readonly rules: readonly CompiledAlertRule[];
  readonly now: () => number;
}

export interface HttpSinkSettings {
  /** The stack's account and region, which the envelopes name as a delivered one would. */
  readonly account: string;
  readonly region: string;
  /** The largest body accepted, in bytes (decoded). */
  readonly maxBodyBytes: number;
}

/** Compares in constant time, whatever the lengths: SHA-256 of both sides first. */
const sameSecret = (given: string, expected: string): boolean =>
  timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest()) &&
  expected !== '';

const answer = (statusCode: number, message: Record<string, unknown>): HttpAnswer => ({
  statusCode,
  body: JSON.stringify(message),
});

export const receiveAuth0Post = async (
  request: HttpRequest,
  deps: HttpSinkDeps,
  settings: HttpSinkSettings,
): Promise<HttpAnswer> => {
  const authorization = request.headers.authorization ?? request.headers.Authorization ?? '';
  if (!sameSecret(authorization, await deps.expectedAuthorization())) {
    // Not stored: what an unauthenticated caller sends is not the pipeline's to keep.
    return answer(401, { message: 'missing or wrong Authorization header' });
  }
  const raw = request.body ?? '';
  const bytes = request.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > settings.maxBodyBytes) {
    return answer(413, { message: `body over ${settings.maxBodyBytes} bytes: lower the stream's batch size` });
  }
  const text = bytes.toString('utf8');
  const split = splitAuth0Body(text);
  if (!split.ok) {
    const key = await quarantine(
      deps.quarantine,
      {
        reason: split.reason,
        origin: { id: `http-${request.requestId}`, sink: 'auth0-http', requestId: request.requestId },
        raw: text,
      },
      deps.now(),
    );
    return answer(400, { message: split.reason, quarantined: key });
  }
  const origin: EnvelopeOrigin = { source: AUTH0_HTTP_SOURCE, account: settings.account, region: settings.region };
  const ingest: QueueMessage[] = [];
  const alerts: QueueMessage[] = [];
  const detections: QueueMessage[] = [];
  for (const logText of split.logs) {
    let log: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(logText);
      log =
        typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : {};
    } catch {
      log = {};
    }
    // A log that is not an object still goes to ingest, inside an envelope, to be quarantined there with its reason.
    const { envelope, text } = wrapEvent(log, logText, origin, AUTH0);
    ingest.push({ body: text });
    if (AUTH0.identify(log).ok) {
      const routed = routeEvent(deps.rules, envelope);
      alerts.push(...routed.alerts.map((body) => ({ body })));
      detections.push(...routed.detections.map((body) => ({ body })));
    }
  }
  await Promise.all([deps.ingestQueue.send(ingest), deps.alertQueue.send(alerts), deps.detectorQueue.send(detections)]);
  return answer(200, { accepted: ingest.length });
};
