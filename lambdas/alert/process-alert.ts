import { AlertQueueMessage } from '../shared/alert-message.ts';
import { describeIssues, OktaSystemLogEvent } from '../shared/okta-event.ts';
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
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** An alert-queue message that is not JSON, not an alert message, or whose detail is not a System Log event. */
export class InvalidAlertMessageError extends Error {
  override readonly name = 'InvalidAlertMessageError';
}

/** Publishing failed and giving the claim back failed too: this alert will be reported as a duplicate on retry. */
export class AlertClaimReleaseError extends Error {
  override readonly name = 'AlertClaimReleaseError';
}

/** Parses the body of one alert-queue message. */
export function parseAlertQueueMessage(body: string): AlertQueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new InvalidAlertMessageError('alert-queue message body is not JSON', { cause: error });
  }
  const message = AlertQueueMessage.safeParse(json);
  if (!message.success) {
    throw new InvalidAlertMessageError(`not an alert-queue message: ${describeIssues(message.error)}`);
  }
  return message.data;
}

/**
 * Raises one alert at most once per (rule id, event uuid), however often the message is delivered.
 *
 * Claim, then publish; when publishing fails the claim is given back and the error rethrown, so the SQS retry can
 * publish. A crash between claim and publish (timeout, out of memory) leaves the claim in place and loses that one
 * alert: a missed duplicate would page someone twice for every retry storm, a lost alert is one event the archive
 * still holds, and the alternative (publish first) cannot stop two concurrent deliveries from both publishing.
 */
export async function processAlert(
  message: AlertQueueMessage,
  deps: AlertDependencies,
): Promise<'published' | 'duplicate'> {
  const detail = OktaSystemLogEvent.safeParse(message.event.detail);
  if (!detail.success) {
    throw new InvalidAlertMessageError(
      `alert for rule ${message.rule.id}: detail is not an Okta System Log event: ${describeIssues(detail.error)}`,
    );
  }
  const event = detail.data;
  // Formatting first: a formatting bug must not leave a claim without an alert behind.
  const alert = formatAlert(message.rule, event, { raisedAt: new Date(deps.now()).toISOString() });

  if (!(await deps.claims.claim(message.rule.id, event.uuid))) return 'duplicate';
  try {
    await deps.publisher.publish(alert);
  } catch (publishError) {
    try {
      await deps.claims.release(message.rule.id, event.uuid);
    } catch (releaseError) {
      throw new AlertClaimReleaseError(
        `alert ${message.rule.id} for event ${event.uuid} was not published and its claim could not be released; ` +
          'retries will treat it as a duplicate until the claim expires',
        { cause: new AggregateError([publishError, releaseError]) },
      );
    }
    throw publishError;
  }
  return 'published';
}
