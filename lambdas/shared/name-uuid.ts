import { createHash } from 'node:crypto';

/**
 * A UUIDv5 (RFC 9562, SHA-1 name-based) of `name` in `namespace`: the same name always gives the same id. The
 * pipeline derives ids this way wherever a retry or a second delivery must land on the same key (envelope ids,
 * detection and suppression claims).
 */
export function nameUuid(namespace: Buffer, name: string): string {
  const bytes = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16);
  bytes.writeUInt8(((bytes.readUInt8(6) & 0x0f) | 0x50) >>> 0, 6);
  bytes.writeUInt8(((bytes.readUInt8(8) & 0x3f) | 0x80) >>> 0, 8);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
