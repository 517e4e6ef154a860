import { type QuarantineRecord, quarantineKey } from './archive-layout.ts';
import type { ArchiveStore } from './ports.ts';

/** Where one input came from: `id` names it uniquely (an SQS message id; a file and line locally). */
export interface QuarantineOrigin {
  readonly id: string;
  readonly [detail: string]: string | number;
}

/** Writes one rejected input with its reason under `quarantine/`; the key comes from its origin, so a retry overwrites. */
export const quarantine = async (
  store: ArchiveStore,
  rejected: Pick<QuarantineRecord, 'reason' | 'origin' | 'raw'> & { readonly origin: QuarantineOrigin },
  at: number,
): Promise<string> => {
  const key = quarantineKey(at, rejected.origin.id);
  const record: QuarantineRecord = { ...rejected, receivedAt: new Date(at).toISOString() };
  await store.put(key, `${JSON.stringify(record, null, 2)}\n`, 'application/json');
  return key;
};
