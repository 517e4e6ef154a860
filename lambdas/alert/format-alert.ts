import type { SubjectPlaceholder } from '../../lib/rules/schema.ts';
import type { AlertRuleSummary, Severity } from '../../lib/rules/types.ts';
import type { Detection } from '../shared/alert-message.ts';
import { escapeForTerminal, escapeJsonText } from '../shared/escape-text.ts';
import type { OktaEventCore } from '../shared/okta-event.ts';
import { at, cutField, isObject, items, longestPrefix, member, nestedDeeperThan, scalarText } from './event-reader.ts';

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
  /** How many of the event's targets `targets` leaves out, to keep the alert within one SNS message. */
  readonly targetsNotShown: number;
  readonly runbook: string;
  readonly raisedAt?: string;
  /** What a stateful rule detected: the group, the window and the finding. Absent for an alert about one event. */
  readonly detection?: Detection;
  /** The System Log event as received; null when it was left out (`eventLeftOut`). */
  readonly event: unknown;
  /** True when `event` is null because the event did not fit one SNS message or JSON could not hold it. */
  readonly eventLeftOut: boolean;
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
  /** `text` in two parts, `${summary}\n${excerpt}`, so that a message too large for SNS cuts the excerpt first. */
  readonly textParts: { readonly summary: string; readonly excerpt: string };
}

/** SNS Publish: the subject must be under 100 characters (API reference: "less than 100 characters long"). */
export const MAX_SUBJECT_CHARS = 99;
/** SNS rejects a Publish whose message and attributes (names, types, values) exceed 256 KiB; we count the subject too. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
/** How much of the event the text body shows (UTF-8); the archive (and the JSON alert, when it fits) holds it all. */
export const MAX_EVENT_TEXT_BYTES = 32_768;
/** How much of one event field an alert shows: real logins, names and reasons are far shorter. */
export const MAX_FIELD_CHARS = 256;
/** How many targets the text lists; the JSON lists up to MAX_JSON_TARGETS. Real events have a handful. */
export const MAX_TEXT_TARGETS = 10;
export const MAX_JSON_TARGETS = 100;
/** Events nested deeper than this are left out of the alert's copies (JSON.stringify would overflow the stack). */
export const MAX_EVENT_DEPTH = 64;

const ELLIPSIS = '...';

/** An event value as alert text: cut to MAX_FIELD_CHARS, then every control or bidi character escaped. */
const shown = (value: string): string => escapeForTerminal(cutField(value, MAX_FIELD_CHARS));

/** A field for the JSON alert: cut like the text, not escaped (JSON escapes what it must). */
const field = (value: unknown): string | null => {
  const text = scalarText(value);
  return text === null ? null : cutField(text, MAX_FIELD_CHARS);
};

function party(value: unknown): AlertParty | null {
  const result = {
    id: field(member(value, 'id')),
    type: field(member(value, 'type')),
    alternateId: field(member(value, 'alternateId')),
    displayName: field(member(value, 'displayName')),
  };
  return Object.values(result).every((part) => part === null) ? null : result;
}

/** The short name of a party: the alternate id (usually the login), else the display name, else the id. */
const shortName = (p: AlertParty | null): string | null => p?.alternateId ?? p?.displayName ?? p?.id ?? null;

/** `Jane Doe <jane@acme.com> (User)`, leaving out what Okta did not say; every part escaped. */
function longName(p: AlertParty | null): string {
  if (p === null) return '(unknown)';
  const name = p.displayName ?? p.id ?? '(unnamed)';
  const alternate = p.alternateId !== null && p.alternateId !== name ? ` <${escapeForTerminal(p.alternateId)}>` : '';
  const type = p.type === null ? '' : ` (${escapeForTerminal(p.type)})`;
  return `${escapeForTerminal(name)}${alternate}${type}`;
}

const joinPresent = (parts: readonly (string | null)[], separator: string): string | null => {
  const present = parts.filter((part): part is string => part !== null);
  return present.length > 0 ? present.join(separator) : null;
};

/** The first hop of the request's IP chain (Okta's list; also accepted as one object). */
const firstHop = (event: unknown): unknown => items(at(event, 'request', 'ipChain'))[0];

const clientIp = (event: unknown): string | null =>
  scalarText(at(event, 'client', 'ipAddress')) ?? scalarText(member(firstHop(event), 'ip'));

