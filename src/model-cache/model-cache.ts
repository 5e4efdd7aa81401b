import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { rename } from 'node:fs/promises';
import { PARTIAL_SUFFIX } from '../assets/safe-path.js';
import { CacheFullError } from '../errors.js';
import { fetchToFile } from '../sources/fetch.js';
import { redactUrl } from '../sources/redact.js';
import type { FetchOptions } from '../sources/types.js';
import { readIndex, writeIndex, type CacheIndexData, type CacheRecord } from './cache-index.js';

export interface ModelCacheOptions {
  /** Default $COMFY_CONNECTOR_CACHE, else ~/.cache/comfy-connector/models. */
  dir?: string | undefined;
  /** Size limit in bytes (default: unlimited); least recently used files not in use are evicted. */
  maxBytes?: number | undefined;
  /** How URLs are fetched (policy, credentials, timeouts). */
  fetch?: FetchOptions | undefined;
}

export interface CachedModel {
  sha256: string;
  size: number;
  /** The verified file in the cache (never hand it to ComfyUI directly: place() it). */
  path: string;
  /** The URL without credentials. */
  url: string;
  /** True when no download was needed. */
  hit: boolean;
}

export interface CacheGetOptions {
  sha256?: string | undefined;
  onProgress?: FetchOptions['onProgress'];
  signal?: AbortSignal | undefined;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.COMFY_CONNECTOR_CACHE ?? join(homedir(), '.cache', 'comfy-connector', 'models');
}

const SHA = /^[0-9a-f]{64}$/;

/**
 * A content-addressed cache of model files: blobs/<sha256>, verified when the caller gave a sha256,
 * computed and reported either way. Concurrent gets of the same URL (or hash) share one download.
 * With a size limit, the least recently used files are evicted, except those leased by a running
 * prompt. One process owns a cache folder at a time (its index is not shared between processes).
 */
export class ModelCache {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly fetchOptions: FetchOptions;
  private index: CacheIndexData | undefined;
  private opening: Promise<void> | undefined;
  private readonly inflight = new Map<string, Promise<CachedModel>>();
  private readonly leases = new Map<string, number>();
  private writing: Promise<void> = Promise.resolve();
  /** The last recency stamp given: stamps are strictly increasing across records, so LRU order has no ties. */
  private lastTick = 0;

  constructor(options: ModelCacheOptions = {}) {
    this.dir = resolve(options.dir ?? defaultCacheDir());
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.fetchOptions = options.fetch ?? {};
  }

  private get blobs(): string {
    return join(this.dir, 'blobs');
  }

  private get tmp(): string {
    return join(this.dir, 'tmp');
  }

  private get indexPath(): string {
    return join(this.dir, 'index.json');
  }

  /** Loads the index; removes what a crash left in tmp/; forgets records whose blob is gone, adopts blobs without a record. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      await mkdir(this.blobs, { recursive: true });
      await rm(this.tmp, { recursive: true, force: true });
      await mkdir(this.tmp, { recursive: true });
      const index = await readIndex(this.indexPath);
      const present = new Set((await readdir(this.blobs)).filter((n) => SHA.test(n)));
      for (const sha of Object.keys(index.records)) if (!present.has(sha)) delete index.records[sha];
      for (const name of await readdir(this.blobs)) {
        if (name.endsWith(PARTIAL_SUFFIX)) await rm(join(this.blobs, name), { force: true });
        else if (SHA.test(name) && !index.records[name]) {
          const { size, mtimeMs } = await stat(join(this.blobs, name));
          index.records[name] = { sha256: name, size, lastUsed: mtimeMs, urls: [], placements: [] };
        }
      }
      this.index = index;
      await this.save();
    })();
    return this.opening;
  }

  /** Total bytes of the cached files. */
  get size(): number {
    return Object.values(this.index?.records ?? {}).reduce((n, r) => n + r.size, 0);
  }

  records(): CacheRecord[] {
    return Object.values(this.index?.records ?? {}).map((r) => ({ ...r, urls: [...r.urls], placements: [...r.placements] }));
  }

  /** The file for a URL: from the cache when its hash (or URL) is known, else downloaded once. */
  async get(url: string, options: CacheGetOptions = {}): Promise<CachedModel> {
    await this.open();
    const shown = redactUrl(url);
    const wanted = options.sha256?.toLowerCase();
    const known = wanted ? this.index!.records[wanted] : Object.values(this.index!.records).find((r) => r.urls.includes(shown));
    if (known && (await this.blobExists(known.sha256))) {
      await this.touch(known, shown);
      return { sha256: known.sha256, size: known.size, path: this.blobPath(known.sha256), url: shown, hit: true };
    }
    const key = wanted ?? shown;
    let job = this.inflight.get(key);
    if (!job) {
      job = this.download(url, shown, wanted, options).finally(() => this.inflight.delete(key));
      this.inflight.set(key, job);
    }
    return job;
  }

