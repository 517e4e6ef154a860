import { SigmaInexpressibleError } from './errors.ts';

/** What a System Log field holds, as far as matching it goes. */
export type FieldType = 'string' | 'boolean' | 'number';

/** A System Log field a Sigma rule names, resolved to its path in the event (`detail.<path>` on EventBridge). */
export interface SystemLogField {
  /** The dotted path as the System Log spells it, e.g. `debugContext.debugData.requestUri`. */
  readonly path: string;
  readonly type: FieldType;
  /**
   * The field sits inside a list of objects (`target[]`, `request.ipChain[]`). EventBridge matches such a field when
   * any one element matches, so a negation over it cannot say "no element", only "some element differs".
   */
  readonly inList: boolean;
}

/**
 * The leaf fields of the System Log event (developer.okta.com, System Log API, LogEvent object). Sigma's Okta rules
 * use these dotted names, in any letter case (`eventtype`, `displaymessage`).
 */
const LEAVES: Readonly<Record<string, FieldType>> = {
  uuid: 'string',
  published: 'string',
  eventType: 'string',
  version: 'string',
  severity: 'string',
  legacyEventType: 'string',
  displayMessage: 'string',
  'actor.id': 'string',
  'actor.type': 'string',
  'actor.alternateId': 'string',
  'actor.displayName': 'string',
  'client.userAgent.rawUserAgent': 'string',
  'client.userAgent.os': 'string',
  'client.userAgent.browser': 'string',
  'client.zone': 'string',
  'client.device': 'string',
  'client.id': 'string',
  'client.ipAddress': 'string',
  'client.geographicalContext.city': 'string',
  'client.geographicalContext.state': 'string',
  'client.geographicalContext.country': 'string',
  'client.geographicalContext.postalCode': 'string',
  'client.geographicalContext.geolocation.lat': 'number',
  'client.geographicalContext.geolocation.lon': 'number',
  'device.id': 'string',
  'device.name': 'string',
  'device.os_platform': 'string',
  'device.os_version': 'string',
  'device.managed': 'boolean',
  'device.registered': 'boolean',
  'device.device_integrator': 'string',
  'device.disk_encryption_type': 'string',
  'device.screen_lock_type': 'string',
  'device.jailbreak': 'boolean',
  'device.secure_hardware_present': 'boolean',
  'authenticationContext.authenticationProvider': 'string',
  'authenticationContext.credentialProvider': 'string',
  'authenticationContext.credentialType': 'string',
  'authenticationContext.issuer.id': 'string',
  'authenticationContext.issuer.type': 'string',
  'authenticationContext.externalSessionId': 'string',
  'authenticationContext.interface': 'string',
  'authenticationContext.authenticationStep': 'number',
  'authenticationContext.rootSessionId': 'string',
  'securityContext.asNumber': 'number',
  'securityContext.asOrg': 'string',
  'securityContext.isp': 'string',
  'securityContext.domain': 'string',
  'securityContext.isProxy': 'boolean',
  'outcome.result': 'string',
  'outcome.reason': 'string',
  'target.id': 'string',
  'target.type': 'string',
  'target.alternateId': 'string',
  'target.displayName': 'string',
  'transaction.type': 'string',
  'transaction.id': 'string',
  'request.ipChain.ip': 'string',
  'request.ipChain.version': 'string',
  'request.ipChain.source': 'string',
  'request.ipChain.geographicalContext.city': 'string',
  'request.ipChain.geographicalContext.state': 'string',
  'request.ipChain.geographicalContext.country': 'string',
  'request.ipChain.geographicalContext.postalCode': 'string',
};

/** Objects whose keys Okta does not fix (debugData differs per event type); their values are strings. */
const OPEN_OBJECTS = ['debugContext.debugData', 'actor.detailEntry', 'target.detailEntry', 'transaction.detail'];

/** The lists of objects in the event. */
const LISTS = ['target', 'request.ipChain'];

const byLowerCase = new Map(Object.keys(LEAVES).map((path) => [path.toLowerCase(), path]));

const inList = (path: string): boolean => LISTS.some((list) => path.startsWith(`${list}.`));

const lastSegment = (path: string): string => path.slice(path.lastIndexOf('.') + 1).toLowerCase();

function unknownField(name: string): never {
  const sameLeaf = Object.keys(LEAVES).filter((path) => lastSegment(path) === lastSegment(name));
  const hint =
    sameLeaf.length > 0
      ? `; did you mean ${sameLeaf.join(' or ')}?`
      : name.toLowerCase().startsWith('okta.')
        ? "; okta.* names are another tool's (e.g. Elastic's Okta module), not the System Log's"
        : '';
  throw new SigmaInexpressibleError(`field ${name} is not a System Log field${hint}`);
}

/**
 * The System Log field a Sigma field name stands for. Known leaves match in any letter case; keys under the open
 * objects (debugContext.debugData.*) keep the case written, as Okta's keys are case-sensitive. Anything else is not a
 * field an event has, and a rule on it would never match (or, negated, always): the rule is not expressible.
 */
export function systemLogField(name: string): SystemLogField {
  const lower = name.toLowerCase();
  const leaf = byLowerCase.get(lower);
  if (leaf !== undefined) return { path: leaf, type: LEAVES[leaf] ?? 'string', inList: inList(leaf) };
  for (const open of OPEN_OBJECTS) {
    const prefix = `${open.toLowerCase()}.`;
    if (lower.startsWith(prefix) && name.length > prefix.length && !name.endsWith('.') && !name.includes('..')) {
      const path = `${open}.${name.slice(prefix.length)}`;
      return { path, type: 'string', inList: inList(path) };
    }
  }
  const parentOf = (path: string): boolean => path.toLowerCase().startsWith(`${lower}.`);
  if (
    Object.keys(LEAVES).some(parentOf) ||
    OPEN_OBJECTS.some((open) => parentOf(open) || open.toLowerCase() === lower)
  ) {
    throw new SigmaInexpressibleError(`field ${name} is an object in the System Log; name one of its fields`);
  }
  return unknownField(name);
}
