import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { UnsafePathError } from '../errors.js';

/** Names we use for our own temporary and backup files; a user name must not look like one. */
export const PARTIAL_SUFFIX = '.comfy-connector-partial';
export const BACKUP_SUFFIX = '.comfy-connector-backup';

// Control characters (NUL included) never belong in a file name we hand to ComfyUI.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const DRIVE = /^[a-zA-Z]:/;

/** Checks one path segment (a file name, or one folder of a subfolder). Throws UnsafePathError. */
export function checkSegment(segment: string, whole: string, what: string): void {
  if (segment.length === 0) throw new UnsafePathError(whole, `the ${what} is empty`);
  if (segment.includes('\0')) throw new UnsafePathError(whole, `the ${what} contains a NUL byte`);
  if (CONTROL.test(segment)) throw new UnsafePathError(whole, `the ${what} contains a control character`);
  if (segment.includes('\\')) throw new UnsafePathError(whole, `the ${what} contains a backslash (Windows separator)`);
  if (segment.includes('/')) throw new UnsafePathError(whole, `the ${what} contains a "/"`);
  if (DRIVE.test(segment)) throw new UnsafePathError(whole, `the ${what} starts with a drive letter`);
  if (segment === '.' || segment === '..') throw new UnsafePathError(whole, `the ${what} is "${segment}"`);
  if (Buffer.byteLength(segment) > 255) throw new UnsafePathError(whole, `the ${what} is longer than 255 bytes`);
  if (segment.endsWith(PARTIAL_SUFFIX) || segment.includes(BACKUP_SUFFIX)) {
    throw new UnsafePathError(whole, `the ${what} looks like one of comfy-connector's own temporary files`);
  }
}

/** Validates a file name: one plain segment. */
export function checkFileName(name: string): void {
  if (typeof name !== 'string') throw new UnsafePathError(String(name), 'the file name is not a string');
  checkSegment(name, name, 'file name');
}

/**
 * Validates a subfolder and returns its segments. '' means none. A leading "/" (absolute), "..",
 * ".", empty segments ("a//b"), backslashes, drive letters and NUL bytes are refused.
 */
export function splitSubfolder(subfolder: string | undefined): string[] {
  if (subfolder === undefined || subfolder === '') return [];
  if (typeof subfolder !== 'string') throw new UnsafePathError(String(subfolder), 'the subfolder is not a string');
  if (subfolder.includes('\0')) throw new UnsafePathError(subfolder, 'the subfolder contains a NUL byte');
  if (isAbsolute(subfolder) || subfolder.startsWith('/')) throw new UnsafePathError(subfolder, 'the subfolder is an absolute path');
  const trimmed = subfolder.endsWith('/') ? subfolder.slice(0, -1) : subfolder;
  const segments = trimmed.split('/');
  for (const s of segments) checkSegment(s, subfolder, 'subfolder');
  return segments;
}

/** True when `child` is `root` or below it, lexically. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** True when `child` is strictly below `root`, lexically. */
export function isStrictlyInside(root: string, child: string): boolean {
  return child !== root && isInside(root, child);
}

async function realOrSelf(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

/**
 * Walks the existing part of `target`'s parent chain below `root` and refuses when a folder is a
 * symlink that leads out of the root (or is not a folder), and when the target itself exists as a
 * symlink leading out (ComfyUI's upload route writes through it). Nothing is created here.
 */
export async function checkRealChain(root: string, target: string, shown: string): Promise<void> {
  const rel = relative(root, target);
  const parts = rel.split(sep).filter((p) => p !== '');
  let rootReal: string | undefined; // resolved only when a symlink needs it
  let current = root;
  for (let i = 0; i < parts.length; i++) {
    current = join(current, parts[i] as string);
    const last = i === parts.length - 1;
    let info;
    try {
      info = await lstat(current);
    } catch {
      return; // the rest of the chain does not exist yet: it will be created by us, as real folders
    }
    // A real folder below checked ones is inside the root: one lstat per level is the whole check.
    if (!info.isSymbolicLink()) {
      if (!last && !info.isDirectory()) throw new UnsafePathError(shown, `${current} exists and is not a folder`);
      continue;
    }
    const real = await realOrSelf(current);
    rootReal ??= await realOrSelf(root);
    if (!isInside(rootReal, real) && !isInside(root, real)) {
      throw new UnsafePathError(shown, `${current} is a symlink that leads out of ${root} (to ${real})`);
    }
    if (!last) {
      let isDir = false;
      try {
        isDir = (await lstat(real)).isDirectory();
      } catch {
        isDir = false;
      }
      if (!isDir) throw new UnsafePathError(shown, `${current} exists and is not a folder`);
    }
  }
}

/**
 * Resolves root/subfolder/name after validating each part; the result is absolute, normalised and
 * strictly inside root, and no existing symlink on the way leads out of it.
 */
export async function resolveInside(root: string, subfolder: string | undefined, name: string): Promise<{ dir: string; path: string }> {
  checkFileName(name);
  const segments = splitSubfolder(subfolder);
  const dir = normalize(join(root, ...segments));
  const path = join(dir, name);
  if (!isStrictlyInside(root, path)) throw new UnsafePathError(join(subfolder ?? '', name), `it resolves outside ${root}`);
  await checkRealChain(root, path, segments.length ? `${segments.join('/')}/${name}` : name);
  return { dir, path };
}
