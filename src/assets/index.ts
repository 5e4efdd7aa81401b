export { AssetStore } from './store.js';
export { resolveModelFolders, applyExtraModelPaths, allowedRoots, mapLegacyKey, type FolderMap } from './folders.js';
export { checkFileName, splitSubfolder, resolveInside } from './safe-path.js';
export { JOURNAL_DIR_NAME } from './journal.js';
export type {
  AssetServerPaths,
  AssetStoreOptions,
  CleanupReport,
  ImageRef,
  RouteFolder,
  UploadClient,
  UploadedItem,
  UploadItem,
  UploadResponse,
} from './types.js';