function clientLocation(event: unknown): string | null {
  const client = at(event, 'client', 'geographicalContext');
  const geo = isObject(client) ? client : member(firstHop(event), 'geographicalContext');
  return joinPresent(
    ['city', 'state', 'country'].map((key) => scalarText(member(geo, key))),
    ', ',
  );
}

/** A text field of the event, cut and escaped; null when missing or not a string, number or boolean. */
const eventText = (event: unknown, ...path: string[]): string | null => {
  const text = scalarText(at(event, ...path));
  return text === null ? null : shown(text);
};

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

interface SubjectValues {
  readonly eventType: string;
  readonly actor: string;
  readonly target: string | null;
  readonly displayMessage: string | null;
  readonly outcome: string | null;
  readonly ip: string | null;
  /** A detection's group value, escaped; null for an alert about one event. */
  readonly group: string | null;
}

/** The subject; every value from the event arrives escaped, so a line break shows as `\n`, not as a space. */
function subjectOf(rule: AlertRuleSummary, event: SubjectValues, sourceLabel: string): string {
  // Typed by the schema's placeholder list, so a placeholder the schema accepts always has a value here.
  const values: Record<SubjectPlaceholder, string> = {
    title: rule.title,
    actor: event.actor,
    target: event.target ?? 'unknown target',
    eventType: event.eventType,
    displayMessage: event.displayMessage ?? event.eventType,
    outcome: event.outcome ?? 'unknown outcome',
    ip: event.ip ?? 'unknown IP',
    severity: rule.severity.toUpperCase(),
    group: event.group ?? event.actor,
  };
  const body =
    rule.subject === undefined
      ? event.group !== null
        ? `${rule.title}: ${event.group}`
        : `${rule.title}${event.target === null ? '' : `: ${event.target}`} by ${event.actor}`
      : rule.subject.replace(PLACEHOLDER, (whole, name: string) =>
          Object.hasOwn(values, name) ? values[name as SubjectPlaceholder] : whole,
        );
  return sanitizeSubject(`[${rule.severity.toUpperCase()}] ${sourceLabel}: ${body}`);
}

const utf8 = new TextEncoder();

/** The longest prefix of `text` within `maxBytes` of UTF-8: encodeInto writes whole characters only, pairs included. */
const cutToBytes = (text: string, maxBytes: number): string =>
  text.slice(0, utf8.encodeInto(text, new Uint8Array(maxBytes)).read);

/** The event as pretty JSON for people: escaped like any text, cut at MAX_EVENT_TEXT_BYTES. */
function eventExcerpt(pretty: string | undefined, uuid: string): string {
  if (pretty === undefined) {
    return `(the event is nested too deeply to show here; the archive holds the whole event, uuid ${uuid})`;
  }
  const escaped = escapeJsonText(pretty);
  if (Buffer.byteLength(escaped, 'utf8') <= MAX_EVENT_TEXT_BYTES) return escaped;
  return (
    `${cutToBytes(escaped, MAX_EVENT_TEXT_BYTES)}\n${ELLIPSIS} (cut at ${MAX_EVENT_TEXT_BYTES} bytes; ` +
    `the archive holds the whole event, uuid ${uuid})`
  );
}

/** The lines a detection adds to the alert text; the group and finding are from events, so escaped. */
const detectionLines = (detection: Detection): string[] => [
  '',
  'Detection',
  `Group:    ${escapeForTerminal(cutField(detection.groupBy, MAX_FIELD_CHARS))} = ${shown(detection.group)}`,
  `Window:   ${detection.windowStart} to ${detection.windowEnd}`,
  `Found:    ${shown(detection.finding)}`,
];

/** Options that are not part of the rule or the event. */
export interface FormatOptions {
  /** When the pipeline raised the alert (ISO-8601); shown so readers can see the delay after `published`. */
  readonly raisedAt?: string;
  /** The log source the event came from, as the subject names it. @default 'Okta' */
  readonly sourceLabel?: string;
  /**
   * What a stateful rule detected; the alert is then about the group and window (its uuid is the detection's key,
   * its published the window's start), and the event is the one that completed the detection.
   */
  readonly detection?: Detection;
}

/**
 * Turns a rule and the System Log event it matched into the subject, text and JSON of one alert. Only the event's
 * core (`uuid`, `published`, `eventType`) is trusted to have its type; every other field is read defensively, cut
 * to a readable length and, in text, escaped. Never throws for any JSON event whose core is valid.
 */
