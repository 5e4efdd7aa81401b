/**
 * Deadlines of jobs that wait: BullMQ has no job timeout, and a job whose requirements no live
 * worker meets is never fetched. Every worker sweeps the deadline set once a second (and a
 * producer's status() looks too): the one whose ZREM wins removes the waiting job and records
 * it as failed with an error that names what no live worker has.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { serializeError } from '../error-policy.js';
import { appendEvent } from './event-log.js';
import { DeadlineExceededError } from './errors.js';
import { missingRequirements, type Capabilities, type FleetKeys } from './names.js';
import { writeFinal } from './records.js';
import type { JobSpec } from './types.js';
import { liveWorkers } from './worker-registry.js';

/** Expires one waiting job past its deadline; false when it was not waiting (or someone else won). */
export async function expireWaiting(redis: Redis, keys: FleetKeys, queue: Queue, jobId: string, retentionMs: number): Promise<boolean> {
  const job = await queue.getJob(jobId);
  if (!job) {
    await redis.zrem(keys.deadlines, jobId);
    return false;
  }
  const state = await job.getState();
  if (state !== 'waiting' && state !== 'prioritized' && state !== 'delayed') return false;
  if ((await redis.zrem(keys.deadlines, jobId)) !== 1) return false;
  const spec = (job.data as { spec: JobSpec }).spec;
  try {
    await job.remove();
  } catch {
    return false; // a worker took it this instant: its own deadline check fails it
  }
  const missing = await missingForLiveWorkers(redis, keys, spec.requires);
  const error = serializeError(new DeadlineExceededError(jobId, spec.deadline ?? Date.now(), missing));
  await writeFinal(redis, keys, jobId, { state: 'failed', error, createdAt: job.timestamp, finishedAt: Date.now(), attempts: job.attemptsMade, ...(spec.meta ? { meta: spec.meta } : {}) }, retentionMs);
  await appendEvent(redis, keys, jobId, { type: 'failed', error }, retentionMs);
  return true;
}

/** Requirement items that no live worker's server has (all of them when each exists somewhere apart). */
export async function missingForLiveWorkers(redis: Redis, keys: FleetKeys, req: JobSpec['requires']): Promise<string[]> {
  if (!req) return [];
  const workers = await liveWorkers(redis, keys);
  const union: Capabilities = { nodeClasses: [], models: {} };
  for (const w of workers) {
    for (const s of w.servers) {
      union.nodeClasses.push(...s.capabilities.nodeClasses);
      for (const [folder, names] of Object.entries(s.capabilities.models)) (union.models[folder] ??= []).push(...names);
    }
  }
  const missing = missingRequirements(req, union);
  if (missing.length) return missing;
  return missingRequirements(req, { nodeClasses: [], models: {} });
}

/** Jobs whose deadline has passed, oldest first. */
export async function dueDeadlines(redis: Redis, keys: FleetKeys, now = Date.now(), count = 50): Promise<string[]> {
  return redis.zrangebyscore(keys.deadlines, '-inf', String(now), 'LIMIT', 0, count);
}
