import type { ComfyQueue } from '../queue/producer.js';
import type { JobEvent, JobSpec, JobStatus } from '../queue/types.js';
import type { OutputStore } from '../stores/types.js';
import type { JobBackend } from './backend.js';

const TERMINAL_EVENTS = new Set(['completed', 'failed', 'cancelled']);
const GONE = new Set(['COMFY_JOB_NOT_FOUND', 'COMFY_BAD_JOB_ID']);
const isGone = (error: unknown) => GONE.has((error as { code?: string } | null)?.code ?? '');

/** A signal that aborts when either does, or after ms. */
function within(ms: number, signal?: AbortSignal): { signal: AbortSignal; done: () => void } {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const onAbort = () => abort.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  return { signal: abort.signal, done: () => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); } };
}

/**
 * The service's job backend on the fleet's producer: the same ComfyQueue whether the workers are
 * in this process (embedded) or on other machines (gateway). Missing jobs are `undefined`, not errors.
 */
export class QueueBackend implements JobBackend {
  readonly #queue: ComfyQueue;
  readonly store: OutputStore | undefined;
  readonly #extraQueues: () => unknown[];

  constructor(queue: ComfyQueue, options: { store?: OutputStore | undefined; extraQueues?: () => unknown[] } = {}) {
    this.#queue = queue;
    this.store = options.store;
    this.#extraQueues = options.extraQueues ?? (() => []);
  }

  get queue(): ComfyQueue {
    return this.#queue;
  }

  async submit(spec: JobSpec): Promise<{ jobId: string; created: boolean }> {
    const handle = await this.#queue.submitSpec(spec);
    return { jobId: handle.id, created: handle.created };
  }

  async status(jobId: string): Promise<JobStatus | undefined> {
    try {
      return await this.#queue.status(jobId);
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    }
  }

  async *events(jobId: string, options: { after: number; signal: AbortSignal }): AsyncIterable<JobEvent> {
    try {
      yield* this.#queue.events(jobId, { fromSeq: options.after, signal: options.signal });
    } catch (error) {
      if (!isGone(error)) throw error;
    }
  }

  async cancel(jobId: string, reason: string): Promise<void> {
    await this.#queue.cancel(jobId, reason);
  }

  async wait(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<JobStatus | undefined> {
    // The last event says whether it already finished: one read instead of a whole status.
    const lastEvent = (await this.#queue.recentEvents(jobId, 1))[0];
    if (!lastEvent || timeoutMs <= 0 || TERMINAL_EVENTS.has(lastEvent.type)) return this.status(jobId);
    const last = lastEvent.seq;
    const bounded = within(timeoutMs, signal);
    let terminal: JobEvent | undefined;
    try {
      // The event log wakes us the moment the worker appends the terminal event (pub/sub notice).
      for await (const event of this.#queue.events(jobId, { fromSeq: last, signal: bounded.signal })) {
        if (!TERMINAL_EVENTS.has(event.type)) continue;
        terminal = event;
        break;
      }
    } catch (error) {
      if (!isGone(error)) throw error;
    } finally {
      bounded.done();
    }
    // The fleet writes a job's final state before its terminal event, so this reads it finished.
    if (terminal?.type !== 'completed') return this.status(jobId);
    try {
      return await this.#queue.completedStatus(jobId, terminal.result, terminal.job);
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    }
  }

  async counts(): Promise<{ waiting: number; active: number; completed: number; failed: number }> {
    const c = await this.#queue.counts();
    return {
      waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0) + (c['delayed'] ?? 0),
      active: c['active'] ?? 0,
      completed: c['completed'] ?? 0,
      failed: c['failed'] ?? 0,
    };
  }

  async readiness(): Promise<{ ready: boolean; reason?: string; workers: number; servers: number }> {
    const workers = (await this.#queue.workers()).filter((w) => !w.draining);
    const servers = workers.flatMap((w) => w.servers);
    const warm = servers.filter((s) => s.state === 'idle' || s.state === 'busy');
    if (!workers.length) return { ready: false, reason: 'no live worker', workers: 0, servers: 0 };
    if (!warm.length) return { ready: false, reason: `${servers.length} ComfyUI server(s), none warm yet`, workers: workers.length, servers: 0 };
    return { ready: true, workers: workers.length, servers: warm.length };
  }

  async capabilities(): Promise<{ nodeClasses: string[]; models: Record<string, string[]> }> {
    const classes = new Set<string>();
    const models: Record<string, Set<string>> = {};
    for (const w of await this.#queue.workers()) {
      for (const s of w.servers) {
        for (const c of s.capabilities.nodeClasses) classes.add(c);
        for (const [folder, names] of Object.entries(s.capabilities.models)) for (const n of names) (models[folder] ??= new Set()).add(n);
      }
    }
    return {
      nodeClasses: [...classes].sort(),
      models: Object.fromEntries(Object.entries(models).sort(([a], [b]) => a.localeCompare(b)).map(([f, s]) => [f, [...s].sort()])),
    };
  }

  dashboardQueues(): unknown[] {
    return [this.#queue.bullQueue(), ...this.#extraQueues()];
  }

  async close(): Promise<void> {
    await this.#queue.close();
  }
}
