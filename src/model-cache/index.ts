export { ModelCache, defaultCacheDir, type ModelCacheOptions, type CachedModel, type CacheGetOptions } from './model-cache.js';
export { placeModel, type Placement } from './place.js';
export { loadManifest, parseManifest, type ModelSpec } from './manifest.js';
export type { CacheRecord } from './cache-index.js';
