/**
 * The fleet's wire contract: what a producer puts on the queue, what a worker reports while it runs,
 * and what it leaves as the result. Everything here is JSON-safe (it lives in Redis and travels over
 * SSE and HTTP). src/queue implements it on BullMQ; src/service only talks to the producer side.
 */
import type { ErrorJson } from '../error-policy.js';
import type { StoredObject } from '../stores/types.js';
import type { OutputFormat } from './output-format.js';

/** What a job asks for; the payload is a value (never a local path: it may come from the network). */
export interface JobSpec {
  /** A UI workflow or an API prompt, as parsed JSON. */
  workflow: Record<string, unknown>;
  /** `'KSampler.seed': 42`, `'6.text': 'a cat'`: by node id or title, as runWorkflow takes them. */
  overrides?: Record<string, unknown>;
  /** `'LoadImage.image'` → an http(s)/s3 URL, a data: URL, or `{ base64, filename }`. */
  inputs?: Record<string, JobInput>;
  /** Milliseconds one attempt may run on ComfyUI. */
  timeoutMs?: number;
  /** Epoch ms after which the job fails (also while it waits for a worker that can run it). */
  deadline?: number;
  /** Lower runs first (BullMQ's convention); default 0 = normal. */
  priority?: number;
  /** The same key gives the same job, never a second run. */
  idempotencyKey?: string;
  /** Routes the job only to workers whose servers have these. */
  requires?: { nodeClasses?: string[]; models?: Array<{ folder: string; name: string }> };
  /** Free-form labels the caller gets back (the service puts the API key's owner here). */
  meta?: Record<string, string>;
  /** Publish ComfyUI's live previews as `preview` events (base64 images in Redis: off by default). */
  previews?: boolean;
  /** Convert image outputs (kind image) to this format in the worker, before they are stored. */
  outputFormat?: OutputFormat;
}

export type JobInput = string | { base64: string; filename: string };

export type JobState = 'waiting' | 'active' | 'retrying' | 'completed' | 'failed' | 'cancelled';

/** The job's own record at completion, carried by its `completed` event: a waiter needs no read. */
export interface CompletedJobFacts {
  createdAt: number;
  startedAt?: number;
  finishedAt: number;
  attempts: number;
  meta?: Record<string, string>;
  progress?: JobStatus['progress'];
}

/** Progress events, each with a monotonically increasing `seq` per job (SSE ids, resume points). */
export type JobEvent = { seq: number; at: number; jobId: string } & (
  | { type: 'queued'; position: number }
  | { type: 'started'; worker: string; server: string; attempt: number }
  | { type: 'node'; node: string; classType?: string }
  | { type: 'progress'; node: string; value: number; max: number; overall: number }
  | { type: 'preview'; node?: string; mime: string; base64: string }
  | { type: 'retrying'; attempt: number; error: ErrorJson }
  | { type: 'completed'; result: JobResult; job?: CompletedJobFacts }
  | { type: 'failed'; error: ErrorJson }
  | { type: 'cancelled'; reason?: string }
);

export interface JobOutput {
  node: string;
  /** 'image' | 'animated' | 'video' | 'audio' | '3d' | 'latent' | 'text' | 'unknown'. */
  kind: string;
  filename: string;
  /** Present for files (absent for text): where the bytes are. */
  stored?: StoredObject;
  /** Text outputs inline; small files inline as base64 only under the documented limit. */
  text?: string;
  base64?: string;
  mime?: string;
}

export interface JobResult {
  jobId: string;
  promptId: string;
  worker: string;
  server: string;
  attempts: number;
  outputs: JobOutput[];
  nodeErrors?: Record<string, unknown>;
  timings: { queuedMs: number; runMs: number; storeMs: number };
}

export interface JobStatus {
  jobId: string;
  state: JobState;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  attempts: number;
  progress?: { node?: string; value?: number; max?: number; overall: number };
  result?: JobResult;
  error?: ErrorJson;
  meta?: Record<string, string>;
}
