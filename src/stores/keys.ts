import { checkSegment } from '../assets/safe-path.js';
import { UnsafePathError } from '../errors.js';

/** The folder store keeps each object's MIME type and sha256 here; no key may enter it. */
export const META_DIR = '.comfy-store-meta';

/**
 * Validates a store key and returns its segments. A key is '/'-separated relative segments, each a
 * plain name (no '.', '..', empty segment, backslash, NUL or control character), at most 1024
 * bytes (S3's limit), so that no key escapes the folder or the bucket prefix.
 */
export function checkKey(key: string): string[] {
  if (typeof key !== 'string' || key.length === 0) throw new UnsafePathError(String(key), 'a store key must be a non-empty string');
  if (Buffer.byteLength(key) > 1024) throw new UnsafePathError(key.slice(0, 80), 'the store key is longer than 1024 bytes');
  if (key.startsWith('/')) throw new UnsafePathError(key, 'the store key is absolute');
  const segments = key.split('/');
  for (const s of segments) checkSegment(s, key, 'key segment');
  if (segments[0] === META_DIR) throw new UnsafePathError(key, `"${META_DIR}" is reserved for the store's own metadata`);
  return segments;
}

/** A key prefix ('' or 'a/b', given with or without a trailing '/'), validated like a key. */
export function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '' || prefix === '/') return '';
  const trimmed = prefix.replace(/\/+$/, '');
  checkKey(trimmed);
  return trimmed;
}

/** One safe key segment from any text (a node title, a file name from ComfyUI). */
export function keySegment(text: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = text.replace(/[\u0000-\u001f\u007f\\/]/g, '_').replace(/^\.+$/, '_').slice(0, 200);
  return cleaned === '' ? '_' : cleaned;
}
