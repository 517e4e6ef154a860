import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { SignCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { EMPTY_STRETCH_MS, findHead, RunWrites, recordDigest } from '../../lambdas/sequencer/digest-chain.ts';
import { initialState } from '../../lambdas/sequencer/sequencer-state.ts';
import {
  type ArchivePart,
  type DigestRecord,
  digestKey,
  sequenceOfDigestKey,
} from '../../lambdas/shared/archive-layout.ts';
import { KeyFileArchiveSigner, SigningKeyError } from '../../lambdas/shared/digest-key-file-signer.ts';
import { ArchiveSigningError, KmsArchiveSigner } from '../../lambdas/shared/digest-kms-signer.ts';
import {
  DigestRecordError,
  parseRecord,
  readPublicKey,
  serializeRecord,
  sha256Hex,
  signedByOneOf,
  signedBytes,
  signRecord,
} from '../../lambdas/shared/digest-record.ts';
import type { ArchiveStore, SequencerState } from '../../lambdas/shared/ports.ts';

const T0 = Date.parse('2026-11-01T09:00:00.000Z');
const MINUTE = 60_000;

const newKeyPair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicDer: publicKey.export({ type: 'spki', format: 'der' }),
    publicKey,
  };
};

/** The archive as a map: the unit under test only puts and gets whole objects. */
class MemoryArchive implements ArchiveStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly puts: string[] = [];
  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.puts.push(key);
    this.objects.set(key, typeof body === 'string' ? Buffer.from(body) : body);
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key);
  }
  record(sequence: number): DigestRecord {
    const bytes = this.objects.get(digestKey(sequence));
    if (bytes === undefined) throw new Error(`no record ${sequence}`);
    return parseRecord(bytes);
  }
}

const part = (start: number, kind: ArchivePart['kind'], name: string, eventCount: number): ArchivePart => ({
  kind,
  key: `archive/dt=2026-11-01/hour=09/window=${new Date(start).toISOString().slice(0, 19).replaceAll(':', '-')}Z/${name}`,
  eventCount,
  firstPublished: new Date(start).toISOString(),
  lastPublished: new Date(start).toISOString(),
  sha256: sha256Hex(`${name}@${start}`),
});

/** What a run that sealed `windows` (one main part each) hands the digest step. */
const sealedRun = (windows: number[]) => {
  const writes = new RunWrites();
  for (const start of windows) {
    const main = part(start, 'main', 'events.jsonl.gz', 3);
    writes.part(start, main);
    writes.manifest(start, { bytes: Buffer.from(`manifest ${start}`), parts: [main], eventCount: 3 });
  }
  return writes;
};

const stateAt = (nextWindow: number, extra: Partial<SequencerState> = {}): SequencerState => ({
  ...initialState(60),
  nextWindow,
  ...extra,
});

const input = (writes: RunWrites, extra: { carried?: Set<number>; firstFrom?: number } = {}) => ({
  writes,
  carried: extra.carried ?? new Set<number>(),
  firstFrom: extra.firstFrom ?? initialState(60).nextWindow,
  readManifest: async () => undefined,
});

