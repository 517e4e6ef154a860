import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JsonTooDeepError, MAX_JSON_DEPTH } from '../../lambdas/shared/canonical-json.ts';
import {
  hashesPii,
  PiiKeyError,
  PiiSettingsError,
  PiiSourcesJson,
  parsePiiSettings,
  piiKeyFromText,
  piiRedaction,
  piiRedactions,
} from '../../lambdas/shared/pii.ts';
import { PiiEnv } from '../../lambdas/shared/pii-secret.ts';

const KEY = Buffer.from('k'.repeat(40));
const OTHER_KEY = Buffer.from('q'.repeat(40));
const hmac = (text: string, key: Uint8Array = KEY) =>
  `hmac-sha256:${createHmac('sha256', key).update(text).digest('hex')}`;

type Json = Record<string, unknown>;

/** The first recorded match of a rule-case fixture: a real System Log event or Auth0 log. */
const recorded = (path: string): Json =>
  JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')).matches[0].envelope.detail;

const oktaEvent = (): Json => ({
  uuid: 'D4AD20A2-5117-56d8-92ac-0ea233076c6e',
  published: '2026-11-08T09:07:13.257Z',
  eventType: 'user.account.lock',
  displayMessage: 'Lock of jane.doe@acme.com by an admin',
  actor: { id: '00u1', type: 'User', alternateId: 'jane.doe@acme.com', displayName: 'Jane Doe' },
  target: [
    { id: '00u2', type: 'User', alternateId: 'bob', displayName: 'Bob Smith' },
    { id: '0oa1', type: 'AppInstance', alternateId: 'Salesforce.com', displayName: 'Salesforce' },
  ],
  client: {
    ipAddress: '203.0.113.77',
    geographicalContext: { city: 'Amsterdam', postalCode: '1012', geolocation: { lat: 52.37, lon: 4.89 } },
  },
  request: { ipChain: [{ ip: '203.0.113.77', version: 'V4' }, { ip: '198.51.100.1' }] },
  outcome: { result: 'FAILURE', reason: null },
});

const okta = (fields: string[], method: 'mask' | 'hash' = 'mask', key: Uint8Array | undefined = KEY) =>
  piiRedaction('okta', { fields, method, archive: false }, key).event;
const auth0 = (fields: string[], method: 'mask' | 'hash' = 'mask') =>
  piiRedaction('auth0', { fields, method, archive: false }, KEY).event;

