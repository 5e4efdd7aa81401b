import { createHash } from 'node:crypto';
import type { JobSpec, JobStatus } from '../queue/types.js';
import type { Caller } from './auth.js';
import { canSee } from './auth.js';
import type { JobBackend } from './backend.js';
import { BadRequestError, IdempotencyConflictError, JobNotFoundError, RateLimitedError } from './errors.js';
import type { ServiceMetrics } from './metrics.js';
import type { SubmitBody } from './schemas.js';
import type { WebhookDispatcher, WebhookRegistration } from './webhooks/dispatcher.js';

export interface Limits {
  /** Largest JSON body, bytes. */
  bodyBytes: number;
  /** Largest file inlined as base64 in a result, bytes. */
  inlineBytes: number;
  /** Submissions are refused (503) and /ready fails while this many jobs wait. */
  queueDepth: number;
  /** Longest `wait` a request may hold a connection, seconds. */
  waitSeconds: number;
}

/** Service bookkeeping in a job's meta (hidden from callers). */
export const META_OWNER = 'svc.owner';
export const META_HASH = 'svc.bodyHash';
export const META_INLINE = 'svc.inline';

/** Canonical JSON (sorted keys): the same body in another key order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Everything a route needs: the backend, the policies, the one submit path every shape goes through. */
export class ServiceContext {
  constructor(
    readonly backend: JobBackend,
    readonly limits: Limits,
    readonly metrics: ServiceMetrics,
    readonly webhooks: WebhookDispatcher | undefined,
  ) {}

  #depth: { at: number; value: Promise<number> } | undefined;

  /** Jobs waiting, read at most every 500 ms: the depth limit needs no precision, submits need speed. */
  #waiting(): Promise<number> {
    const now = Date.now();
    if (!this.#depth || now - this.#depth.at > 500) {
      const value = this.backend.counts().then((c) => c.waiting);
      value.catch(() => { this.#depth = undefined; });
      this.#depth = { at: now, value };
    }
    return this.#depth.value;
  }

  /** A job the caller may see, or 404 (another owner's job looks exactly like a missing one). */
  async visibleJob(caller: Caller, jobId: string): Promise<JobStatus> {
    const status = await this.backend.status(jobId).catch((error: unknown) => {
      if ((error as { code?: string }).code === 'COMFY_JOB_NOT_FOUND') return undefined;
      throw error;
    });
    if (!status || !canSee(caller, status.meta?.[META_OWNER])) throw new JobNotFoundError(jobId);
    return status;
  }

  /**
   * The one path from any request shape to the queue: depth limit, webhook check, idempotency
   * (same key and body → same job; same key, other body → 409), owner scoping.
   */
  async submit(caller: Caller, body: Omit<SubmitBody, 'wait'>, options: { idempotencyKey?: string | undefined; webhook?: WebhookRegistration | undefined }): Promise<{ jobId: string; created: boolean; status: JobStatus }> {
    const waiting = await this.#waiting();
    if (waiting >= this.limits.queueDepth) throw new RateLimitedError(waiting, this.limits.queueDepth);
    if (options.webhook) {
      if (!this.webhooks) throw new BadRequestError('This service sends no webhooks (it was started without Redis for them).', [{ field: '/body/webhook', message: 'not available' }]);
      await this.webhooks.check(options.webhook.url);
    }
    const hash = sha256(canonical({ body, webhook: options.webhook ?? null }));
    const key = options.idempotencyKey;
    if (key !== undefined && (key.length < 1 || key.length > 255 || /[^\x21-\x7e]/.test(key))) {
      throw new BadRequestError('The Idempotency-Key header must be 1–255 printable ASCII characters without spaces.', [{ field: '/headers/idempotency-key', message: 'invalid' }]);
    }
    const spec: JobSpec = {
      workflow: body.workflow,
      ...(body.overrides ? { overrides: body.overrides } : {}),
      ...(body.inputs ? { inputs: body.inputs } : {}),
      ...(body.timeout !== undefined ? { timeoutMs: Math.round(body.timeout * 1000) } : {}),
      ...(body.deadline !== undefined ? { deadline: Date.parse(body.deadline) } : {}),
      ...(body.priority !== undefined ? { priority: body.priority } : {}),
      ...(body.requires ? { requires: body.requires as NonNullable<JobSpec['requires']> } : {}),
      ...(body.previews ? { previews: true } : {}),
      ...(body.outputs?.format ? { outputFormat: { format: body.outputs.format, ...(body.outputs.quality !== undefined ? { quality: body.outputs.quality } : {}) } } : {}),
      // Keys are per owner: two callers using the same key get two jobs.
      ...(key !== undefined ? { idempotencyKey: `idem-${sha256(`${caller.name}\0${key}`).slice(0, 40)}` } : {}),
      meta: {
        ...(body.meta ?? {}),
        [META_OWNER]: caller.name,
        [META_HASH]: hash,
        ...(body.outputs?.inline ? { [META_INLINE]: String(Math.min(body.outputs.inlineMaxBytes ?? this.limits.inlineBytes, this.limits.inlineBytes)) } : {}),
      },
    };
    const createdAt = Date.now();
    const submitted = await this.backend.submit(spec);
    // A new job is waiting (no need to ask); a replayed one is whatever it has become.
    let status: JobStatus = { jobId: submitted.jobId, state: 'waiting', createdAt, attempts: 0, meta: spec.meta! };
    if (!submitted.created) {
      const existing = await this.backend.status(submitted.jobId);
      if (existing && existing.meta?.[META_HASH] !== hash) throw new IdempotencyConflictError(key ?? '', submitted.jobId);
      if (existing) status = existing;
    } else if (options.webhook) {
      await this.webhooks!.register(submitted.jobId, options.webhook);
    }
    this.metrics.submitted.inc({ outcome: submitted.created ? 'created' : 'replayed' });
    return { ...submitted, status };
  }

  /** Bytes to inline per file for this job's result views (0: none). */
  inlineFor(status: JobStatus, requested?: boolean): number {
    if (requested) return this.limits.inlineBytes;
    const n = Number(status.meta?.[META_INLINE] ?? 0);
    return Number.isFinite(n) ? n : 0;
  }
}
