/**
 * A realistic, deterministic sample of what Okta Log Streaming delivers to EventBridge for one org (acme): users
 * signing in and out, using apps and MFA, and now and then an admin action that should raise a security alert.
 * Deliveries carry Okta's messiness: some events twice or three times, arrival out of published order, the string
 * "null" next to JSON null, `{}` for debugContext, uppercase uuids and ties in `published`.
 */

export interface SampleOptions {
  count: number;
  seed: number;
  /** Published time of the first event; default 2026-11-01T09:00:00Z. */
  start?: Date;
}

export interface SampleStream {
  /** EventBridge envelopes as Okta delivers them: some events twice or three times, out of order. */
  deliveries: object[];
  /** The System Log events, each once, in published order. */
  uniqueEvents: object[];
}

const DEFAULT_START = '2026-11-01T09:00:00Z';
const ORG = 'acme';
const EVENT_SOURCE = `aws.partner/okta.com/${ORG}/okta-logs`;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const LOG_STREAM_ID = '0oa1orzg0CHSgPcjZ0g4';

const TWICE = 0.05;
const THRICE = 0.01;
/** How far (in positions) a delivery may drift from its place in published order. */
const MAX_DISPLACEMENT = 30;
const ADMIN_ACTION_EVERY = 50;

/** Admin actions that security alert rules watch for; the deactivation is placed separately, once. */
export const SAMPLE_ADMIN_EVENT_TYPES = [
  'user.account.privilege.grant',
  'group.privilege.grant',
  'system.api_token.create',
  'system.api_token.revoke',
  'user.mfa.factor.reset_all',
  'user.mfa.factor.deactivate',
  'system.idp.lifecycle.create',
  'user.session.impersonation.initiate',
  'security.threat.detected',
  'user.account.lock',
  'user.account.report_suspicious_activity_by_enduser',
  'app.oauth2.as.token.detect_reuse',
  'policy.lifecycle.update',
  'system.log_stream.lifecycle.create',
] as const;
export const LOG_STREAM_DEACTIVATE = 'system.log_stream.lifecycle.deactivate';

type AdminEventType = (typeof SAMPLE_ADMIN_EVENT_TYPES)[number];

