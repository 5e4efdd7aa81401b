/**
 * The fleet's own records beside BullMQ's job hash: the result (written once, first writer wins:
 * exactly-once results) and the final record of a job that ended without a BullMQ result (failed,
 * cancelled, expired while waiting) with its serialised error.
 */
import type { Redis } from 'ioredis';
import type { ErrorJson } from '../error-policy.js';
import type { FleetKeys } from './names.js';
import type { JobResult } from './types.js';

export interface FinalRecord {
  state: 'failed' | 'cancelled';
  error?: ErrorJson;
  reason?: string;
  createdAt?: number;
  finishedAt: number;
  attempts?: number;
  meta?: Record<string, string>;
}

export async function writeFinal(redis: Redis, keys: FleetKeys, jobId: string, record: FinalRecord, retentionMs: number): Promise<void> {
  await redis.set(keys.final(jobId), JSON.stringify(record), 'PX', retentionMs);
}

export async function readFinal(redis: Redis, keys: FleetKeys, jobId: string): Promise<FinalRecord | undefined> {
  const raw = await redis.get(keys.final(jobId));
  return raw ? (JSON.parse(raw) as FinalRecord) : undefined;
}

/**
 * Writes the job's result unless one is there; returns the result that holds (ours or the first).
 * Two runs of one job (a lapsed lock) thus leave one result, and the loser knows to discard its files.
 */
export async function claimResult(redis: Redis, keys: FleetKeys, result: JobResult, retentionMs: number): Promise<{ won: boolean; result: JobResult }> {
  const ok = await redis.set(keys.result(result.jobId), JSON.stringify(result), 'PX', retentionMs, 'NX');
  if (ok === 'OK') return { won: true, result };
  const existing = await readResult(redis, keys, result.jobId);
  return { won: false, result: existing ?? result };
}

export async function readResult(redis: Redis, keys: FleetKeys, jobId: string): Promise<JobResult | undefined> {
  const raw = await redis.get(keys.result(jobId));
  return raw ? (JSON.parse(raw) as JobResult) : undefined;
}
