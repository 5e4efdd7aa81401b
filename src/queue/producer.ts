/**
 * ComfyQueue, the producer: submits jobs (checked first; nothing invalid is queued), finds them by
 * id, follows their event log, waits for results and cancels. It never runs anything; workers do
 * (src/queue/worker.ts). Everything it returns is JSON-safe (the service sends it as is).
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { errorFromJson, serializeError } from '../error-policy.js';
import { appendEvent, claimAndQueue, EventFollow, isTerminalEvent, lastEvents, parseNotice, readEvents } from './event-log.js';
import { JobCancelledError, JobNotFoundError } from './errors.js';
import { openRedis, QueueObjects, withReconnect, type RedisTarget } from './connection.js';
import { expireWaiting } from './deadlines.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, checkJobId, fleetKeys, queueFor, type FleetKeys } from './names.js';
import { readFinal, readResult, writeFinal } from './records.js';
import { isJobSpec, normalizeSpec, specFrom, type SubmitOptions } from './spec.js';
import type { CompletedJobFacts, JobEvent, JobResult, JobSpec, JobState, JobStatus } from './types.js';
import { liveWorkers, type WorkerAd } from './worker-registry.js';

export interface ComfyQueueOptions {
  /** A redis:// URL or ioredis options. */
  redis: RedisTarget;
  /** The base queue name (jobs with requirements go to `<queue>.r-<hash>`). Default 'comfy-jobs'. */
  queue?: string;
  /** Key prefix in Redis. Default 'comfy'. */
  prefix?: string;
  /** Attempts per job for retryable failures (crashes, lost servers). Default 3. */
  attempts?: number;
  /** First retry delay, doubled each time. Default 1000 ms. */
  backoffMs?: number;
  /**
   * How long finished jobs, results, event logs and idempotency keys are kept. Default 24 h.
   * The same idempotency key gives the same job only within this window.
   */
  retentionMs?: number;
}

/** The data a BullMQ job carries. */
export interface QueuedJobData {
  spec: JobSpec;
  /** The fleet's base queue name (the job may sit in a requirement queue). */
  base: string;
}

export interface EventsOptions {
  /** Resume after this seq (an SSE Last-Event-ID). Default 0: from the first event. */
  fromSeq?: number;
  signal?: AbortSignal;
}

export interface ListOptions {
  states?: JobState[];
  /** Most recent first; default 50. */
  limit?: number;
}

export type CancelOutcome = 'removed' | 'signalled' | 'finished';

const TERMINAL = new Set<JobState>(['completed', 'failed', 'cancelled']);

/** Routes remembered per producer (a few hundred bytes each). */
const ROUTE_CACHE_SIZE = 10_000;

/** A submitted job: its id, and the ways to follow it. Obtained from submit() or ComfyQueue.handle(). */
export class JobHandle {
  constructor(
    readonly queue: ComfyQueue,
    readonly id: string,
    /** False when the idempotency key named a job that already existed (nothing new was queued). */
    readonly created: boolean,
  ) {}
  status(): Promise<JobStatus> {
    return this.queue.status(this.id);
  }
  events(options?: EventsOptions): AsyncIterable<JobEvent> {
    return this.queue.events(this.id, options);
  }
  result(options?: { signal?: AbortSignal }): Promise<JobResult> {
    return this.queue.result(this.id, options);
  }
  cancel(reason?: string): Promise<CancelOutcome> {
    return this.queue.cancel(this.id, reason);
  }
}

export class ComfyQueue {
  readonly keys: FleetKeys;
  readonly base: string;
  readonly prefix: string;
  readonly retentionMs: number;
  readonly #options: ComfyQueueOptions;
  readonly #redis: Redis;
  readonly #queues: QueueObjects;
  #subscriber: Redis | undefined;
  #subscribed: Promise<void> | undefined;
  readonly #waiters = new Map<string, Set<(event?: JobEvent) => void>>();
  /** Queue names of jobs submitted here, newest last: a follow-up read skips the route lookup. */
  readonly #routes = new Map<string, string>();
  #closed = false;

  constructor(options: ComfyQueueOptions) {
    this.#options = options;
    this.base = options.queue ?? DEFAULT_QUEUE;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.keys = fleetKeys(this.prefix, this.base);
    this.retentionMs = options.retentionMs ?? 24 * 3600 * 1000;
    this.#redis = openRedis(options.redis, { role: 'producer' });
    this.#queues = new QueueObjects(this.#redis, this.prefix);
  }

