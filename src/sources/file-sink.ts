import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { LoopHasher, WorkerHasher, type Hasher } from './hasher.js';
import type { BlockTarget } from './http-raw.js';

/** Writes are issued in blocks of this size; a multiple of every direct-I/O alignment in use. */
export const BLOCK_BYTES = 1 << 20;
/** Blocks in flight (filling, hashing, writing) at most; when all are busy the body waits. */
const MAX_BLOCKS = 8;
/** Direct I/O needs block-aligned file offsets; 4096 covers 512e and 4Kn disks. */
const ALIGN = 4096;
/** Below this known size a body is hashed on the event loop: a worker's start costs more than it saves. */
export const WORKER_MIN_BYTES = 32 * 1024 * 1024;

/** COMFY_CONNECTOR_DIRECT_IO=0: node:http reads and page-cache writes only (an operator's escape hatch). */
export function directIo(env: NodeJS.ProcessEnv): boolean {
  return env.COMFY_CONNECTOR_DIRECT_IO !== '0';
}

export interface SinkOptions {
  /** Where the body's first byte goes (the size of the prefix already in the file). */
  offset: number;
  /** The body's size when the server said; picks the hashing thread. */
  expected: number | undefined;
  /** A hasher that already holds the prefix (a resumed file); else the sink makes one. */
  hasher?: Hasher | undefined;
  /** False: every write goes through the page cache (COMFY_CONNECTOR_DIRECT_IO=0). */
  directIo?: boolean | undefined;
}

/**
 * The download's file end. The body lands in large page-aligned blocks: read straight into them from
 * the socket (http-raw.ts), or copied in when it comes as a stream (https, s3). Each full block is
 * hashed (on a worker thread for large bodies, so hashing overlaps the network) and written at its
 * offset; the block is reused when both are done.
 *
 * Where the filesystem allows, blocks go out with O_DIRECT: the bytes go straight from the block to
 * the disk, so the kernel spends no CPU copying them into the page cache, and the final fsync has
 * almost nothing left to flush. A filesystem that refuses direct I/O (some network and overlay
 * filesystems, platforms without O_DIRECT) gets the same blocks through the page cache, one write at
 * a time. The tail shorter than a block always goes through the page cache. On failure the block
 * being filled is written too, so the file holds exactly the bytes received (resume asks for the
 * rest). The sink does not fsync: the caller syncs once, after the last attempt.
 */
export class FileSink extends Writable implements BlockTarget {
  onRoom: (() => void) | undefined;
  readonly hasher: Hasher;
  private readonly memory: Buffer;
  private readonly free: number[] = [];
  private current = -1;
  private fill = 0;
  /** File offset of the current block's first byte. */
  private position: number;
  private readonly pending = new Set<Promise<void>>();
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;
  private directOk: boolean;
  private cached: Promise<void> = Promise.resolve();

  private constructor(
    private readonly plain: FileHandle,
    private direct: FileHandle | undefined,
    memory: ArrayBufferLike,
    blocks: number,
    hasher: Hasher,
    offset: number,
  ) {
    super({ highWaterMark: 1 << 16 });
    this.position = offset;
    this.hasher = hasher;
    this.directOk = direct !== undefined;
    this.memory = Buffer.from(memory);
    for (let i = blocks - 1; i >= 0; i--) this.free.push(i);
  }

