import { AlertQueueMessage } from '../shared/alert-message.ts';
import { JsonTooDeepError } from '../shared/canonical-json.ts';
import { valueAt } from '../shared/field-path.ts';
import type { LogSource, SourceName } from '../shared/log-sources.ts';
import { nameUuid } from '../shared/name-uuid.ts';
import { describeIssues, type OktaEventCore, type SourcePin } from '../shared/okta-event.ts';
import type { Redaction } from '../shared/pii.ts';
import type { ArchiveStore } from '../shared/ports.ts';
import { quarantine } from '../shared/quarantine.ts';
import { checkSourceEvent } from '../shared/source-event.ts';
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
  /**
   * Each source's PII redaction (lambdas/shared/pii.ts), applied before anything of the event is formatted: subject,
   * text, attributes, the event the message carries, and what a detection read from events. A source without one
   * alerts with the event as received. @default - none
   */
  readonly redact?: Partial<Record<SourceName, Redaction>>;
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
function checkedEvent(
  message: AlertQueueMessage,
  pin: SourcePin,
  redactions: AlertDependencies['redact'],
): { event: OktaEventCore; source: LogSource; message: AlertQueueMessage } {
  const checked = checkSourceEvent(message.event, pin);
  if (!checked.ok) throw new InvalidAlertMessageError(checked.reason);
  const { source, identity, detail } = checked.event;
  const redaction = redactions?.[source.name];
  if (redaction === undefined) return { event: source.alertView(detail, identity), source, message };
  return {
    event: source.alertView(redacted(detail, redaction), identity),
    source,
    message: withRedactedDetection(message, redaction),
  };
}

/** The detail with its PII redacted; its identity fields never are. */
function redacted(detail: Record<string, unknown>, redaction: Redaction): Record<string, unknown> {
  try {
    return redaction.event(detail) as Record<string, unknown>;
  } catch (error) {
    // No staged event nests this deep, and an alert that cannot be redacted must not go out: quarantined instead.
    if (error instanceof JsonTooDeepError) {
      throw new InvalidAlertMessageError(`detail ${error.message}: it cannot be redacted`);
    }
    throw error;
  }
}

/**
 * A threshold-of-distinct-values finding as the detector words it (lambdas/detector/detect.ts): the field, then the
 * values it saw, comma-separated, then how many more.
 */
const DISTINCT_FINDING = /^(at least \d+ distinct )([^:\s]+): (.*?)(, \.\.\. \(\d+ more\))?$/s;

/**
 * A detection's group and finding come from events: the group is redacted as the field it was read from; the values
 * a distinct finding lists, as their field; any other text, for the PII patterns written in it.
 */
const withRedactedDetection = (message: AlertQueueMessage, redaction: Redaction): AlertQueueMessage => {
  const { detection } = message;
  if (detection === undefined) return message;
  const distinct = DISTINCT_FINDING.exec(detection.finding);
  const finding =
    distinct === null
      ? redaction.text(detection.finding)
      : `${distinct[1]}${distinct[2]}: ${(distinct[3] ?? '')
          .split(', ')
          .map((value) => redaction.ruleValue(distinct[2] ?? '', value))
          .join(', ')}${distinct[4] ?? ''}`;
  return {
    ...message,
    detection: { ...detection, group: redaction.ruleValue(detection.groupBy, detection.group), finding },
  };
};

type Raising = Pick<AlertDependencies, 'claims' | 'publisher' | 'now'>;

/** The UUIDv5 namespace of suppression claims. */
const SUPPRESSION_NAMESPACE = Buffer.from('5d0c3f0e8a7b4c62b1e4a9d2f6c83b17', 'hex');

/**
 * What one alert stands for, so it is raised once: the event (its uuid), or what a detector found (its key). A rule
 * with `suppress` widens that to one value of its `by` field in one period of `published` time, the periods aligned
 * to multiples of `forSeconds` since the epoch: every order of the same events then claims the same keys. An event
 * without a value for `by` is not suppressed.
 */
export function claimKeyOf(message: AlertQueueMessage, event: OktaEventCore, source: LogSource): string {
  const own = message.detection?.key ?? event.uuid;
  const { suppress } = message.rule;
  if (suppress === undefined) return own;
  const value = valueAt(source.ruleRecord(message.event.detail), suppress.by);
  const time = Date.parse(message.detection?.windowStart ?? event.published);
  if (value === undefined || !Number.isFinite(time)) return own;
  const period = Math.floor(time / 1000 / suppress.forSeconds) * suppress.forSeconds;
  return nameUuid(SUPPRESSION_NAMESPACE, `${suppress.by}\n${value}\n${period}`);
}

/**
 * Raises one alert at most once per (rule id, claim key), however often the message is delivered.
 *
 * Claim, then publish; when publishing fails the claim is given back and the error rethrown, so the SQS retry can
 * publish. A crash between claim and publish (timeout, out of memory) leaves the claim in place and loses that one
 * alert: a missed duplicate would page someone twice for every retry storm, a lost alert is one event the archive
 * still holds, and the alternative (publish first) cannot stop two concurrent deliveries from both publishing.
 */
async function raiseAlert(
  message: AlertQueueMessage,
  event: OktaEventCore,
  source: LogSource,
  deps: Raising,
): Promise<'published' | 'duplicate'> {
  const { rule, detection } = message;
  // Formatting first: a formatting bug must not leave a claim without an alert behind.
  const alert = formatAlert(rule, event, {
    raisedAt: new Date(deps.now()).toISOString(),
    sourceLabel: source.label,
    ...(detection === undefined ? {} : { detection }),
  });

  const key = claimKeyOf(message, event, source);
  if (!(await deps.claims.claim(rule.id, key))) return 'duplicate';
  try {
    await deps.publisher.publish(alert);
  } catch (publishError) {
    try {
      await deps.claims.release(rule.id, key);
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
    ({ event, source, message } = checkedEvent(parseAlertQueueMessage(body), deps.pin, deps.redact));
  } catch (error) {
    if (!(error instanceof InvalidAlertMessageError)) throw error;
    const origin = { id: `alert-${messageId}`, queue: 'alert', messageId };
    const key = await quarantine(deps.quarantine, { reason: error.message, origin, raw: body }, deps.now());
    return { kind: 'rejected', reason: error.message, key };
  }
  const kind = await raiseAlert(message, event, source, deps);
  return { kind, ruleId: message.rule.id, uuid: event.uuid };
}
