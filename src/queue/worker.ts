/**
 * ComfyWorker: owns N ComfyUI servers and takes one job per server at a time from the fleet's
 * queues (the base queue plus every requirement queue some server of this worker satisfies).
 *
 * BullMQ's concurrency is per Worker object, so this fetches by hand (BullMQ's "manually fetching
 * jobs" pattern): one BullMQ Worker per queue, used only for getNextJob/stall checks; slots are
 * counted here, per server. Locks are extended here too, so a lapse (a blocked event loop, a
 * network partition) is seen at once and the local run is cancelled: the job then belongs to
 * whoever took it, and results are written once, keyed by job id (records.ts).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { failurePolicy, serializeError } from '../error-policy.js';
import type { FetchOptions } from '../sources/types.js';
import type { OutputStore } from '../stores/types.js';
import { openRedis, QueueObjects, type RedisTarget } from './connection.js';
import { dueDeadlines, expireWaiting } from './deadlines.js';
import { announceCompleted, appendEvent, lastEvents, isTerminalEvent, type JobEventBody } from './event-log.js';
import { DeadlineExceededError, JobCancelledError, LockLostError, WorkerOptionsError } from './errors.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, fleetKeys, missingRequirements, type FleetKeys, type Requirements } from './names.js';
import type { QueuedJobData } from './producer.js';
import { claimResult, writeFinal } from './records.js';
import { jobResult, runJob } from './run-job.js';
import { forkingSpec, isAttached, openServer, readCapabilities, type ServerSlot, type ServerSpec } from './servers.js';
import type { ComfyConnector } from '../connector.js';
import type { Preloader } from '../server/preload.js';
import type { CompletedJobFacts, JobResult } from './types.js';
import { advertise, withdraw, type WorkerAd } from './worker-registry.js';
import { WorkerMetrics } from './metrics.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ComfyWorkerOptions {
  redis: RedisTarget;
  queue?: string;
  prefix?: string;
  /** Where outputs go; results name them by store key. */
  store: OutputStore;
  /** The servers: each a launch() option set (managed) or { url } (attached). */
  servers: ServerSpec[];
  /** Shows in logs, events and results. Default `<host>-<pid>-<random>`. */
  id?: string;
  /** BullMQ lock per job (renewed every third of it). Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers. Default 30 s. */
  stalledIntervalMs?: number;
  /** How often a stalled job may go back to wait before it fails. Default 2. */
  maxStalledCount?: number;
  /** Idle fetch interval (a submit also wakes workers over pub/sub). Default 1000 ms. */
  pollMs?: number;
  /** Outputs at most this big also travel inline (base64) in the result. Default 0: never. */
  inlineOutputBytes?: number;
  /** Retention of results, final records and events (same as the producer's). Default 24 h. */
  retentionMs?: number;
  /** Serve Prometheus metrics on 127.0.0.1:<port>/metrics (0 = a free port). Default: off. */
  metricsPort?: number;
  metricsHost?: string;
  /** How URL inputs are fetched: private addresses, credentials, S3 (src/sources). Default: public URLs only. */
  fetch?: FetchOptions;
  /** A line per job start/end and server event. Default: nothing. */
  log?: (line: string) => void;
  /**
   * How managed servers start (docs/fast-start.md). 'fork' (default): the worker preloads ComfyUI's
   * imports once, in one Preloader shared by its servers, and every start (the first, each crash
   * restart, each fresh server of isolation 'job') forks from it in about a second; where no fork is
   * possible (a replacement `command`, an unsafe preload) the server starts cold and says why in one
   * log line. 'cold': a fresh `python main.py` per start. A spec's own startMode/preloader wins.
   */
  startMode?: 'fork' | 'cold';
  /**
   * 'job': after every job (completed, failed or cancelled) the slot's server is stopped and a fresh
   * one started (forked when possible) before the slot takes another job, so nothing of one job
   * (temp files, models in memory, caches, custom node state) reaches the next: for farms that run
   * jobs of several tenants. Managed servers only. Default 'none': servers stay warm between jobs.
   */
  isolation?: 'none' | 'job';
}

