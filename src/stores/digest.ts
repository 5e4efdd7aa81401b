import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';

/** The block size for hashing a whole file (one read, one hash update per block). */
const HASH_BLOCK = 4 * 1024 * 1024;

/** Passes bytes through while counting them and computing their sha256, so nothing is read twice. */
export class DigestStream extends Transform {
  size = 0;
  private readonly hash: Hash = createHash('sha256');
  private digest: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /** The hex sha256 of everything that passed; call after the stream ended. */
  sha256(): string {
    return (this.digest ??= this.hash.digest('hex'));
  }
}

/** sha256 and size of a file, read in large blocks. */
export async function hashFileSized(handle: FileHandle): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(HASH_BLOCK);
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(block, 0, block.length, size);
    if (bytesRead === 0) break;
    hash.update(block.subarray(0, bytesRead));
    size += bytesRead;
  }
  return { sha256: hash.digest('hex'), size };
}
