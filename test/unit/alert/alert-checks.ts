import { expect } from 'vitest';
import { type FormattedAlert, type SnsAlertMessage, snsMessage } from '../../../lambdas/alert/format-alert.ts';

/** SNS's limit for one Publish: message and attributes, 256 KiB of UTF-8 (the subject is counted too, to be safe). */
export const SNS_PUBLISH_LIMIT = 262_144;

/** What one Publish weighs: message, subject, and each attribute's name, data type and value, in UTF-8 bytes. */
export const publishBytes = (message: SnsAlertMessage): number =>
  Buffer.byteLength(message.Message) +
  Buffer.byteLength(message.Subject) +
  Object.entries(message.MessageAttributes).reduce(
    (sum, [name, value]) =>
      sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType) + Buffer.byteLength(value.StringValue),
    0,
  );

/**
 * Characters no text output may hold raw, written out here independently of the code under test: C0 controls, DEL
 * and C1 (Unicode's Cc), the line and paragraph separators, bidi embeddings, overrides and isolates. Text outputs
 * are checked with their own line breaks taken out.
 */
export const RAW_UNSAFE = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** A UTF-16 surrogate without its other half: what cutting inside a pair leaves. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const PRINTABLE_SUBJECT = /^[\x20-\x7E]{1,99}$/;

/** The header lines of the text, in order: a field that forges a line break moves every line after it. */
const HEADER = ['Who:      ', 'What:     ', 'To whom:  ', 'When:     ', 'From:     ', 'Outcome:  ', 'Rule:     '];

/**
 * Everything an alert must be, whatever the event: one SNS Publish within the limit, a printable ASCII subject, no
 * raw control or bidi character in any text output (default, email, sms, subject), no half surrogate pair, the
 * layout's lines where they belong, and JSON copies that parse and name the event. Returns the parsed structure.
 */
export function expectDeliverable(
  alert: FormattedAlert,
  event: { readonly uuid: string; readonly published: string },
): Record<string, string> {
  const message = snsMessage(alert);
  expect(publishBytes(message)).toBeLessThanOrEqual(SNS_PUBLISH_LIMIT);
  expect(message.Subject).toMatch(PRINTABLE_SUBJECT);
  const structure = JSON.parse(message.Message) as Record<string, string>;
  expect(Object.keys(structure).sort()).toEqual(['default', 'email', 'http', 'https', 'lambda', 'sms', 'sqs']);
  expect(structure.sms).toMatch(PRINTABLE_SUBJECT);
  for (const text of [structure.default ?? '', structure.email ?? '']) {
    expect(text.replaceAll('\n', '')).not.toMatch(RAW_UNSAFE);
    expect(text).not.toMatch(LONE_SURROGATE);
    const lines = text.split('\n');
    expect(lines.slice(2, 2 + HEADER.length).map((line) => line.slice(0, 10))).toEqual(HEADER);
    expect(lines[5]).toBe(`When:     ${event.published}`);
  }
  for (const protocol of ['sqs', 'lambda', 'https', 'http']) {
    expect(JSON.parse(structure[protocol] ?? '')).toMatchObject({ uuid: event.uuid, published: event.published });
  }
  return structure;
}

export type Path = readonly (string | number)[];

/** Every documented System Log field the pipeline does not validate, objects and the leaves inside them. */
export const FIELDS: readonly Path[] = [
  ['version'],
  ['severity'],
  ['displayMessage'],
  ['legacyEventType'],
  ['actor'],
  ['actor', 'id'],
  ['actor', 'type'],
  ['actor', 'alternateId'],
  ['actor', 'displayName'],
  ['actor', 'detailEntry'],
  ['client'],
  ['client', 'userAgent'],
  ['client', 'userAgent', 'rawUserAgent'],
  ['client', 'zone'],
  ['client', 'device'],
  ['client', 'id'],
  ['client', 'ipAddress'],
  ['client', 'geographicalContext'],
  ['client', 'geographicalContext', 'city'],
  ['client', 'geographicalContext', 'state'],
  ['client', 'geographicalContext', 'country'],
  ['client', 'geographicalContext', 'postalCode'],
  ['client', 'geographicalContext', 'geolocation'],
  ['client', 'geographicalContext', 'geolocation', 'lat'],
  ['client', 'geographicalContext', 'geolocation', 'lon'],
  ['device'],
  ['authenticationContext'],
  ['securityContext'],
  ['outcome'],
  ['outcome', 'result'],
  ['outcome', 'reason'],
  ['target'],
  ['target', 0],
  ['target', 0, 'id'],
  ['target', 0, 'type'],
  ['target', 0, 'alternateId'],
  ['target', 0, 'displayName'],
  ['transaction'],
  ['transaction', 'id'],
  ['debugContext'],
  ['debugContext', 'debugData'],
  ['request'],
  ['request', 'ipChain'],
  ['request', 'ipChain', 0],
  ['request', 'ipChain', 0, 'ip'],
  ['request', 'ipChain', 0, 'geographicalContext'],
];

/** Marks a field to delete in `withField`. */
export const MISSING = Symbol('missing');

/** A copy of `detail` with the value at `path` replaced (or deleted), creating or replacing containers on the way. */
export function withField(detail: Record<string, unknown>, path: Path, value: unknown): Record<string, unknown> {
  const copy = structuredClone(detail);
  let container: Record<string | number, unknown> = copy;
  for (const [index, key] of path.entries()) {
    if (index === path.length - 1) {
      if (value === MISSING) delete container[key];
      else container[key] = value;
      break;
    }
    const next = container[key];
    if (typeof next !== 'object' || next === null) container[key] = typeof path[index + 1] === 'number' ? [] : {};
    container = container[key] as Record<string | number, unknown>;
  }
  return copy;
}
