import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The real Okta EventBridge envelope (test/fixtures), the shape every generated test event copies. */
export const fixtureEnvelope = (): Record<string, unknown> & { detail: Record<string, unknown> } =>
  JSON.parse(readFileSync(new URL('../fixtures/okta-eventbridge-envelope.json', import.meta.url), 'utf8'));

/** The EventBridge user guide's sample event (an EC2 instance state change), used by the pattern examples. */
export const ec2StateChangeEvent = (): Record<string, unknown> & { detail: { 'instance-id': string; state: string } } =>
  JSON.parse(readFileSync(new URL('../fixtures/ec2-state-change-event.json', import.meta.url), 'utf8'));

/** An envelope around the fixture's System Log event with the given fields changed. */
export const envelopeWith = (detail: Record<string, unknown>, envelope: Record<string, unknown> = {}) => {
  const base = fixtureEnvelope();
  return { ...base, id: randomUUID(), ...envelope, detail: { ...base.detail, ...detail } };
};

/** `count` distinct System Log events, `stepMs` apart from `start`, each in its own envelope, built on the fixture. */
export const makeEvents = (count: number, start = Date.parse('2026-11-01T09:00:00.000Z'), stepMs = 7_000) =>
  Array.from({ length: count }, (_, i) => {
    const uuid = `${(0x10000000 + i).toString(16)}-fef4-11ed-a5b1-bbb7c1de1a4b`;
    // Pairs of events share a `published` instant, as Okta's often do.
    const published = new Date(start + Math.floor(i / 2) * 2 * stepMs).toISOString();
    return envelopeWith({ uuid, published, eventType: i % 3 === 0 ? 'user.session.start' : 'user.authentication.sso' });
  });