describe('recordDigest', () => {
  it('starts the chain with a record that has no previous and covers the parts and manifests written', async () => {
    // Prepare
    const archive = new MemoryArchive();

    // Act
    const { state, written } = await recordDigest(
      { archive },
      stateAt(T0 + 2 * MINUTE),
      input(sealedRun([T0, T0 + MINUTE])),
      T0,
    );

    // Assess
    const record = archive.record(1);
    expect(record).toMatchObject({
      sequence: 1,
      previous: null,
      sealed: { from: null, to: '2026-11-01T09:02:00.000Z' },
    });
    expect(record.windows.map((window) => [window.start, window.end, window.objects.map((o) => o.kind)])).toEqual([
      ['2026-11-01T09:00:00.000Z', '2026-11-01T09:01:00.000Z', ['main', 'manifest']],
      ['2026-11-01T09:01:00.000Z', '2026-11-01T09:02:00.000Z', ['main', 'manifest']],
    ]);
    expect(record.windows[0]?.objects[1]).toEqual({
      key: 'archive/dt=2026-11-01/hour=09/window=2026-11-01T09-00-00Z/manifest.json',
      kind: 'manifest',
      sha256: sha256Hex(`manifest ${T0}`),
      eventCount: 3,
    });
    expect(record.signature).toBeUndefined();
    const stored = archive.objects.get(digestKey(1)) as Uint8Array;
    expect(state.digestHead).toEqual({ sequence: 1, sha256: sha256Hex(stored), sealedTo: T0 + 2 * MINUTE });
    expect(state.undigested).toBeUndefined();
    expect(written).toMatchObject({ sequence: 1, key: 'digests/0000000001.json', objects: 4 });
  });

  it('chains each record to the bytes of the one before, and its stretch to where that one ended', async () => {
    // Prepare
    const archive = new MemoryArchive();
    const first = await recordDigest({ archive }, stateAt(T0 + MINUTE), input(sealedRun([T0])), T0);

    // Act
    await recordDigest(
      { archive },
      { ...first.state, nextWindow: T0 + 5 * MINUTE },
      input(sealedRun([T0 + 4 * MINUTE])),
      T0,
    );

    // Assess
    const second = archive.record(2);
    expect(second.previous).toEqual({
      sequence: 1,
      sha256: sha256Hex(archive.objects.get(digestKey(1)) as Uint8Array),
    });
    expect(second.sealed).toEqual({ from: '2026-11-01T09:01:00.000Z', to: '2026-11-01T09:05:00.000Z' });
  });

  it('writes nothing for a run that wrote nothing, until the stretch it sealed empty reaches an hour', async () => {
    // Prepare
    const archive = new MemoryArchive();
    const first = await recordDigest({ archive }, stateAt(T0 + MINUTE), input(sealedRun([T0])), T0);

    // Act
    const quiet = await recordDigest(
      { archive },
      { ...first.state, nextWindow: T0 + 30 * MINUTE },
      input(new RunWrites()),
      T0,
    );
    const hour = await recordDigest(
      { archive },
      { ...quiet.state, nextWindow: T0 + MINUTE + EMPTY_STRETCH_MS },
      input(new RunWrites()),
      T0,
    );

    // Assess
    expect(quiet.written).toBeUndefined();
    expect(hour.written?.sequence).toBe(2);
    expect(archive.record(2)).toMatchObject({
      windows: [],
      sealed: { from: '2026-11-01T09:01:00.000Z', to: '2026-11-01T10:01:00.000Z' },
    });
  });

  it('lists the set-aside windows the stretch passed', async () => {
    const archive = new MemoryArchive();
    await recordDigest({ archive }, stateAt(T0 + 3 * MINUTE, { setAside: [T0 + MINUTE] }), input(sealedRun([T0])), T0);
    expect(archive.record(1).setAside).toEqual(['2026-11-01T09:01:00.000Z']);
  });

  it('covers the windows a crashed run journaled: each manifest and every part it lists', async () => {
    // Prepare: the run before wrote window T0 (a main part and a supplement) and stopped before its record.
    const archive = new MemoryArchive();
    const main = part(T0, 'main', 'events.jsonl.gz', 2);
    const late = part(T0, 'late', 'late-0001.jsonl.gz', 1);
    const manifest = Buffer.from('manifest with two parts');

    // Act
    await recordDigest(
      { archive },
      stateAt(T0 + MINUTE, { undigested: [T0, T0 + MINUTE] }),
      {
        ...input(new RunWrites(), { carried: new Set([T0, T0 + MINUTE]) }),
        // T0 + MINUTE has no manifest: the crashed run wrote nothing there.
        readManifest: async (start) => (start === T0 ? { bytes: manifest, parts: [main, late] } : undefined),
      },
      T0,
    );

    // Assess
    expect(archive.record(1).windows).toEqual([
      {
        start: '2026-11-01T09:00:00.000Z',
        end: '2026-11-01T09:01:00.000Z',
        objects: [
          { key: main.key, kind: 'main', sha256: main.sha256, eventCount: 2 },
          { key: late.key, kind: 'late', sha256: late.sha256, eventCount: 1 },
          {
            key: main.key.replace('events.jsonl.gz', 'manifest.json'),
            kind: 'manifest',
            sha256: sha256Hex(manifest),
            eventCount: 3,
          },
        ],
      },
    ]);
  });

  it('takes over a record a run wrote before it could save the state, and never writes over it', async () => {
    // Prepare: record 1 is the state's head; record 2 was written, the state not.
    const archive = new MemoryArchive();
    const first = await recordDigest({ archive }, stateAt(T0 + MINUTE), input(sealedRun([T0])), T0);
    const writes = sealedRun([T0 + MINUTE]);
    await recordDigest({ archive }, { ...first.state, nextWindow: T0 + 2 * MINUTE }, input(writes), T0);
    const stored = archive.objects.get(digestKey(2));
    archive.puts.length = 0;

    // Act: the next run, from the state that still names record 1, with the crashed run's window journaled.
    const next = await recordDigest(
      { archive },
      { ...first.state, nextWindow: T0 + 2 * MINUTE, undigested: [T0 + MINUTE] },
      {
        ...input(new RunWrites(), { carried: new Set([T0 + MINUTE]) }),
        readManifest: async () => {
          const manifest = writes.get(T0 + MINUTE)?.manifest;
          return manifest === undefined ? undefined : { bytes: manifest.bytes, parts: manifest.parts };
        },
      },
      T0,
    );

    // Assess: record 2 is the head, untouched; nothing was left to cover, so nothing was written.
    expect(archive.puts).toEqual([]);
    expect(archive.objects.get(digestKey(2))).toBe(stored);
    expect(next.written).toBeUndefined();
    expect(next.state.digestHead).toMatchObject({ sequence: 2, sha256: sha256Hex(stored as Uint8Array) });
  });

  it('refuses to continue when the next key holds a record that does not follow the head', async () => {
    const archive = new MemoryArchive();
    const first = await recordDigest({ archive }, stateAt(T0 + MINUTE), input(sealedRun([T0])), T0);
    const forged = { ...archive.record(1), sequence: 2, previous: { sequence: 1, sha256: 'f'.repeat(64) } };
    archive.objects.set(digestKey(2), serializeRecord(forged));
    await expect(
      recordDigest({ archive }, { ...first.state, nextWindow: T0 + 2 * MINUTE }, input(sealedRun([T0 + MINUTE])), T0),
    ).rejects.toThrow('digests/0000000002.json exists and does not follow digests/0000000001.json');
  });

  it('continues the archive chain when the state has no head (a lost state, a new local run)', async () => {
    // Prepare
    const archive = new MemoryArchive();
    let state = stateAt(T0);
    for (let i = 0; i < 5; i++) {
      state = (
        await recordDigest(
          { archive },
          { ...state, nextWindow: T0 + (i + 1) * MINUTE },
          input(sealedRun([T0 + i * MINUTE])),
          T0,
        )
      ).state;
    }
    const { digestHead: _lost, ...lost } = state;

    // Act
    await recordDigest({ archive }, { ...lost, nextWindow: T0 }, input(sealedRun([T0])), T0);

    // Assess: record 6 follows record 5; the stretch does not move back.
    expect(archive.record(6).previous).toEqual({ sequence: 5, sha256: state.digestHead?.sha256 });
    expect(archive.record(6).sealed).toEqual({ from: '2026-11-01T09:05:00.000Z', to: '2026-11-01T09:05:00.000Z' });
  });
});

