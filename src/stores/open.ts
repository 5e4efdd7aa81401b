import { FolderStore } from './folder-store.js';
import type { S3Connection } from './s3-client.js';
import { S3Store } from './s3-store.js';
import type { OutputStore } from './types.js';

/**
 * A store from one string, as the CLI and environment give it: `s3://bucket/prefix` (endpoint,
 * region and credentials from `connection` or the AWS_* environment) or a folder path. Local
 * callers only: a folder path from the network would let a caller write anywhere.
 */
export function openStore(spec: string, connection: S3Connection = {}): OutputStore {
  if (spec.startsWith('s3://')) {
    const rest = spec.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (!bucket) throw new TypeError(`"${spec}" names no bucket: use s3://BUCKET/PREFIX`);
    return new S3Store({ ...connection, bucket, prefix });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new TypeError(`"${spec}": an output store is a folder path or s3://BUCKET/PREFIX`);
  return new FolderStore({ root: spec });
}
