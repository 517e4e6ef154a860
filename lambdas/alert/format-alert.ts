import type { SubjectPlaceholder } from '../../lib/rules/schema.ts';
import type { AlertRuleSummary, Severity } from '../../lib/rules/types.ts';
import type { OktaSystemLogEvent } from '../shared/okta-event.ts';

/** An actor or target of a System Log event, with Okta's placeholders ("null", "unknown", "") turned into null. */
export interface AlertParty {
  readonly id: string | null;
  readonly type: string | null;
  readonly alternateId: string | null;
  readonly displayName: string | null;
}

/** The machine-readable alert: what `sqs`, `lambda`, `http` and `https` subscribers receive. */
export interface AlertJson {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly title: string;
  readonly eventType: string;
  readonly uuid: string;
  readonly published: string;
  readonly subject: string;
  readonly actor: AlertParty | null;
  readonly targets: readonly AlertParty[];
  readonly runbook: string;
  readonly raisedAt?: string;
  /** The System Log event as Okta sent it; null only when the event is too large for one SNS message. */
  readonly event: OktaSystemLogEvent | null;
}

export interface AlertAttributes {
  readonly severity: Severity;
  readonly eventType: string;
  readonly ruleId: string;
}

export interface FormattedAlert {
  readonly subject: string;
  readonly text: string;
  readonly json: AlertJson;
  readonly attributes: AlertAttributes;
}

/** SNS Publish: the subject must be under 100 characters (API reference: "less than 100 characters long"). */
export const MAX_SUBJECT_CHARS = 99;
/** SNS message size limit (256 KiB), for the whole JSON message structure. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
/** How much of the event the text body shows; the full event is in the archive and in the JSON alert. */
export const MAX_EVENT_TEXT_CHARS = 32_000;

const ELLIPSIS = '...';

/** Okta writes "null", "unknown" or "" where it has no value; an alert reads better with nothing there. */
const PLACEHOLDER_VALUES = new Set(['', 'null', 'undefined', 'unknown']);

function clean(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return PLACEHOLDER_VALUES.has(trimmed.toLowerCase()) ? null : trimmed;
}

function party(value: unknown): AlertParty | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const result = {
    id: clean(record.id),
    type: clean(record.type),
    alternateId: clean(record.alternateId),
    displayName: clean(record.displayName),
  };
  return Object.values(result).every((field) => field === null) ? null : result;
}

/** The short name of a party: the alternate id (usually the login), else the display name, else the id. */
const shortName = (p: AlertParty | null): string | null => p?.alternateId ?? p?.displayName ?? p?.id ?? null;

/** `Jane Doe <jane@acme.com> (User)`, leaving out what Okta did not say. */
function longName(p: AlertParty | null): string {
  if (p === null) return '(unknown)';
  const name = p.displayName ?? p.id ?? '(unnamed)';
  const alternate = p.alternateId !== null && p.alternateId !== name ? ` <${p.alternateId}>` : '';
  const type = p.type === null ? '' : ` (${p.type})`;
  return `${name}${alternate}${type}`;
}

const joinPresent = (parts: readonly (string | null)[], separator: string): string | null => {
  const present = parts.filter((part): part is string => part !== null);
  return present.length > 0 ? present.join(separator) : null;
};

function clientIp(event: OktaSystemLogEvent): string | null {
  return clean(event.client?.ipAddress) ?? clean(event.request?.ipChain?.[0]?.ip);
}

function clientLocation(event: OktaSystemLogEvent): string | null {
  const geo = event.client?.geographicalContext ?? event.request?.ipChain?.[0]?.geographicalContext;
  return joinPresent([clean(geo?.city), clean(geo?.state), clean(geo?.country)], ', ');
}

/**
 * Makes a string acceptable as an SNS subject: ASCII only (accents are dropped, other characters become `?`), no
 * line breaks or control characters, single spaces, and under 100 characters, cut with an ellipsis.
 */
export function sanitizeSubject(raw: string): string {
  const ascii = raw
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/[^\x20-\x7E]/gu, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
  const subject = ascii.length > 0 ? ascii : 'Okta alert';
  return subject.length <= MAX_SUBJECT_CHARS
    ? subject
    : `${subject.slice(0, MAX_SUBJECT_CHARS - ELLIPSIS.length).trimEnd()}${ELLIPSIS}`;
}

const PLACEHOLDER = /\{([a-zA-Z]+)\}/g;

function subjectOf(rule: AlertRuleSummary, event: OktaSystemLogEvent, actor: string, target: string | null) {
  // Typed by the schema's placeholder list, so a placeholder the schema accepts always has a value here.
  const values: Record<SubjectPlaceholder, string> = {
    title: rule.title,
    actor,
    target: target ?? 'unknown target',
    eventType: event.eventType,
    displayMessage: clean(event.displayMessage) ?? event.eventType,
    outcome: clean(event.outcome?.result) ?? 'unknown outcome',
    ip: clientIp(event) ?? 'unknown IP',
    severity: rule.severity.toUpperCase(),
  };
  const body =
    rule.subject === undefined
      ? `${rule.title}${target === null ? '' : `: ${target}`} by ${actor}`
      : rule.subject.replace(PLACEHOLDER, (whole, name: string) =>
          Object.hasOwn(values, name) ? values[name as SubjectPlaceholder] : whole,
        );
  return sanitizeSubject(`[${rule.severity.toUpperCase()}] Okta: ${body}`);
}