/** mulberry32: a small, fast 32-bit PRNG, enough for reproducible samples (not for secrets). */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) {
      throw new Error('pick from an empty list');
    }
    return item;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.next() * (i + 1));
      const a = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = a;
    }
    return copy;
  }

  chars(alphabet: string, length: number): string {
    let text = '';
    for (let i = 0; i < length; i += 1) {
      text += alphabet.charAt(Math.floor(this.next() * alphabet.length));
    }
    return text;
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

/** Okta object ids are a 3-character type prefix and 17 characters, 20 in all. */
const oktaId = (random: Random, prefix: string): string => `${prefix}${random.chars(ALPHANUMERIC, 17)}`;
const requestId = (random: Random): string =>
  `${random.chars(`${ALPHANUMERIC}_-`, 23)}AAC${random.chars(ALPHANUMERIC, 1)}`;

/** System Log uuids are time-based (version 1), like c6ed294a-fef4-11ed-a5b1-bbb7c1de1a4b. */
function eventUuid(random: Random): string {
  return [
    random.chars(HEX, 8),
    random.chars(HEX, 4),
    `11${random.chars(HEX, 2)}`,
    `${random.pick(['8', '9', 'a', 'b'])}${random.chars(HEX, 3)}`,
    random.chars(HEX, 12),
  ].join('-');
}

/** A random UUIDv4, as EventBridge gives each event it delivers. */
export function envelopeId(random: Random): string {
  return [
    random.chars(HEX, 8),
    random.chars(HEX, 4),
    `4${random.chars(HEX, 3)}`,
    `${random.pick(['8', '9', 'a', 'b'])}${random.chars(HEX, 3)}`,
    random.chars(HEX, 12),
  ].join('-');
}

interface Principal {
  id: string;
  type: string;
  alternateId: string;
  displayName: string;
}

interface Place {
  ip: string;
  city: string;
  state: string;
  country: string;
  postalCode: string | null;
  lat: number;
  lon: number;
  asNumber: number;
  asOrg: string;
  isp: string;
  domain: string;
  isProxy: boolean;
}

interface Browser {
  rawUserAgent: string;
  os: string;
  browser: string;
  device: string;
}

interface Person extends Principal {
  home: Place;
  browser: Browser;
}

const PLACES: Place[] = [
  {
    ip: '198.51.100.23',
    city: 'San Francisco',
    state: 'California',
    country: 'United States',
    postalCode: '94107',
    lat: 37.7697,
    lon: -122.3933,
    asNumber: 7922,
    asOrg: 'comcast',
    isp: 'comcast cable communications llc',
    domain: 'comcast.net',
    isProxy: false,
  },
  {
    ip: '203.0.113.57',
    city: 'New York',
    state: 'New York',
    country: 'United States',
    postalCode: '10001',
    lat: 40.7506,
    lon: -73.9971,
    asNumber: 701,
    asOrg: 'verizon',
    isp: 'verizon',
    domain: 'verizon.net',
    isProxy: false,
  },
  {
    ip: '192.0.2.141',
    city: 'Austin',
    state: 'Texas',
    country: 'United States',
    postalCode: '78701',
    lat: 30.2711,
    lon: -97.7437,
    asNumber: 7018,
    asOrg: 'at&t services inc.',
    isp: 'at&t',
    domain: 'att.net',
    isProxy: false,
  },
  {
    ip: '198.51.100.188',
    city: 'London',
    state: 'England',
    country: 'United Kingdom',
    postalCode: 'EC1A',
    lat: 51.5164,
    lon: -0.093,
    asNumber: 2856,
    asOrg: 'british telecommunications plc',
    isp: 'bt',
    domain: 'bt.com',
    isProxy: false,
  },
];

const SUSPICIOUS_PLACE: Place = {
  ip: '185.220.101.47',
  city: 'Amsterdam',
  state: 'North Holland',
  country: 'Netherlands',
  postalCode: null,
  lat: 52.3759,
  lon: 4.8975,
  asNumber: 208294,
  asOrg: 'relayon',
  isp: 'tor exit node',
  domain: 'relayon.org',
  isProxy: true,
};

const BROWSERS: Browser[] = [
  {
    rawUserAgent:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
    os: 'Mac OS X',
    browser: 'CHROME',
    device: 'Computer',
  },
  {
    rawUserAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0',
    os: 'Windows 10',
    browser: 'FIREFOX',
    device: 'Computer',
  },
  {
    rawUserAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1',
    os: 'iOS',
    browser: 'SAFARI',
    device: 'Mobile',
  },
];

const SCRIPT_BROWSER: Browser = {
  rawUserAgent: 'python-requests/2.32.3',
  os: 'Unknown',
  browser: 'UNKNOWN',
  device: 'Unknown',
};

const USER_NAMES = [
  'Alice Nguyen',
  'Ben Carter',
  'Chloe Martin',
  'Diego Alvarez',
  'Emma Schulz',
  'Farah Khan',
  'George Okafor',
  'Hana Sato',
];
const ADMIN_NAMES = ['Dana Admin', 'Ivan Secops'];
const APPS = ['Salesforce.com', 'Slack', 'GitHub Enterprise Cloud', 'AWS IAM Identity Center', 'Zoom'];
const GROUPS = ['Engineering', 'Finance', 'Help Desk', 'Contractors'];
const PRIVILEGES = ['Super administrator', 'Organization administrator', 'Application administrator'];
const FACTORS = ['Okta Verify', 'Google Authenticator', 'FIDO2 (WebAuthn)', 'Phone'];

const OKTA_SYSTEM: Principal = {
  id: '0oa0000000000000SYS0',
  type: 'SystemPrincipal',
  alternateId: 'system@okta.com',
  displayName: 'Okta System',
};

const emailOf = (name: string): string => `${name.toLowerCase().replace(/\s+/g, '.')}@${ORG}.com`;

interface Directory {
  users: Person[];
  admins: Person[];
  apps: Principal[];
  groups: Principal[];
}

function buildDirectory(random: Random): Directory {
  const person = (name: string): Person => ({
    id: oktaId(random, '00u'),
    type: 'User',
    alternateId: emailOf(name),
    displayName: name,
    home: random.pick(PLACES),
    browser: random.pick(BROWSERS),
  });
  return {
    users: USER_NAMES.map(person),
    admins: ADMIN_NAMES.map(person),
    apps: APPS.map((name) => ({
      id: oktaId(random, '0oa'),
      type: 'AppInstance',
      alternateId: name,
      displayName: name,
    })),
    groups: GROUPS.map((name) => ({
      id: oktaId(random, '00g'),
      type: 'UserGroup',
      alternateId: 'unknown',
      displayName: name,
    })),
  };
}

/** What differs between events; everything else is filled in like a real System Log event. */
interface EventSpec {
  eventType: string;
  displayMessage: string;
  legacyEventType: string | null;
  actor: Principal;
  place: Place;
  browser: Browser;
  result: string;
  reason?: string | null;
  severity?: string;
  targets?: object[];
  debugData?: Record<string, unknown>;
  sessionId?: string;
  authenticationStep?: number;
  credentialType?: string | null;
  transactionType?: string;
}

const asTarget = (principal: Principal, type = principal.type): object => ({
  id: principal.id,
  type,
  alternateId: principal.alternateId,
  displayName: principal.displayName,
  detailEntry: null,
});

function geo(place: Place): object {
  return {
    city: place.city,
    state: place.state,
    country: place.country,
    postalCode: place.postalCode,
    geolocation: { lat: place.lat, lon: place.lon },
  };
}

const REQUEST_URIS: Record<string, string> = {
  'policy.evaluate_sign_on': '/idp/idx/identify',
  'user.session.start': '/idp/idx/identify',
  'user.authentication.auth_via_mfa': '/idp/idx/challenge/answer',
  'user.mfa.factor.activate': '/idp/idx/credential/enroll',
  'user.session.access_admin_app': '/admin/sso/callback',
  'user.authentication.sso': '/app/sso/saml',
  'user.session.end': '/login/signout',
  'user.account.privilege.grant': '/api/v1/users/roles',
  'group.privilege.grant': '/api/v1/groups/roles',
  'system.api_token.create': '/api/internal/tokens',
  'system.api_token.revoke': '/api/internal/tokens/revoke',
  'user.mfa.factor.reset_all': '/api/v1/users/lifecycle/reset_factors',
  'user.mfa.factor.deactivate': '/api/v1/users/factors',
  'system.idp.lifecycle.create': '/api/v1/idps',
  'user.session.impersonation.initiate': '/admin/impersonation/start',
  'user.account.lock': '/idp/idx/challenge/answer',
  'user.account.report_suspicious_activity_by_enduser': '/api/v1/authn/report-suspicious-activity',
  'app.oauth2.as.token.detect_reuse': '/oauth2/v1/token',
  'policy.lifecycle.update': '/api/v1/policies',
  'system.log_stream.lifecycle.create': '/api/v1/logStreams',
};

function buildEvent(random: Random, spec: EventSpec, published: string): object {
  const transactionId = requestId(random);
  const uuid = eventUuid(random);
  const requestUri = spec.transactionType === 'JOB' ? null : (REQUEST_URIS[spec.eventType] ?? '/api/v1/authn');
  const debugData = {
    requestId: transactionId,
    requestUri,
    url: requestUri === null ? null : `${requestUri}?`,
    ...spec.debugData,
  };
  return {
    actor: {
      id: spec.actor.id,
      type: spec.actor.type,
      alternateId: spec.actor.alternateId,
      displayName: spec.actor.displayName,
      detailEntry: null,
    },
    client: {
      userAgent: { rawUserAgent: spec.browser.rawUserAgent, os: spec.browser.os, browser: spec.browser.browser },
      // Okta writes the string "null" here, next to JSON nulls elsewhere.
      zone: 'null',
      device: spec.browser.device,
      id: null,
      ipAddress: spec.place.ip,
      geographicalContext: geo(spec.place),
    },
    device: null,
    authenticationContext: {
      authenticationProvider: null,
      credentialProvider: random.chance(0.1) ? 'null' : null,
      credentialType: spec.credentialType ?? null,
      issuer: null,
      interface: null,
      authenticationStep: spec.authenticationStep ?? 0,
      externalSessionId: spec.sessionId ?? 'unknown',
    },
    displayMessage: spec.displayMessage,
    eventType: spec.eventType,
    outcome: {
      result: spec.result,
      reason: spec.reason === undefined ? (random.chance(0.15) ? 'null' : null) : spec.reason,
    },
    published,
    securityContext: {
      asNumber: spec.place.asNumber,
      asOrg: spec.place.asOrg,
      isp: spec.place.isp,
      domain: spec.place.domain,
      isProxy: spec.place.isProxy,
    },
    severity: spec.severity ?? 'INFO',
    // Some events carry an empty debugContext, as public samples show.
    debugContext: random.chance(0.08) ? {} : { debugData },
    legacyEventType: spec.legacyEventType,
    transaction: { type: spec.transactionType ?? 'WEB', id: transactionId, detail: {} },
    uuid: random.chance(0.02) ? uuid.toUpperCase() : uuid,
    version: '0',
    request: {
      ipChain: [{ ip: spec.place.ip, geographicalContext: geo(spec.place), version: 'V4', source: null }],
    },
    target: spec.targets ?? [],
  };
}

type Step = Omit<EventSpec, 'place' | 'browser'>;

interface Flow {
  person: Person;
  steps: Step[];
}

const sessionIdOf = (random: Random): string => `102${random.chars(`${ALPHANUMERIC}_`, 22)}`;

/** One person's activity: a sign-in with MFA and some app use, a failed sign-in, a factor enrollment or SSO alone. */
function userFlow(random: Random, directory: Directory): Flow {
  const person = random.chance(0.15) ? random.pick(directory.admins) : random.pick(directory.users);
  const session = sessionIdOf(random);
  const userTarget = asTarget(person);
  const app = (): Step => {
    const target = random.pick(directory.apps);
    return {
      eventType: 'user.authentication.sso',
      displayMessage: 'User single sign on to app',
      legacyEventType: 'app.auth.sso',
      actor: person,
      result: 'SUCCESS',
      targets: [asTarget(target), { ...asTarget(person, 'AppUser'), id: oktaId(random, '0ua') }],
      sessionId: session,
      debugData: { initiationType: random.pick(['IDP_INITIATED', 'SP_INITIATED']), signOnMode: 'SAML 2.0' },
    };
  };
  const roll = random.next();
  if (roll < 0.55) {
    const steps: Step[] = [
      {
        eventType: 'policy.evaluate_sign_on',
        displayMessage: 'Evaluation of sign-on policy',
        legacyEventType: null,
        actor: person,
        result: 'ALLOW',
        reason: 'Sign-on policy evaluation resulted in ALLOW',
        targets: [
          {
            id: oktaId(random, '00p'),
            type: 'PolicyEntity',
            alternateId: 'unknown',
            displayName: 'Default Policy',
            detailEntry: null,
          },
        ],
        debugData: {
          behaviors: '{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE}',
          risk: '{level=LOW}',
        },
      },
      {
        eventType: 'user.session.start',
        displayMessage: 'User login to Okta',
        legacyEventType: 'core.user_auth.login_success',
        actor: person,
        result: 'SUCCESS',
        reason: null,
        sessionId: session,
        credentialType: 'PASSWORD',
      },
      {
        eventType: 'user.authentication.auth_via_mfa',
        displayMessage: 'Authentication of user via MFA',
        legacyEventType: 'core.user.factor.attempt_success',
        actor: person,
        result: 'SUCCESS',
        targets: [userTarget],
        sessionId: session,
        authenticationStep: 1,
        debugData: { factor: random.pick(FACTORS) },
      },
    ];
    if (directory.admins.includes(person)) {
      steps.push({
        eventType: 'user.session.access_admin_app',
        displayMessage: 'User accessing Okta admin app',
        legacyEventType: 'app.admin.sso.login.success',
        actor: person,
        result: 'SUCCESS',
        targets: [{ ...asTarget(person, 'AppUser') }],
        sessionId: session,
      });
    }
    for (let i = random.int(1, 3); i > 0; i -= 1) {
      steps.push(app());
    }
    if (random.chance(0.4)) {
      steps.push({
        eventType: 'user.session.end',
        displayMessage: 'User logout from Okta',
        legacyEventType: 'core.user_auth.logout_success',
        actor: person,
        result: 'SUCCESS',
        sessionId: session,
      });
    }
    return { person, steps };
  }
  if (roll < 0.75) {
    const steps: Step[] = [];
    for (let i = random.int(1, 3); i > 0; i -= 1) {
      steps.push({
        eventType: 'user.session.start',
        displayMessage: 'User login to Okta',
        legacyEventType: 'core.user_auth.login_failed',
        actor: person,
        result: 'FAILURE',
        reason: random.pick(['INVALID_CREDENTIALS', 'VERIFICATION_ERROR']),
        credentialType: 'PASSWORD',
      });
    }
    return { person, steps };
  }
  if (roll < 0.82) {
    return {
      person,
      steps: [
        {
          eventType: 'user.mfa.factor.activate',
          displayMessage: 'Activate factor or authenticator',
          legacyEventType: 'core.user.factor.activate',
          actor: person,
          result: 'SUCCESS',
          targets: [userTarget],
          sessionId: session,
          debugData: { factor: random.pick(FACTORS) },
        },
      ],
    };
  }
  return { person, steps: [app()] };
}

/** An admin action that a security alert rule should catch. */
function adminStep(
  random: Random,
  directory: Directory,
  eventType: AdminEventType,
): { step: Step; place: Place; browser: Browser } {
  const admin = random.pick(directory.admins);
  const user = random.pick(directory.users);
  const base = { actor: admin as Principal, result: 'SUCCESS', sessionId: sessionIdOf(random) };
  let place: Place = admin.home;
  let browser: Browser = admin.browser;
  const token = {
    id: oktaId(random, '00T'),
    type: 'Token',
    alternateId: 'unknown',
    displayName: random.pick(['ci-pipeline', 'scim-sync', 'terraform']),
    detailEntry: null,
  };
  let step: Step;
  switch (eventType) {
    case 'user.account.privilege.grant':
      step = {
        ...base,
        eventType,
        displayMessage: 'Grant user privilege',
        legacyEventType: 'core.user.admin_privilege.granted',
        targets: [asTarget(user)],
        debugData: { privilegeGranted: random.pick(PRIVILEGES) },
      };
      break;
    case 'group.privilege.grant':
      step = {
        ...base,
        eventType,
        displayMessage: 'Grant group privilege',
        legacyEventType: 'group.privilege.grant',
        targets: [asTarget(random.pick(directory.groups))],
        debugData: { privilegeGranted: random.pick(PRIVILEGES) },
      };
      break;
    case 'system.api_token.create':
      step = {
        ...base,
        eventType,
        displayMessage: 'Create API token',
        legacyEventType: 'api.token.create',
        targets: [token],
      };
      break;
    case 'system.api_token.revoke':
      step = {
        ...base,
        eventType,
        displayMessage: 'Revoke API token',
        legacyEventType: 'api.token.revoke',
        targets: [token],
      };
      break;
    case 'user.mfa.factor.reset_all':
      step = {
        ...base,
        eventType,
        displayMessage: 'Reset all factors for user',
        legacyEventType: 'core.user.factor.reset_all',
        targets: [asTarget(user)],
      };
      break;
    case 'user.mfa.factor.deactivate':
      step = {
        ...base,
        eventType,
        displayMessage: 'Reset factor for user',
        legacyEventType: 'core.user.factor.deactivate',
        targets: [asTarget(user)],
        debugData: { factor: random.pick(FACTORS) },
      };
      break;
    case 'system.idp.lifecycle.create':
      step = {
        ...base,
        eventType,
        displayMessage: 'Create Identity Provider',
        legacyEventType: 'system.idp.lifecycle.create',
        targets: [
          {
            id: oktaId(random, '0oa'),
            type: 'IdentityProvider',
            alternateId: 'unknown',
            displayName: 'Partner SAML IdP',
            detailEntry: null,
          },
        ],
      };
      break;
    case 'user.session.impersonation.initiate':
      step = {
        ...base,
        actor: {
          id: oktaId(random, '00u'),
          type: 'User',
          alternateId: 'support@okta.com',
          displayName: 'Okta Support',
        },
        eventType,
        displayMessage: 'Initiate impersonation session',
        legacyEventType: 'core.user.impersonation.session.initiated',
        targets: [asTarget(admin)],
      };
      place = random.pick(PLACES);
      break;
    case 'security.threat.detected':
      step = {
        ...base,
        actor: { id: 'unknown', type: 'User', alternateId: 'unknown', displayName: 'Unknown' },
        eventType,
        displayMessage: 'Request from suspicious actor',
        legacyEventType: null,
        result: 'DENY',
        reason: 'Password Spray',
        severity: 'WARN',
        // Okta puts JSON inside debugData strings.
        debugData: { threatSuspected: 'true', threatDetections: '{"Password Spray":"MEDIUM"}', url: '/api/v1/authn?' },
      };
      place = SUSPICIOUS_PLACE;
      browser = SCRIPT_BROWSER;
      break;
    case 'user.account.lock':
      step = {
        ...base,
        actor: user,
        eventType,
        displayMessage: 'Max sign in attempts exceeded',
        legacyEventType: 'core.user_auth.account_locked',
        result: 'FAILURE',
        reason: 'LOCKED_OUT',
        severity: 'WARN',
        targets: [asTarget(user)],
      };
      place = random.chance(0.5) ? SUSPICIOUS_PLACE : user.home;
      browser = user.browser;
      break;
    case 'user.account.report_suspicious_activity_by_enduser':
      step = {
        ...base,
        actor: user,
        eventType,
        displayMessage: 'User report suspicious activity',
        legacyEventType: null,
        severity: 'WARN',
        targets: [asTarget(user)],
        debugData: { suspiciousActivityEventType: 'user.session.start', suspiciousActivityEventId: eventUuid(random) },
      };
      place = user.home;
      browser = user.browser;
      break;
    case 'app.oauth2.as.token.detect_reuse':
      step = {
        ...base,
        actor: {
          id: oktaId(random, '0oa'),
          type: 'PublicClientApp',
          alternateId: 'unknown',
          displayName: 'Acme Mobile',
        },
        eventType,
        displayMessage: 'OAuth2 refresh token reuse detected',
        legacyEventType: null,
        result: 'FAILURE',
        reason: 'refresh_token_reuse',
        severity: 'WARN',
        targets: [asTarget(user)],
      };
      browser = SCRIPT_BROWSER;
      break;
    case 'policy.lifecycle.update':
      step = {
        ...base,
        eventType,
        displayMessage: 'Update policy',
        legacyEventType: 'core.policy.update',
        targets: [
          {
            id: oktaId(random, '00p'),
            type: 'PolicyEntity',
            alternateId: 'unknown',
            displayName: 'Default Policy',
            detailEntry: null,
          },
        ],
      };
      break;
    case 'system.log_stream.lifecycle.create':
      step = {
        ...base,
        eventType,
        displayMessage: 'Create log stream',
        legacyEventType: null,
        targets: [
          {
            id: LOG_STREAM_ID,
            type: 'LogStream',
            alternateId: 'unknown',
            displayName: `${ORG} okta-logs`,
            detailEntry: null,
          },
        ],
      };
      break;
  }
  return { step, place, browser };
}

/** Okta switches a stream off itself after failed deliveries, so the actor is the system. */
function deactivateStep(random: Random): { step: Step; place: Place; browser: Browser } {
  return {
    step: {
      eventType: LOG_STREAM_DEACTIVATE,
      displayMessage: 'Deactivate log stream',
      legacyEventType: null,
      actor: OKTA_SYSTEM,
      result: 'SUCCESS',
      severity: 'WARN',
      transactionType: 'JOB',
      targets: [
        {
          id: LOG_STREAM_ID,
          type: 'LogStream',
          alternateId: 'unknown',
          displayName: `${ORG} okta-logs`,
          detailEntry: null,
        },
      ],
      debugData: { reason: 'Delivery failed twice', requestId: requestId(random) },
    },
    place: PLACES[0] ?? SUSPICIOUS_PLACE,
    browser: SCRIPT_BROWSER,
  };
}

/** Admin action slots: about one per 50 events, spread through the stream, each listed type at least once if room. */
function planAdminActions(random: Random, count: number, taken: Set<number>): Map<number, AdminEventType> {
  const total = Math.min(Math.round(count / ADMIN_ACTION_EVERY), Math.max(count - taken.size, 0));
  const types = [...random.shuffle(SAMPLE_ADMIN_EVENT_TYPES)];
  // An org has at most two log streams, so creating one is not repeated.
  const repeatable = SAMPLE_ADMIN_EVENT_TYPES.filter((type) => type !== 'system.log_stream.lifecycle.create');
  while (types.length < total) {
    types.push(random.pick(repeatable));
  }
  const plan = new Map<number, AdminEventType>();
  for (let k = 0; k < total; k += 1) {
    let slot = Math.floor(((k + random.next()) * count) / total);
    while (taken.has(slot) || plan.has(slot)) {
      slot = (slot + 1) % count;
    }
    plan.set(slot, types[k] ?? random.pick(repeatable));
  }
  return plan;
}

export function generateSample(options: SampleOptions): SampleStream {
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`count must be a non-negative integer, got ${count}`);
  }
  const random = new Random(seed);
  const directory = buildDirectory(random);
  const startMs = (options.start ?? new Date(DEFAULT_START)).getTime();
  if (!Number.isFinite(startMs)) {
    throw new Error('start must be a valid date');
  }

  const deactivateAt = count > 0 ? count - 1 - Math.floor(count * 0.02) : -1;
  const adminPlan = planAdminActions(random, count, new Set(deactivateAt >= 0 ? [deactivateAt] : []));

  const uniqueEvents: object[] = [];
  // A few people active at once, so their flows interleave as in a real org.
  const active: Flow[] = [];
  let clock = startMs;
  for (let index = 0; index < count; index += 1) {
    // A few events per second, sometimes two in the same millisecond.
    clock += random.chance(0.05) ? 0 : random.int(1, 600);
    const published = new Date(clock).toISOString();

    const admin = adminPlan.get(index);
    if (index === deactivateAt || admin !== undefined) {
      const { step, place, browser } =
        admin === undefined ? deactivateStep(random) : adminStep(random, directory, admin);
      uniqueEvents.push(buildEvent(random, { ...step, place, browser }, published));
      continue;
    }

    while (active.length < 3) {
      active.push(userFlow(random, directory));
    }
    const flowIndex = random.int(0, active.length - 1);
    const flow = active[flowIndex];
    const step = flow?.steps.shift();
    if (!flow || !step) {
      throw new Error('a user flow ran out of steps');
    }
    if (flow.steps.length === 0) {
      active.splice(flowIndex, 1);
    }
    uniqueEvents.push(
      buildEvent(random, { ...step, place: flow.person.home, browser: flow.person.browser }, published),
    );
  }

  const deliveries = placeDeliveries(
    uniqueEvents,
    random,
    // The single deactivation is delivered once, so "exactly one" holds for deliveries too.
    (event, roll) => ((event as { eventType: string }).eventType === LOG_STREAM_DEACTIVATE ? 1 : copiesOf(roll)),
    (event) => {
      const published = (event as { published: string }).published;
      return {
        version: '0',
        id: envelopeId(random),
        'detail-type': 'SystemLog',
        source: EVENT_SOURCE,
        account: ACCOUNT,
        time: `${published.slice(0, 19)}Z`,
        region: REGION,
        resources: [],
        detail: structuredClone(event),
      };
    },
  );
  return { deliveries, uniqueEvents };
}

/** How often an event is delivered (1 to 3) given a roll in [0, 1), as Okta and Auth0 redeliver. */
export const copiesOf = (roll: number): number => (roll < THRICE ? 3 : roll < THRICE + TWICE ? 2 : 1);

/**
 * The deliveries of `events` as a log stream makes them: each once or more (`copies`), each near its event's place
 * in published order, a redelivery a little later, then sorted by position, which displaces each delivery by up to
 * MAX_DISPLACEMENT places. `wrap` builds one delivery (its envelope) of an event.
 */
export function placeDeliveries(
  events: readonly object[],
  random: Random,
  copies: (event: object, roll: number) => number,
  wrap: (event: object) => object,
): object[] {
  const placed: Array<{ position: number; delivery: object }> = [];
  events.forEach((event, index) => {
    const count = copies(event, random.next());
    for (let copy = 0; copy < count; copy += 1) {
      const delay = copy === 0 ? 0 : random.next() * (MAX_DISPLACEMENT / 2);
      const position = index + delay + random.next() * (MAX_DISPLACEMENT / 2);
      placed.push({ position, delivery: wrap(event) });
    }
  });
  placed.sort((a, b) => a.position - b.position);
  return placed.map(({ delivery }) => delivery);
}
