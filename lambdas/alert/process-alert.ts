import { AlertQueueMessage } from '../shared/alert-message.ts';
import { type LogSource, sourceOfEnvelope } from '../shared/log-sources.ts';
import { describeIssues, type OktaEventCore, type SourcePin, sourcePinIssue } from '../shared/okta-event.ts';
import type { ArchiveStore } from '../shared/ports.ts';
import { quarantine } from '../shared/quarantine.ts';
import { type FormattedAlert, formatAlert } from './format-alert.ts';

/** Who already raised which alert: one claim per (rule id, event uuid). */
export interface AlertClaims {
  /** Claims the alert; false when it is already claimed (the alert was raised, or is being raised, elsewhere). */
  claim(ruleId: string, uuid: string): Promise<boolean>;
  /** Gives a claim back so a retry can raise the alert. */
  release(ruleId: string, uuid: string): Promise<void>;
}

export interface AlertPublisher {
  publish(alert: FormattedAlert): Promise<void>;
}

export interface AlertDependencies {
  readonly claims: AlertClaims;
  readonly publisher: AlertPublisher;
  /** Where rejected messages go, with their reason (the archive bucket's `quarantine/` prefix). */
  readonly quarantine: ArchiveStore;
  /** The partner event source and account alerts must come from: deployed, both; locally `{}` or a source. */
  readonly pin: SourcePin;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/**
 * An alert-queue message that is not JSON, not an alert message, not from the pinned source, or whose detail's core
 * fields are invalid. Retrying cannot fix it: it is quarantined, never alerted.
 */
export class InvalidAlertMessageError extends Error {
  override readonly name = 'InvalidAlertMessageError';
}

/** Publishing failed and giving the claim back failed too: this alert will be reported as a duplicate on retry. */
export class AlertClaimReleaseError extends Error {
  override readonly name = 'AlertClaimReleaseError';
}

/** What became of one alert-queue message. */
export type AlertOutcome =
  | { readonly kind: 'published'; readonly ruleId: string; readonly uuid: string }
  | { readonly kind: 'duplicate'; readonly ruleId: string; readonly uuid: string }
  | { readonly kind: 'rejected'; readonly reason: string; readonly key: string };

/** Parses the body of one alert-queue message: the rule and an Okta EventBridge envelope (SystemLog, Okta source). */
export function parseAlertQueueMessage(body: string): AlertQueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    // The parser's message quotes the input; the reason stays free of what a sender chose.
    throw new InvalidAlertMessageError('alert-queue message body is not JSON', { cause: error });
  }
  const message = AlertQueueMessage.safeParse(json);
  if (!message.success) {
    throw new InvalidAlertMessageError(`not an alert-queue message: ${describeIssues(message.error)}`);
  }
  return message.data;
}

/**
 * The event of a message whose envelope is one of a log source's, from the pinned source, with a valid core; as the
 * formatter reads it (the source's alert view: System Log field names, the event's own fields beside them). The
 * detail object itself, not zod's copy: the alert shows the event as it was received. Reasons name fields and what
 * was expected, never a value the sender chose (they reach logs and terminals).
 */
function checkedEvent(message: AlertQueueMessage, pin: SourcePin): { event: OktaEventCore; source: LogSource } {
  const source = sourceOfEnvelope(message.event);
  if (source === undefined) {
    throw new InvalidAlertMessageError(
      'not from a known log source: detail-type and source must be those of an Okta or Auth0 log stream',
    );
  }
  const envelope = source.envelope.safeParse(message.event);
  if (!envelope.success) {
    throw new InvalidAlertMessageError(`not an ${source.label} EventBridge event: ${describeIssues(envelope.error)}`);
  }
  const pinIssue = sourcePinIssue(envelope.data, pin);
  if (pinIssue !== undefined) {
    throw new InvalidAlertMessageError(`not from the pinned source: ${pinIssue}`);
  }
  const { detail } = message.event;
  const identified = source.identify(detail);
  if (!identified.ok) throw new InvalidAlertMessageError(identified.reason);
  return { event: source.alertView(detail as Record<string, unknown>, identified.event), source };
}

type Raising = Pick<AlertDependencies, 'claims' | 'publisher' | 'now'>;

/**
 * Raises one alert at most once per (rule id, event uuid), however often the message is delivered.
 *
 * Claim, then publish; when publishing fails the claim is given back and the error rethrown, so the SQS retry can
 * publish. A crash between claim and publish (timeout, out of memory) leaves the claim in place and loses that one
 * alert: a missed duplicate would page someone twice for every retry storm, a lost alert is one event the archive
 * still holds, and the alternative (publish first) cannot stop two concurrent deliveries from both publishing.
 */
async function raiseAlert(
  rule: AlertQueueMessage['rule'],
  event: OktaEventCore,
  source: LogSource,
  deps: Raising,
): Promise<'published' | 'duplicate'> {
  // Formatting first: a formatting bug must not leave a claim without an alert behind.
  const alert = formatAlert(rule, event, { raisedAt: new Date(deps.now()).toISOString(), sourceLabel: source.label });

  if (!(await deps.claims.claim(rule.id, event.uuid))) return 'duplicate';
  try {
    await deps.publisher.publish(alert);
  } catch (publishError) {
    try {
      await deps.claims.release(rule.id, event.uuid);
    } catch (releaseError) {
      throw new AlertClaimReleaseError(
        `alert ${rule.id} for event ${event.uuid} was not published and its claim could not be released; ` +
          'retries will treat it as a duplicate until the claim expires',
        { cause: new AggregateError([publishError, releaseError]) },
      );
    }
    throw publishError;
  }
  return 'published';
}

/**
 * Handles one alert-queue message: raises its alert at most once, or quarantines a message that retrying cannot fix
 * (not JSON, not an alert message, another source, account or detail-type, an invalid core) with its reason.
 * Other errors (claims table, SNS) propagate, so the queue redelivers the message.
 */
export async function handleAlertMessage(
  body: string,
  messageId: string,
  deps: AlertDependencies,
): Promise<AlertOutcome> {
  let message: AlertQueueMessage;
  let event: OktaEventCore;
  let source: LogSource;
  try {
    message = parseAlertQueueMessage(body);
    ({ event, source } = checkedEvent(message, deps.pin));
  } catch (error) {
    if (!(error instanceof InvalidAlertMessageError)) throw error;
    const origin = { id: `alert-${messageId}`, queue: 'alert', messageId };
    const key = await quarantine(deps.quarantine, { reason: error.message, origin, raw: body }, deps.now());
    return { kind: 'rejected', reason: error.message, key };
  }
  const kind = await raiseAlert(message.rule, event, source, deps);
  return { kind, ruleId: message.rule.id, uuid: event.uuid };
}
