import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { keyFingerprint } from './digest-record.ts';
import type { ArchiveSigner } from './ports.ts';

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

/**
 * Signs digest records with a local EC P-256 private key (PEM, e.g. `openssl ecparam -name prime256v1 -genkey -noout`
 * or `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`): ECDSA with SHA-256, DER, exactly what KMS
 * returns for ECDSA_SHA_256, so one verifier checks both. The key id is the public key's fingerprint.
 */
export class KeyFileArchiveSigner implements ArchiveSigner {
  readonly keyId: string;
  private readonly key: KeyObject;

  /** `pem`: the private key's text (PKCS#8 or SEC1). */
  constructor(pem: string | Uint8Array) {
    let key: KeyObject;
    try {
      key = createPrivateKey(typeof pem === 'string' ? pem : Buffer.from(pem));
    } catch {
      throw new SigningKeyError('is not a PEM private key');
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new SigningKeyError('is not an EC P-256 private key');
    }
    this.key = key;
    this.keyId = `local:${keyFingerprint(createPublicKey(key))}`;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', message, { key: this.key, dsaEncoding: 'der' });
  }
}