  private async download(url: string, shown: string, sha256: string | undefined, options: CacheGetOptions): Promise<CachedModel> {
    const temp = join(this.tmp, `${randomBytes(8).toString('hex')}.download`);
    const got = await fetchToFile(url, { path: temp, sha256 }, {
      ...this.fetchOptions,
      ...(this.maxBytes !== Number.POSITIVE_INFINITY ? { maxBytes: Math.min(this.fetchOptions.maxBytes ?? Infinity, this.maxBytes) } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      await this.makeRoom(got.size, shown, got.sha256);
      const final = this.blobPath(got.sha256);
      if (await this.blobExists(got.sha256)) await rm(temp, { force: true });
      else await rename(temp, final);
      const record = this.index!.records[got.sha256] ?? { sha256: got.sha256, size: got.size, lastUsed: Date.now(), urls: [], placements: [] };
      this.index!.records[got.sha256] = record;
      await this.touch(record, shown, true);
      return { sha256: got.sha256, size: got.size, path: final, url: shown, hit: false };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  private tick(floor: number): number {
    this.lastTick = Math.max(Date.now(), floor + 1, this.lastTick + 1);
    return this.lastTick;
  }

  blobPath(sha256: string): string {
    return join(this.blobs, sha256);
  }

  private async blobExists(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.blobPath(sha256))).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Marks a record used. A plain hit changes only the in-memory LRU order (written with the next
   * change), so a hit costs no disk write; a new URL for known bytes is saved at once.
   */
  private async touch(record: CacheRecord, url: string | undefined, persist = false): Promise<void> {
    record.lastUsed = this.tick(record.lastUsed);
    if (url && !record.urls.includes(url)) {
      record.urls.push(url);
      persist = true;
    }
    if (persist) await this.save();
  }

  /** Marks a file as in use (by a running prompt) until release() is called: never evicted meanwhile. */
  lease(sha256: string): () => void {
    this.leases.set(sha256, (this.leases.get(sha256) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.leases.get(sha256) ?? 1) - 1;
      if (n <= 0) this.leases.delete(sha256);
      else this.leases.set(sha256, n);
    };
  }

  /** Leases every cached file placed under one of these names (the string values of a prompt). */
  leaseByPlacement(values: Iterable<string>): () => void {
    const wanted = new Set<string>();
    for (const v of values) wanted.add(v.replace(/\\/g, '/'));
    const releases: Array<() => void> = [];
    for (const record of Object.values(this.index?.records ?? {})) {
      if (record.placements.some((p) => [...wanted].some((w) => w !== '' && p.replace(/\\/g, '/').endsWith(`/${w}`)))) releases.push(this.lease(record.sha256));
    }
    return () => releases.forEach((r) => r());
  }

  inUse(sha256: string): boolean {
    return (this.leases.get(sha256) ?? 0) > 0;
  }

  /** Records a placement (hard link or copy in a model folder) so eviction removes it too. */
  async addPlacement(sha256: string, path: string): Promise<void> {
    await this.open();
    const record = this.index!.records[sha256];
    if (!record) return;
    if (!record.placements.includes(path)) record.placements.push(path);
    await this.touch(record, undefined, true);
  }

  /** Evicts least recently used files that are not in use until `incoming` more bytes fit. */
  private async makeRoom(incoming: number, url: string, incomingSha: string): Promise<void> {
    if (this.maxBytes === Number.POSITIVE_INFINITY) return;
    const records = this.index!.records;
    if (records[incomingSha]) return; // already here: nothing grows
    let total = this.size;
    if (total + incoming <= this.maxBytes) return;
    const candidates = Object.values(records).filter((r) => !this.inUse(r.sha256)).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const r of candidates) {
      if (total + incoming <= this.maxBytes) break;
      await this.evict(r);
      total -= r.size;
    }
    if (total + incoming > this.maxBytes) throw new CacheFullError(url, incoming, this.maxBytes);
  }

  private async evict(record: CacheRecord): Promise<void> {
    const blob = this.blobPath(record.sha256);
    let ino: number | undefined;
    try {
      ino = (await stat(blob)).ino;
    } catch {
      ino = undefined;
    }
    for (const p of record.placements) {
      // Only a hard link of this very blob is ours to remove; a copy or a file replaced since is left alone.
      try {
        const info = await stat(p);
        if (ino !== undefined && info.ino === ino) await rm(p, { force: true });
      } catch {
        // already gone
      }
    }
    await rm(blob, { force: true });
    delete this.index!.records[record.sha256];
    await this.save();
  }

  private save(): Promise<void> {
    const data = this.index;
    if (!data) return Promise.resolve();
    this.writing = this.writing.then(() => writeIndex(this.indexPath, data), () => writeIndex(this.indexPath, data));
    return this.writing;
  }
}

