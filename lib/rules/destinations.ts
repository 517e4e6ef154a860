import { z } from 'zod';
import { LOOPBACK_HOSTS } from '../http/http-basics.ts';
import { RuleValidationError } from './errors.ts';

/**
 * Destinations: HTTP endpoints an alert rule forwards its matched events to (`forward: [<name>]`), deployed as
 * EventBridge API destinations. A rule file declares them under `destinations:`, next to `rules:`; names are unique
 * across every loaded file, so a rule in one file may forward to a destination declared in another.
 *
 * A rule file never holds a credential: `auth` names a Secrets Manager secret, which CloudFormation reads at deploy
 * time (a dynamic reference) and `olp local --forward` reads from the environment or a local secrets file.
 */

/** Kebab-case, like rule ids: it names constructs in the stack and secrets in `olp local` messages. */
const DESTINATION_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const DESTINATION_NAME_MAX = 64;

/**
 * The methods that carry the event in the request body. EventBridge also allows GET, HEAD, OPTIONS and DELETE
 * (CreateApiDestination HttpMethod), which would send the endpoint no event.
 */
export const FORWARD_METHODS = ['POST', 'PUT', 'PATCH'] as const;

/** The methods EventBridge accepts for an OAuth token request (CreateConnectionOAuthRequestParameters HttpMethod). */
export const TOKEN_METHODS = ['POST', 'GET', 'PUT'] as const;

/**
 * InvocationRateLimitPerSecond: at least 1 (CreateApiDestination). EventBridge sends at most 300 invocations per
 * second to one API destination by default (its "Invocations throttle limit" quota, which is also the rate it uses
 * when none is set), so a higher limit would promise what the account does not deliver.
 */
export const RATE_LIMIT_MIN = 1;
export const RATE_LIMIT_MAX = 300;

/**
 * EventBridge allows 5 targets per rule. An alert rule's EventBridge rule already targets the alert queue, so it can
 * forward to at most 4 destinations.
 */
export const MAX_FORWARDS_PER_RULE = 4;

