export { fetchToFile, isUrlSource, looksLikeUrl, parseSourceUrl, allowsPrivateNetwork } from './fetch.js';
export { redactUrl } from './redact.js';
export { isInternalAddress } from './policy.js';
export { envNameFor } from './credentials.js';
export type { Credential, FetchedFile, FetchOptions, SourceKinds, TransferProgress } from './types.js';
