import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * The text of a staged event as the events table stores it: raw DEFLATE with a preset dictionary, behind one format
 * byte. A System Log event is about 1.5-2 KB of JSON whose field names repeat in every event; the dictionary holds
 * those names in Okta's order (and Auth0's), so an event compresses to about a quarter of its text and its item stays
 * within one write unit (1 KB). The text comes back byte for byte: the archive holds it as received.
 *
 * A format never changes once items were written with it (they live until their TTL): a new dictionary is a new
 * format byte, and reading keeps every earlier one.
 */

/** Thrown for bytes that are no staged body of a known format. */
export class StagedBodyError extends Error {
  override readonly name = 'StagedBodyError';
}

/**
 * Format 1's dictionary. DEFLATE finds repeats of up to 258 bytes anywhere in the 32 KB before, the dictionary
 * included, and codes near ones shorter: the Auth0 log's field names first, then the Okta System Log event's (the
 * larger stream) in the order Okta Log Streaming writes them, with the values that recur across orgs. Field names
 * follow Okta's LogEvent object and Auth0's log event schema; nothing here is specific to one org.
 */
const DICTIONARY_1 = Buffer.from(
  [
    '{"log_id":"","data":{"date":"","type":"","description":"","connection":"","connection_id":"con_","client_id":"",',
    '"client_name":"","ip":"","user_agent":"","hostname":"","user_id":"auth0|","user_name":"","strategy":"auth0",',
    '"strategy_type":"database","isMobile":false,"details":{},"audience":"","scope":"","$event_schema":{"version":"1.0.0"},',
    '"log_id":"","tenant_name":""}}',
    '{"actor":{"id":"00u","type":"User","alternateId":"","displayName":"","detailEntry":null},',
    '"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like ',
    'Gecko) Chrome/ Safari/537.36","os":"","browser":"CHROME"},"zone":"null","device":"Computer","id":null,',
    '"ipAddress":"","geographicalContext":{"city":"","state":"","country":"United States","postalCode":"",',
    '"geolocation":{"lat":,"lon":}}},"device":null,"authenticationContext":{"authenticationProvider":null,',
    '"credentialProvider":null,"credentialType":null,"issuer":null,"interface":null,"authenticationStep":0,',
    '"externalSessionId":""},"displayMessage":"","eventType":"user.","outcome":{"result":"SUCCESS","reason":null},',
    '"published":"T:.Z","securityContext":{"asNumber":,"asOrg":"","isp":"","domain":"","isProxy":false},',
    '"severity":"INFO","debugContext":{"debugData":{"requestId":"","dtHash":"","requestUri":"","url":"",',
    '"threatSuspected":"false","behaviors":"","risk":""}},"legacyEventType":null,',
    '"transaction":{"type":"WEB","id":"","detail":{}},"uuid":"","version":"0","request":{"ipChain":[{"ip":"",',
    '"geographicalContext":{"city":"","state":"","country":"United States","postalCode":"","geolocation":{"lat":,',
    '"lon":}},"version":"V4","source":null}]},"target":[{"id":"","type":"AppUser","alternateId":"","displayName":"",',
    '"detailEntry":null}]}',
  ].join(''),
);

const FORMAT_DEFLATE_DICTIONARY_1 = 1;

/** The stored form of an event's text: the format byte, then the compressed UTF-8. */
export const encodeStagedBody = (body: string): Uint8Array =>
  Buffer.concat([Buffer.of(FORMAT_DEFLATE_DICTIONARY_1), deflateRawSync(body, { dictionary: DICTIONARY_1 })]);

/** The event's text back from its stored form. */
export const decodeStagedBody = (stored: Uint8Array): string => {
  const format = stored[0];
  if (format !== FORMAT_DEFLATE_DICTIONARY_1) {
    throw new StagedBodyError(
      format === undefined ? 'staged body is empty' : `staged body has unknown format ${format} (this code reads 1)`,
    );
  }
  try {
    return inflateRawSync(stored.subarray(1), { dictionary: DICTIONARY_1 }).toString('utf8');
  } catch (error) {
    throw new StagedBodyError(`staged body of format 1 does not inflate: ${(error as Error).message}`);
  }
};
