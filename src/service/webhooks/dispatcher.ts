import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisConnection } from '../redis-connection.js';
import type { JobStatus } from '../../queue/types.js';
import type { JobBackend } from '../backend.js';
import { isTerminal } from '../backend.js';
import { checkWebhookUrl } from './target.js';
import { webhookHeaders } from './sign.js';

export type WebhookFormat = 'standard' | 'runpod' | 'salad';
export type WebhookEvent = 'completed' | 'failed' | 'cancelled';

export interface WebhookRegistration {
  url: string;
  events: WebhookEvent[];
  format: WebhookFormat;
}

interface DeliveryData {
  jobId: string;
  url: string;
  format: WebhookFormat;
  event: WebhookEvent;
}

export interface WebhookDispatcherOptions {
  backend: JobBackend;
  connection: RedisConnection;
  /** Key prefix in Redis (the same as the fleet's queue prefix keeps one namespace). */
  prefix: string;
  secret: string;
  /** Builds the body for one delivery from the job's final status. */
  payload: (status: JobStatus, format: WebhookFormat) => Promise<unknown>;
  allowPrivate?: boolean;
  /** Delivery attempts in all (default 10) and the first backoff (default 2 s, doubling). */
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  onDelivery?: (outcome: 'delivered' | 'retry' | 'gave-up') => void;
  log?: (line: string) => void;
}

const QUEUE = 'comfy-connector-webhooks';

/**
 * Delivers each job's webhook at least once, with a stable id, retried with exponential backoff,
 * durable across restarts: the registration lives in Redis until the delivery is queued on a BullMQ
 * queue of its own (deduplicated by job id), so a service killed between the job's end and the POST
 * delivers after it comes back. A failing receiver only ever fails its own delivery job.
 */
export class WebhookDispatcher {
  readonly #o: WebhookDispatcherOptions;
  readonly #redis: Redis;
  readonly #queue: Queue;
  #worker: Worker | undefined;
  readonly #following = new Map<string, AbortController>();
  #closed = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#o = options;
    this.#redis = new Redis({ ...options.connection, maxRetriesPerRequest: null } as never);
    // Errors surface on the commands (and are retried); an unhandled 'error' event would end the process.
    this.#redis.on('error', () => {});
    this.#queue = new Queue(QUEUE, { connection: { ...options.connection } as never, prefix: options.prefix });
    this.#queue.on('error', () => {});
  }

  get queue(): Queue {
    return this.#queue;
  }

  get #pendingKey(): string {
    return `${this.#o.prefix}:${QUEUE}:pending`;
  }

  /** Starts delivering, and resumes following every job whose webhook was not yet queued. */
  async start(): Promise<void> {
    this.#worker = new Worker<DeliveryData>(QUEUE, (job) => this.#deliver(job), {
      connection: { ...this.#o.connection, maxRetriesPerRequest: null } as never,
      prefix: this.#o.prefix,
      concurrency: 8,
    });
    this.#worker.on('failed', (job, err) => {
      const gaveUp = job && job.attemptsMade >= (job.opts.attempts ?? 1);
      this.#o.onDelivery?.(gaveUp ? 'gave-up' : 'retry');
      this.#o.log?.(`webhook for job ${job?.data.jobId ?? '?'} to ${job ? new URL(job.data.url).host : '?'}: ${err.message}${gaveUp ? ' (giving up)' : ' (will retry)'}`);
    });
    this.#worker.on('error', (err) => this.#o.log?.(`webhook worker: ${err.message}`));
    const pending = await this.#redis.hgetall(this.#pendingKey);
    for (const [jobId, raw] of Object.entries(pending)) this.#follow(jobId, JSON.parse(raw) as WebhookRegistration);
  }

  /** Checks the URL (400 when refused) before the job is queued. */
  async check(url: string, field?: string): Promise<void> {
    await checkWebhookUrl(url, this.#o.allowPrivate ?? false, field);
  }

  /** Records the webhook of a job just submitted; from here on its delivery survives a restart. */
  async register(jobId: string, registration: WebhookRegistration): Promise<void> {
    await this.#redis.hset(this.#pendingKey, jobId, JSON.stringify(registration));
    this.#follow(jobId, registration);
  }

  #follow(jobId: string, registration: WebhookRegistration): void {
    if (this.#following.has(jobId) || this.#closed) return;
    const abort = new AbortController();
    this.#following.set(jobId, abort);
    void (async () => {
      try {
        let status: JobStatus | undefined;
        while (!abort.signal.aborted) {
          status = await this.#o.backend.wait(jobId, 60_000, abort.signal);
          if (!status || isTerminal(status)) break;
        }
        if (abort.signal.aborted) return;
        if (status && registration.events.includes(status.state as WebhookEvent)) {
          const data: DeliveryData = { jobId, url: registration.url, format: registration.format, event: status.state as WebhookEvent };
          await this.#queue.add('deliver', data, {
            jobId: `wh-${jobId}`,
            attempts: this.#o.attempts ?? 10,
            backoff: { type: 'exponential', delay: this.#o.backoffMs ?? 2000 },
            removeOnComplete: { age: 86_400 },
            removeOnFail: { age: 7 * 86_400 },
          });
        }
        await this.#redis.hdel(this.#pendingKey, jobId);
      } catch (error) {
        if (!this.#closed) this.#o.log?.(`webhook follow of job ${jobId}: ${(error as Error).message}; retried on the next start`);
      } finally {
        this.#following.delete(jobId);
      }
    })();
  }

  async #deliver(job: Job<DeliveryData>): Promise<void> {
    const { jobId, url, format, event } = job.data;
    await checkWebhookUrl(url, this.#o.allowPrivate ?? false);
    const status = await this.#o.backend.status(jobId);
    if (!status) throw new Error(`job ${jobId} is gone; nothing to deliver`);
    // The follower saw it finished (the fleet writes the state before the event); a guard, with backoff.
    if (!isTerminal(status)) throw new Error(`job ${jobId} is still ${status.state}`);
    const body = JSON.stringify(await this.#o.payload(status, format));
    // The same id on every attempt lets the receiver drop duplicates (at-least-once delivery).
    const headers = webhookHeaders(this.#o.secret, `msg_${jobId}_${event}`, body);
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000) });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`the receiver answered ${res.status}`);
    this.#o.onDelivery?.('delivered');
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const a of this.#following.values()) a.abort();
    await this.#worker?.close();
    await this.#queue.close();
    this.#redis.disconnect();
  }
}
