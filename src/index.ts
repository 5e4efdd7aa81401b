/** comfy-connector: every public export, by area. */
export {
  ComfyConnector,
  type ConnectOptions,
  type ConversionMode,
  type CreateOptions,
  type RunWorkflowOptions,
  type WorkflowInput,
} from './connector.js';
export * from './errors.js';
export { ComfyServer, type ServerOptions, type ServerPaths, type LogMode } from './server/index.js';
export { locateComfyUI, describeLocation, type ComfyLocation, type SearchStep } from './server/index.js';
export { Preloader, PreloadUnavailable, DEFAULT_PRELOAD_MODULES, type PreloaderOptions, type PreloadInfo } from './server/index.js';
export {
  ComfyClient,
  decodeBinaryFrame,
  type ClientOptions,
  type OutputFile,
  type OutputKind,
  type RunEvent,
  type RunOptions,
  type RunResult,
} from './client/index.js';
export {
  applyOverrides,
  BrowserConverter,
  convertWorkflow,
  DefinitionsCache,
  isApiPrompt,
  isUiWorkflow,
  NodeDefinitions,
  parseWorkflowInput,
  type ApiPrompt,
  type ObjectInfo,
  type UiWorkflow,
} from './workflow/index.js';
export { AssetStore, type UploadedItem, type UploadItem } from './assets/index.js';
export { uploadWithUrls, checkSourceKind, type UrlUploadOptions } from './assets/url-sources.js';
export { storeOutputs, outputKey, type StoredOutput, type StoreOutputsOptions } from './assets/outputs-to-store.js';
export type { SourceSettings, RunAssetOptions, UploadDataOptions, StoredRunResult } from './assets/url-assets.js';
export { fetchToFile, isUrlSource, redactUrl, isInternalAddress, type Credential, type FetchedFile, type FetchOptions, type SourceKinds, type TransferProgress } from './sources/index.js';
export { ModelCache, placeModel, loadManifest, parseManifest, type ModelCacheOptions, type CachedModel, type ModelSpec } from './model-cache/index.js';
export { FolderStore, S3Store, openStore, type FolderStoreOptions, type S3StoreOptions, type S3Connection, type OutputStore, type StoredObject, type PutOptions, type StoreDescriptor } from './stores/index.js';
export {
  ComfyQueue,
  ComfyWorker,
  JobHandle,
  RedisServer,
  type ComfyQueueOptions,
  type ComfyWorkerOptions,
  type SubmitOptions,
  type ServerSpec,
  type JobSpec,
  type JobInput,
  type JobEvent,
  type JobResult,
  type JobOutput,
  type JobStatus,
  type JobState,
  type WorkerAd,
} from './queue/index.js';
// The HTTP service is started by `comfy-connector api` (src/service/start.ts); a webhook receiver
// verifies its deliveries with these (Standard Webhooks).
export { verifyWebhook, signWebhook, newWebhookSecret } from './service/webhooks/sign.js';
