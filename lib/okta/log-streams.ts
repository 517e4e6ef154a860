import { nextLink, OktaApiError, type OktaClient } from './okta-client.ts';

/** The Log Streaming API (`/api/v1/logStreams`) for AWS EventBridge log streams, over an OktaClient. */

export type LogStreamStatus = 'ACTIVE' | 'INACTIVE';

/** The fields of a log stream olp shows and compares; anything else Okta sends is left out. */
export interface LogStreamSummary {
  id: string;
  name: string;
  type: string;
  status: string;
  eventSourceName: string;
  accountId: string;
  region: string;
  /** When Okta last changed the stream (its status included); empty when Okta did not say. */
  lastUpdated: string;
}

export interface AwsEventBridgeSettings {
  accountId: string;
  eventSourceName: string;
  region: string;
}

/** A field of a new log stream that Okta would refuse. */
export class LogStreamValidationError extends Error {
  override readonly name = 'LogStreamValidationError';
  constructor(
    readonly field: 'name' | 'accountId' | 'region' | 'eventSourceName',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The regions Okta accepts for an `aws_eventbridge` log stream (`settings.region`). Sources: the AwsRegion enum of
 * Okta's Management API spec (developer.okta.com, Log Streaming API, LogStreamSettingsAws.region, as shipped in
 * @okta/okta-sdk-nodejs 8.x: src/types/generated/models/AwsRegion.d.ts), and eu-south-1, which the earlier
 * developer.okta.com Log Streams reference lists under "AWS EventBridge Settings object" and the spec dropped.
 * Okta has the last word: a region it no longer accepts comes back as its own 400.
 */
export const AWS_EVENTBRIDGE_REGIONS: readonly string[] = [
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-south-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
];

/** Okta: eventSourceName 1-75 characters of letters, digits, `.`, `-`, `_` (Log Streaming API reference). */
const EVENT_SOURCE_NAME = /^[A-Za-z0-9._-]{1,75}$/;
const ACCOUNT_ID = /^\d{12}$/;
const PARTNER_PREFIX = 'aws.partner/okta.com/';

/** Checks a new stream's fields as Okta does, so a bad value is refused before any request. */
export function validateNewStream(name: string, settings: AwsEventBridgeSettings): void {
  if (name.trim() === '') throw new LogStreamValidationError('name', 'the stream name must not be empty');
  if (!ACCOUNT_ID.test(settings.accountId)) {
    throw new LogStreamValidationError('accountId', 'the AWS account id must be exactly 12 digits');
  }
  if (!AWS_EVENTBRIDGE_REGIONS.includes(settings.region)) {
    throw new LogStreamValidationError(
      'region',
      `the region must be one Okta supports for EventBridge log streams: ${AWS_EVENTBRIDGE_REGIONS.join(', ')}`,
    );
  }
  if (!EVENT_SOURCE_NAME.test(settings.eventSourceName)) {
    throw new LogStreamValidationError(
      'eventSourceName',
      'the event source name must be 1-75 characters of letters, digits, ".", "-" and "_"',
    );
  }
}

/**
 * The `settings.eventSourceName` a user means: the name itself, or the last segment of the partner event source
 * name `aws.partner/okta.com/<org>/<name>` that EventBridge shows.
 */
export function eventSourceNameOf(input: string): string {
  const text = input.trim();
  return text.startsWith(PARTNER_PREFIX) ? (text.split('/').at(-1) ?? '') : text;
}

/** The partner event source EventBridge shows for a stream: `aws.partner/okta.com/<org subdomain>/<eventSourceName>`. */
export const partnerEventSourceName = (orgSubdomain: string, eventSourceName: string): string =>
  `${PARTNER_PREFIX}${orgSubdomain}/${eventSourceName}`;

const OKTA_DOMAINS = /\.(okta|oktapreview|okta-emea|okta-gov|okta-miltest)\.com$|\.okta\.mil$/;

/**
 * The org's Okta subdomain (`acme` for https://acme.okta.com), which Okta puts in the partner event source name. A
 * custom domain (https://login.acme.com) does not show it, so the org's public well-known document is asked.
 */
export async function orgSubdomain(client: OktaClient): Promise<string | undefined> {
  const host = new URL(client.orgUrl).hostname;
  if (OKTA_DOMAINS.test(host)) return host.split('.')[0];
  try {
    const response = await client.request({
      call: 'org lookup (GET /.well-known/okta-organization)',
      method: 'GET',
      target: '/.well-known/okta-organization',
    });
    const href = (response.body as { _links?: { organization?: { href?: unknown } } } | undefined)?._links?.organization
      ?.href;
    return typeof href === 'string' ? new URL(href).hostname.split('.')[0] : undefined;
  } catch (error) {
    if (error instanceof OktaApiError) return undefined;
    throw error;
  }
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The summary of one log stream as Okta returns it; missing fields are empty strings. */
export function summarize(stream: unknown): LogStreamSummary {
  const record = (typeof stream === 'object' && stream !== null ? stream : {}) as Record<string, unknown>;
  const settings = (typeof record.settings === 'object' && record.settings !== null ? record.settings : {}) as Record<
    string,
    unknown
  >;
  return {
    id: text(record.id),
    name: text(record.name),
    type: text(record.type),
    status: text(record.status),
    eventSourceName: text(settings.eventSourceName),
    accountId: text(settings.accountId),
    region: text(settings.region),
    lastUpdated: text(record.lastUpdated),
  };
}

const call = {
  list: 'list log streams (GET /api/v1/logStreams)',
  get: 'get log stream (GET /api/v1/logStreams/{id})',
  create: 'create log stream (POST /api/v1/logStreams)',
  activate: 'activate log stream (POST /api/v1/logStreams/{id}/lifecycle/activate)',
  deactivate: 'deactivate log stream (POST /api/v1/logStreams/{id}/lifecycle/deactivate)',
};

/** Every log stream of the org, following `Link rel="next"` pages. */
export async function listLogStreams(client: OktaClient): Promise<LogStreamSummary[]> {
  const streams: LogStreamSummary[] = [];
  const seen = new Set<string>();
  let target: string | undefined = '/api/v1/logStreams';
  while (target !== undefined) {
    const response = await client.request({ call: call.list, method: 'GET', target });
    if (!Array.isArray(response.body)) {
      throw new OktaApiError(`Okta ${call.list} at ${client.orgUrl} failed: the answer is not a JSON array`, {
        orgUrl: client.orgUrl,
        call: call.list,
      });
    }
    streams.push(...response.body.map(summarize));
    seen.add(client.resolve(target, call.list));
    const next = nextLink(response.headers.get('link'));
    // A cursor that does not move would repeat the same page forever.
    target = next === undefined || seen.has(client.resolve(next, call.list)) ? undefined : next;
  }
  return streams;
}

/** The stream whose `settings.eventSourceName` matches the name or partner event source name given, if any. */
export async function findByEventSourceName(
  client: OktaClient,
  nameOrSource: string,
): Promise<LogStreamSummary | undefined> {
  const wanted = eventSourceNameOf(nameOrSource);
  return (await listLogStreams(client)).find((stream) => stream.eventSourceName === wanted);
}

const streamPath = (id: string): string => `/api/v1/logStreams/${encodeURIComponent(id)}`;

export async function getLogStream(client: OktaClient, id: string): Promise<LogStreamSummary> {
  return summarize((await client.request({ call: call.get, method: 'GET', target: streamPath(id) })).body);
}

/** Activates or deactivates a stream and returns it as it is afterwards. */
export async function setLogStreamStatus(
  client: OktaClient,
  id: string,
  status: LogStreamStatus,
): Promise<LogStreamSummary> {
  const action = status === 'ACTIVE' ? 'activate' : 'deactivate';
  const response = await client.request({
    call: call[action],
    method: 'POST',
    target: `${streamPath(id)}/lifecycle/${action}`,
  });
  const stream = summarize(response.body);
  // Some Okta releases answer the lifecycle calls without a body; read the stream back then.
  return stream.id === '' ? getLogStream(client, id) : stream;
}

/** Creates an `aws_eventbridge` stream after checking its fields as Okta does (LogStreamValidationError). */
export async function createAwsEventBridgeStream(
  client: OktaClient,
  name: string,
  settings: AwsEventBridgeSettings,
): Promise<LogStreamSummary> {
  validateNewStream(name, settings);
  const response = await client.request({
    call: call.create,
    method: 'POST',
    target: '/api/v1/logStreams',
    body: {
      type: 'aws_eventbridge',
      name,
      settings: {
        accountId: settings.accountId,
        eventSourceName: settings.eventSourceName,
        region: settings.region,
      },
    },
  });
  return summarize(response.body);
}
