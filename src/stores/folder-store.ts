import { constants, createWriteStream, ReadStream } from 'node:fs';
import { once } from 'node:events';
import { copyFile, lstat, mkdir, open, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncDir, hashFile, writeTemp } from '../assets/atomic.js';
import { checkRealChain, PARTIAL_SUFFIX } from '../assets/safe-path.js';
import { ComfyError, StoreAccessDeniedError, StoreError, StoreNotFoundError } from '../errors.js';
import { DigestStream, hashFileSized } from './digest.js';
import { checkKey, META_DIR } from './keys.js';
import { mimeOf } from './mime.js';
import type { OutputStore, PutOptions, StoredObject, StoreDescriptor } from './types.js';

export interface FolderStoreOptions {
  /** The folder that holds every object (created when missing); keys are paths below it. */
  root: string;
}

/** Below this size head() hashes the file itself (about a millisecond) instead of keeping a sidecar. */
const SIDECAR_MIN_BYTES = 1024 * 1024;

interface Meta {
  size: number;
  mtimeMs: number;
  sha256: string;
  mime: string;
}

/**
 * An output store in a local or shared folder. Each object is written to a temporary file beside
 * its final name, synced and renamed, so a reader (or a crash) never sees half of it. MIME type and
 * sha256 of large objects (or of a MIME type the name does not say) live in a sidecar under
 * `.comfy-store-meta/`, trusted only while size and mtime still match.
 */
export class FolderStore implements OutputStore {
  readonly kind = 'folder';
  readonly root: string;

  constructor(options: FolderStoreOptions | string) {
    this.root = resolve(typeof options === 'string' ? options : options.root);
  }

  describe(): StoreDescriptor {
    return { kind: 'folder', root: this.root };
  }

  private get label(): string {
    return `folder ${this.root}`;
  }

  private async locate(key: string): Promise<{ path: string; meta: string }> {
    const segments = checkKey(key);
    const path = join(this.root, ...segments);
    await checkRealChain(this.root, path, key);
    return { path, meta: `${join(this.root, META_DIR, ...segments)}.json` };
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions): Promise<StoredObject> {
    // A body that fails while the key is checked (a file stream of a missing file) must not crash the
    // process: the write below sees the error (pipeline, or copyFile for a file stream).
    if (!Buffer.isBuffer(body)) body.on('error', () => undefined);
    const { path, meta } = await this.locate(key);
    const temp = join(dirname(path), `.${basename(path).slice(0, 100)}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`);
    let written: { size: number; sha256: string };
    try {
      const file = wholeFileStream(body);
      written = await inFolder(dirname(path), () =>
        Buffer.isBuffer(body) ? bufferToFile(body, temp) : file !== undefined ? copyThenHash(file, body as ReadStream, temp) : streamToFile(body, temp),
      );
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw this.wrap(key, error);
    }
    const object: StoredObject = { key, size: written.size, sha256: written.sha256, mime: options.mime, url: pathToFileURL(path).href };
    // The sidecar only where head() could not cheaply know the answer itself (a large file's hash, a
    // MIME type its name does not give); a stale one goes. Written while the folder entry is synced.
    const sidecar = object.size >= SIDECAR_MIN_BYTES || object.mime !== mimeOf(path);
    await Promise.all([
      fsyncDir(dirname(path)),
      (sidecar ? this.writeMeta(path, meta, object) : rm(meta, { force: true })).catch(() => undefined), // head() recomputes without it
    ]);
    return object;
  }

  private async writeMeta(path: string, metaPath: string, object: StoredObject): Promise<void> {
    const { mtimeMs } = await lstat(path);
    const data: Meta = { size: object.size, mtimeMs, sha256: object.sha256, mime: object.mime };
    await mkdir(dirname(metaPath), { recursive: true });
    const temp = `${metaPath}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`;
    await writeFile(temp, JSON.stringify(data));
    await rename(temp, metaPath);
  }

  async prepare(prefix: string): Promise<void> {
    const { path } = await this.locate(prefix);
    await mkdir(path, { recursive: true });
  }

  /** Removes the folders of `prefix` that hold nothing (a run that stored no file). */
  async release(prefix: string): Promise<void> {
    const { path } = await this.locate(prefix);
    await pruneEmpty(path, this.root);
  }

