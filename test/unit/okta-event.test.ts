import { describe, expect, it } from 'vitest';
import { describeIssues, OktaEnvelope, OktaEventCore } from '../../lambdas/shared/okta-event.ts';
import { fixtureEnvelope } from '../support/events.ts';

describe('OktaEventCore', () => {
  it('accepts the real Okta event and keeps every field', () => {
    // Prepare
    const { detail } = fixtureEnvelope();

    // Act
    const parsed = OktaEventCore.parse(detail);

    // Assess
    expect(parsed).toEqual(detail);
  });

  it.each([
    ['string "null" next to JSON null', { client: { zone: 'null', id: null, device: null } }],
    ['{} for client and debugContext', { client: {}, debugContext: {} }],
    ['JSON inside a debugData string', { debugContext: { debugData: { behaviors: '{"New Device":"POSITIVE"}' } } }],
    ['an uppercase uuid', { uuid: 'C6ED294A-FEF4-11ED-A5B1-BBB7C1DE1A4B' }],
    ['an offset instead of Z', { published: '2023-05-30T16:17:58.126+02:00' }],
    ['unknown fields', { somethingNew: { nested: [1, 2] } }],
    ['null target and missing request', { target: null, request: undefined }],
    ['any shape for fields the pipeline does not depend on', { target: { id: 'x' }, actor: 7, outcome: [] }],
  ])('accepts %s', (_name, change) => {
    // Prepare
    const event = { ...fixtureEnvelope().detail, ...change };

    // Act
    const result = OktaEventCore.safeParse(event);

    // Assess
    expect(result.success).toBe(true);
    expect(result.data).toEqual(JSON.parse(JSON.stringify(event)));
  });

  it.each([
    ['uuid', { uuid: 'not-a-uuid' }, 'uuid: must be a UUID'],
    ['uuid', { uuid: undefined }, 'uuid: Invalid input'],
    ['published', { published: '2023-05-30 14:17:58' }, 'published: must be an ISO-8601 instant'],
    ['published', { published: '2023-02-30T14:17:58Z' }, 'published: must be a real date'],
    ['eventType', { eventType: 'login' }, 'eventType: must be a dotted Okta event type'],
  ])('rejects a bad %s and names it', (_field, change, message) => {
    // Prepare
    const event = { ...fixtureEnvelope().detail, ...change };

    // Act
    const result = OktaEventCore.safeParse(event);

    // Assess
    expect(result.success).toBe(false);
    expect(result.error && describeIssues(result.error)).toContain(message);
  });
});

describe('OktaEnvelope', () => {
  it('accepts the real envelope', () => {
    expect(OktaEnvelope.safeParse(fixtureEnvelope()).success).toBe(true);
  });

  it('rejects an envelope from another source or detail-type', () => {
    // Prepare
    const other = { ...fixtureEnvelope(), source: 'aws.partner/auth0.com/acme/auth0.logs', 'detail-type': 'Auth0 log' };

    // Act
    const result = OktaEnvelope.safeParse(other);

    // Assess
    expect(result.success).toBe(false);
    const message = result.error ? describeIssues(result.error) : '';
    expect(message).toContain('detail-type');
    expect(message).toContain('source: must start with aws.partner/okta.com/');
  });
});
