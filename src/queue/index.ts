/** The fleet: a producer (ComfyQueue), a worker (ComfyWorker), a private Redis, and the wire contract. */
export * from './types.js';
export * from './errors.js';
export { ComfyQueue, JobHandle, type ComfyQueueOptions, type QueuedJobData, type EventsOptions, type ListOptions, type CancelOutcome } from './producer.js';
export { RedisServer, findOnPath, pingRedis, type RedisServerOptions } from './redis-server.js';
export { INLINE_INPUT_LIMIT_BYTES, normalizeSpec, type SubmitOptions } from './spec.js';
export { DEFAULT_PREFIX, DEFAULT_QUEUE, checkJobId, queueFor, type Capabilities, type Requirements } from './names.js';
export type { WorkerAd, ServerAd } from './worker-registry.js';
export type { RedisTarget } from './connection.js';
export { ComfyWorker, type ComfyWorkerOptions } from './worker.js';
export type { ServerSpec, ServerSlot } from './servers.js';
export { WorkerMetrics } from './metrics.js';
