/**
 * Redis connections. Workers retry forever (`maxRetriesPerRequest: null`, BullMQ's requirement);
 * a producer's commands wait through a short outage (Redis restarted) and reconnect on their own.
 */
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';

export type RedisTarget = string | RedisOptions;

export interface ConnectionRole {
  /** Workers block and must never give up on a command; producers may. */
  role: 'worker' | 'producer' | 'subscriber';
}

export function openRedis(target: RedisTarget, { role }: ConnectionRole): Redis {
  const common: RedisOptions = {
    maxRetriesPerRequest: role === 'producer' ? 20 : null,
    // Reconnect quickly after a Redis restart (the default backoff grows to 2 s).
    retryStrategy: (times) => Math.min(50 * times, 500),
    lazyConnect: false,
  };
  // ioredis 6's overloads do not take its own RedisOptions under exactOptionalPropertyTypes.
  const Ctor = Redis as unknown as new (...args: unknown[]) => Redis;
  const redis = typeof target === 'string' ? new Ctor(target, common) : new Ctor({ ...target, ...common });
  // Errors are retried by ioredis and surface on the commands; an unhandled 'error' would crash us.
  redis.on('error', () => {});
  return redis;
}

/** For BullMQ's `connection` option: the same target with BullMQ's worker settings. */
export function bullConnection(target: RedisTarget, role: ConnectionRole['role']): Redis {
  return openRedis(target, { role });
}

/** Runs fn, retrying connection errors (Redis restarting) for up to `forMs`. */
export async function withReconnect<T>(fn: () => Promise<T>, forMs = 30_000): Promise<T> {
  const until = Date.now() + forMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!isConnectionError(error) || Date.now() > until) throw error;
      await sleep(100);
    }
  }
}

export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; name?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'NR_CLOSED'].includes(e.code)) return true;
  return /Connection is closed|connect ECONNREFUSED|Stream isn't writeable|LOADING|enableOfflineQueue/i.test(e.message ?? '');
}

/**
 * One BullMQ Queue object per queue name, made on first use and shared by every caller on the same
 * connection; `close()` closes them all. Errors surface through the calls, not the emitter.
 */
export class QueueObjects {
  readonly #queues = new Map<string, Queue>();
  constructor(private readonly connection: Redis, private readonly prefix: string) {}

  get(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      queue.on('error', () => {});
      this.#queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
  }
}
