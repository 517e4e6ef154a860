import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { DigestRecord } from './archive-layout.ts';
import { canonicalJson } from './canonical-json.ts';
import type { ArchiveSigner } from './ports.ts';

/**
 * Digest records as bytes: what is signed, what is stored, how a stored one is read back and its signature checked.
 * Shared by the sequencer (writes them) and `olp archive verify` (reads them).
 */

export const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The bytes a record's signature covers: the canonical JSON (keys sorted, no whitespace) of the record without its
 * `signature`, so any reader that parses the stored JSON computes the same bytes, however the file is laid out.
 */
export const signedBytes = (record: DigestRecord): Buffer => {
  const { signature: _signature, ...unsigned } = record;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
};

/** The record with its signature, when there is a signer; unsigned otherwise. */
export const signRecord = async (record: DigestRecord, signer: ArchiveSigner | undefined): Promise<DigestRecord> => {
  if (signer === undefined) return record;
  const signature = await signer.sign(signedBytes(record));
  return {
    ...record,
    signature: { algorithm: 'ECDSA_SHA_256', keyId: signer.keyId, value: Buffer.from(signature).toString('base64') },
  };
};

/** The record as stored: readable JSON, one trailing newline. Its SHA-256 is what the next record chains to. */
export const serializeRecord = (record: DigestRecord): Buffer =>
  Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8');

export class DigestRecordError extends Error {
  override readonly name = 'DigestRecordError';
}

/** A stored record read back: parsed and checked against the schema, or a DigestRecordError saying why not. */
export const parseRecord = (bytes: Uint8Array): DigestRecord => {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new DigestRecordError('is not JSON');
  }
  const parsed = DigestRecord.safeParse(json);
  if (!parsed.success) throw new DigestRecordError('does not follow the digest record schema');
  return parsed.data;
};

/**
 * A public key from a file's bytes: PEM (`-----BEGIN PUBLIC KEY-----`, or a private key, whose public half is taken)
 * or DER SPKI, as KMS GetPublicKey returns it. Only EC P-256 keys, the only kind that signs digest records.
 */
export const readPublicKey = (bytes: Uint8Array): KeyObject => {
  const text = Buffer.from(bytes).toString('utf8');
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.from(bytes), format: 'der', type: 'spki' });
  } catch {
    throw new DigestRecordError('is neither a PEM key nor a DER SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new DigestRecordError('is not an EC P-256 (ECC_NIST_P256) key');
  }
  return key;
};

/** A short, stable name for a public key: the first 16 hex digits of the SHA-256 of its DER SubjectPublicKeyInfo. */
export const keyFingerprint = (key: KeyObject): string =>
  sha256Hex(key.export({ format: 'der', type: 'spki' })).slice(0, 16);

/** Whether one of `keys` made the record's signature. A record without a signature is not signed by any key. */
export const signedByOneOf = (record: DigestRecord, keys: readonly KeyObject[]): boolean => {
  if (record.signature === undefined) return false;
  const payload = signedBytes(record);
  const signature = Buffer.from(record.signature.value, 'base64');
  return keys.some((key) => verify('sha256', payload, { key, dsaEncoding: 'der' }, signature));
};