export function formatAlert(rule: AlertRuleSummary, event: OktaEventCore, options: FormatOptions = {}): FormattedAlert {
  const actor = party(member(event, 'actor'));
  const allTargets = items(member(event, 'target'))
    .map(party)
    .filter((p): p is AlertParty => p !== null);
  const eventType = cutField(event.eventType, MAX_FIELD_CHARS);
  const ruleId = cutField(rule.id, MAX_FIELD_CHARS);
  const title = cutField(rule.title, MAX_FIELD_CHARS);
  const displayMessage = eventText(event, 'displayMessage');
  const outcomeResult = eventText(event, 'outcome', 'result');
  const ipText = clientIp(event);
  const ip = ipText === null ? null : shown(ipText);
  const locationText = clientLocation(event);
  const from = joinPresent([ip, locationText === null ? null : shown(locationText)], ' - ');
  const outcome = joinPresent([outcomeResult, eventText(event, 'outcome', 'reason')], ' - ');
  const actorName = shortName(actor);
  const targetName = shortName(allTargets[0] ?? null);
  const { detection } = options;
  const group = detection === undefined ? null : shown(detection.group);
  const subject = subjectOf(
    { ...rule, title },
    {
      eventType,
      actor: actorName === null ? 'unknown actor' : escapeForTerminal(actorName),
      target: targetName === null ? null : escapeForTerminal(targetName),
      displayMessage,
      outcome: outcomeResult,
      ip,
      group,
    },
    options.sourceLabel ?? 'Okta',
  );

  const hidden = allTargets.length - MAX_TEXT_TARGETS;
  const toWhom =
    allTargets.length === 0
      ? '(no targets)'
      : [
          ...allTargets.slice(0, MAX_TEXT_TARGETS).map(longName),
          ...(hidden > 0 ? [`${ELLIPSIS} ${hidden} more target${hidden === 1 ? '' : 's'} not shown`] : []),
        ].join('; ');
  const pretty = nestedDeeperThan(event, MAX_EVENT_DEPTH) ? undefined : JSON.stringify(event, null, 2);

  const summary = [
    `${rule.severity.toUpperCase()}: ${escapeForTerminal(title)}`,
    '',
    `Who:      ${longName(actor)}`,
    `What:     ${eventType}${displayMessage === null ? '' : ` - ${displayMessage}`}`,
    `To whom:  ${toWhom}`,
    `When:     ${event.published}`,
    `From:     ${from ?? '(unknown)'}`,
    `Outcome:  ${outcome ?? '(unknown)'}`,
    `Rule:     ${escapeForTerminal(ruleId)} (${rule.severity})`,
    ...(options.raisedAt === undefined ? [] : [`Raised:   ${options.raisedAt}`]),
    ...(detection === undefined ? [] : detectionLines(detection)),
    '',
    'Why this matters',
    rule.description.trim(),
    '',
    'What to do',
    rule.runbook.trim(),
    '',
    detection === undefined
      ? `System Log event ${event.uuid}`
      : `The event that completed the detection: ${event.uuid}`,
  ].join('\n');
  const excerpt = eventExcerpt(pretty, event.uuid);

  const jsonTargets = allTargets.slice(0, MAX_JSON_TARGETS);
  return {
    subject,
    text: `${summary}\n${excerpt}`,
    textParts: { summary, excerpt },
    json: {
      ruleId,
      severity: rule.severity,
      title,
      eventType,
      uuid: detection?.key ?? event.uuid,
      published: detection?.windowStart ?? event.published,
      subject,
      actor,
      targets: jsonTargets,
      targetsNotShown: allTargets.length - jsonTargets.length,
      runbook: rule.runbook,
      ...(options.raisedAt === undefined ? {} : { raisedAt: options.raisedAt }),
      ...(detection === undefined
        ? {}
        : {
            detection: {
              ...detection,
              groupBy: cutField(detection.groupBy, MAX_FIELD_CHARS),
              group: cutField(detection.group, MAX_FIELD_CHARS),
            },
          }),
      // An event too deep for JSON.stringify would make every copy fail: it is left out instead.
      event: pretty === undefined ? null : event,
      eventLeftOut: pretty === undefined,
    },
    attributes: { severity: rule.severity, eventType, ruleId },
  };
}

/** The SNS Publish fields of one alert; the field names are the SDK's so the publisher can spread them. */
export interface SnsAlertMessage {
  readonly Subject: string;
  readonly Message: string;
  readonly MessageStructure: 'json';
  readonly MessageAttributes: Record<keyof AlertAttributes, { DataType: 'String'; StringValue: string }>;
}

const byteLength = (value: string): number => Buffer.byteLength(value, 'utf8');

