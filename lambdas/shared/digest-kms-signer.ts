import { createHash } from 'node:crypto';
import { type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { ArchiveSigner } from './ports.ts';

export class ArchiveSigningError extends Error {
  override readonly name = 'ArchiveSigningError';
}

/**
 * Signs digest records with a KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY). The record is hashed here and only its
 * SHA-256 goes to KMS (MessageType DIGEST): the record never leaves the function and its size does not matter (a RAW
 * message is limited to 4,096 bytes). The signature is DER, as anyone holding the key's public half verifies it
 * offline (`GetPublicKey`, or `aws kms get-public-key`). The function needs `kms:Sign` on the key and nothing else.
 */
export class KmsArchiveSigner implements ArchiveSigner {
  constructor(
    private readonly client: Pick<KMSClient, 'send'>,
    /** The key's ARN (an alias would name another key once re-pointed; the ARN names the key that signed). */
    readonly keyId: string,
  ) {}

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(message).digest();
    const { Signature } = await this.client.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: digest,
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (Signature === undefined || Signature.length === 0) {
      throw new ArchiveSigningError(`KMS returned no signature for key ${this.keyId}`);
    }
    return Signature;
  }
}
