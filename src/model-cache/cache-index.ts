import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';

/** One verified file in the cache, named by its sha256. */
export interface CacheRecord {
  sha256: string;
  size: number;
  /** ms since epoch of the last get() or placement: the LRU order. */
  lastUsed: number;
  /** URLs (without credentials) known to serve these bytes. */
  urls: string[];
  /** Hard links or copies of this file in ComfyUI's model folders, removed with it on eviction. */
  placements: string[];
}

export interface CacheIndexData {
  version: 1;
  records: Record<string, CacheRecord>;
}

/** The cache's index.json: written whole to a temp file and renamed, so a crash leaves the old one. */
export async function readIndex(path: string): Promise<CacheIndexData> {
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as CacheIndexData;
    if (data && data.version === 1 && typeof data.records === 'object') return data;
  } catch {
    // missing or torn: rebuilt from the blobs by the caller
  }
  return { version: 1, records: {} };
}

export async function writeIndex(path: string, data: CacheIndexData): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(data));
  await rename(temp, path);
}
