import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DetectorDependencies, handleDetectorMessage } from '../../../lambdas/detector/process-detection.ts';
import type { AlertQueueMessage } from '../../../lambdas/shared/alert-message.ts';
import { MemoryDetectorStore } from '../../../lib/local/memory-detector-store.ts';
import { compileRules, loadRules } from '../../../lib/rules/index.ts';
import { routeEvent } from '../../../lib/rules/routing.ts';

/**
 * The default stateful rules on their scenarios, through the detector's use case (routing by the local pattern
 * engine, state in the in-memory store the local runner and `olp hunt` use; the DynamoDB store is exercised on
 * dynalite in test/integration/detector.test.ts).
 */

const OKTA = 'aws.partner/okta.com/acme/okta-logs';
const AUTH0 = 'aws.partner/auth0.com/acme-1a2b3c/auth0.logs';
const ACCOUNT = '111122223333';
const rules = compileRules(loadRules(), { okta: OKTA, auth0: AUTH0 });

const PLACES = {
  newYork: { lat: 40.71, lon: -74.01 },
  london: { lat: 51.51, lon: -0.13 },
  newark: { lat: 40.74, lon: -74.17 },
} as const;

let serial = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++serial).padStart(12, '0')}`;

interface OktaEventSpec {
  readonly eventType: string;
  readonly at: string;
  readonly user?: string;
  readonly ip?: string;
  readonly result?: 'SUCCESS' | 'FAILURE';
  readonly place?: { lat: number; lon: number };
}

const okta = (spec: OktaEventSpec) => ({
  version: '0',
  id: uuid(),
  'detail-type': 'SystemLog',
  source: OKTA,
  account: ACCOUNT,
  time: spec.at,
  region: 'us-east-1',
  resources: [],
  detail: {
    uuid: uuid(),
    published: spec.at,
    eventType: spec.eventType,
    actor: { id: '00u1', type: 'User', alternateId: spec.user ?? 'jane@acme.com', displayName: 'Jane' },
    client: {
      ipAddress: spec.ip ?? '203.0.113.7',
      geographicalContext: spec.place === undefined ? null : { geolocation: spec.place },
    },
    outcome: { result: spec.result ?? 'SUCCESS' },
  },
});

const auth0 = (type: string, at: string, user: string, ip: string) => ({
  version: '0',
  id: uuid(),
  'detail-type': 'Auth0 log',
  source: AUTH0,
  account: ACCOUNT,
  time: at,
  region: 'us-east-1',
  resources: [],
  detail: { log_id: `9002${String(++serial).padStart(20, '0')}`, data: { date: at, type, user_name: user, ip } },
});

/** `n` times `make(i)`, i = 0..n-1, each a minute apart from 09:00:30Z (so all within one aligned 10-minute window). */
const minutes = (n: number, make: (at: string, i: number) => object, step = 60_000, start = '2026-11-08T09:00:30Z') =>
  Array.from({ length: n }, (_, i) => make(new Date(Date.parse(start) + i * step).toISOString(), i));

const failedSignIn = (at: string, user = 'jane@acme.com', ip = '203.0.113.7') =>
  okta({ eventType: 'user.session.start', at, user, ip, result: 'FAILURE' });

/** Runs envelopes through routing and the detector; returns the alert-queue messages it sent. */
async function detectAll(envelopes: readonly object[]): Promise<AlertQueueMessage[]> {
  const sent: AlertQueueMessage[] = [];
  const deps: DetectorDependencies = {
    store: new MemoryDetectorStore(),
    alertQueue: { send: async (messages) => void sent.push(...messages.map((m) => JSON.parse(m.body))) },
    quarantine: { put: async () => {}, get: async () => undefined },
    pin: { source: [OKTA, AUTH0], account: ACCOUNT },
    keepSeconds: 3600,
    now: () => Date.parse('2026-11-08T12:00:00Z'),
  };
  let id = 0;
  for (const envelope of envelopes) {
    for (const body of routeEvent(rules, envelope as Record<string, unknown>).detections) {
      await handleDetectorMessage(body, `m${++id}`, deps);
    }
  }
  return sent;
}

/** One entry per distinct alert: rule id, group and window (what the alert claim keeps once). */
const alertsOf = (sent: readonly AlertQueueMessage[]) =>
  [...new Set(sent.map((m) => `${m.rule.id} ${m.detection?.group} ${m.detection?.windowStart}`))].sort();

const SCENARIOS: ReadonlyArray<readonly [string, string, () => object[]]> = [
  ['brute-force-by-user', 'jane@acme.com', () => minutes(10, (at) => failedSignIn(at))],
  [
    'brute-force-by-ip',
    '198.51.100.9',
    () => minutes(20, (at, i) => failedSignIn(at, `user${i % 3}@acme.com`, '198.51.100.9'), 25_000),
  ],
  [
    'password-spray',
    '198.51.100.20',
    () => minutes(10, (at, i) => failedSignIn(at, `user${i}@acme.com`, '198.51.100.20')),
  ],
  [
    'mfa-push-fatigue',
    'jane@acme.com',
    () => minutes(3, (at) => okta({ eventType: 'user.mfa.okta_verify.deny_push', at })),
  ],
  [
    'impossible-travel',
    'jane@acme.com',
    () => [
      okta({ eventType: 'user.session.start', at: '2026-11-08T09:00:00Z', place: PLACES.newYork }),
      okta({ eventType: 'user.session.start', at: '2026-11-08T10:00:00Z', place: PLACES.london }),
    ],
  ],
  [
    'auth0-credential-stuffing',
    '192.0.2.44',
    () => minutes(10, (at, i) => auth0(i % 2 === 0 ? 'fp' : 'fu', at, `person${i}@example.com`, '192.0.2.44')),
  ],
];

const BENIGN: ReadonlyArray<readonly [string, () => object[]]> = [
  ['9 failed sign-ins of one user', () => minutes(9, (at) => failedSignIn(at))],
  ['10 failed sign-ins of one user spread over 30 minutes', () => minutes(10, (at) => failedSignIn(at), 200_000)],
  ['10 successful sign-ins', () => minutes(10, (at) => okta({ eventType: 'user.session.start', at }))],
  [
    '9 users failing twice each from one IP',
    () => minutes(18, (at, i) => failedSignIn(at, `u${i % 9}@acme.com`), 20_000),
  ],
  [
    '2 pushes denied and 4 sent',
    () => [
      ...minutes(2, (at) => okta({ eventType: 'user.mfa.okta_verify.deny_push', at })),
      ...minutes(4, (at) => okta({ eventType: 'system.push.send_factor_verify_push', at })),
    ],
  ],
  [
    'New York then London ten hours later',
    () => [
      okta({ eventType: 'user.session.start', at: '2026-11-08T09:00:00Z', place: PLACES.newYork }),
      okta({ eventType: 'user.session.start', at: '2026-11-08T19:00:00Z', place: PLACES.london }),
    ],
  ],
  [
    'New York and Newark at once (under 100 km)',
    () => [
      okta({ eventType: 'user.session.start', at: '2026-11-08T09:00:00Z', place: PLACES.newYork }),
      okta({ eventType: 'user.session.start', at: '2026-11-08T09:00:00Z', place: PLACES.newark }),
    ],
  ],
  [
    'a failed sign-in in New York, a successful one in London',
    () => [
      okta({ eventType: 'user.session.start', at: '2026-11-08T09:00:00Z', place: PLACES.newYork, result: 'FAILURE' }),
      okta({ eventType: 'user.session.start', at: '2026-11-08T09:30:00Z', place: PLACES.london }),
    ],
  ],
  [
    '9 Auth0 users failing from one IP',
    () => minutes(12, (at, i) => auth0('fp', at, `p${i % 9}@example.com`, '192.0.2.1')),
  ],
];

describe('the default stateful rules', () => {
  it.each(SCENARIOS)('%s fires exactly once on its scenario, for group %s', async (ruleId, group, scenario) => {
    const alerts = alertsOf(await detectAll(scenario()));
    expect(alerts.filter((alert) => alert.startsWith(`${ruleId} `))).toHaveLength(1);
    expect(alerts.find((alert) => alert.startsWith(`${ruleId} `))).toContain(` ${group} `);
  });

  it.each(BENIGN)('stay silent on benign traffic: %s', async (_name, traffic) => {
    expect(alertsOf(await detectAll(traffic()))).toEqual([]);
  });

  it('fire once per group per window: 30 failures in one window make one alert, in two windows two', async () => {
    const oneWindow = alertsOf(await detectAll(minutes(30, (at) => failedSignIn(at), 15_000)));
    expect(oneWindow.filter((a) => a.startsWith('brute-force-by-user '))).toHaveLength(1);
    const twoWindows = alertsOf(
      await detectAll([
        ...minutes(10, (at) => failedSignIn(at)),
        ...minutes(10, (at) => failedSignIn(at), 60_000, '2026-11-08T09:10:30Z'),
      ]),
    );
    expect(twoWindows.filter((a) => a.startsWith('brute-force-by-user '))).toHaveLength(2);
  });

  it('count each event once however often it is delivered: 9 failures delivered 3 times each stay below 10', async () => {
    const nine = minutes(9, (at) => failedSignIn(at));
    expect(alertsOf(await detectAll([...nine, ...nine, ...nine]))).toEqual([]);
  });

  it('give the same alerts for shuffled, duplicated deliveries as for the ordered, unique stream', async () => {
    const stream = [
      ...SCENARIOS.flatMap(([, , scenario]) => scenario()),
      ...BENIGN.flatMap(([, traffic]) => traffic()),
    ].sort((a, b) => Date.parse((a as { time: string }).time) - Date.parse((b as { time: string }).time));
    const expected = alertsOf(await detectAll(stream));
    // Together the scenarios add up to more (jane's failures and pushes in one stream), never to fewer.
    for (const [ruleId] of SCENARIOS) expect(expected.some((alert) => alert.startsWith(`${ruleId} `))).toBe(true);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(stream.length - 1), { maxLength: 60 }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
        async (duplicates, randoms) => {
          const deliveries = [...stream, ...duplicates.map((i) => stream[i] as object)];
          const shuffled = deliveries
            .map((delivery) => ({ delivery, order: randoms.next().value }))
            .sort((a, b) => a.order - b.order)
            .map(({ delivery }) => delivery);
          expect(alertsOf(await detectAll(shuffled))).toEqual(expected);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('quarantine a detector message whose event is not from the pinned source', async () => {
    const [body = ''] = routeEvent(rules, failedSignIn('2026-11-08T09:00:00Z')).detections;
    const forged = JSON.parse(body) as { event: { source: string } };
    forged.event.source = 'aws.partner/okta.com/evil/okta-logs';
    const put: string[] = [];
    const outcome = await handleDetectorMessage(JSON.stringify(forged), 'm1', {
      store: new MemoryDetectorStore(),
      alertQueue: { send: async () => {} },
      quarantine: { put: async (key) => void put.push(key), get: async () => undefined },
      pin: { source: [OKTA], account: ACCOUNT },
      keepSeconds: 60,
      now: () => 0,
    });
    expect(outcome).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('pinned source') });
    expect(put).toHaveLength(1);
  });
});
