import { createHash } from 'node:crypto';
import type { BinaryBodyDescription } from './steps.js';

/**
 * Turns a response body into what a fixture stores: parsed JSON for JSON content types,
 * text for textual ones, and a {contentType, length, sha256} description for anything
 * binary (images from /view), so fixtures never hold image bytes.
 */
export function describeHttpBody(contentType: string, bytes: Buffer): unknown {
  if (bytes.length === 0) return '';
  const type = contentType.toLowerCase();
  if (type.includes('json')) {
    const text = bytes.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  if (type.startsWith('text/') || type.includes('javascript') || type.includes('xml')) {
    return bytes.toString('utf8');
  }
  return describeBinary(contentType, bytes);
}

export function describeBinary(contentType: string, bytes: Buffer): BinaryBodyDescription {
  return { contentType, length: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}
