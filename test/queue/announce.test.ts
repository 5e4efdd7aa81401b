import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { announceCompleted } from '../../src/queue/event-log.js';
import type { JobResult } from '../../src/queue/index.js';
import { redisSkip } from '../helpers/redis.js';
import { startFleet } from './fixtures.js';

const skip = redisSkip();

test('a job\'s completion is announced once, however many workers try (a re-run after a crash, the loser of a lapsed lock)', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const redis = new Redis(fleet.redis.url);
  t.after(() => redis.disconnect());
  const result = { jobId: 'job-once', worker: 'w', server: 's0', attempts: 1, outputs: [], timings: { queuedMs: 0, runMs: 1, storeMs: 0 } } as unknown as JobResult;
  const tries = await Promise.all([1, 2, 3].map(() => announceCompleted(redis, fleet.queue.keys, 'job-once', { type: 'completed', result }, 60_000)));
  assert.deepEqual(tries.filter(Boolean).length, 1, 'exactly one call announced');
  const events = await fleet.queue.recentEvents('job-once', 10);
  assert.deepEqual(events.map((e) => e.type), ['completed']);
  assert.equal(await announceCompleted(redis, fleet.queue.keys, 'job-once', { type: 'completed', result }, 60_000), false, 'later, too');
});