/** The JSON alert as machines receive it; unsafe characters escaped too, so no copy of the message holds them raw. */
const machineText = (json: AlertJson): string => escapeJsonText(JSON.stringify(json));

const structure = (text: string, subject: string, machine: string): string =>
  JSON.stringify({
    default: text,
    email: text,
    sms: subject,
    sqs: machine,
    lambda: machine,
    https: machine,
    http: machine,
  });

/** What one machine copy adds to the message structure: its JSON text, written as a JSON string. */
const machineCost = (json: AlertJson): number => byteLength(JSON.stringify(machineText(json)));

/**
 * The JSON alert within `maxCost`: first fewer targets (the count left out is in `targetsNotShown`), then, for a rule
 * with an outsized runbook, the runbook cut with a note. Every other field is already bounded by formatAlert.
 */
function fitJson(json: AlertJson, maxCost: number): AlertJson {
  if (machineCost(json) <= maxCost) return json;
  const withTargets = (count: number): AlertJson => ({
    ...json,
    targets: json.targets.slice(0, count),
    targetsNotShown: json.targetsNotShown + json.targets.length - count,
  });
  let low = 0;
  let high = json.targets.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (machineCost(withTargets(mid)) <= maxCost) low = mid;
    else high = mid - 1;
  }
  const fewer = withTargets(low);
  if (machineCost(fewer) <= maxCost) return fewer;
  const note = `\n${ELLIPSIS} (runbook cut to fit one SNS message; see the rule file)`;
  const runbook = longestPrefix(json.runbook, (prefix) => machineCost({ ...fewer, runbook: prefix + note }) <= maxCost);
  return { ...fewer, runbook: runbook + note };
}

/**
 * The text within what `fits` allows: the event excerpt is cut first, since the summary, why and what to do matter
 * more; only if even the summary does not fit is it cut too. Always ends with a note saying where the whole event is.
 */
function fitText(alert: FormattedAlert, fits: (text: string) => boolean): string {
  const note = `\n${ELLIPSIS} (cut to fit one SNS message; the archive holds the whole event, uuid ${alert.json.uuid})`;
  const { summary, excerpt } = alert.textParts;
  const withExcerpt = (part: string): string => `${summary}\n${part}${note}`;
  if (fits(withExcerpt(''))) return withExcerpt(longestPrefix(excerpt, (part) => fits(withExcerpt(part))));
  return longestPrefix(summary, (part) => fits(part + note)) + note;
}

/**
 * One SNS message per alert with `MessageStructure: 'json'`: people (email, default) get the text, SMS gets the
 * subject, machines get the JSON alert. The whole Publish (message, subject, attributes) is kept within
 * SNS_MAX_MESSAGE_BYTES of UTF-8, whatever the event: first the event is left out of the JSON copies (subscribers
 * can fetch it from the archive by uuid), then the JSON copies get at most half the room and the text the rest, each
 * cut with a note. The alert itself always goes out.
 */
export function snsMessage(alert: FormattedAlert): SnsAlertMessage {
  const attribute = (value: string) => ({ DataType: 'String' as const, StringValue: value });
  const attributes = {
    severity: attribute(alert.attributes.severity),
    eventType: attribute(alert.attributes.eventType),
    ruleId: attribute(alert.attributes.ruleId),
  };
  const attributeBytes = Object.entries(attributes).reduce(
    (sum, [name, value]) => sum + byteLength(name) + byteLength(value.DataType) + byteLength(value.StringValue),
    0,
  );
  const room = SNS_MAX_MESSAGE_BYTES - byteLength(alert.subject) - attributeBytes;
  const fits = (message: string): boolean => byteLength(message) <= room;
  const message = (text: string, json: AlertJson) => ({
    Subject: alert.subject,
    Message: structure(text, alert.subject, machineText(json)),
    MessageStructure: 'json' as const,
    MessageAttributes: attributes,
  });

  const whole = message(alert.text, alert.json);
  if (fits(whole.Message)) return whole;
  const withoutEvent: AlertJson = { ...alert.json, event: null, eventLeftOut: true };
  const lighter = message(alert.text, withoutEvent);
  if (fits(lighter.Message)) return lighter;

  // Four JSON copies share half the room; the two text copies get whatever the JSON leaves.
  const json = fitJson(withoutEvent, Math.floor(room / 8));
  const machine = machineText(json);
  const text = fitText(alert, (candidate) => fits(structure(candidate, alert.subject, machine)));
  return message(text, json);
}
