import type { AlertQueueMessage } from '../shared/alert-message.ts';
import { describeIssues, type SourcePin } from '../shared/okta-event.ts';
import type { ArchiveStore } from '../shared/ports.ts';
import { quarantine } from '../shared/quarantine.ts';
import { checkSourceEvent } from '../shared/source-event.ts';
import type { QueueSender } from '../shared/sqs-queue-sender.ts';
import { type DetectOutcome, type DetectorStore, detect } from './detect.ts';
import { DetectorQueueMessage } from './detector-message.ts';

export interface DetectorDependencies {
  readonly store: DetectorStore;
  /** Where detections go as alert-queue messages: the alert path claims, formats and publishes them. */
  readonly alertQueue: QueueSender;
  /** Where rejected messages go, with their reason. */
  readonly quarantine: ArchiveStore;
  /** The partner event sources and account events must come from. */
  readonly pin: SourcePin;
  /** How long state outlives its window, in seconds (the allowed lateness and a margin). */
  readonly keepSeconds: number;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** What became of one detector-queue message. */
export type DetectorMessageOutcome =
  | { readonly kind: 'detected'; readonly ruleId: string; readonly id: string; readonly detections: number }
  | { readonly kind: 'counted' | 'ungrouped' | 'unmatched'; readonly ruleId: string; readonly id: string }
  | { readonly kind: 'rejected'; readonly reason: string; readonly key: string };

/** A message retrying cannot fix: quarantined with the reason. */
class RejectedDetectorMessage extends Error {
  override readonly name = 'RejectedDetectorMessage';
}

function parse(body: string): DetectorQueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new RejectedDetectorMessage('detector-queue message body is not JSON', { cause: error });
  }
  const message = DetectorQueueMessage.safeParse(json);
  if (!message.success) {
    throw new RejectedDetectorMessage(`not a detector-queue message: ${describeIssues(message.error)}`);
  }
  return message.data;
}

/**
 * Handles one detector-queue message: runs the event through its rule's detector and sends each detection to the
 * alert queue, where the (rule, detection key) claim makes it one alert however often it is sent. A message that is
 * not JSON, not a detector message, or whose event is not from the pinned source or has an invalid core is
 * quarantined with its reason; store and queue errors propagate, so the message is redelivered (its events are
 * written idempotently, so a retry counts nothing twice).
 */
export async function handleDetectorMessage(
  body: string,
  messageId: string,
  deps: DetectorDependencies,
): Promise<DetectorMessageOutcome> {
  let message: DetectorQueueMessage;
  let checked: ReturnType<typeof checkSourceEvent>;
  try {
    message = parse(body);
    checked = checkSourceEvent(message.event, deps.pin);
    if (!checked.ok) throw new RejectedDetectorMessage(checked.reason);
  } catch (error) {
    if (!(error instanceof RejectedDetectorMessage)) throw error;
    const origin = { id: `detector-${messageId}`, queue: 'detector', messageId };
    const key = await quarantine(deps.quarantine, { reason: error.message, origin, raw: body }, deps.now());
    return { kind: 'rejected', reason: error.message, key };
  }
  const { source, identity, detail } = checked.event;
  const { detect: spec, ...rule } = message.rule;
  const record = source.ruleRecord(detail);
  const outcome: DetectOutcome = await detect(
    rule.id,
    spec,
    {
      id: identity.id.toLowerCase(),
      time: Date.parse(identity.published),
      envelope: message.event,
      record,
      location: source.location(record),
    },
    deps.store,
    { keepSeconds: deps.keepSeconds },
  );
  const ids = { ruleId: rule.id, id: identity.id };
  if (outcome.kind !== 'counted') return { kind: outcome.kind, ...ids };
  if (outcome.detections.length === 0) return { kind: 'counted', ...ids };
  await deps.alertQueue.send(
    outcome.detections.map((detection) => {
      const alert: AlertQueueMessage = { rule, event: message.event, detection };
      return { body: JSON.stringify(alert) };
    }),
  );
  return { kind: 'detected', ...ids, detections: outcome.detections.length };
}
