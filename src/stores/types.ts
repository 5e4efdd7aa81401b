import type { Readable } from 'node:stream';

/**
 * Where output files go after a run: a folder (a shared volume) or an S3-compatible bucket.
 * The worker of the fleet (src/queue), `runWorkflow(…, { store })` and the service all write through
 * this interface; job results in Redis name files by store key, never carry their bytes.
 */
export interface StoredObject {
  /** The key within the store, e.g. `runs/<jobId>/<node>/<filename>`; '/'-separated, never absolute. */
  key: string;
  size: number;
  sha256: string;
  mime: string;
  /** Where a reader can fetch it: a file:// URL for a folder, s3://bucket/key or a presigned https URL. */
  url?: string;
}

export interface PutOptions {
  mime: string;
  /** Known in advance (lets S3 skip multipart for small bodies). */
  size?: number;
}

export interface OutputStore {
  /** 'folder' | 's3'. */
  readonly kind: string;
  /** Writes body under key, replacing what is there (idempotent: a retried job writes the same key). */
  put(key: string, body: Readable | Buffer, options: PutOptions): Promise<StoredObject>;
  /** The object's bytes as a stream; rejects with a typed not-found error when absent. */
  get(key: string): Promise<Readable>;
  /** Metadata, or undefined when absent. */
  head(key: string): Promise<StoredObject | undefined>;
  delete(key: string): Promise<void>;
  /**
   * Makes ready what keys under `prefix` will need (a folder store creates the folders), so that a
   * later put starts writing at once; release(prefix) undoes what stayed unused. Optional: a store
   * without it needs nothing ahead.
   */
  prepare?(prefix: string): Promise<void>;
  release?(prefix: string): Promise<void>;
  /** A URL a caller without credentials can fetch (presigned for S3); undefined where there is none. */
  publicUrl?(key: string, options?: { expiresInSeconds?: number }): Promise<string | undefined>;
  /** A JSON-safe description without credentials, so a worker can report where results went. */
  describe(): StoreDescriptor;
}

export type StoreDescriptor =
  | { kind: 'folder'; root: string }
  | { kind: 's3'; bucket: string; prefix?: string; endpoint?: string; region?: string };
