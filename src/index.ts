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
