import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { OutputFile, RunResult } from '../client/index.js';
import { StoreError } from '../errors.js';
import { keySegment } from '../stores/keys.js';
import { mimeOf } from '../stores/mime.js';
import type { OutputStore, StoredObject } from '../stores/types.js';

/** One output file as written to the store. */
export interface StoredOutput extends StoredObject {
  node: string;
  kind: OutputFile['kind'];
  filename: string;
  /** A presigned https URL (S3 stores, when asked for). */
  presignedUrl?: string;
}

export interface StoreOutputsOptions {
  /** Names the run in every key: `<prefix>/<runId>/<node>/<file>` (default the prompt id). */
  runId?: string | undefined;
  /** Default 'runs'. */
  prefix?: string | undefined;
  /** Add presigned GET URLs (S3), valid for expiresInSeconds (default 3600). */
  presign?: boolean | { expiresInSeconds?: number } | undefined;
  /** Headers for ComfyUI's /view (a remote server behind auth). */
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
}

/** The store key of one output file of a run. */
export function outputKey(runId: string, file: OutputFile, prefix = 'runs'): string {
  const parts = [prefix, runId, file.node, ...file.subfolder.split('/').filter(Boolean), file.filename].filter((p) => p !== '');
  return parts.map(keySegment).join('/');
}

/**
 * Streams every output file of a run (images, video, audio, 3D, latents — text stays inline in
 * `result.texts`) from ComfyUI's /view into the store, one file at a time, never whole in memory.
 */
export async function storeOutputs(result: RunResult, store: OutputStore, comfyUrl: string, options: StoreOutputsOptions = {}): Promise<StoredOutput[]> {
  const runId = options.runId ?? result.promptId;
  const stored: StoredOutput[] = [];
  for (const file of result.outputs) {
    if (file.kind === 'text') continue;
    const key = outputKey(runId, file, options.prefix);
    const view = new URL('/view', comfyUrl.endsWith('/') ? comfyUrl : `${comfyUrl}/`);
    view.search = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type }).toString();
    const res = await fetch(view, { ...(options.headers ? { headers: options.headers } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new StoreError(key, store.kind, `ComfyUI's /view answered ${res.status} for ${file.filename}`);
    }
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream);
    const object = await store.put(key, body, { mime: mimeOf(file.filename), ...(res.headers.get('content-length') ? { size: Number(res.headers.get('content-length')) } : {}) });
    const out: StoredOutput = { ...object, node: file.node, kind: file.kind, filename: file.filename };
    if (options.presign && store.publicUrl) {
      const expiresInSeconds = typeof options.presign === 'object' ? options.presign.expiresInSeconds : undefined;
      const url = await store.publicUrl(key, expiresInSeconds !== undefined ? { expiresInSeconds } : {});
      if (url) out.presignedUrl = url;
    }
    stored.push(out);
  }
  return stored;
}
