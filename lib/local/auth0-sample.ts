import { AUTH0_DETAIL_TYPE } from '../../lambdas/shared/auth0-log.ts';
import {
  copiesOf,
  envelopeId,
  placeDeliveries,
  Random,
  type SampleOptions,
  type SampleStream,
} from './sample-stream.ts';

/**
 * A realistic, deterministic sample of what an Auth0 log stream to EventBridge delivers for one tenant (acme): users
 * logging in and failing to, silent authentication and token exchanges, Guardian MFA, and now and then what the Auth0
 * rules alert on (a blocked account, a breached password, a log stream paused through the Management API). Delivery
 * is at least once and out of order, like Okta's.
 */

const TENANT_SOURCE = 'aws.partner/auth0.com/acme-0123456789abcdef/auth0.logs';
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const DEFAULT_START = '2026-11-01T09:00:00Z';

const USERS = ['jane', 'li.wei', 'omar', 'sofia', 'kenji', 'amara', 'lucas', 'priya'];
const APPS = [
  { id: 'AcmeWebC1ient0000000000000000001', name: 'Acme Web' },
  { id: 'AcmeMobi1eApp000000000000000002', name: 'Acme Mobile' },
];
const IPS = ['203.0.113.45', '198.51.100.7', '192.0.2.33', '203.0.113.200'];

/** Type codes by weight: what a tenant's stream mostly carries, and the rarer ones rules watch. */
const TYPES: ReadonlyArray<readonly [string, number, string]> = [
  ['s', 50, 'Success Login'],
  ['ssa', 15, 'Successful silent authentication'],
  ['seacft', 8, 'Successful exchange of Authorization Code for Access Token'],
  ['fp', 8, 'Wrong email or password.'],
  ['f', 3, 'Failed login'],
  ['fu', 3, 'Invalid username or email'],
  ['gd_auth_succeed', 6, 'MFA authentication success'],
  ['gd_auth_failed', 2, 'MFA authentication failed'],
  ['slo', 4, 'Successful logout'],
  ['limit_wc', 0.5, 'Blocked account'],
  ['pwd_leak', 0.5, 'Breached password'],
];
const TOTAL_WEIGHT = TYPES.reduce((sum, [, weight]) => sum + weight, 0);

const pickType = (random: Random): readonly [string, number, string] => {
  let roll = random.next() * TOTAL_WEIGHT;
  for (const type of TYPES) {
    roll -= type[1];
    if (roll <= 0) return type;
  }
  return TYPES[0] as readonly [string, number, string];
};

export function generateAuth0Sample(options: SampleOptions): SampleStream {
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a non-negative integer, got ${count}`);
  const random = new Random(seed);
  let clock = (options.start ?? new Date(DEFAULT_START)).getTime();
  if (!Number.isFinite(clock)) throw new Error('start must be a valid date');
  const uniqueEvents: object[] = [];
  for (let index = 0; index < count; index += 1) {
    clock += random.chance(0.05) ? 0 : random.int(1, 600);
    const [type, , description] = pickType(random);
    const user = random.pick(USERS);
    const app = random.pick(APPS);
    // Auth0's log ids: a long digit string that grows with time; also repeated inside `data`.
    const logId = `90020${String(clock).padStart(15, '0')}${String(index).padStart(12, '0')}${String(seed).padStart(10, '0')}`;
    uniqueEvents.push({
      log_id: logId,
      data: {
        date: new Date(clock).toISOString(),
        type,
        description,
        connection: 'Username-Password-Authentication',
        connection_id: 'con_3kq9Xz1AbCdEf0Gh',
        client_id: app.id,
        client_name: app.name,
        ip: random.pick(IPS),
        user_agent: random.chance(0.5) ? 'Chrome 130.0.0 / Mac OS X 10.15.7' : 'Safari 18.1 / iOS 18.1',
        hostname: 'login.acme.example',
        user_id: `auth0|${Buffer.from(user).toString('hex').padEnd(24, '0')}`,
        user_name: `${user}@acme.example`,
        strategy: 'auth0',
        strategy_type: 'database',
        details: type.startsWith('f') ? { error: { message: description } } : {},
        log_id: logId,
      },
    });
  }
  const deliveries = placeDeliveries(
    uniqueEvents,
    random,
    (_, roll) => copiesOf(roll),
    (event) => {
      const date = (event as { data: { date: string } }).data.date;
      return {
        version: '0',
        id: envelopeId(random),
        'detail-type': AUTH0_DETAIL_TYPE,
        source: TENANT_SOURCE,
        account: ACCOUNT,
        time: `${date.slice(0, 19)}Z`,
        region: REGION,
        resources: [],
        detail: structuredClone(event),
      };
    },
  );
  return { deliveries, uniqueEvents };
}
