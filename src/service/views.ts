import type { Readable } from 'node:stream';
import type { ErrorJson } from '../error-policy.js';
import type { JobOutput, JobStatus } from '../queue/types.js';
import type { OutputStore } from '../stores/types.js';
import type { JobView } from './schemas.js';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** An error as callers see it: the server's log lines stay with the operator. */
export function publicError(error: ErrorJson): ErrorJson {
  const { logTail: _logTail, ...rest } = error;
  return rest;
}

export const jobPath = (id: string) => `/v1/jobs/${encodeURIComponent(id)}`;

export interface ViewOptions {
  store?: OutputStore | undefined;
  /** Embed file bytes as base64 up to this many bytes per file (0: never). */
  inlineMaxBytes?: number;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** One output as callers see it: kind, MIME type, size, sha256, a URL, and text or bytes inline. */
async function outputView(jobId: string, index: number, o: JobOutput, options: ViewOptions): Promise<NonNullable<JobView['outputs']>[number]> {
  const v: NonNullable<JobView['outputs']>[number] = { node: o.node, kind: o.kind, filename: o.filename };
  const mime = o.stored?.mime ?? o.mime;
  if (mime) v.mime = mime;
  if (o.stored) {
    v.size = o.stored.size;
    v.sha256 = o.stored.sha256;
    // This service streams it when it reaches the store; otherwise the store's own (presigned) URL.
    // A file:// URL would only tell a remote caller where the server keeps its files: never sent.
    const storeUrl = o.stored.url && /^https?:\/\//i.test(o.stored.url) ? o.stored.url : undefined;
    const url = options.store ? `${jobPath(jobId)}/outputs/${index}` : storeUrl;
    if (url) v.url = url;
  }
  if (o.text !== undefined) v.text = o.text;
  if (o.base64 !== undefined) v.base64 = o.base64;
  else if (o.stored && options.store && options.inlineMaxBytes && o.stored.size <= options.inlineMaxBytes) {
    v.base64 = (await readAll(await options.store.get(o.stored.key))).toString('base64');
  }
  return v;
}

export async function jobView(status: JobStatus, options: ViewOptions = {}): Promise<JobView> {
  const path = jobPath(status.jobId);
  const view: JobView = {
    id: status.jobId,
    state: status.state,
    createdAt: iso(status.createdAt)!,
    attempts: status.attempts,
    links: { self: path, events: `${path}/events`, cancel: `${path}/cancel` },
  };
  const started = iso(status.startedAt);
  if (started) view.startedAt = started;
  const finished = iso(status.finishedAt);
  if (finished) view.finishedAt = finished;
  if (status.progress) view.progress = status.progress;
  if (status.result) view.outputs = await Promise.all(status.result.outputs.map((o, i) => outputView(status.jobId, i, o, options)));
  if (status.error) view.error = publicError(status.error) as NonNullable<JobView['error']>;
  if (status.meta) {
    // Service bookkeeping stays inside.
    const meta = Object.fromEntries(Object.entries(status.meta).filter(([k]) => !k.startsWith('svc.')));
    if (Object.keys(meta).length) view.meta = meta;
  }
  return view;
}

/** The files of a finished job as bytes (the compatibility shapes answer with base64 images). */
export async function outputFiles(status: JobStatus, store: OutputStore | undefined): Promise<Array<{ output: JobOutput; data: Buffer }>> {
  const files: Array<{ output: JobOutput; data: Buffer }> = [];
  for (const o of status.result?.outputs ?? []) {
    if (o.base64 !== undefined) files.push({ output: o, data: Buffer.from(o.base64, 'base64') });
    else if (o.stored && store) files.push({ output: o, data: await readAll(await store.get(o.stored.key)) });
  }
  return files;
}
