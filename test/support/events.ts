import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The real Okta EventBridge envelope (test/fixtures), the shape every generated test event copies. */
export const fixtureEnvelope = (): Record<string, unknown> & { detail: Record<string, unknown> } =>
  JSON.parse(readFileSync(new URL('../fixtures/okta-eventbridge-envelope.json', import.meta.url), 'utf8'));

/** An envelope around the fixture's System Log event with the given fields changed. */
export const envelopeWith = (detail: Record<string, unknown>, envelope: Record<string, unknown> = {}) => {
  const base = fixtureEnvelope();
  return { ...base, id: randomUUID(), ...envelope, detail: { ...base.detail, ...detail } };
};