function eventExcerpt(event: OktaSystemLogEvent, maxChars: number): string {
  const pretty = JSON.stringify(event, null, 2);
  return pretty.length <= maxChars
    ? pretty
    : `${pretty.slice(0, maxChars)}\n${ELLIPSIS} (cut at ${maxChars} characters; the archive and the JSON alert hold the whole event)`;
}

/** Options that are not part of the rule or the event. */
export interface FormatOptions {
  /** When the pipeline raised the alert (ISO-8601); shown so readers can see the delay after `published`. */
  readonly raisedAt?: string;
}

/** Turns a rule and the System Log event it matched into the subject, text and JSON of one alert. */
export function formatAlert(
  rule: AlertRuleSummary,
  event: OktaSystemLogEvent,
  options: FormatOptions = {},
): FormattedAlert {
  const actor = party(event.actor);
  const targets = (event.target ?? []).map(party).filter((p): p is AlertParty => p !== null);
  const actorName = shortName(actor) ?? 'unknown actor';
  const subject = subjectOf(rule, event, actorName, shortName(targets[0] ?? null));
  const displayMessage = clean(event.displayMessage);
  const outcome = joinPresent([clean(event.outcome?.result), clean(event.outcome?.reason)], ' - ');
  const from = joinPresent([clientIp(event), clientLocation(event)], ' - ');

  const text = [
    `${rule.severity.toUpperCase()}: ${rule.title}`,
    '',
    `Who:      ${longName(actor)}`,
    `What:     ${event.eventType}${displayMessage === null ? '' : ` - ${displayMessage}`}`,
    `To whom:  ${targets.length === 0 ? '(no targets)' : targets.map(longName).join('; ')}`,
    `When:     ${event.published}`,
    `From:     ${from ?? '(unknown)'}`,
    `Outcome:  ${outcome ?? '(unknown)'}`,
    `Rule:     ${rule.id} (${rule.severity})`,
    ...(options.raisedAt === undefined ? [] : [`Raised:   ${options.raisedAt}`]),
    '',
    'Why this matters',
    rule.description.trim(),
    '',
    'What to do',
    rule.runbook.trim(),
    '',
    `System Log event ${event.uuid}`,
    eventExcerpt(event, MAX_EVENT_TEXT_CHARS),
  ].join('\n');

  return {
    subject,
    text,
    json: {
      ruleId: rule.id,
      severity: rule.severity,
      title: rule.title,
      eventType: event.eventType,
      uuid: event.uuid,
      published: event.published,
      subject,
      actor,
      targets,
      runbook: rule.runbook,
      ...(options.raisedAt === undefined ? {} : { raisedAt: options.raisedAt }),
      event,
    },
    attributes: { severity: rule.severity, eventType: event.eventType, ruleId: rule.id },
  };
}

/** The SNS Publish fields of one alert; the field names are the SDK's so the publisher can spread them. */
export interface SnsAlertMessage {
  readonly Subject: string;
  readonly Message: string;
  readonly MessageStructure: 'json';
  readonly MessageAttributes: Record<keyof AlertAttributes, { DataType: 'String'; StringValue: string }>;
}

const structure = (text: string, subject: string, json: AlertJson): string => {
  const machine = JSON.stringify(json);
  return JSON.stringify({
    default: text,
    email: text,
    sms: subject,
    sqs: machine,
    lambda: machine,
    https: machine,
    http: machine,
  });
};

const byteLength = (value: string): number => Buffer.byteLength(value, 'utf8');

/**
 * One SNS message per alert with `MessageStructure: 'json'`: people (email, default) get the text, SMS gets the
 * subject, machines get the JSON alert. An oversized event is dropped from the JSON copies first (subscribers can
 * fetch it from the archive by uuid), then cut from the text, so the alert itself always goes out.
 */
export function snsMessage(alert: FormattedAlert): SnsAlertMessage {
  const withoutEvent: AlertJson = { ...alert.json, event: null };
  const candidates = [
    () => structure(alert.text, alert.subject, alert.json),
    () => structure(alert.text, alert.subject, withoutEvent),
    () =>
      structure(
        `${alert.text.slice(0, 60_000)}\n${ELLIPSIS} (cut to fit one SNS message)`,
        alert.subject,
        withoutEvent,
      ),
  ];
  let message = '';
  for (const candidate of candidates) {
    message = candidate();
    if (byteLength(message) <= SNS_MAX_MESSAGE_BYTES) break;
  }
  const attribute = (value: string) => ({ DataType: 'String' as const, StringValue: value });
  return {
    Subject: alert.subject,
    Message: message,
    MessageStructure: 'json',
    MessageAttributes: {
      severity: attribute(alert.attributes.severity),
      eventType: attribute(alert.attributes.eventType),
      ruleId: attribute(alert.attributes.ruleId),
    },
  };
}