  /** Opens `path` for this attempt: truncated when `offset` is 0, else written from `offset` on. */
  static async create(path: string, options: SinkOptions): Promise<FileSink> {
    const plain = await open(path, options.offset > 0 ? 'r+' : 'w');
    let direct: FileHandle | undefined;
    try {
      // Direct I/O only when the blocks land on aligned offsets; a resumed odd offset goes through the cache.
      if (options.directIo !== false && constants.O_DIRECT && options.offset % ALIGN === 0) {
        direct = await open(path, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined);
      }
      const onWorker = !options.hasher && options.expected !== undefined && options.expected >= WORKER_MIN_BYTES;
      const blocks = options.expected === undefined ? MAX_BLOCKS : Math.min(MAX_BLOCKS, Math.max(1, Math.ceil(options.expected / BLOCK_BYTES)));
      // WebAssembly memory is page-aligned, which O_DIRECT needs of the buffer too.
      const pages = (blocks * BLOCK_BYTES) / 65536;
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: onWorker }).buffer;
      const worker = onWorker ? await WorkerHasher.start(memory as unknown as SharedArrayBuffer) : undefined;
      const hasher = options.hasher ?? worker ?? new LoopHasher();
      return new FileSink(plain, direct, memory, blocks, hasher, options.offset);
    } catch (error) {
      await direct?.close();
      await plain.close();
      throw error;
    }
  }

  private block(i: number): Buffer {
    return this.memory.subarray(i * BLOCK_BYTES, (i + 1) * BLOCK_BYTES);
  }

  override _write(chunk: Buffer, _e: BufferEncoding, cb: (error?: Error | null) => void): void {
    this.hasher.chunk(chunk);
    this.copy(chunk, 0, cb);
  }

  /** Copies `chunk[from..]` into blocks, shipping each full one; waits when every block is busy. */
  private copy(chunk: Buffer, from: number, cb: (error?: Error | null) => void): void {
    while (from < chunk.length) {
      if (this.failure) return cb(this.failure);
      if (this.current < 0) {
        const next = this.free.pop();
        if (next === undefined) {
          this.waiting = () => this.copy(chunk, from, cb);
          return;
        }
        this.current = next;
        this.fill = 0;
      }
      const n = chunk.copy(this.memory, this.current * BLOCK_BYTES + this.fill, from, Math.min(chunk.length, from + BLOCK_BYTES - this.fill));
      from += n;
      this.fill += n;
      if (this.fill === BLOCK_BYTES) this.ship(true);
    }
    cb(this.failure);
  }

  room(): Buffer | undefined {
    if (this.failure || this.destroyed) return undefined;
    if (this.current < 0) {
      const next = this.free.pop();
      if (next === undefined) return undefined;
      this.current = next;
      this.fill = 0;
    }
    return this.memory.subarray(this.current * BLOCK_BYTES + this.fill, (this.current + 1) * BLOCK_BYTES);
  }

  commit(n: number): void {
    const at = this.current * BLOCK_BYTES + this.fill;
    this.hasher.chunk(this.memory.subarray(at, at + n));
    this.fill += n;
    if (this.fill === BLOCK_BYTES) this.ship(true);
  }

  put(data: Buffer): void {
    this.hasher.chunk(data);
    this.copy(data, 0, (error) => {
      if (error) this.destroy(error);
    });
  }

  /** Hashes and writes the current block; the block is free again when both are done. */
  private ship(full: boolean): void {
    const i = this.current;
    const length = this.fill;
    const position = this.position;
    this.current = -1;
    this.position += length;
    const view = this.block(i).subarray(0, length);
    const hashed = this.hasher.block(i * BLOCK_BYTES, length);
    const written = this.writeBlock(view, position, full);
    const job = Promise.all([hashed, written]).then(
      () => undefined,
      (error: Error) => {
        this.failure ??= error;
        this.destroy(error);
      },
    );
    this.pending.add(job);
    void job.finally(() => {
      this.pending.delete(job);
      this.free.push(i);
      const resume = this.waiting;
      this.waiting = undefined;
      resume?.();
      this.onRoom?.();
    });
  }

  private async writeBlock(view: Buffer, position: number, full: boolean): Promise<void> {
    if (full && this.directOk && this.direct) {
      try {
        await writeAll(this.direct, view, position);
        return;
      } catch (error) {
        // A filesystem that opens with O_DIRECT but refuses the writes: the page cache from now on.
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
        this.directOk = false;
      }
    }
    // Through the page cache one write at a time: concurrent writes to one file only contend for it.
    const write = this.cached.then(() => writeAll(this.plain, view, position));
    this.cached = write.catch(() => undefined);
    await write;
  }

  override _final(cb: (error?: Error | null) => void): void {
    if (this.current >= 0 && this.fill > 0) this.ship(false);
    this.settle().then(() => cb(this.failure), cb);
  }

  /** Waits for every block in flight. */
  private async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    this.waiting = undefined;
    // The blocks already in flight finish before the files close, and the block being filled is
    // written too: the file then holds exactly the bytes received, and a resume asks for the rest.
    this.settle()
      .catch(() => undefined)
      .then(async () => {
        if (this.current >= 0 && this.fill > 0 && !this.failure) {
          await writeAll(this.plain, this.block(this.current).subarray(0, this.fill), this.position).catch(() => undefined);
        }
        this.current = -1;
        await this.direct?.close().catch(() => undefined);
        await this.plain.close().catch(() => undefined);
        this.direct = undefined;
        if (error || this.failure) await this.hasher.close();
      })
      .then(() => cb(error), cb);
  }
}

async function writeAll(handle: FileHandle, view: Buffer, position: number): Promise<void> {
  for (let done = 0; done < view.length; ) {
    const { bytesWritten } = await handle.write(view, done, view.length - done, position + done);
    done += bytesWritten;
  }
}
