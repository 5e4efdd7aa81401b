// A private redis-server per test file (Debian's, started by src/queue/redis-server.ts): a free
// loopback port, AOF on, its own temp folder; stop() leaves no process or folder. Where redis-server
// is not installed the test skips with one line, but with CI=true (CI installs it) it fails.
import { randomUUID } from 'node:crypto';
import { RedisServer, findOnPath } from '../../src/queue/redis-server.js';

export const REDIS_SKIP = 'redis-server not found on PATH (apt-get install -y redis-server): queue tests skipped';

/** Set when the queue tests cannot run here; pass it to node:test's `skip`. Throws under CI=true. */
export function redisSkip(): string | undefined {
  if (findOnPath('redis-server')) return undefined;
  if (process.env.CI === 'true') throw new Error(`${REDIS_SKIP} — but CI=true, where .ci/run installs it`);
  return REDIS_SKIP;
}

/** Starts a private Redis; register `await redis.stop()` with t.after. */
export function startRedis(options: ConstructorParameters<typeof RedisServer>[0] = {}): Promise<RedisServer> {
  return RedisServer.start(options);
}

/** A queue name no other test uses (BullMQ's own tests do the same). */
export function uniqueQueueName(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export { RedisServer };
