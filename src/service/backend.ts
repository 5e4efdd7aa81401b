import type { JobEvent, JobSpec, JobStatus } from '../queue/types.js';
import type { OutputStore } from '../stores/types.js';

/**
 * What the HTTP layer needs from the fleet, and nothing more. `queue-backend.ts` implements it on
 * the fleet's producer (ComfyQueue); the routes never touch BullMQ or Redis themselves.
 */
export interface JobBackend {
  /** Queues a job; with an idempotency key that is already known, returns that job (created: false). */
  submit(spec: JobSpec): Promise<{ jobId: string; created: boolean }>;
  /** The job's state, or undefined when no such job exists (or it has expired). */
  status(jobId: string): Promise<JobStatus | undefined>;
  /** Every event with seq > after, then live ones, ending after a terminal event or when signal aborts. */
  events(jobId: string, options: { after: number; signal: AbortSignal }): AsyncIterable<JobEvent>;
  /** Dequeues a waiting job, interrupts a running one. */
  cancel(jobId: string, reason: string): Promise<void>;
  /** Resolves with the job's status once it is terminal, or with its status when timeoutMs runs out. */
  wait(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<JobStatus | undefined>;
  /** Jobs waiting and running, for readiness, metrics and the depth limit. */
  counts(): Promise<{ waiting: number; active: number; completed: number; failed: number }>;
  /** True when at least one warm ComfyUI can take a job (a live worker for a gateway). */
  readiness(): Promise<{ ready: boolean; reason?: string; workers: number; servers: number }>;
  /** What the fleet's servers can run: node classes and model files per folder. */
  capabilities(): Promise<{ nodeClasses: string[]; models: Record<string, string[]> }>;
  /** BullMQ queues the operator's dashboard shows (bull-board takes them as they are). */
  dashboardQueues(): unknown[];
  /** Where finished outputs can be read back from, when this process can reach the store. */
  readonly store?: OutputStore | undefined;
  close(): Promise<void>;
}

export const TERMINAL_STATES = new Set(['completed', 'failed', 'cancelled']);
export const isTerminal = (s: JobStatus | undefined): boolean => s !== undefined && TERMINAL_STATES.has(s.state);