/** EventBridge's pattern for an InvocationEndpoint and an OAuth AuthorizationEndpoint, at most 2,048 characters. */
const ENDPOINT = /^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@&=+$,A-Za-z0-9])+)([).!';/?:,])?$/;
const ENDPOINT_MAX = 2048;

/** Query parameters that carry a credential (an Okta Workflows invoke URL as copied holds `clientToken`). */
const CREDENTIAL_PARAMETER = /token|secret|passw|pwd|api[-_]?key|^key$|signature|^sig$|credential/i;

/** Fields that would hold a credential inline; anything else unknown is only a misspelling. */
const CREDENTIAL_FIELD = /key|token|secret|passw|pwd|credential|user|client|value|header[-_]?value/i;

/** The JSON fields of each kind of destination secret, as Secrets Manager stores them (`SecretString`). */
export const SECRET_FIELDS = {
  'api-key': ['apiKey'],
  basic: ['username', 'password'],
  'oauth-client-credentials': ['clientId', 'clientSecret'],
} as const satisfies Record<string, readonly string[]>;
export type AuthType = keyof typeof SECRET_FIELDS;
export const AUTH_TYPES = Object.keys(SECRET_FIELDS) as readonly AuthType[];

/** Names a Secrets Manager secret: letters, digits and /_+=.@-, as the pipeline's other secret names. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** An HTTP header name (RFC 9110 token), as EventBridge's ApiKeyName allows at most 512 characters of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,512}$/;

/** Whether an endpoint is on this machine: fine for `olp local`, unreachable for EventBridge. */
export const isLoopbackEndpoint = (url: string): boolean => {
  try {
    return LOOPBACK_HOSTS.has(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** Why `text` cannot be a destination's (or a token) endpoint, or undefined when it can. */
function endpointProblem(text: string): string | undefined {
  if (text.length > ENDPOINT_MAX) return `must be at most ${ENDPOINT_MAX} characters (EventBridge's limit)`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute https URL, e.g. https://acme.workflows.okta.com/api/flo/<flow alias>/invoke';
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    return 'must be an https URL (plain http only to 127.0.0.1 or localhost, for olp local)';
  }
  if (url.username !== '' || url.password !== '') {
    return 'must not hold a user name or password: credentials go in the Secrets Manager secret named by auth.secretName';
  }
  const credential = [...url.searchParams.keys()].find((name) => CREDENTIAL_PARAMETER.test(name));
  if (credential !== undefined) {
    return (
      `must not carry a credential in its query (${credential}): remove it from the URL and put it in the ` +
      'Secrets Manager secret named by auth.secretName (an Okta Workflows client token goes in the ' +
      'x-api-client-token header: auth type api-key)'
    );
  }
  if (url.hash !== '') return 'must not have a #fragment';
  if (text.includes('*'))
    return 'must not hold `*`: EventBridge reads it as a path parameter, which forwarding never sets';
  if (!ENDPOINT.test(text)) {
    return 'holds characters EventBridge does not accept in an endpoint (spaces, quotes, brackets, ...): percent-encode them';
  }
  return undefined;
}

const Endpoint = z.string('must be a URL').superRefine((text, ctx) => {
  const problem = endpointProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** A strict object whose unknown fields that look like credentials get a message saying where credentials go. */
const noInlineCredentials = (where: string) => ({
  error: (issue: { code?: string; keys?: readonly string[] }) => {
    if (issue.code !== 'unrecognized_keys' || issue.keys === undefined) return undefined;
    const inline = issue.keys.filter((key) => CREDENTIAL_FIELD.test(key));
    if (inline.length === 0) return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}`;
    return (
      `holds ${inline.join(', ')}: a rule file never holds credentials; put them in the Secrets Manager secret ` +
      `named by ${where}secretName (JSON fields: ${AUTH_TYPES.map((type) => `${type}: ${SECRET_FIELDS[type].join(', ')}`).join('; ')})`
    );
  },
});

const SecretName = z
  .string('must be the name of a Secrets Manager secret')
  .regex(
    SECRET_NAME,
    "must be the name of a Secrets Manager secret in the stack's account and region (letters, digits and /_+=.@-)",
  );

const ApiKeyAuth = z.strictObject(
  {
    type: z.literal('api-key'),
    header: z
      .string('must be the HTTP header that carries the key, e.g. x-api-client-token or Authorization')
      .regex(HEADER_NAME, 'must be an HTTP header name, e.g. x-api-client-token or Authorization'),
    secretName: SecretName,
  },
  noInlineCredentials(''),
);

const BasicAuth = z.strictObject({ type: z.literal('basic'), secretName: SecretName }, noInlineCredentials(''));

const OAuthAuth = z.strictObject(
  {
    type: z.literal('oauth-client-credentials'),
    tokenUrl: Endpoint,
    tokenMethod: z.enum(TOKEN_METHODS, `must be one of ${TOKEN_METHODS.join(', ')} (the token request's method)`),
    /** Sent with the token request; optional, as some servers grant a default scope. */
    scope: z.string().trim().min(1, 'must not be empty').max(512, 'must be at most 512 characters').optional(),
    secretName: SecretName,
  },
  noInlineCredentials(''),
);

const DestinationAuth = z.discriminatedUnion('type', [ApiKeyAuth, BasicAuth, OAuthAuth], {
  error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${AUTH_TYPES.join(', ')}` : undefined),
});
export type DestinationAuth = z.infer<typeof DestinationAuth>;

const DestinationName = z
  .string('must be a destination name')
  .max(DESTINATION_NAME_MAX, `must be at most ${DESTINATION_NAME_MAX} characters`)
  .regex(DESTINATION_NAME, 'must be kebab-case: lowercase letters and digits joined by single hyphens');

/** One entry of `destinations:`. */
export const Destination = z.strictObject(
  {
    name: DestinationName,
    url: Endpoint,
    method: z
      .enum(
        FORWARD_METHODS,
        `must be one of ${FORWARD_METHODS.join(', ')}: the event travels in the request body ` +
          '(EventBridge also allows GET, HEAD, OPTIONS and DELETE, which would carry no event)',
      )
      .default('POST'),
    auth: DestinationAuth,
    rateLimitPerSecond: z
      .number('must be a number of requests per second')
      .int('must be a whole number')
      .min(RATE_LIMIT_MIN, `must be at least ${RATE_LIMIT_MIN}`)
      .max(
        RATE_LIMIT_MAX,
        `must be at most ${RATE_LIMIT_MAX}: EventBridge's default invocation quota per API destination`,
      )
      .optional(),
  },
  noInlineCredentials('auth.'),
);
export type Destination = z.infer<typeof Destination>;

/** A validated destination and the file that declares it. */
export type LoadedDestination = Destination & { readonly file: string };

/** A rule's `forward:` list: distinct destination names, as many as the rule's EventBridge rule has targets left. */
export const ForwardList = z
  .array(DestinationName, 'must be a list of destination names')
  .min(1, 'must name at least one destination (or leave forward out)')
  .max(
    MAX_FORWARDS_PER_RULE,
    `must name at most ${MAX_FORWARDS_PER_RULE} destinations: an EventBridge rule has 5 targets, one is the alert queue`,
  )
  .refine((names) => new Set(names).size === names.length, 'must not name a destination twice');

/** Why a rule cannot forward, or undefined when it can: each forwarded event must be one the rule matched alone. */
export function forwardProblem(rule: { readonly forward?: readonly string[] | undefined }): string | undefined {
  const kind = 'kind' in rule ? rule.kind : undefined;
  if (rule.forward === undefined || kind === undefined) return undefined;
  return (
    `only a single-event rule forwards (one without kind): a ${String(kind)} rule alerts on many events together, ` +
    'and a destination receives each matched event as it arrives. Remove forward, or split the rule'
  );
}

/** Refuses two destinations with one name, naming both files. */
export function assertUniqueDestinationNames(destinations: readonly LoadedDestination[]): void {
  const seen = new Map<string, string>();
  for (const [index, destination] of destinations.entries()) {
    const first = seen.get(destination.name);
    if (first !== undefined) {
      throw new RuleValidationError(destination.file, undefined, [
        {
          path: `destinations.${positionIn(destinations, index)}.name`,
          reason: `duplicate destination name "${destination.name}", already declared in ${first}`,
        },
      ]);
    }
    seen.set(destination.name, destination.file);
  }
}

/** The position of a destination within its own file, for error paths. */
const positionIn = (destinations: readonly LoadedDestination[], index: number): number => {
  const file = destinations[index]?.file;
  return destinations.slice(0, index).filter((other) => other.file === file).length;
};

/** Refuses a rule that forwards to a destination no loaded file declares, naming the rule, its file and the name. */
export function assertKnownDestinations(
  rules: ReadonlyArray<{
    readonly id: string;
    readonly file: string;
    readonly forward?: readonly string[] | undefined;
  }>,
  destinations: readonly LoadedDestination[],
): void {
  const names = new Set(destinations.map((destination) => destination.name));
  const declared =
    names.size === 0
      ? 'no loaded rule file declares any (add them under destinations:)'
      : `declared: ${[...names].sort().join(', ')}`;
  for (const rule of rules) {
    for (const [index, name] of (rule.forward ?? []).entries()) {
      if (!names.has(name)) {
        throw new RuleValidationError(rule.file, rule.id, [
          { path: `forward.${index}`, reason: `unknown destination "${name}"; ${declared}` },
        ]);
      }
    }
  }
}

/** What to deploy for forwarding: the destinations some rule forwards to, and each forwarding rule's destinations. */
export interface ForwardingPlan {
  readonly destinations: readonly Destination[];
  /** Alert rule id -> the names of the destinations its matched events go to. */
  readonly routes: ReadonlyMap<string, readonly string[]>;
}

/**
 * The forwarding of a loaded rule set. Only destinations that a rule forwards to are kept: a declared but unused
 * destination deploys nothing, so its secret need not exist yet.
 */
export function forwardingPlan(set: {
  readonly rules: ReadonlyArray<{ readonly id: string; readonly forward?: readonly string[] | undefined }>;
  readonly destinations: readonly Destination[];
}): ForwardingPlan {
  const routes = new Map<string, readonly string[]>();
  for (const rule of set.rules) if (rule.forward !== undefined) routes.set(rule.id, rule.forward);
  const used = new Set([...routes.values()].flat());
  return {
    destinations: set.destinations
      .filter((destination) => used.has(destination.name))
      .map(({ name, url, method, auth, rateLimitPerSecond }) => ({
        name,
        url,
        method,
        auth,
        ...(rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond }),
      })),
    routes,
  };
}
