import type { ArchiveStore } from './ports.ts';

/**
 * An archive store whose keys all sit under `prefix` (a source's `archivePrefix`): the same layout, the same code,
 * in its own part of the bucket or directory. No prefix is the store itself.
 */
export const prefixedArchive = (store: ArchiveStore, prefix: string): ArchiveStore =>
  prefix === ''
    ? store
    : {
        put: (key, body, contentType) => store.put(`${prefix}${key}`, body, contentType),
        get: (key) => store.get(`${prefix}${key}`),
      };
