import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { redisSkip } from '../helpers/redis.js';
import { sizedPrompt, startFleet } from './fixtures.js';
import type { JobEvent } from '../../src/queue/index.js';

const skip = redisSkip();

test('producer: submit is checked first (typed errors as runWorkflow, nothing queued), idempotent by key, resumable events, cancel of a waiting job', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const { queue } = fleet;

  // Bad input is refused with the typed errors runWorkflow throws; nothing reaches Redis.
  await assert.rejects(queue.submit({ not: 'a workflow' }), { code: 'COMFY_INVALID_WORKFLOW' });
  await assert.rejects(queue.submit(sizedPrompt(1), { overrides: { 'nope.width': 3 } }), { code: 'COMFY_BAD_OVERRIDE' });
  await assert.rejects(queue.submit(sizedPrompt(1), { inputs: { '1.image': '/etc/passwd' } }), { code: 'COMFY_BAD_JOB_INPUT' });
  await assert.rejects(queue.submit(sizedPrompt(1), { idempotencyKey: 'a:b' }), { code: 'COMFY_BAD_JOB_ID' });
  await assert.rejects(queue.submit(sizedPrompt(1), { idempotencyKey: '12345' }), { code: 'COMFY_BAD_JOB_ID' });
  const counts = await queue.counts();
  assert.equal(Object.values(counts).reduce((a, b) => a + b, 0), 0, 'nothing was queued');

  // A file path is read on the producer's side.
  const dir = mkdtempSync(join(tmpdir(), 'submit-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'prompt.json');
  writeFileSync(file, JSON.stringify(sizedPrompt(2)));
  const fromFile = await queue.submit(file, { priority: 5 });
  assert.equal(fromFile.created, true);
  assert.deepEqual((await queue.get(fromFile.id))?.data.spec.workflow, sizedPrompt(2));

  // The same key: the same job, never a second one.
  const a = await queue.submit(sizedPrompt(3), { idempotencyKey: 'order-17' });
  const b = await queue.submit(sizedPrompt(4), { idempotencyKey: 'order-17' });
  assert.equal(a.id, 'order-17');
  assert.equal(b.id, 'order-17');
  assert.equal(a.created, true);
  assert.equal(b.created, false);
  assert.deepEqual((await queue.get('order-17'))?.data.spec.workflow, sizedPrompt(3), 'the first submit\'s job, not the second\'s');
  assert.equal((await queue.status('order-17')).state, 'waiting');
  assert.equal((await queue.list({ states: ['waiting'] })).length, 2);
  // 'queued' carries the position (one job waited before it), once: the repeated key logged nothing.
  const queuedEvents = (await queue.recentEvents('order-17', 10)).filter((e) => e.type === 'queued');
  assert.deepEqual(queuedEvents.map((e) => (e as Extract<JobEvent, { type: 'queued' }>).position), [1]);
  assert.equal(queuedEvents[0]?.jobId, 'order-17');

  // Cancel a waiting job: removed, recorded, its log ends with 'cancelled'; the key still names it.
  assert.equal(await a.cancel('changed my mind'), 'removed');
  const status = await queue.status('order-17');
  assert.equal(status.state, 'cancelled');
  assert.equal(status.error?.code, 'COMFY_JOB_CANCELLED');
  await assert.rejects(a.result(), { code: 'COMFY_JOB_CANCELLED' });
  const again = await queue.submit(sizedPrompt(3), { idempotencyKey: 'order-17' });
  assert.equal(again.created, false, 'a cancelled key is not run again within the retention window');

  // Events: the whole log, and a resume after seq 1 (SSE Last-Event-ID).
  const all: JobEvent[] = [];
  for await (const e of queue.events('order-17')) all.push(e);
  assert.deepEqual(all.map((e) => [e.seq, e.type]), [[1, 'queued'], [2, 'cancelled']]);
  const resumed: JobEvent[] = [];
  for await (const e of queue.events('order-17', { fromSeq: 1 })) resumed.push(e);
  assert.deepEqual(resumed.map((e) => e.type), ['cancelled']);

  await assert.rejects(queue.status('never-submitted'), { code: 'COMFY_JOB_NOT_FOUND' });
});

test('producer: a job whose requirements no live worker meets waits, visibly, and fails at its deadline naming what is missing', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const handle = await fleet.queue.submit(sizedPrompt(1), {
    deadline: Date.now() + 600,
    requires: { models: [{ folder: 'checkpoints', name: 'nowhere.safetensors' }], nodeClasses: ['NoSuchNode'] },
  });
  assert.equal((await handle.status()).state, 'waiting');
  assert.ok((await fleet.queue.queueNames()).some((n) => n.startsWith(`${fleet.queueName}.r-`)), 'a queue of its own requirement profile');
  await assert.rejects(handle.result(), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'COMFY_DEADLINE_EXCEEDED');
    assert.match(e.message, /model checkpoints\/nowhere\.safetensors/);
    assert.match(e.message, /node class NoSuchNode/);
    return true;
  });
  assert.equal((await handle.status()).state, 'failed');
});

test('producer: a job whose result record is written reads as completed while BullMQ still holds it active (the record before the event); a final record likewise', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const { queue } = fleet;
  const { Worker } = await import('bullmq');
  const { claimResult, writeFinal } = await import('../../src/queue/records.js');
  const { openRedis } = await import('../../src/queue/connection.js');
  const { ComfyError } = await import('../../src/errors.js');
  const { serializeError } = await import('../../src/error-policy.js');
  const redis = openRedis(fleet.redis.url, { role: 'producer' });
  const bullConnection = openRedis(fleet.redis.url, { role: 'worker' });
  // A hand-held BullMQ worker takes the jobs, as a ComfyWorker would, and never completes them.
  const bull = new Worker(fleet.queueName, null, { connection: bullConnection, prefix: queue.prefix, autorun: false });
  t.after(async () => {
    await bull.close(true);
    bullConnection.disconnect();
    redis.disconnect();
  });
  const done = await queue.submit(sizedPrompt(1));
  const failed = await queue.submit(sizedPrompt(2));
  for (let i = 0; i < 2; i++) assert.ok(await bull.getNextJob(`token-${i}`, { block: false }), 'a job was taken');
  assert.equal((await queue.status(done.id)).state, 'active');
  assert.equal((await queue.status(failed.id)).state, 'active');

  const result = { jobId: done.id, promptId: 'p', worker: 'w', server: 's0', attempts: 1, outputs: [], timings: { queuedMs: 1, runMs: 2, storeMs: 0 } };
  await claimResult(redis, queue.keys, result, 60_000);
  const status = await queue.status(done.id);
  assert.equal(status.state, 'completed');
  assert.deepEqual(status.result, result);
  assert.ok((status.finishedAt ?? 0) > 0);
  assert.deepEqual(await queue.result(done.id), result);

  await writeFinal(redis, queue.keys, failed.id, { state: 'failed', error: serializeError(new ComfyError('COMFY_EXECUTION', 'node 2 failed')), finishedAt: Date.now(), attempts: 1 }, 60_000);
  const f = await queue.status(failed.id);
  assert.equal(f.state, 'failed');
  assert.equal(f.error?.code, 'COMFY_EXECUTION');
  await assert.rejects(queue.result(failed.id), { code: 'COMFY_EXECUTION' });
});