  /** The Redis connection (for the service's health check). */
  get redis(): Redis {
    return this.#redis;
  }

  /** The BullMQ Queue object of one (base or requirement) queue, e.g. for a dashboard. */
  bullQueue(name = this.base): Queue {
    return this.#queues.get(name);
  }

  /** Every BullMQ queue of this fleet: the base queue and one per requirement profile seen so far. */
  async queueNames(): Promise<string[]> {
    const profiles = await this.#redis.hkeys(this.keys.profiles);
    return [this.base, ...profiles.map((p) => `${this.base}.r-${p}`)];
  }

  /**
   * Queues a job. `input` is a JobSpec, a workflow or prompt object, JSON text, or a local file path
   * read here, on the producer's side (never pass a string from the network: parse it first).
   * Invalid input throws the typed error runWorkflow would (nothing is queued).
   */
  async submit(input: JobSpec | Record<string, unknown> | string, options: SubmitOptions = {}): Promise<JobHandle> {
    let spec: JobSpec;
    if (typeof input === 'string') {
      const text = input.trimStart().startsWith('{') ? input : await readFile(input, 'utf8');
      spec = specFrom(JSON.parse(text) as Record<string, unknown>, options);
    } else if (isJobSpec(input)) {
      const extra = specFrom(input.workflow, options);
      spec = { ...input, ...extra };
      if (input.inputs || extra.inputs) spec.inputs = { ...input.inputs, ...extra.inputs };
    } else {
      spec = specFrom(input, options);
    }
    return this.submitSpec(spec);
  }