describe('findHead', () => {
  it.each([0, 1, 2, 3, 37, 64, 65])('finds the last of %i records in about 2 log2(n) reads', async (count) => {
    // Prepare
    const archive = new MemoryArchive();
    for (let sequence = 1; sequence <= count; sequence++) {
      archive.objects.set(
        digestKey(sequence),
        serializeRecord({
          version: 1,
          sequence,
          previous: null,
          runAt: new Date(T0).toISOString(),
          sealed: { from: null, to: new Date(T0 + sequence * MINUTE).toISOString() },
          setAside: [],
          windows: [],
        }),
      );
    }
    let reads = 0;
    const counting: ArchiveStore = {
      put: (key, body) => archive.put(key, body),
      get: (key) => {
        reads++;
        return archive.get(key);
      },
    };

    // Act
    const head = await findHead(counting);

    // Assess
    expect(head?.sequence).toBe(count === 0 ? undefined : count);
    if (count > 0) expect(head?.sealedTo).toBe(T0 + count * MINUTE);
    expect(reads).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(count + 2)) + 2);
  });
});

describe('digest record bytes', () => {
  const record: DigestRecord = {
    version: 1,
    sequence: 3,
    previous: { sequence: 2, sha256: 'a'.repeat(64) },
    runAt: '2026-11-01T09:03:00.000Z',
    sealed: { from: '2026-11-01T09:01:00.000Z', to: '2026-11-01T09:02:00.000Z' },
    setAside: [],
    windows: [],
  };

  it('signs the canonical JSON without the signature, so layout does not matter', async () => {
    // Prepare
    const keys = newKeyPair();
    const signer = new KeyFileArchiveSigner(keys.pem);

    // Act
    const signed = await signRecord(record, signer);
    const reread = parseRecord(Buffer.from(JSON.stringify(signed)));

    // Assess
    expect(signed.signature).toMatchObject({ algorithm: 'ECDSA_SHA_256', keyId: signer.keyId });
    expect(signedBytes(signed).toString()).toBe(signedBytes(record).toString());
    expect(signedByOneOf(reread, [readPublicKey(Buffer.from(keys.publicPem))])).toBe(true);
    expect(signedByOneOf(reread, [readPublicKey(keys.publicDer)])).toBe(true);
  });

  it('does not verify once any field changed, with another key, or unsigned', async () => {
    const keys = newKeyPair();
    const signed = await signRecord(record, new KeyFileArchiveSigner(keys.pem));
    const key = readPublicKey(Buffer.from(keys.publicPem));
    expect(signedByOneOf({ ...signed, sealed: { ...signed.sealed, to: '2026-11-01T09:03:00.000Z' } }, [key])).toBe(
      false,
    );
    expect(signedByOneOf(signed, [readPublicKey(Buffer.from(newKeyPair().publicPem))])).toBe(false);
    expect(signedByOneOf(record, [key])).toBe(false);
  });

  it('reads a record back only when it follows the schema', () => {
    expect(parseRecord(serializeRecord(record))).toEqual(record);
    expect(() => parseRecord(Buffer.from('{'))).toThrow(DigestRecordError);
    expect(() => parseRecord(Buffer.from(JSON.stringify({ ...record, sequence: 0 })))).toThrow('schema');
  });

  it('names records so that they list in sequence order', () => {
    expect(digestKey(42)).toBe('digests/0000000042.json');
    expect(sequenceOfDigestKey('digests/0000000042.json')).toBe(42);
    expect(sequenceOfDigestKey('digests/42.json')).toBeUndefined();
    expect(digestKey(9) < digestKey(10)).toBe(true);
  });

  it('accepts only EC P-256 public keys, PEM or DER, or the public half of a private key', () => {
    const keys = newKeyPair();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
    expect(readPublicKey(Buffer.from(keys.pem)).asymmetricKeyType).toBe('ec');
    expect(() => readPublicKey(Buffer.from(rsa))).toThrow('is not an EC P-256');
    expect(() => readPublicKey(Buffer.from('not a key'))).toThrow('neither a PEM key nor a DER');
  });
});