describe('PII redaction: mask', () => {
  it('masks the people among actor and targets, keeps apps, and an email address keeps its domain', () => {
    // Act
    const out = okta(['username', 'name'])(oktaEvent()) as Json;

    // Assess
    expect(out.actor).toEqual({ id: '00u1', type: 'User', alternateId: '***@acme.com', displayName: '***' });
    expect(out.target).toEqual([
      { id: '00u2', type: 'User', alternateId: '***', displayName: '***' },
      { id: '0oa1', type: 'AppInstance', alternateId: 'Salesforce.com', displayName: 'Salesforce' },
    ]);
    // Not selected: the address in the message stays (the `email` shorthand covers text).
    expect(out.displayMessage).toBe('Lock of jane.doe@acme.com by an admin');
  });

  it('reads a lone target object as a list of one, as the alert formatter does', () => {
    const event = { ...oktaEvent(), target: { type: 'User', alternateId: 'carol@acme.com', displayName: 'Carol' } };
    const out = okta(['target[].alternateId', 'target.displayName'])(event) as Json;
    expect(out.target).toEqual({ type: 'User', alternateId: '***@acme.com', displayName: '***' });
  });

  it('replaces every email address inside text, and nothing else of it', () => {
    const event = { ...oktaEvent(), outcome: { result: 'FAILURE', reason: 'a@x.io and B.c+d@sub.acme.co.uk failed.' } };
    const out = okta(['email'])(event) as Json;
    expect(out.displayMessage).toBe('Lock of ***@acme.com by an admin');
    expect(out.outcome).toEqual({ result: 'FAILURE', reason: '***@x.io and ***@sub.acme.co.uk failed.' });
    expect((out.actor as Json).alternateId).toBe('***@acme.com');
    expect((out.actor as Json).displayName).toBe('Jane Doe');
  });

  it('masks a selected object whole: strings masked, numbers and booleans null, null kept, shape kept', () => {
    const out = okta(['location', 'ip'])(oktaEvent()) as Json;
    expect(out.client).toEqual({
      ipAddress: '***',
      geographicalContext: { city: '***', postalCode: '***', geolocation: { lat: null, lon: null } },
    });
    expect(out.request).toEqual({ ipChain: [{ ip: '***', version: 'V4' }, { ip: '***' }] });
    expect(out.outcome).toEqual({ result: 'FAILURE', reason: null });
  });

  it('leaves missing fields missing, and an empty string empty', () => {
    const event = { uuid: 'u1', published: '2026-11-08T09:07:13.257Z', eventType: 'x', actor: { alternateId: '' } };
    const out = okta(['username', 'name', 'ip', 'client.userAgent.rawUserAgent', 'debugContext.*'])(event);
    expect(out).toEqual(event);
  });

  it('follows explicit paths through lists, objects and `*`, and masks a selected list whole', () => {
    const event = {
      ...oktaEvent(),
      debugContext: { debugData: { requestUri: '/x', threat: { ip: '1.2.3.4' } } },
      target: [{ alternateId: 'a', detailEntry: { emails: ['p@q.io', 'r'] } }],
    };
    const out = okta(['debugContext.debugData.*', 'target[].detailEntry.emails'])(event) as Json;
    expect(out.debugContext).toEqual({ debugData: { requestUri: '***', threat: { ip: '***' } } });
    expect(out.target).toEqual([{ alternateId: 'a', detailEntry: { emails: ['***@q.io', '***'] } }]);
  });

  it('never redacts the identity, time and type, even inside a selected whole', () => {
    const event = oktaEvent();
    const out = okta(['*'])(event) as Json;
    expect([out.uuid, out.published, out.eventType]).toEqual([event.uuid, event.published, event.eventType]);
    expect(out.displayMessage).toBe('***');
  });

  it('copies: the input event is not changed', () => {
    const event = oktaEvent();
    const before = structuredClone(event);
    okta(['username', 'email', 'location'])(event);
    expect(event).toEqual(before);
  });

  it('keeps a `__proto__` member a member', () => {
    const event = JSON.parse('{"uuid":"u","debugContext":{"__proto__":{"ip":"1.2.3.4"}},"actor":{"alternateId":"x"}}');
    const out = okta(['debugContext.__proto__.ip'])(event) as Json;
    const debug = out.debugContext as Json;
    expect(Object.getPrototypeOf(debug)).toBe(Object.prototype);
    expect(Object.hasOwn(debug, '__proto__')).toBe(true);
    expect(JSON.stringify(out)).toBe(
      '{"uuid":"u","debugContext":{"__proto__":{"ip":"***"}},"actor":{"alternateId":"x"}}',
    );
  });

  it('refuses an event nested deeper than any staged event can be', () => {
    let deep: unknown = 'x';
    for (let i = 0; i <= MAX_JSON_DEPTH; i++) deep = [deep];
    expect(() => okta(['email'])({ uuid: 'u', deep })).toThrow(JsonTooDeepError);
  });
});

describe('PII redaction: hash', () => {
  it('writes hmac-sha256: and the hex HMAC of the exact value, under the key', () => {
    const out = okta(['username', 'email'], 'hash')(oktaEvent()) as Json;
    expect((out.actor as Json).alternateId).toBe(hmac('jane.doe@acme.com'));
    expect(out.displayMessage).toBe(`Lock of ${hmac('jane.doe@acme.com')} by an admin`);
    expect(((out.target as Json[])[0] as Json).alternateId).toBe(hmac('bob'));
  });

  it('is stable: the same value and key give the same hash in every event, so analysts can join on it', () => {
    const redact = okta(['username'], 'hash');
    const first = redact(oktaEvent()) as Json;
    const second = okta(['username'], 'hash')({ ...oktaEvent(), uuid: 'other' }) as Json;
    expect((second.actor as Json).alternateId).toBe((first.actor as Json).alternateId);
  });

  it('depends on the key: another key gives other values', () => {
    const withKey = okta(['username'], 'hash', KEY)(oktaEvent()) as Json;
    const withOther = okta(['username'], 'hash', OTHER_KEY)(oktaEvent()) as Json;
    expect((withOther.actor as Json).alternateId).toBe(hmac('jane.doe@acme.com', OTHER_KEY));
    expect((withOther.actor as Json).alternateId).not.toBe((withKey.actor as Json).alternateId);
  });

  it('turns numbers and booleans into null, as mask does', () => {
    const out = okta(['location'], 'hash')(oktaEvent()) as Json;
    expect(out.client).toMatchObject({
      geographicalContext: { city: hmac('Amsterdam'), geolocation: { lat: null, lon: null } },
    });
  });

  it('needs a key', () => {
    expect(() => piiRedaction('okta', { fields: ['username'], method: 'hash', archive: false })).toThrow(PiiKeyError);
  });
});