  /** Queues a JobSpec as it is (the service's path: the spec came from a request body). */
  async submitSpec(raw: JobSpec): Promise<JobHandle> {
    const spec = normalizeSpec(raw);
    const jobId = spec.idempotencyKey ?? `job-${randomUUID()}`;
    const queueName = queueFor(this.base, spec.requires);
    return withReconnect(async () => {
      const queue = this.bullQueue(queueName);
      // The id claimed and 'queued' logged with its position in one round trip. 'queued' goes
      // first: a worker may take the job the instant it is added.
      const waiting = { wait: queue.toKey('wait'), prioritized: queue.toKey('prioritized'), delayed: queue.toKey('delayed') };
      const position = await claimAndQueue(this.#redis, this.keys, jobId, queueName, waiting, this.retentionMs);
      const fresh = position !== undefined;
      if (!fresh) {
        // The same key: the same job. Re-add only when a submit died between claiming and queueing
        // (a re-add is not a new job: no second 'queued').
        const existing = await this.#find(jobId);
        if (existing.job || existing.final || existing.result) return new JobHandle(this, jobId, false);
      }
      if (spec.requires) {
        await this.#redis.hset(this.keys.profiles, queueName.slice(this.base.length + 3), JSON.stringify(spec.requires));
      }
      const data: QueuedJobData = { spec, base: this.base };
      const retentionSec = Math.ceil(this.retentionMs / 1000);
      await queue.add('comfy', data, {
        jobId,
        // Every job is prioritised, so explicit and default priorities order together (lower first).
        priority: 1_000_001 + (spec.priority ?? 0),
        attempts: this.#options.attempts ?? 3,
        backoff: { type: 'exponential', delay: this.#options.backoffMs ?? 1000 },
        removeOnComplete: { age: retentionSec },
        removeOnFail: { age: retentionSec },
      });
      await Promise.all([
        spec.deadline !== undefined ? this.#redis.zadd(this.keys.deadlines, spec.deadline, jobId) : undefined,
        this.#redis.publish(this.keys.wakeChannel, queueName),
      ]);
      this.#remember(jobId, queueName);
      return new JobHandle(this, jobId, fresh);
    });
  }

  /** A handle for a job submitted earlier (by this or another producer). */
  handle(jobId: string): JobHandle {
    return new JobHandle(this, checkJobId(jobId), false);
  }

  /** The BullMQ job, or undefined when it is gone (finished past retention, cancelled while waiting). */
  async get(jobId: string): Promise<Job<QueuedJobData, JobResult> | undefined> {
    return (await this.#find(jobId)).job;
  }

  #remember(jobId: string, queueName: string): void {
    this.#routes.delete(jobId);
    this.#routes.set(jobId, queueName);
    if (this.#routes.size > ROUTE_CACHE_SIZE) this.#routes.delete(this.#routes.keys().next().value as string);
  }

  async #queueNameOf(jobId: string): Promise<string> {
    return this.#routes.get(jobId) ?? (await this.#redis.get(this.keys.route(jobId))) ?? this.base;
  }

  async #find(jobId: string): Promise<{ job?: Job<QueuedJobData, JobResult>; queueName: string; final?: Awaited<ReturnType<typeof readFinal>>; result?: JobResult }> {
    const queueName = await this.#queueNameOf(jobId);
    const job = (await this.bullQueue(queueName).getJob(jobId)) as Job<QueuedJobData, JobResult> | undefined;
    if (job) return { job, queueName };
    const final = await readFinal(this.#redis, this.keys, jobId);
    const result = final ? undefined : await readResult(this.#redis, this.keys, jobId);
    return { queueName, ...(final ? { final } : {}), ...(result ? { result } : {}) };
  }

  /** Where the job stands; throws JobNotFoundError when there is no such job (any more). */
  async status(jobId: string): Promise<JobStatus> {
    checkJobId(jobId);
    return withReconnect(async () => {
      const found = await this.#find(jobId);
      if (!found.job) {
        if (found.final) {
          const f = found.final;
          return {
            jobId,
            state: f.state,
            createdAt: f.createdAt ?? f.finishedAt,
            finishedAt: f.finishedAt,
            attempts: f.attempts ?? 0,
            ...(f.error ? { error: f.error } : {}),
            ...(f.meta ? { meta: f.meta } : {}),
          };
        }
        if (found.result) return { jobId, state: 'completed', createdAt: 0, attempts: found.result.attempts, result: found.result };
        throw new JobNotFoundError(jobId);
      }
      const job = found.job;
      const spec = job.data.spec;
      let bullState = await job.getState();
      if ((bullState === 'waiting' || bullState === 'prioritized' || bullState === 'delayed') && spec.deadline !== undefined && spec.deadline < Date.now()) {
        if (await expireWaiting(this.#redis, this.keys, this.bullQueue(found.queueName), jobId, this.retentionMs)) return this.status(jobId);
      }
      const status: JobStatus = { jobId, state: 'waiting', createdAt: job.timestamp, attempts: job.attemptsMade, ...(spec.meta ? { meta: spec.meta } : {}) };
      if (job.processedOn) status.startedAt = job.processedOn;
      if (job.finishedOn) status.finishedAt = job.finishedOn;
      if (job.progress && typeof job.progress === 'object') status.progress = job.progress as NonNullable<JobStatus['progress']>;
      switch (bullState) {
        case 'active':
          status.state = 'active';
          break;
        case 'completed': {
          status.state = 'completed';
          const result = (await readResult(this.#redis, this.keys, jobId)) ?? (job.returnvalue as JobResult | undefined);
          if (result) status.result = result;
          break;
        }
        case 'failed': {
          const final = await readFinal(this.#redis, this.keys, jobId);
          status.state = final?.state ?? 'failed';
          status.error = final?.error ?? serializeError(new Error(job.failedReason ?? 'failed'));
          break;
        }
        default:
          status.state = job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0 ? 'retrying' : 'waiting';
      }
      if (!TERMINAL.has(status.state)) {
        // A worker writes the result (or final record) before BullMQ's state and the terminal event:
        // the record is the truth, so a reader that saw the event never reads the job as running.
        const [rawResult, rawFinal] = await this.#redis.mget(this.keys.result(jobId), this.keys.final(jobId));
        const { progress: _progress, ...rest } = status;
        if (rawResult) {
          const result = JSON.parse(rawResult) as JobResult;
          return { ...rest, state: 'completed', finishedAt: job.finishedOn ?? Date.now(), attempts: result.attempts, result };
        }
        if (rawFinal) {
          const f = JSON.parse(rawFinal) as NonNullable<Awaited<ReturnType<typeof readFinal>>>;
          return { ...rest, state: f.state, finishedAt: f.finishedAt, attempts: f.attempts ?? status.attempts, ...(f.error ? { error: f.error } : {}) };
        }
      }
      return status;
    });
  }

  /**
   * The status of a job whose `completed` event was just read (a waiter's last step): the event
   * carries the result and the job's record, so nothing is read. An event without the record (from
   * a worker older than it) takes the full read.
   */
  async completedStatus(jobId: string, result: JobResult, facts?: CompletedJobFacts): Promise<JobStatus> {
    if (!facts) return this.status(jobId);
    const { createdAt, attempts, meta, startedAt, finishedAt, progress } = facts;
    return { jobId, state: 'completed', createdAt, attempts, ...(meta ? { meta } : {}), ...(startedAt ? { startedAt } : {}), finishedAt, ...(progress ? { progress } : {}), result };
  }

  /**
   * The job's events, oldest first, from `fromSeq` on, ending after the terminal one (completed,
   * failed, cancelled). Attach at any time, from any process: the log lives in Redis.
   */
  async *events(jobId: string, options: EventsOptions = {}): AsyncGenerator<JobEvent> {
    checkJobId(jobId);
    let last = options.fromSeq ?? 0;
    let quiet = 0;
    // Armed before the first read: an append between a read and the wait still wakes us at once,
    // and small events come with their notice (no read of the log for them).
    const follow = await this.#follow(jobId);
    try {
      while (!options.signal?.aborted && !this.#closed) {
        const batch = follow.take(last) ?? (await withReconnect(() => readEvents(this.#redis, this.keys, jobId, last)));
        for (const event of batch) {
          last = event.seq;
          yield event;
          if (isTerminalEvent(event)) return;
        }
        if (batch.length) {
          quiet = 0;
          continue;
        }
        // Nothing new: wait for the append notice; now and then make sure the job still exists.
        if (++quiet % 10 === 0) {
          const status = await this.status(jobId).catch((e: unknown) => e);
          if (status instanceof JobNotFoundError) return;
          if (!(status instanceof Error) && TERMINAL.has((status as JobStatus).state)) {
            const tail = await readEvents(this.#redis, this.keys, jobId, last);
            for (const event of tail) yield event;
            return;
          }
        }
        await follow.wait(500, options.signal);
      }
    } finally {
      follow.stop();
    }
  }

  /** The last events (e.g. to show where a job is), oldest first. */
  recentEvents(jobId: string, count = 20): Promise<JobEvent[]> {
    return lastEvents(this.#redis, this.keys, jobId, count);
  }

  /** Waits for the job to finish: its result, or the worker's typed error rethrown. */
  async result(jobId: string, options: { signal?: AbortSignal } = {}): Promise<JobResult> {
    let last = 0;
    let rounds = 0;
    const follow = await this.#follow(jobId);
    try {
      for (;;) {
        if (options.signal?.aborted) throw new JobCancelledError(jobId, 'the wait was aborted');
        const batch = follow.take(last) ?? (await withReconnect(() => readEvents(this.#redis, this.keys, jobId, last)));
        let cancelled = false;
        for (const event of batch) {
          last = event.seq;
          if (event.type === 'completed') return event.result;
          if (event.type === 'failed') throw errorFromJson(event.error);
          if (event.type === 'cancelled') cancelled = true; // the error is in the final record
        }
        // The job's own state is the truth (an event log can be trimmed or expire): read it at
        // first, on a cancel and every third round; in between the log is followed (one read per wake).
        if (rounds++ % 3 === 0 || cancelled) {
          const status = await this.status(jobId);
          if (status.state === 'completed' && status.result) return status.result;
          if (status.state === 'failed' || status.state === 'cancelled') {
            throw errorFromJson(status.error ?? serializeError(new JobCancelledError(jobId, 'cancelled')));
          }
        }
        if (!batch.length) await follow.wait(1000, options.signal);
      }
    } finally {
      follow.stop();
    }
  }

  /**
   * Cancels a job: one that waits is removed ('removed'); one that runs is interrupted on its
   * ComfyUI by its worker ('signalled'); one that finished is left as it is ('finished').
   */
  async cancel(jobId: string, reason = 'cancelled by the producer'): Promise<CancelOutcome> {
    checkJobId(jobId);
    return withReconnect(async () => {
      const found = await this.#find(jobId);
      if (!found.job) {
        if (found.final || found.result) return 'finished';
        throw new JobNotFoundError(jobId);
      }
      const job = found.job;
      // Set first: a worker that takes the job from now on sees it before it starts.
      await this.#redis.set(this.keys.cancel(jobId), reason, 'PX', this.retentionMs);
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') return 'finished';
      if (state !== 'active') {
        try {
          await job.remove();
          await this.#redis.zrem(this.keys.deadlines, jobId);
          const error = serializeError(new JobCancelledError(jobId, reason));
          await writeFinal(this.#redis, this.keys, jobId, { state: 'cancelled', reason, error, createdAt: job.timestamp, finishedAt: Date.now(), attempts: job.attemptsMade, ...(job.data.spec.meta ? { meta: job.data.spec.meta } : {}) }, this.retentionMs);
          await appendEvent(this.#redis, this.keys, jobId, { type: 'cancelled', reason }, this.retentionMs);
          return 'removed';
        } catch {
          // Locked: a worker took it between getState and remove. Signal it like any running job.
        }
      }
      await this.#redis.publish(this.keys.cancelChannel, JSON.stringify({ jobId, reason }));
      return 'signalled';
    });
  }

  /** Jobs of every queue of this fleet, most recent first. */
  async list(options: ListOptions = {}): Promise<JobStatus[]> {
    const limit = options.limit ?? 50;
    const types = new Set<string>();
    for (const s of options.states ?? ['waiting', 'active', 'retrying', 'completed', 'failed', 'cancelled']) {
      if (s === 'waiting' || s === 'retrying') ['waiting', 'prioritized', 'delayed'].forEach((t) => types.add(t));
      else if (s === 'cancelled') types.add('failed');
      else types.add(s);
    }
    const jobs: Job[] = [];
    for (const name of await this.queueNames()) jobs.push(...(await this.bullQueue(name).getJobs([...types] as never, 0, limit - 1)));
    jobs.sort((a, b) => b.timestamp - a.timestamp);
    const out: JobStatus[] = [];
    for (const job of jobs) {
      if (!job.id) continue;
      const status = await this.status(job.id).catch(() => undefined);
      if (status && (!options.states || options.states.includes(status.state))) out.push(status);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Jobs per state across this fleet's queues (queue depth for metrics and the service). */
  async counts(): Promise<Record<string, number>> {
    const total: Record<string, number> = {};
    for (const name of await this.queueNames()) {
      const counts = await this.bullQueue(name).getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
      for (const [k, v] of Object.entries(counts)) total[k] = (total[k] ?? 0) + v;
    }
    return total;
  }

  /** Live workers and their servers, as they advertise themselves. */
  workers(): Promise<WorkerAd[]> {
    return liveWorkers(this.#redis, this.keys);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const set of this.#waiters.values()) for (const wake of set) wake();
    await this.#queues.close();
    this.#subscriber?.disconnect();
    this.#redis.disconnect();
  }

  /**
   * Listens for the job's append notices from now on; `wait` returns at once when one came since
   * (so a notice between a read and the wait is never lost), else at the next one or after `ms`.
   */
  /** Follows one job's append notices from now on (see EventFollow). */
  async #follow(jobId: string): Promise<EventFollow> {
    await this.#ensureSubscriber();
    let set = this.#waiters.get(jobId);
    if (!set) this.#waiters.set(jobId, (set = new Set()));
    const waiters = set;
    const follow = new EventFollow(() => {
      waiters.delete(notice);
      if (!waiters.size && this.#waiters.get(jobId) === waiters) this.#waiters.delete(jobId);
    });
    const notice = (event?: JobEvent) => follow.notice(event);
    waiters.add(notice);
    if (this.#closed) follow.notice();
    return follow;
  }

  /** Subscribed once per producer; resolves when notices flow (a missed subscribe is retried on the next arm). */
  #ensureSubscriber(): Promise<void> {
    if (this.#subscribed) return this.#subscribed;
    if (!this.#subscriber) {
      const sub = openRedis(this.#options.redis, { role: 'subscriber' });
      this.#subscriber = sub;
      sub.on('message', (_channel: string, message: string) => {
        const { jobId, event } = parseNotice(message);
        const set = this.#waiters.get(jobId);
        if (set) for (const wake of [...set]) wake(event);
      });
    }
    const subscribing = this.#subscriber.subscribe(this.keys.eventChannel).then(
      () => undefined,
      () => {
        if (this.#subscribed === subscribing) this.#subscribed = undefined;
      },
    );
    this.#subscribed = subscribing;
    return subscribing;
  }
}
