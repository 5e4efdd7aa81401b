export { FolderStore, type FolderStoreOptions } from './folder-store.js';
export { S3Store, type S3StoreOptions } from './s3-store.js';
export type { S3Connection } from './s3-client.js';
export { openStore } from './open.js';
export { checkKey, normalizePrefix, keySegment } from './keys.js';
export { mimeOf } from './mime.js';
export type { OutputStore, PutOptions, StoredObject, StoreDescriptor } from './types.js';
