import { constants, createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, lstat, open, rename, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Writing a file so that a reader (ComfyUI listing its model folders, or a crash) never sees half
 * of it: the bytes go to a temporary file in the same folder, are synced, and the file is then
 * renamed (or hard-linked, to never clobber) onto its name in one step.
 */

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Syncs a folder so a rename or link inside it survives a power cut. Best effort. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir, 'r');
  } catch {
    // Some filesystems refuse fsync on a folder; the rename itself is still atomic.
  }
}

/**
 * Writes `source` to `temp` and syncs it. A path is copied with copyFile, which lets the kernel
 * use copy_file_range or a reflink; a Buffer is written; a stream is piped.
 */
export async function writeTemp(source: string | Buffer | Readable, temp: string): Promise<void> {
  try {
    if (typeof source === 'string') {
      // EXCL: the temp name is ours alone; FICLONE: a reflink when the filesystem can, else a copy.
      await copyFile(source, temp, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    } else if (Buffer.isBuffer(source)) {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(source);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return;
    } else {
      await pipeline(source, createWriteStream(temp, { flags: 'wx' }));
    }
    await fsyncPath(temp, 'r+');
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Thrown by commit() when `overwrite` is off and the name was taken in the meantime. */
export class NameTakenError extends Error {
  constructor(readonly path: string) {
    super(`${path} exists`);
  }
}

/**
 * Moves `temp` onto `final`. With overwrite, rename replaces the old file in one step. Without,
 * a hard link fails with EEXIST instead of clobbering a file that appeared since we looked.
 */
export async function commit(temp: string, final: string, overwrite: boolean, dir: string): Promise<void> {
  if (overwrite) {
    await rename(temp, final);
  } else {
    try {
      await link(temp, final);
      await rm(temp, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new NameTakenError(final);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw error;
      // No hard links here (some network and FAT filesystems): check, then rename.
      if (await exists(final)) throw new NameTakenError(final);
      await rename(temp, final);
    }
  }
  await fsyncDir(dir);
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export function hashBuffer(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Size and lazily computed sha256 of some content, to compare it with existing files. */
export interface ContentId {
  size: number;
  sha256(): Promise<string>;
}

export function contentOfBuffer(data: Buffer): ContentId {
  return { size: data.length, sha256: async () => hashBuffer(data) };
}

export async function contentOfFile(path: string): Promise<ContentId> {
  const { size } = await stat(path);
  let memo: Promise<string> | undefined;
  return { size, sha256: () => (memo ??= hashFile(path)) };
}

/** True when the file at `path` holds exactly `content` (size first, so most checks read nothing). */
export async function sameContent(path: string, content: ContentId): Promise<boolean> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    size = info.size;
  } catch {
    return false;
  }
  if (size !== content.size) return false;
  return (await hashFile(path)) === (await content.sha256());
}

/** ComfyUI's collision name: "cat.png" → "cat (1).png". */
export function numberedName(name: string, n: number): string {
  const ext = extname(name);
  const stem = ext && ext !== name ? name.slice(0, -ext.length) : name;
  return `${stem} (${n})${ext === name ? '' : ext}`;
}

/**
 * Picks the name ComfyUI's upload route would pick: the name itself if free; the existing name if
 * that file holds the same bytes (nothing to write); otherwise "name (1).ext", "(2)"...
 * `taken` lists every candidate that existed, to tell later whether a name was ours.
 */
export async function chooseName(dir: string, name: string, content: ContentId): Promise<{ name: string; duplicate: boolean; taken: string[] }> {
  const taken: string[] = [];
  let candidate = name;
  for (let i = 1; ; i++) {
    const path = join(dir, candidate);
    if (!(await exists(path))) return { name: candidate, duplicate: false, taken };
    taken.push(candidate);
    if (await sameContent(path, content)) return { name: candidate, duplicate: true, taken };
    candidate = numberedName(name, i);
  }
}
