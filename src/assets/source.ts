import { openAsBlob } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { UploadError } from '../errors.js';
import { contentOfBuffer, contentOfFile, type ContentId } from './atomic.js';
import type { UploadItem } from './types.js';

/** The file name an item gets: its own name, else the basename of a path source. */
export function itemName(item: UploadItem): string {
  if (item.name !== undefined) return item.name;
  if (typeof item.source === 'string') return basename(item.source);
  throw new UploadError('a Buffer or stream', 'it has no name: set UploadItem.name (e.g. "cat.png").');
}

export function describeItem(item: UploadItem): string {
  const name = item.name ?? (typeof item.source === 'string' ? item.source : '(unnamed data)');
  return `"${name}" to ${item.to}${item.subfolder ? `/${item.subfolder}` : ''}`;
}

export function checkSource(item: UploadItem): void {
  const s = item.source as unknown;
  if (typeof s === 'string' || Buffer.isBuffer(s) || s instanceof Readable) return;
  throw new UploadError(describeItem(item), 'source must be a file path, a Buffer or a Readable stream.');
}

/** Reads a whole source into memory (images and masks are small; models never go this way). */
export async function readSource(source: UploadItem['source']): Promise<Buffer> {
  if (typeof source === 'string') return readFile(source);
  if (Buffer.isBuffer(source)) return source;
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/**
 * The bytes to send through an upload route, and their identity for collision checks. A path is
 * sent as a file-backed Blob (not read into memory); a stream is collected (it can be read once).
 */
export async function routePayload(source: UploadItem['source']): Promise<{ data: Buffer | Blob; content: ContentId }> {
  if (typeof source === 'string') {
    if (!(await stat(source)).isFile()) throw new Error(`${source} is not a file`);
    return { data: await openAsBlob(source), content: await contentOfFile(source) };
  }
  const data = await readSource(source);
  return { data, content: contentOfBuffer(data) };
}
