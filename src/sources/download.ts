import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { fsyncDir } from '../assets/atomic.js';
import { PARTIAL_SUFFIX } from '../assets/safe-path.js';
import { ComfyError, HashMismatchError, SourceTooLargeError, SourceUnreachableError } from '../errors.js';
import { directIo, FileSink } from './file-sink.js';
import { LoopHasher, type Hasher } from './hasher.js';
import type { RawBody } from './http-raw.js';
import type { Opener } from './opener.js';
import { ProgressMeter } from './progress.js';
import { networkFailure, StallError, TransientError } from './transient.js';
import type { FetchedFile, FetchOptions } from './types.js';

export const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;

export interface DownloadTarget {
  /** The final path; it appears only complete (and verified, when sha256 is given). */
  path: string;
  sha256?: string | undefined;
}

/**
 * Streams one source into a file: a temporary name beside the target, bounded retries on transient
 * failures, resume with a Range request where the server allows it, a size limit, an idle timer,
 * sha256 computed on the way, then fsync and rename. On any failure the partial file is removed; a
 * crash leaves only a "….comfy-connector-partial" name, which nothing treats as complete.
 */
export async function download(open_: Opener, shown: string, target: DownloadTarget, options: FetchOptions): Promise<FetchedFile> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const retries = options.retries ?? 3;
  const delay = options.retryDelayMs ?? 500;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const dir = dirname(target.path);
  const temp = join(dir, `.${basename(target.path).slice(0, 120)}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`);
  const meter = new ProgressMeter(shown, options.onProgress, options.progressIntervalMs);
  await mkdir(dir, { recursive: true });
  let attempt = 0;
  let resumed = 0;
  let validator: string | undefined;
  let restart = false;
  let last: { mime: string | undefined; fileName: string | undefined; total: number | undefined } = { mime: undefined, fileName: undefined, total: undefined };
  let hasher: Hasher | undefined;
  let received = 0;
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const offset = restart ? 0 : await sizeOf(temp);
      restart = false;
      try {
        const opened = await open_({ offset, validator: offset > 0 ? validator : undefined, signal: options.signal });
        validator = opened.validator;
        last = { mime: opened.mime, fileName: opened.fileName, total: opened.total };
        if (opened.total !== undefined && opened.total > maxBytes) {
          opened.stream.destroy();
          throw new SourceTooLargeError(shown, maxBytes, opened.total);
        }
        const append = opened.partial && offset > 0;
        if (append) resumed++;
        await hasher?.close();
        hasher = undefined;
        received = 0;
        let prefix: Hasher | undefined;
        if (append) {
          // The prefix already on disk is hashed here; the rest continues in the same hash.
          prefix = new LoopHasher();
          await pipeline(createReadStream(temp), new HashCount(prefix, (n) => (received += n)));
        }
        if (opened.direct) {
          // Plain http: the body is read straight into the sink's blocks (see http-raw.ts, file-sink.ts).
          let sink: FileSink;
          try {
            sink = await FileSink.create(temp, {
              offset: append ? offset : 0,
              expected: opened.total === undefined ? undefined : opened.total - received,
              hasher: prefix,
              directIo: directIo(options.env ?? process.env),
            });
          } catch (error) {
            opened.stream.destroy();
            throw error;
          }
          hasher = sink.hasher;
          await pumpDirect(opened.direct, sink, (n) => {
            received += n;
            if (received > maxBytes) throw new SourceTooLargeError(shown, maxBytes);
            meter.update(received, opened.total);
          });
        } else {
          // A stream (https, s3, a chunked answer): each chunk is hashed as it arrives and written
          // while the next one is hashed. Measured faster here than copying it into the blocks.
          hasher = prefix ?? new LoopHasher();
          if (!append) await truncate(temp, 0).catch(() => undefined);
          const counter = new Meter(hasher, received, maxBytes, idleMs, shown, (n) => {
            received = n;
            meter.update(n, opened.total);
          });
          await pipeline(opened.stream, counter, createWriteStream(temp, { flags: append ? 'a' : 'w' }));
        }
        if (opened.total !== undefined && received !== opened.total) {
          throw new TransientError(new SourceUnreachableError(shown, `the body ended after ${received} of ${opened.total} bytes`));
        }
        break;
      } catch (error) {
        const failure = error instanceof ComfyError ? error : networkFailure(error, shown);
        if (!(failure instanceof TransientError) || options.signal?.aborted) throw failure;
        if (attempt >= retries) throw failure.final;
        attempt++;
        restart = failure.restart;
        await sleep(delay * 2 ** (attempt - 1), options.signal);
      }
    }
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const sha256 = await hasher!.digest();
    if (target.sha256 && target.sha256.toLowerCase() !== sha256) throw new HashMismatchError(shown, target.sha256.toLowerCase(), sha256);
    await rename(temp, target.path);
    await fsyncDir(dir);
    meter.update(received, last.total ?? received, true);
    return { url: shown, path: target.path, size: received, sha256, mime: last.mime, fileName: last.fileName, resumed };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    await hasher?.close();
  }
}

/** Reads a raw body straight into the sink's blocks (the socket's idle timer watches for silence). */
async function pumpDirect(body: RawBody, sink: FileSink, onBytes: (n: number) => void): Promise<void> {
  const sinkFailed = new Promise<never>((_, reject) => sink.once('error', reject));
  sinkFailed.catch(() => undefined);
  try {
    await Promise.race([body.pumpInto(sink, onBytes), sinkFailed]);
    sink.end();
    await finished(sink);
  } catch (error) {
    body.destroy();
    sink.destroy(error as Error);
    throw error;
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Hashes a resumed file's existing prefix. */
class HashCount extends Transform {
  constructor(private readonly hash: Hasher, private readonly count: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.hash.chunk(chunk);
    this.count(chunk.length);
    cb();
  }
}

/** Hashes and counts the body on its way to the file; enforces the size limit and the idle timer. */
class Meter extends Transform {
  private timer: NodeJS.Timeout;
  constructor(
    private readonly hash: Hasher,
    private received: number,
    private readonly maxBytes: number,
    private readonly idleMs: number,
    private readonly shown: string,
    private readonly onBytes: (received: number) => void,
  ) {
    super();
    this.timer = setTimeout(() => this.stall(), idleMs);
  }
  private stall(): void {
    this.destroy(new StallError('idle', this.idleMs));
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.timer.refresh();
    this.received += chunk.length;
    if (this.received > this.maxBytes) return cb(new SourceTooLargeError(this.shown, this.maxBytes));
    this.hash.chunk(chunk);
    this.onBytes(this.received);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    clearTimeout(this.timer);
    cb();
  }
  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    cb(error);
  }
}