  async get(key: string): Promise<Readable> {
    const { path } = await this.locate(key);
    try {
      const info = await lstat(path);
      if (!info.isFile()) throw new StoreNotFoundError(key, this.label);
      const handle = await open(path, 'r');
      return handle.createReadStream();
    } catch (error) {
      throw this.wrap(key, error);
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const { path, meta } = await this.locate(key);
    let info;
    try {
      info = await lstat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.wrap(key, error);
    }
    if (!info.isFile()) return undefined;
    const url = pathToFileURL(path).href;
    try {
      const saved = JSON.parse(await readFile(meta, 'utf8')) as Meta;
      if (saved.size === info.size && saved.mtimeMs === info.mtimeMs) return { key, size: saved.size, sha256: saved.sha256, mime: saved.mime, url };
    } catch {
      // no sidecar (written by someone else, or a crash between file and sidecar): compute below
    }
    return { key, size: info.size, sha256: await hashFile(path), mime: mimeOf(path), url };
  }

  async delete(key: string): Promise<void> {
    const { path, meta } = await this.locate(key);
    try {
      await rm(path, { force: true });
      await rm(meta, { force: true });
    } catch (error) {
      throw this.wrap(key, error);
    }
    // Keys are paths: the folders a key made go with its last object, up to (never including) the root.
    await pruneEmpty(dirname(path), this.root);
    await pruneEmpty(dirname(meta), this.root);
  }

  private wrap(key: string, error: unknown): Error {
    if (error instanceof ComfyError) return error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return new StoreNotFoundError(key, this.label);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new StoreAccessDeniedError(key, this.label, code);
    return new StoreError(key, this.label, error instanceof Error ? error.message : String(error), error);
  }
}

/**
 * The path of a file read stream that will deliver the whole file and has not started: such a body
 * is copied by the kernel (copy_file_range; no bytes through JavaScript) and hashed afterwards in
 * one read pass of the copy, which is faster than hashing on the way through user space.
 */
function wholeFileStream(body: Readable | Buffer): string | undefined {
  if (!(body instanceof ReadStream)) return undefined;
  const s = body as ReadStream & { start?: number; end?: number };
  const whole = (s.start === undefined || s.start === 0) && (s.end === undefined || s.end === Infinity);
  if (typeof s.path !== 'string' || !whole || s.bytesRead > 0 || s.readableFlowing === true || s.readableEnded) return undefined;
  return s.path;
}

async function copyThenHash(source: string, stream: ReadStream, temp: string): Promise<{ size: number; sha256: string }> {
  stream.destroy(); // not read: the kernel copies from the path (copyFile reports a missing source)
  await copyFile(source, temp, constants.COPYFILE_EXCL);
  const handle = await open(temp, 'r+');
  try {
    // The sha256 is of the copy, the bytes actually stored; fsync runs on the thread pool meanwhile.
    const [result] = await Promise.all([hashFileSized(handle), handle.sync()]);
    return result;
  } finally {
    await handle.close();
  }
}

/** A body already in memory: one write, hashed in place (no stream machinery on a job's hot path). */
async function bufferToFile(body: Buffer, temp: string): Promise<{ size: number; sha256: string }> {
  await writeTemp(body, temp);
  return { size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

async function streamToFile(body: Readable | Buffer, temp: string): Promise<{ size: number; sha256: string }> {
  // Hashed on arrival, chunk by chunk, while the write stream's previous chunk is on the thread pool:
  // measured faster here than batching into large writes (see docs/assets.md, Throughput).
  // Opened before a byte is read, so a folder removed meanwhile (ENOENT, see inFolder) loses nothing.
  const out = createWriteStream(temp, { flags: 'wx' });
  await once(out, 'ready');
  const digest = new DigestStream();
  await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, digest, out);
  const handle = await open(temp, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { size: digest.size, sha256: digest.sha256() };
}

/**
 * Creates `dir` and runs `write` in it. A delete() of the folder's last object may remove the folder
 * between the two (see pruneEmpty): then the folder is made again and `write` runs once more.
 */
async function inFolder<T>(dir: string, write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dir, { recursive: true });
    try {
      return await write();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2 || (await isDir(dir))) throw error;
    }
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Removes `dir` and its parents while they are empty, stopping below `root`. */
async function pruneEmpty(dir: string, root: string): Promise<void> {
  for (let d = dir; d !== root && d.startsWith(root + sep); d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return; // not empty (or already gone, or raced by a put): leave it and everything above
    }
  }
}