describe("PII redaction: Auth0's pii_config field names", () => {
  const failedLogin = () => recorded('auth0/auth0-failed-login.json');
  const invited = () => recorded('auth0/auth0-tenant-member-invited.json');

  it('username: data.user_name, and username/nickname members anywhere in data', () => {
    const log = { ...failedLogin(), data: { ...(failedLogin().data as Json), details: { body: { nickname: 'jd' } } } };
    const data = (auth0(['username'])(log) as Json).data as Json;
    expect(data.user_name).toBe('***@acme.example');
    expect(data.details).toEqual({ body: { nickname: '***' } });
    expect(data.user_id).toBe((log.data as Json).user_id);
  });

  it('email: email members, and every address in any string (description, lists under other names)', () => {
    const log = invited();
    (log.data as Json).description = 'Invite mallory@example.net';
    const data = (auth0(['email'])(log) as Json).data as Json;
    const request = (data.details as Json).request as Json;
    expect(((request.auth as Json).user as Json).email).toBe('***@acme.example');
    expect(request.body).toEqual({ owners: ['***@example.net'], roles: ['owner'] });
    expect(((data.details as Json).response as Json).body).toEqual([
      { email: '***@example.net', expires_at: '2026-11-11T13:01:00.000Z', invitation_id: 'inv_0000000000000001' },
    ]);
    expect(data.description).toBe('Invite ***@example.net');
    // Not an email field: the admin's name stays unless first_name/last_name are chosen.
    expect(((request.auth as Json).user as Json).name).toBe('Bob Admin');
  });

  it('first_name and last_name: given/family names, and the full name of a user profile only', () => {
    const log = recorded('auth0/auth0-role-changed.json');
    const data = log.data as Json;
    data.details = {
      request: {
        path: '/api/v2/users/auth0%7C1',
        auth: { user: { user_id: 'google-oauth2|1', email: 'bob@acme.example', name: 'Bob Admin' } },
        body: { name: 'Jane Doe', given_name: 'Jane', family_name: 'Doe', connection: 'db' },
      },
      response: { body: { name: 'Jane Doe' } },
      stream: { name: 'siem-copy' },
    };
    const out = ((auth0(['first_name'])(log) as Json).data as Json).details as Json;
    expect(out.request).toEqual({
      path: '/api/v2/users/auth0%7C1',
      auth: { user: { user_id: 'google-oauth2|1', email: 'bob@acme.example', name: '***' } },
      body: { name: '***', given_name: '***', family_name: 'Doe', connection: 'db' },
    });
    expect(out.response).toEqual({ body: { name: '***' } });
    // A log stream's name is no person's.
    expect(out.stream).toEqual({ name: 'siem-copy' });
    const last = ((auth0(['last_name'])(log) as Json).data as Json).details as Json;
    expect((last.request as Json).body).toEqual({
      name: '***',
      given_name: 'Jane',
      family_name: '***',
      connection: 'db',
    });
  });

  it('phone and address: members by name, E.164 numbers in text, an address object whole', () => {
    const log = {
      log_id: '900201',
      data: {
        date: '2026-11-08T09:21:00.125Z',
        type: 'gd_send_sms',
        description: 'SMS sent to +15555550123 (code 123456)',
        details: { phone_number: '+15555550123', user_metadata: { address: { street: '1 Main St', zip: 12345 } } },
      },
    };
    const data = (auth0(['phone', 'address'])(log) as Json).data as Json;
    expect(data.description).toBe('SMS sent to *** (code 123456)');
    expect(data.details).toEqual({ phone_number: '***', user_metadata: { address: { street: '***', zip: null } } });
  });

  it('keeps log_id, data.date and data.type; accepts explicit paths under data', () => {
    const log = failedLogin();
    const out = auth0(['data.ip', 'data.details.*'])(log) as Json;
    const data = out.data as Json;
    expect(out.log_id).toBe(log.log_id);
    expect([data.date, data.type]).toEqual([(log.data as Json).date, (log.data as Json).type]);
    expect(data.ip).toBe('***');
  });
});

