import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { commit, hashFile, NameTakenError } from '../assets/atomic.js';
import { PARTIAL_SUFFIX, resolveInside } from '../assets/safe-path.js';
import { UploadError } from '../errors.js';

export interface Placement {
  path: string;
  /** True when an identical file already had that name (nothing written). */
  reused: boolean;
  /** True when placed as a hard link of the cached file; false when copied (another filesystem). */
  linked: boolean;
  replaced: boolean;
}

/**
 * Puts a cached file into a model folder under `name`: a hard link where the cache shares the
 * filesystem, else a copy; never a symlink (ComfyUI and its loaders may refuse or resolve them).
 * The name appears in one step (temp + link/rename), so a listing never shows half a file.
 */
export async function placeModel(blob: string, sha256: string, root: string, subfolder: string | undefined, name: string, overwrite = false): Promise<Placement> {
  await mkdir(root, { recursive: true });
  const { dir, path } = await resolveInside(root, subfolder, name);
  await mkdir(dir, { recursive: true });
  await resolveInside(root, subfolder, name); // a folder swapped for a symlink while we created it
  const blobInfo = await stat(blob);
  let existed = false;
  try {
    const info = await stat(path);
    existed = true;
    if (info.ino === blobInfo.ino && info.dev === blobInfo.dev) return { path, reused: true, linked: true, replaced: false };
    if (info.isFile() && info.size === blobInfo.size && (await hashFile(path)) === sha256) return { path, reused: true, linked: false, replaced: false };
    if (!overwrite) {
      throw new UploadError(`"${name}"`, `${path} already exists with other content; pass overwrite: true to replace it, or choose another name.`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temp = join(dir, `.${name}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`);
  let linked = true;
  try {
    try {
      await link(blob, temp);
    } catch {
      linked = false;
      await copyFile(blob, temp, constants.COPYFILE_FICLONE);
    }
    await commit(temp, path, overwrite, dir);
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof NameTakenError) throw new UploadError(`"${name}"`, `${path} appeared while it was being placed; try again.`);
    throw error;
  }
  return { path, reused: false, linked, replaced: existed };
}
