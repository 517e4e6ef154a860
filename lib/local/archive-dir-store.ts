import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ArchiveStore } from '../../lambdas/shared/ports.ts';

/**
 * The archive in a local directory, with the S3 archive's key layout. Each object is written to a temporary file and
 * renamed into place, so a crash never leaves a half-written part or manifest.
 */
export class ArchiveDirStore implements ArchiveStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    if (!path.startsWith(this.root + sep)) throw new Error(`archive key escapes the archive directory: ${key}`);
    return path;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, body);
    await rename(temporary, path);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}

/** Writes every object to both stores and reads from the first: the local archive directory and its S3 stand-in. */
export class MirroredArchiveStore implements ArchiveStore {
  constructor(
    private readonly primary: ArchiveStore,
    private readonly mirror: ArchiveStore,
  ) {}

  async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.primary.put(key, body, contentType);
    await this.mirror.put(key, body, contentType);
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.primary.get(key);
  }
}
