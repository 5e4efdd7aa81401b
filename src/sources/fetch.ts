import { SourceRefusedError } from '../errors.js';
import { download, type DownloadTarget } from './download.js';
import { httpOpener } from './http-source.js';
import { checkUrl } from './policy.js';
import { redactUrl } from './redact.js';
import { s3Opener } from './s3-source.js';
import type { FetchedFile, FetchOptions } from './types.js';

/** True for a string that names a URL source (http, https, s3) rather than a path or inline data. */
export function isUrlSource(value: unknown): value is string {
  return typeof value === 'string' && /^(https?|s3):\/\//i.test(value);
}

/** True for any "scheme://" string, fetchable or not (file://, ftp://...). */
export function looksLikeUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value);
}

/**
 * Whether private addresses may be fetched: the option, else COMFY_CONNECTOR_ALLOW_PRIVATE_URLS=1
 * in the environment (an operator's switch for a CLI or worker on a trusted network).
 */
export function allowsPrivateNetwork(options: Pick<FetchOptions, 'allowPrivateNetwork' | 'env'>): boolean {
  return options.allowPrivateNetwork ?? (options.env ?? process.env).COMFY_CONNECTOR_ALLOW_PRIVATE_URLS === '1';
}

/** Parses and checks a URL against the policy; throws SourceRefusedError naming it without credentials. */
export function parseSourceUrl(text: string, options: Pick<FetchOptions, 'allowPrivateNetwork' | 'env'> = {}): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SourceRefusedError(redactUrl(text), 'it is not a valid URL', 'Give an absolute http://, https:// or s3:// URL.');
  }
  checkUrl(url, allowsPrivateNetwork(options));
  return url;
}

/**
 * Fetches an http(s):// or s3:// URL into `target.path` (see download.ts for the guarantees).
 * Errors are typed (COMFY_SOURCE_*, COMFY_HASH_MISMATCH) and name the URL without credentials.
 */
export async function fetchToFile(source: string, target: DownloadTarget, given: FetchOptions = {}): Promise<FetchedFile> {
  const options: FetchOptions = { ...given, allowPrivateNetwork: allowsPrivateNetwork(given) };
  const url = parseSourceUrl(source, options);
  const shown = redactUrl(url);
  if (url.protocol === 's3:') {
    const s3 = s3Opener(url, options);
    try {
      return await download(s3.open, shown, target, options);
    } finally {
      s3.close();
    }
  }
  return download(httpOpener(url, options), shown, target, options);
}