describe('KeyFileArchiveSigner', () => {
  it('signs ECDSA P-256 SHA-256 in DER, named by its public key', async () => {
    // Prepare
    const keys = newKeyPair();
    const signer = new KeyFileArchiveSigner(keys.pem);
    const message = Buffer.from('a digest record');

    // Act
    const signature = await signer.sign(message);

    // Assess: DER is a SEQUENCE (0x30) of two INTEGERs, at most 72 bytes for P-256.
    expect(signature[0]).toBe(0x30);
    expect(signature.length).toBeLessThanOrEqual(72);
    expect(verify('sha256', message, { key: keys.publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
    expect(signer.keyId).toMatch(/^local:[0-9a-f]{16}$/);
    expect(new KeyFileArchiveSigner(keys.pem).keyId).toBe(signer.keyId);
  });

  it('refuses anything but an EC P-256 private key', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => new KeyFileArchiveSigner(p384)).toThrow(SigningKeyError);
    expect(() => new KeyFileArchiveSigner(newKeyPair().publicPem)).toThrow('is not a PEM private key');
  });
});

describe('KmsArchiveSigner', () => {
  // Nothing stands in for KMS (no local KMS with asymmetric keys): the client is a mock that records the command and
  // answers as KMS Sign does, with a DER ECDSA P-256 signature. Node cannot sign a bare digest, so the mock signs the
  // message whose SHA-256 it was sent, which is the same signature KMS makes over that digest.
  const message = Buffer.from('the record');

  it('sends only the SHA-256 of the record, as a DIGEST for ECDSA_SHA_256, to the key it names', async () => {
    // Prepare
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sent: SignCommand[] = [];
    const client = {
      send: async (command: SignCommand) => {
        sent.push(command);
        return { Signature: sign('sha256', message, { key: privateKey, dsaEncoding: 'der' }) };
      },
    };
    const signer = new KmsArchiveSigner(client as never, 'arn:aws:kms:eu-west-1:123456789012:key/abcd');

    // Act
    const signature = await signer.sign(message);

    // Assess
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(SignCommand);
    expect(sent[0]?.input).toEqual({
      KeyId: 'arn:aws:kms:eu-west-1:123456789012:key/abcd',
      Message: createHash('sha256').update(message).digest(),
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
    });
    expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
  });

  it('fails with a named error when KMS returns no signature', async () => {
    const client = { send: async () => ({ Signature: undefined }) };
    const signer = new KmsArchiveSigner(client as never, 'arn:aws:kms:eu-west-1:123456789012:key/abcd');
    await expect(signer.sign(message)).rejects.toThrow(ArchiveSigningError);
  });
});
