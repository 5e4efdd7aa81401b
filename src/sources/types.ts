import type { S3Connection } from '../stores/s3-client.js';

/** How to authenticate to one host. Never logged, never put into an error or an event. */
export type Credential =
  | { bearer: string }
  | { basic: { username: string; password: string } }
  | { header: { name: string; value: string } }
  /** For s3://BUCKET/... keys (key the map by "s3://BUCKET"). */
  | { s3: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };

/** One progress report of a transfer (also used for uploads to a store). */
export interface TransferProgress {
  /** The URL without credentials. */
  url: string;
  received: number;
  /** Total bytes when the server said (Content-Length), else undefined. */
  total: number | undefined;
  bytesPerSecond: number;
  /** Seconds left at the current rate, when the total is known. */
  etaSeconds: number | undefined;
  done: boolean;
}

/**
 * Which sources a caller may name. A string from the network (an HTTP body, a job from Redis) must
 * never be read as a local path: such callers pass `localPaths: false`.
 */
export interface SourceKinds {
  /** Local file paths (default true for a local caller, false for network input). */
  localPaths?: boolean | undefined;
  /** http(s):// and s3:// URLs (default true). */
  urls?: boolean | undefined;
}

export interface FetchOptions {
  /** Allow loopback, private, link-local and other internal addresses (default false). */
  allowPrivateNetwork?: boolean | undefined;
  /** By host ("example.com", "example.com:8443") or "s3://BUCKET". */
  credentials?: Record<string, Credential> | undefined;
  /** Where s3:// sources are read from (endpoint, region, keys); default the AWS_* environment. */
  s3?: S3Connection | undefined;
  /** Largest body accepted, in bytes (default 64 GiB). */
  maxBytes?: number | undefined;
  /** Until the TCP (and TLS) connection is up (default 10 s). */
  connectTimeoutMs?: number | undefined;
  /** Longest silence while waiting for headers or body bytes (default 30 s). */
  idleTimeoutMs?: number | undefined;
  /** Extra attempts after a transient failure (reset, timeout, 5xx, 429); default 3. */
  retries?: number | undefined;
  /** First backoff; doubles per attempt (default 500 ms). */
  retryDelayMs?: number | undefined;
  /** Default 5. */
  maxRedirects?: number | undefined;
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  /** Minimum milliseconds between progress reports (default 250). */
  progressIntervalMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Environment for credentials (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface FetchedFile {
  /** The URL as given, without credentials. */
  url: string;
  path: string;
  size: number;
  sha256: string;
  /** Content-Type the server sent, when it did. */
  mime: string | undefined;
  /** A file name from Content-Disposition or the URL's last segment, when there is one. */
  fileName: string | undefined;
  /** How many times the transfer was resumed with a Range request. */
  resumed: number;
}
