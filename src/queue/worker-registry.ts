/**
 * Workers advertise themselves in Redis: who they are, their servers, and what each server can run
 * (node classes and model files) — routing and "what was missing" read it. An ad expires unless
 * renewed, so a SIGKILLed worker disappears from it within the TTL.
 */
import type { Redis } from 'ioredis';
import type { Capabilities, FleetKeys } from './names.js';

export interface ServerAd {
  name: string;
  url: string;
  state: 'starting' | 'idle' | 'busy' | 'restarting' | 'down';
  jobId?: string;
  capabilities: Capabilities;
}

export interface WorkerAd {
  id: string;
  host: string;
  pid: number;
  startedAt: number;
  draining: boolean;
  servers: ServerAd[];
  /** The BullMQ queues it fetches from. */
  queues: string[];
}

export async function advertise(redis: Redis, keys: FleetKeys, ad: WorkerAd, ttlMs: number): Promise<void> {
  await redis.multi().set(keys.worker(ad.id), JSON.stringify(ad), 'PX', ttlMs).zadd(keys.workers, Date.now(), ad.id).exec();
}

export async function withdraw(redis: Redis, keys: FleetKeys, id: string): Promise<void> {
  await redis.multi().del(keys.worker(id)).zrem(keys.workers, id).exec();
}

export async function liveWorkers(redis: Redis, keys: FleetKeys): Promise<WorkerAd[]> {
  const ids = await redis.zrange(keys.workers, 0, -1);
  if (!ids.length) return [];
  const raws = await redis.mget(...ids.map((id) => keys.worker(id)));
  const ads: WorkerAd[] = [];
  const gone: string[] = [];
  raws.forEach((raw, i) => {
    if (raw) ads.push(JSON.parse(raw) as WorkerAd);
    else gone.push(ids[i]!);
  });
  if (gone.length) await redis.zrem(keys.workers, ...gone);
  return ads;
}
