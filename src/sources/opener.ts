import type { Readable } from 'node:stream';
import type { RawBody } from './http-raw.js';

/** What one attempt asks for: the bytes from `offset` on, if the object is still `validator`. */
export interface OpenRequest {
  offset: number;
  /** ETag or Last-Modified of the earlier attempt, so a changed object restarts from 0. */
  validator: string | undefined;
  signal: AbortSignal | undefined;
}

export interface Opened {
  stream: Readable;
  /** The same body, readable straight into the download's blocks (plain http; see http-raw.ts). */
  direct?: RawBody | undefined;
  /** True when the body starts at the requested offset (206 / ranged GET); false: from byte 0. */
  partial: boolean;
  /** Size of the whole object when known. */
  total: number | undefined;
  mime: string | undefined;
  fileName: string | undefined;
  validator: string | undefined;
}

/**
 * Opens one transfer attempt. Throws a typed ComfyError for a final failure or a TransientError
 * for one worth retrying; the download loop (download.ts) owns retries, resume and the file.
 */
export type Opener = (request: OpenRequest) => Promise<Opened>;