export class ComfyWorker {
  readonly id: string;
  readonly keys: FleetKeys;
  readonly base: string;
  readonly prefix: string;
  readonly metrics: WorkerMetrics;
  readonly #options: ComfyWorkerOptions;
  readonly #redis: Redis;
  #subscriber: Redis | undefined;
  readonly #bull = new Map<string, Worker>();
  readonly #queues: QueueObjects;
  /** BullMQ does not close connections it was given: these are ours to close. */
  readonly #connections: Redis[] = [];
  readonly #profiles = new Map<string, Requirements>();
  readonly slots: ServerSlot[] = [];
  readonly #running = new Map<string, Promise<void>>();
  #timers: NodeJS.Timeout[] = [];
  #pumping = false;
  #pumpAgain = false;
  #draining = false;
  #paused = false;
  #closed: Promise<void> | undefined;
  #startedAt = Date.now();
  #rr = 0;
  /** startMode 'fork': the preloaders of the managed servers, one per checkout/interpreter/environment. */
  readonly #preloaders = new Map<string, Preloader>();
  /** Ends the waits between restart attempts when the worker closes. */
  readonly #closing = new AbortController();

  private constructor(options: ComfyWorkerOptions) {
    this.#options = options;
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
    this.base = options.queue ?? DEFAULT_QUEUE;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.keys = fleetKeys(this.prefix, this.base);
    this.#redis = openRedis(options.redis, { role: 'worker' });
    this.#queues = new QueueObjects(this.#redis, this.prefix);
    this.metrics = new WorkerMetrics(() => this.#queueDepth());
  }

  /** Starts the servers, advertises them and begins taking jobs. */
  static async start(options: ComfyWorkerOptions): Promise<ComfyWorker> {
    const worker = new ComfyWorker(options);
    try {
      await worker.#start();
    } catch (error) {
      await worker.close({ drainTimeoutMs: 0 });
      throw error;
    }
    return worker;
  }

  get #retentionMs(): number {
    return this.#options.retentionMs ?? 24 * 3600 * 1000;
  }

