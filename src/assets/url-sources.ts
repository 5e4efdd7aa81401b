import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemoteUnsupportedError, UnknownFolderError, UploadError } from '../errors.js';
import type { ModelCache } from '../model-cache/model-cache.js';
import { placeModel } from '../model-cache/place.js';
import { fetchToFile, isUrlSource, looksLikeUrl, parseSourceUrl } from '../sources/fetch.js';
import { redactUrl } from '../sources/redact.js';
import type { FetchOptions, SourceKinds, TransferProgress } from '../sources/types.js';
import { mapLegacyKey } from './folders.js';
import { checkFileName } from './safe-path.js';
import type { AssetStore } from './store.js';
import type { UploadedItem, UploadItem } from './types.js';

const ROUTE = new Set(['input', 'output', 'temp']);

export interface UrlUploadOptions {
  /** How URLs are fetched (policy, credentials, limits, timeouts). */
  fetch?: FetchOptions | undefined;
  /** Where models by URL are kept and verified; without one, model URLs are refused. */
  cache?: ModelCache | undefined;
  /** Which sources the caller may name; `{ localPaths: false }` for anything that came from the network. */
  kinds?: SourceKinds | undefined;
  /** Progress of each download (bytes, rate, ETA). */
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Called once when at least one model file was placed (the next /object_info lists it). */
  onModelsChanged?: (() => void | Promise<void>) | undefined;
}

/** The file name a URL gives: its last path segment, decoded. */
export function nameFromUrl(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split('/').pop();
    // An encoded "/" (%2F) must not smuggle a folder into the name.
    return last ? decodeURIComponent(last).split(/[\\/]/).pop() || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses a source the caller may not name (a path from the network, a URL where none is allowed). */
export function checkSourceKind(source: unknown, kinds: SourceKinds | undefined, what: string): void {
  if (typeof source !== 'string') return;
  const url = looksLikeUrl(source);
  if (url && kinds?.urls === false) throw new UploadError(what, 'URLs are not accepted here.');
  if (!url && kinds?.localPaths === false) {
    throw new UploadError(what, 'a string from the network is never read as a local file: send the bytes, or an http(s):// or s3:// URL.');
  }
}

/**
 * AssetStore.upload with URL sources: images for the upload routes are fetched into a private
 * temporary folder and uploaded from there (then deleted); models by URL go through the verified
 * cache and are placed by hard link (or copy). Every item is checked (kind, URL policy, name, folder)
 * before anything is fetched or written.
 */
export async function uploadWithUrls(store: AssetStore, items: UploadItem[], options: UrlUploadOptions = {}): Promise<UploadedItem[]> {
  const fetchOptions: FetchOptions = { ...options.fetch, ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  const plans = items.map((item, index) => {
    const source = item?.source;
    const what = `item ${index}${typeof source === 'string' ? ` (${looksLikeUrl(source) ? redactUrl(source) : source})` : ''}`;
    checkSourceKind(item?.source, options.kinds, what);
    if (!isUrlSource(item?.source)) {
      if (typeof item?.source === 'string' && looksLikeUrl(item.source)) parseSourceUrl(item.source, fetchOptions); // file:, ftp: … → typed refusal
      return { item, index, url: undefined as string | undefined, name: item?.name };
    }
    parseSourceUrl(item.source as string, fetchOptions);
    const name = item.name ?? nameFromUrl(item.source as string);
    if (!name) throw new UploadError(what, 'the URL ends without a file name: set UploadItem.name.');
    checkFileName(name);
    if (!ROUTE.has(item.to)) {
      if (item.ephemeral) throw new UploadError(what, 'a model by URL is kept in the model cache and cannot be ephemeral.');
      if (!store.modelFolders) throw new RemoteUnsupportedError(`Placing the model "${name}" into "${item.to}"`);
      const folders = store.modelFolders.get(mapLegacyKey(item.to));
      if (!folders?.length) throw new UnknownFolderError(item.to, [...store.modelFolders.keys()]);
      if (!options.cache) throw new UploadError(what, 'models by URL need a model cache (CreateOptions.modelCache).');
    }
    return { item, index, url: item.source as string, name };
  });

  const results: Array<UploadedItem | undefined> = new Array(items.length);
  let temp: string | undefined;
  let modelsChanged = false;
  try {
    // Models first: they are the slow part, and a failure there should come before any upload.
    for (const plan of plans) {
      if (!plan.url || ROUTE.has(plan.item.to)) continue;
      const key = mapLegacyKey(plan.item.to);
      const cached = await options.cache!.get(plan.url, { sha256: plan.item.sha256, ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      const root = store.modelFolders!.get(key)![0]!;
      const placed = await placeModel(cached.path, cached.sha256, root, plan.item.subfolder, plan.name!, plan.item.overwrite === true);
      await options.cache!.addPlacement(cached.sha256, placed.path);
      if (!placed.reused) modelsChanged = true;
      const subfolder = plan.item.subfolder ?? '';
      results[plan.index] = {
        name: [subfolder, plan.name!].filter(Boolean).join('/'),
        folder: key,
        subfolder,
        filename: plan.name!,
        path: placed.path,
        ephemeral: false,
        ...(placed.reused ? { reused: true } : {}),
        ...(placed.replaced ? { replaced: true } : {}),
        url: cached.url,
        sha256: cached.sha256,
        size: cached.size,
        cached: cached.hit,
      };
    }
    const routed: Array<{ index: number; item: UploadItem; fetched?: { url: string; sha256: string; size: number } }> = [];
    for (const plan of plans) {
      if (results[plan.index]) continue;
      if (!plan.url) {
        routed.push({ index: plan.index, item: plan.item });
        continue;
      }
      temp ??= await mkdtemp(join(tmpdir(), 'comfy-connector-fetch-'));
      const path = join(temp, `${plan.index}-${plan.name}`);
      const got = await fetchToFile(plan.url, { path, sha256: plan.item.sha256 }, fetchOptions);
      const { sha256: _expected, ...rest } = plan.item;
      routed.push({ index: plan.index, item: { ...rest, source: path, name: plan.name! }, fetched: { url: got.url, sha256: got.sha256, size: got.size } });
    }
    if (routed.length) {
      const uploaded = await store.upload(routed.map((r) => r.item));
      routed.forEach((r, i) => {
        results[r.index] = { ...(uploaded[i] as UploadedItem), ...(r.fetched ?? {}) };
      });
    }
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
    if (modelsChanged && options.onModelsChanged) await options.onModelsChanged();
  }
  return results as UploadedItem[];
}