describe('PII redaction of what a detection reads from events', () => {
  it('redacts a group value as the field it was read from, and leaves other fields and the identity alone', () => {
    const redaction = piiRedaction('okta', { fields: ['username', 'ip'], method: 'hash', archive: false }, KEY);
    expect(redaction.ruleValue('actor.alternateId', 'jane@acme.com')).toBe(hmac('jane@acme.com'));
    expect(redaction.ruleValue('client.ipAddress', '203.0.113.7')).toBe(hmac('203.0.113.7'));
    expect(redaction.ruleValue('client.geographicalContext.country', 'Netherlands')).toBe('Netherlands');
    expect(redaction.ruleValue('eventType', 'user.session.start')).toBe('user.session.start');
  });

  it("reads Auth0 rule paths in the log's data, as rules do", () => {
    const redaction = piiRedaction('auth0', { fields: ['username'], method: 'mask', archive: false }, undefined);
    expect(redaction.ruleValue('user_name', 'jane@acme.example')).toBe('***@acme.example');
    expect(redaction.ruleValue('ip', '203.0.113.7')).toBe('203.0.113.7');
  });

  it('redacts the PII patterns in text', () => {
    const redaction = piiRedaction('auth0', { fields: ['email', 'phone'], method: 'mask', archive: false });
    expect(redaction.text('3 steps by jane@acme.example from +15555550123')).toBe(
      '3 steps by ***@acme.example from ***',
    );
  });
});

describe('PII settings', () => {
  it('reads settings from an object or JSON text, archive false by default', () => {
    expect(parsePiiSettings('okta', { fields: ['username'], method: 'mask' })).toEqual({
      fields: ['username'],
      method: 'mask',
      archive: false,
    });
    expect(parsePiiSettings('auth0', '{"fields":["email","data.ip"],"method":"hash","archive":true}')).toEqual({
      fields: ['email', 'data.ip'],
      method: 'hash',
      archive: true,
    });
  });

  it.each([
    ['okta', 'not json', /not JSON/],
    ['okta', { fields: [], method: 'mask' }, /at least one field/],
    ['okta', { fields: ['username'], method: 'sha1' }, /method must be "mask" or "hash"/],
    ['okta', { fields: ['username'], method: 'mask', archive: 'yes' }, /archive must be true or false/],
    ['okta', { fields: ['username'], method: 'mask', extra: 1 }, /"extra" is not a setting/],
    ['okta', { fields: ['first_name'], method: 'mask' }, /fields\[0\] "first_name" is neither one of username/],
    ['okta', { fields: ['actor..alternateId'], method: 'mask' }, /fields\[0\] .* dotted path like actor/],
    ['okta', { fields: ['uuid'], method: 'mask' }, /identity, time or type/],
    ['auth0', { fields: ['ip'], method: 'mask' }, /neither one of first_name, last_name/],
    ['auth0', { fields: ['user_name'], method: 'mask' }, /nor a dotted path like data.user_name .*: starting at data/],
    ['okta', { fields: ['actr.alternateId'], method: 'mask' }, /starting at actor, authenticationContext/],
    ['auth0', { fields: ['email', 'data.date'], method: 'mask' }, /fields\[1\] "data.date" is the event's identity/],
  ] as const)('refuses %s settings %j, naming what is wrong', (source, value, message) => {
    expect(() => parsePiiSettings(source, value)).toThrow(PiiSettingsError);
    expect(() => parsePiiSettings(source, value)).toThrow(message);
  });

  it('says when the key is needed, and builds redactors only for the archive that asks', () => {
    const sources = {
      okta: { fields: ['username'], method: 'mask' as const, archive: true },
      auth0: { fields: ['email'], method: 'hash' as const, archive: false },
    };
    expect(hashesPii(sources, 'alerts')).toBe(true);
    expect(hashesPii(sources, 'archive')).toBe(false);
    expect(Object.keys(piiRedactions(sources, KEY, 'alerts'))).toEqual(['okta', 'auth0']);
    expect(Object.keys(piiRedactions(sources, undefined, 'archive'))).toEqual(['okta']);
  });

  it('takes the key from text without surrounding whitespace, and refuses a short one without quoting it', () => {
    expect(Buffer.from(piiKeyFromText(`${'a'.repeat(32)}\n`, 'f'))).toEqual(Buffer.from('a'.repeat(32)));
    expect(() => piiKeyFromText('short-secret-value', '--pii-key-file k')).toThrow(/--pii-key-file k must hold/);
    expect(() => piiKeyFromText('short-secret-value', 'x')).not.toThrow(/short-secret-value/);
  });

  it('reads a function environment, and needs the secret name when a source hashes', () => {
    const settings = JSON.stringify({ okta: { fields: ['username'], method: 'hash' } });
    expect(PiiEnv.safeParse({ PII_SETTINGS: settings }).success).toBe(false);
    const env = PiiEnv.parse({ PII_SETTINGS: settings, PII_HASH_SECRET_NAME: 'olp/pii' });
    expect(env.PII_SETTINGS?.okta?.method).toBe('hash');
    expect(PiiEnv.parse({})).toEqual({});
    expect(PiiSourcesJson.safeParse('{"azure":{}}').success).toBe(false);
  });
});