  #log(line: string): void {
    this.#options.log?.(`[worker ${this.id}] ${line}`);
  }

  async #start(): Promise<void> {
    if (!this.#options.servers.length) throw new Error('ComfyWorker needs at least one server');
    if (this.#options.isolation === 'job' && this.#options.servers.some(isAttached)) {
      throw new WorkerOptionsError(
        "isolation 'job' gives every job a fresh ComfyUI, and this worker cannot restart a server attached by URL.",
        'Let the worker start its servers (comfyuiPath/cudaDevice specs; CLI --comfyui with --servers or --gpus instead of --url), or use isolation \'none\'.',
      );
    }
    const specs = this.#options.servers.map((spec) => ((this.#options.startMode ?? 'fork') === 'fork' ? forkingSpec(spec, this.#preloaders) : spec));
    const connectors = await Promise.allSettled(specs.map((spec) => openServer(spec)));
    const failed = connectors.find((c): c is PromiseRejectedResult => c.status === 'rejected');
    if (failed) {
      await Promise.allSettled(connectors.map((c) => (c.status === 'fulfilled' ? c.value.killApi() : undefined)));
      throw failed.reason;
    }
    for (const [i, c] of connectors.entries()) {
      const connector = (c as PromiseFulfilledResult<Awaited<ReturnType<typeof openServer>>>).value;
      const slot: ServerSlot = { name: `s${i}`, connector, spec: specs[i]!, state: 'idle', capabilities: await readCapabilities(connector) };
      this.#watch(slot, connector);
      this.slots.push(slot);
      this.#log(`server ${slot.name} ready at ${connector.url}`);
    }
    if (this.#options.metricsPort !== undefined) await this.metrics.listen(this.#options.metricsPort, this.#options.metricsHost);

    const sub = openRedis(this.#options.redis, { role: 'subscriber' });
    this.#subscriber = sub;
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.keys.wakeChannel) this.#pump();
      else if (channel === this.keys.cancelChannel) this.#onCancel(message);
    });
    await sub.subscribe(this.keys.wakeChannel, this.keys.cancelChannel);

    await this.#refreshProfiles();
    await this.#advertise();
    const poll = this.#options.pollMs ?? 1000;
    this.#timers.push(setInterval(() => this.#pump(), poll));
    this.#timers.push(setInterval(() => void this.#advertise().catch(() => {}), 5000));
    this.#timers.push(setInterval(() => void this.#sweepDeadlines().catch(() => {}), 1000));
    this.#timers.push(setInterval(() => void this.#refreshProfiles().catch(() => {}), Math.max(poll, 2000)));
    this.#pump();
  }

  /** A crash of the slot's managed server: restarted at once when idle, after its job otherwise. */
  #watch(slot: ServerSlot, connector: ComfyConnector): void {
    connector.server?.on('exit', (_info: unknown, expected: boolean) => {
      if (expected || this.#draining || slot.connector !== connector) return;
      this.#log(`server ${slot.name} crashed${slot.jobId ? ` while running job ${slot.jobId}` : ''}; restarting it`);
      this.metrics.serverRestarts.inc();
      slot.state = 'restarting';
      if (!slot.jobId) void this.#recover(slot);
    });
  }

  /** The worker's ad (what `comfy-connector jobs workers` and routing read). */
  ad(): WorkerAd {
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      startedAt: this.#startedAt,
      draining: this.#draining,
      queues: [...this.#bull.keys()],
      servers: this.slots.map((s) => ({ name: s.name, url: s.connector.url, state: s.state, ...(s.jobId ? { jobId: s.jobId } : {}), capabilities: s.capabilities })),
    };
  }

  async #advertise(): Promise<void> {
    await advertise(this.#redis, this.keys, this.ad(), 15_000);
  }

  async #refreshProfiles(): Promise<void> {
    const all = await this.#redis.hgetall(this.keys.profiles);
    for (const [id, raw] of Object.entries(all)) if (!this.#profiles.has(id)) this.#profiles.set(id, JSON.parse(raw) as Requirements);
  }

  /** The queues a slot may take from: the base one and each requirement queue it satisfies. */
  #queuesFor(slot: ServerSlot): string[] {
    const names = [this.base];
    for (const [id, req] of this.#profiles) if (missingRequirements(req, slot.capabilities).length === 0) names.push(`${this.base}.r-${id}`);
    return names;
  }

  #bullWorker(name: string): Worker {
    let worker = this.#bull.get(name);
    if (!worker) {
      const connection = openRedis(this.#options.redis, { role: 'worker' });
      this.#connections.push(connection);
      worker = new Worker(name, null, {
        connection,
        prefix: this.prefix,
        autorun: false,
        lockDuration: this.#options.lockDurationMs ?? 30_000,
        stalledInterval: this.#options.stalledIntervalMs ?? 30_000,
        maxStalledCount: this.#options.maxStalledCount ?? 2,
        name: this.id,
      });
      worker.on('error', () => {});
      this.#bull.set(name, worker);
      void worker.startStalledCheckTimer().catch(() => {});
    }
    return worker;
  }

  /** Fills idle slots; serialised (a call during a pass asks for one more pass). */
  #pump(): void {
    if (this.#draining || this.#closed || this.#paused) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    void (async () => {
      try {
        do {
          this.#pumpAgain = false;
          for (const slot of this.slots) {
            // pause() holds from the next fetch on, also within a pass that is under way.
            if (slot.state !== 'idle' || this.#draining || this.#paused) continue;
            const taken = await this.#fetchFor(slot);
            if (taken) this.#pumpAgain = true;
          }
        } while (this.#pumpAgain && !this.#draining && !this.#paused);
      } catch (error) {
        this.#log(`fetch failed: ${(error as Error).message}`);
      } finally {
        this.#pumping = false;
      }
    })();
  }

  async #fetchFor(slot: ServerSlot): Promise<boolean> {
    const queues = this.#queuesFor(slot);
    const start = this.#rr++ % queues.length;
    for (let i = 0; i < queues.length && !this.#paused; i++) {
      const name = queues[(start + i) % queues.length]!;
      const bull = this.#bullWorker(name);
      const token = randomUUID();
      const job = (await bull.getNextJob(token, { block: false })) as Job<QueuedJobData, JobResult> | undefined;
      if (!job?.id) continue;
      if (this.#paused || this.#draining) {
        // Taken by a fetch that was under way when pause() (or close()) came: handed back untouched.
        await job.moveToWait(token).catch(() => {});
        return false;
      }
      slot.state = 'busy';
      slot.jobId = job.id;
      const run = this.#run(slot, job, token).finally(() => this.#running.delete(job.id!));
      this.#running.set(job.id, run);
      return true;
    }
    return false;
  }

  async #run(slot: ServerSlot, job: Job<QueuedJobData, JobResult>, token: string): Promise<void> {
    const jobId = job.id!;
    const spec = job.data.spec;
    const lockMs = this.#options.lockDurationMs ?? 30_000;
    const controller = new AbortController();
    slot.abort = (reason) => controller.abort(reason);
    let lockLost = false;
    let lastExtended = Date.now();
    const lockTimer = setInterval(() => {
      void job.extendLock(token, lockMs).then(
        (ok) => {
          if (Number(ok) === 1) lastExtended = Date.now();
          else lapse();
        },
        () => {
          if (Date.now() - lastExtended > lockMs) lapse();
        },
      );
    }, Math.max(200, Math.floor(lockMs / 3)));
    const lapse = () => {
      if (lockLost) return;
      lockLost = true;
      this.#log(`lost the lock of job ${jobId} on ${slot.name}: stopping the local run`);
      controller.abort(new LockLostError(jobId));
    };
    const attempt = (job.attemptsStarted ?? job.attemptsMade + 1) || 1;
    const emit = (body: JobEventBody) => {
      if (!lockLost) void appendEvent(this.#redis, this.keys, jobId, body, this.#retentionMs).catch(() => {});
    };
    const started = Date.now();
    /** The job reached its server (isolation 'job' renews the server after such a job only). */
    let ran = false;
    try {
      // A result already written (the last owner died between writing it and completing): reuse it.
      const [rawResult, cancelReason] = await this.#redis.mget(this.keys.result(jobId), this.keys.cancel(jobId));
      if (rawResult) {
        await this.#complete(job, token, JSON.parse(rawResult) as JobResult, true);
        return;
      }
      if (cancelReason) throw new JobCancelledError(jobId, cancelReason);
      if (spec.deadline !== undefined && spec.deadline <= Date.now()) throw new DeadlineExceededError(jobId, spec.deadline);
      this.#log(`job ${jobId} started on ${slot.name} (${slot.connector.url}), attempt ${attempt}`);
      emit({ type: 'started', worker: this.id, server: slot.name, attempt });
      ran = true;
      const outcome = await runJob(spec, {
        jobId,
        attemptTag: `a${attempt}-${token.slice(0, 8)}`,
        connector: slot.connector,
        store: this.#options.store,
        signal: controller.signal,
        inlineOutputBytes: this.#options.inlineOutputBytes ?? 0,
        ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
        emit,
        beforePut: async (key) => {
          await this.#redis.multi().sadd(this.keys.storeKeys(jobId), key).pexpire(this.keys.storeKeys(jobId), this.#retentionMs).exec();
        },
        progress: (p) => void job.updateProgress(p).catch(() => {}),
      });
      if (lockLost) throw new LockLostError(jobId);
      const result = jobResult({ jobId, worker: this.id, server: slot.name, attempts: attempt }, outcome, (job.processedOn ?? started) - job.timestamp);
      // The server's copies of the outputs go while the result is claimed (both before it is reported).
      const [claim] = await Promise.all([claimResult(this.#redis, this.keys, result, this.#retentionMs), outcome.cleanup()]);
      // One result per job, and only its files in the store: the loser of a race deletes its own;
      // the winner deletes what earlier runs of this job left (a worker killed after storing).
      const keep = new Set(claim.result.outputs.flatMap((o) => (o.stored ? [o.stored.key] : [])));
      // A first attempt has no earlier run whose files could be in the store: no read needed.
      const written = claim.won && attempt > 1 ? await this.#redis.smembers(this.keys.storeKeys(jobId)) : outcome.keys;
      await Promise.allSettled(written.filter((k) => !keep.has(k)).map((k) => this.#options.store.delete(k)));
      // Counted before the announcement: whoever saw the job complete reads it in the counters.
      this.metrics.completed.inc();
      this.metrics.runSeconds.inc((Date.now() - started) / 1000);
      await this.#complete(job, token, claim.result, !claim.won);
      this.#log(`job ${jobId} completed on ${slot.name} in ${Date.now() - started} ms`);
    } catch (raw) {
      const error = controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason : raw;
      await this.#fail(job, token, error, attempt, slot);
    } finally {
      clearInterval(lockTimer);
      slot.abort = undefined;
      slot.jobId = undefined;
      const server = slot.connector.server;
      // A renewal runs inside the job's promise: close() waits for it, then stops the fresh server.
      if (this.#options.isolation === 'job' && server && (ran || !server.running) && !this.#draining) await this.#renew(slot);
      else if (slot.state === 'restarting' || (server && !server.running)) await this.#recover(slot);
      else slot.state = 'idle';
      this.#pump();
    }
  }

  async #complete(job: Job<QueuedJobData, JobResult>, token: string, result: JobResult, quietIfLogged: boolean): Promise<void> {
    const jobId = job.id!;
    let announce = true;
    if (quietIfLogged) {
      const tail = await lastEvents(this.#redis, this.keys, jobId, 1);
      announce = !tail.some(isTerminalEvent);
    }
    // The announcement first, then BullMQ's state. The result record is written already, so a
    // reader that sees the event before the state still reads the job completed (producer.status
    // trusts the record); a worker killed between the two leaves a stalled job whose next owner
    // finds the record and completes it: never a completed job without its event. The guard key
    // makes it one announcement per job, whoever gets there (a re-run, the loser of a lapsed lock).
    const meta = job.data.spec.meta;
    const facts: CompletedJobFacts = {
      createdAt: job.timestamp,
      ...(job.processedOn ? { startedAt: job.processedOn } : {}),
      finishedAt: Date.now(),
      attempts: job.attemptsMade + 1, // what moveToCompleted makes it
      ...(meta ? { meta } : {}),
      ...(job.progress && typeof job.progress === 'object' ? { progress: job.progress as NonNullable<CompletedJobFacts['progress']> } : {}),
    };
    if (announce) await announceCompleted(this.#redis, this.keys, jobId, { type: 'completed', result, job: facts }, this.#retentionMs);
    const [moved] = await Promise.allSettled([job.moveToCompleted(result, token, false), this.#redis.zrem(this.keys.deadlines, jobId)]);
    if (moved.status === 'rejected') {
      // The lock went elsewhere after the result was written: the new owner completes it (quietly).
      this.#log(`job ${jobId}: result stored; completion left to the new owner (${(moved.reason as Error).message})`);
    }
  }

  async #fail(job: Job<QueuedJobData, JobResult>, token: string, error: unknown, attempt: number, slot: ServerSlot): Promise<void> {
    const jobId = job.id!;
    const json = serializeError(error);
    if (error instanceof LockLostError) {
      // Not ours any more: whoever holds the lock now reports the job.
      this.metrics.lockLost.inc();
      return;
    }
    if (error instanceof Error && (error as { handBack?: boolean }).handBack) {
      this.#log(`job ${jobId} handed back (worker draining)`);
      await job.moveToWait(token).catch(() => {});
      return;
    }
    const cancelled = json.code === 'COMFY_JOB_CANCELLED' || json.code === 'COMFY_CANCELLED';
    const policy = failurePolicy(error);
    // BullMQ's own rule (attemptsMade counts failed attempts; a stall is not one), so both agree.
    const attemptsLeft = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    if (!cancelled && policy.retryable && attemptsLeft) {
      this.#log(`job ${jobId} failed on ${slot.name} (${json.code}); retrying`);
      this.metrics.retried.inc();
      await job.moveToFailed(error as Error, token, false).catch(() => {});
      await appendEvent(this.#redis, this.keys, jobId, { type: 'retrying', attempt, error: json }, this.#retentionMs).catch(() => {});
      return;
    }
    const reason = cancelled ? ((error as { reason?: string }).reason ?? json.message) : undefined;
    await writeFinal(
      this.#redis,
      this.keys,
      jobId,
      { state: cancelled ? 'cancelled' : 'failed', error: json, ...(reason ? { reason } : {}), createdAt: job.timestamp, finishedAt: Date.now(), attempts: attempt, ...(job.data.spec.meta ? { meta: job.data.spec.meta } : {}) },
      this.#retentionMs,
    );
    // The final record (above) and BullMQ's state first, then the event (see #complete).
    await Promise.allSettled([job.moveToFailed(new UnrecoverableError(json.message), token, false), this.#redis.zrem(this.keys.deadlines, jobId)]);
    await appendEvent(this.#redis, this.keys, jobId, cancelled ? { type: 'cancelled', ...(reason ? { reason } : {}) } : { type: 'failed', error: json }, this.#retentionMs);
    (cancelled ? this.metrics.cancelled : this.metrics.failed).inc();
    this.#log(`job ${jobId} ${cancelled ? 'cancelled' : 'failed'} on ${slot.name}: ${json.code ?? ''} ${json.message}`);
  }

  /**
   * isolation 'job': the slot's server is replaced by a fresh one from the same spec (a new process,
   * port, temp folder and database; a new connector, so no client-side state carries over either).
   * The old one stops while the new one starts. The slot stays 'busy' meanwhile (it takes no job and
   * is not down: readiness counts it as warm); a launch that fails goes to the crash-recovery loop
   * (state 'restarting', retried with backoff). Cost per job: docs/fleet.md, "Fast restarts and a
   * fresh server per job".
   */
  async #renew(slot: ServerSlot): Promise<void> {
    const t0 = Date.now();
    const old = slot.connector;
    const [stopped, fresh] = await Promise.allSettled([old.killApi(), this.#relaunch(slot)]);
    if (stopped.status === 'rejected') this.#log(`server ${slot.name}: the old server's cleanup failed: ${(stopped.reason as Error).message.split('\n')[0]}`);
    if (fresh.status === 'fulfilled') {
      const connector = fresh.value;
      slot.connector = connector;
      this.#watch(slot, connector);
      slot.state = 'idle';
      this.#log(`server ${slot.name} renewed at ${connector.url} (${connector.server?.startedBy}) in ${Date.now() - t0} ms`);
      // Same spec, same checkout: the last server's capabilities hold until the fresh one's are read,
      // beside the next job (a new ComfyUI's first /object_info takes 0.3-0.6 s on a CPU).
      void readCapabilities(connector).then(
        (capabilities) => {
          if (slot.connector === connector) slot.capabilities = capabilities;
        },
        (error: Error) => {
          if (slot.connector === connector && !this.#draining) this.#log(`server ${slot.name}: capabilities not read: ${error.message.split('\n')[0]}`);
        },
      );
      return;
    }
    this.#log(`server ${slot.name} restart failed: ${(fresh.reason as Error).message.split('\n')[0]}`);
    await this.#recover(slot, true);
  }

  /** A fresh server from the slot's spec; which ComfyUI it is was said at the first start. */
  #relaunch(slot: ServerSlot): Promise<ComfyConnector> {
    return openServer(isAttached(slot.spec) ? slot.spec : { ...slot.spec, notices: 'silent' });
  }

  /**
   * Brings a crashed managed server back (a new process, a new port); others keep working. `fresh`:
   * launches a new server from the slot's spec (isolation 'job', after a failed renewal) instead.
   */
  #recover(slot: ServerSlot, fresh = false): Promise<void> {
    slot.recovering ??= (async () => {
      slot.state = 'restarting';
      for (let i = 0; !this.#draining && !this.#closed; i++) {
        try {
          if (fresh) {
            await slot.connector.killApi().catch(() => {});
            const connector = await this.#relaunch(slot);
            slot.connector = connector;
            this.#watch(slot, connector);
          } else await slot.connector.server?.ensureRunning();
          slot.capabilities = await readCapabilities(slot.connector);
          slot.state = 'idle';
          this.#log(`server ${slot.name} back at ${slot.connector.url}`);
          break;
        } catch (error) {
          this.#log(`server ${slot.name} restart failed: ${(error as Error).message.split('\n')[0]}`);
          await sleep(Math.min(30_000, 1000 * 2 ** i), undefined, { signal: this.#closing.signal }).catch(() => {});
        }
      }
    })().finally(() => {
      slot.recovering = undefined;
      this.#pump();
    });
    return slot.recovering;
  }

  #onCancel(message: string): void {
    let parsed: { jobId?: string; reason?: string };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    const slot = this.slots.find((s) => s.jobId === parsed.jobId);
    if (slot?.abort && parsed.jobId) {
      this.#log(`cancelling job ${parsed.jobId} on ${slot.name}`);
      slot.abort(new JobCancelledError(parsed.jobId, parsed.reason ?? 'cancelled'));
    }
  }

  async #sweepDeadlines(): Promise<void> {
    for (const jobId of await dueDeadlines(this.#redis, this.keys)) {
      const queueName = (await this.#redis.get(this.keys.route(jobId))) ?? this.base;
      if (await expireWaiting(this.#redis, this.keys, this.#queue(queueName), jobId, this.#retentionMs)) this.#log(`job ${jobId} expired at its deadline while waiting`);
    }
  }

  /** A BullMQ Queue (producer side) of one of the fleet's queues, for deadline expiry. */
  #queue(name: string): Queue {
    return this.#queues.get(name);
  }

  /** Jobs waiting in the queues this worker takes from. */
  async #queueDepth(): Promise<number> {
    let depth = 0;
    for (const name of this.#bull.keys()) {
      const counts = await this.#queue(name).getJobCounts('waiting', 'prioritized', 'delayed');
      depth += Object.values(counts).reduce((a, b) => a + b, 0);
    }
    return depth;
  }

  /** Stops taking new jobs (running ones go on); resume() takes jobs again. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  /** Jobs running here now. */
  get busy(): number {
    return this.#running.size;
  }

  /**
   * Drains and stops: no new jobs; running ones get `drainTimeoutMs` (default 60 s) to finish,
   * then are interrupted and handed back to the queue (not counted as an attempt); then every
   * server stops, leaving no process. Idempotent.
   */
  close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.#closed ??= this.#close(options.drainTimeoutMs ?? 60_000);
    return this.#closed;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#draining = true;
    this.#closing.abort();
    this.#log(`draining (${this.#running.size} running, up to ${drainTimeoutMs} ms)`);
    await this.#advertise().catch(() => {});
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const running = [...this.#running.values()];
    if (running.length) {
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), drainTimeoutMs));
      if ((await Promise.race([Promise.allSettled(running), timer])) === 'timeout') {
        for (const slot of this.slots) {
          if (!slot.abort) continue;
          const handBack = Object.assign(new Error('the worker is shutting down'), { handBack: true });
          slot.abort(handBack);
        }
        await Promise.allSettled(running);
      }
    }
    await Promise.allSettled([...this.#bull.values()].map((w) => w.close(true)));
    await this.#queues.close();
    await withdraw(this.#redis, this.keys, this.id).catch(() => {});
    await Promise.allSettled(this.slots.map((s) => s.connector.killApi()));
    // After the servers: closing a preloader ends what was forked from it as crashes.
    await Promise.allSettled([...this.#preloaders.values()].map((p) => p.close()));
    await this.metrics.close();
    this.#subscriber?.disconnect();
    for (const c of this.#connections) c.disconnect();
    this.#redis.disconnect();
    this.#log('stopped');
  }
}
