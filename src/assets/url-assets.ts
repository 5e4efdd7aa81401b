import type { RunResult } from '../client/index.js';
import { ModelCache, type ModelCacheOptions } from '../model-cache/model-cache.js';
import { loadManifest, type ModelSpec } from '../model-cache/manifest.js';
import type { FetchOptions, SourceKinds, TransferProgress } from '../sources/types.js';
import type { OutputStore } from '../stores/types.js';
import { storeOutputs, type StoredOutput } from './outputs-to-store.js';
import type { AssetStore } from './store.js';
import type { UploadedItem, UploadItem } from './types.js';
import { uploadWithUrls } from './url-sources.js';

/** The connector's settings for sources by URL, the model cache and models fetched at start. */
export interface SourceSettings {
  /** Fetch policy, per-host credentials, size limit, timeouts, retries (see FetchOptions). */
  fetch?: FetchOptions | undefined;
  /** The model cache (a ModelCache, or its options); default one in $COMFY_CONNECTOR_CACHE or ~/.cache. */
  modelCache?: ModelCache | ModelCacheOptions | undefined;
  /** Models to fetch and place before create()/launch() resolves: a list, or a manifest URL or file. */
  models?: ModelSpec[] | string | undefined;
}

/** runWorkflow's options for URL inputs and the output store. */
export interface RunAssetOptions {
  /** Write every output file to this store under runs/<runId>/<node>/<file>; the result lists them in `stored`. */
  store?: OutputStore | undefined;
  /** The run's name in store keys (default the prompt id). */
  runId?: string | undefined;
  /** Add presigned URLs to `stored` (S3). */
  presign?: boolean | { expiresInSeconds?: number } | undefined;
  /** Which kinds of `inputs` sources are allowed: `{ localPaths: false }` for input from the network. */
  sourceKinds?: SourceKinds | undefined;
  /** Download progress of URL inputs (bytes, rate, ETA). */
  onTransfer?: ((progress: TransferProgress) => void) | undefined;
}

export interface UploadDataOptions {
  /** `{ localPaths: false }` when the items came from the network. */
  kinds?: SourceKinds | undefined;
  onProgress?: ((progress: TransferProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** A run's result with its stored outputs (present when runWorkflow got a store). */
export type StoredRunResult = RunResult & { stored?: StoredOutput[] };

/** The facade's helper for everything by URL: uploads, models (cache + leases), outputs to a store. */
export class UrlAssets {
  private cacheInstance: ModelCache | undefined;

  constructor(private readonly settings: SourceSettings = {}) {}

  get cache(): ModelCache {
    const given = this.settings.modelCache;
    this.cacheInstance ??= given instanceof ModelCache ? given : new ModelCache({ ...given, ...(this.settings.fetch ? { fetch: { ...this.settings.fetch, ...given?.fetch } } : {}) });
    return this.cacheInstance;
  }

  upload(store: AssetStore, items: UploadItem[], options: UploadDataOptions & { onModelsChanged?: () => void } = {}): Promise<UploadedItem[]> {
    return uploadWithUrls(store, items, {
      fetch: this.settings.fetch,
      cache: items.some((i) => typeof i?.source === 'string' && !['input', 'output', 'temp'].includes(i.to)) ? this.cache : undefined,
      kinds: options.kinds,
      onProgress: options.onProgress,
      signal: options.signal,
      onModelsChanged: options.onModelsChanged,
    });
  }

  /** Fetches the configured models (list or manifest) into the cache and places them. */
  async fetchModels(store: AssetStore, onModelsChanged?: () => void): Promise<UploadedItem[]> {
    const models = this.settings.models;
    if (!models) return [];
    const list = typeof models === 'string' ? await loadManifest(models, this.settings.fetch ?? {}) : models;
    return this.upload(store, list.map((m) => ({ to: m.to, source: m.source, ...(m.name ? { name: m.name } : {}), ...(m.subfolder ? { subfolder: m.subfolder } : {}), ...(m.sha256 ? { sha256: m.sha256 } : {}) })), onModelsChanged ? { onModelsChanged } : {});
  }

  /** Keeps the cached models a prompt names from eviction while it runs; returns the release. */
  leaseFor(prompt: unknown): () => void {
    if (!this.cacheInstance) return () => undefined;
    const values: string[] = [];
    for (const node of Object.values((prompt ?? {}) as Record<string, { inputs?: Record<string, unknown> }>)) {
      for (const v of Object.values(node?.inputs ?? {})) if (typeof v === 'string') values.push(v);
    }
    return this.cacheInstance.leaseByPlacement(values);
  }

  async storeRun(result: RunResult, comfyUrl: string, options: RunAssetOptions, headers?: Record<string, string>): Promise<StoredRunResult> {
    if (!options.store) return result;
    const stored = await storeOutputs(result, options.store, comfyUrl, { runId: options.runId, presign: options.presign, headers });
    return Object.assign(result, { stored });
  }
}
