import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { processAlive } from '../../src/server/process-group.js';
import type { JobEvent, JobResult } from '../../src/queue/index.js';
import { pngSize, tinyPng } from '../connector/harness.js';
import { redisSkip } from '../helpers/redis.js';
import { expectedSize, sizedPrompt, slowPrompt, startFleet, until } from './fixtures.js';

const skip = redisSkip();

function storedBytes(result: JobResult): Buffer {
  const output = result.outputs.find((o) => o.stored);
  assert.ok(output?.stored?.url, 'a stored output with a file URL');
  return readFileSync(fileURLToPath(output.stored.url));
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }).map(String).filter((f) => /\.(png|jpe?g|webp)$/.test(f));
  } catch {
    return [];
  }
}

test('worker: two servers, jobs with distinct outputs into the store, inputs and outputs gone from the servers, counters, drain', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const base = fleet.base('w1');
  const worker = await fleet.worker({ servers: [fleet.standin(base), fleet.standin(base)], metricsPort: 0, inlineOutputBytes: 1024 });
  assert.equal(worker.slots.length, 2);
  const ads = await fleet.queue.workers();
  assert.equal(ads.length, 1);
  assert.ok(ads[0]!.servers[0]!.capabilities.nodeClasses.includes('SaveImage'), 'the worker advertises its node classes');

  const handles = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => fleet.queue.submit(sizedPrompt(i))));
  const results = await Promise.all(handles.map((h) => h.result()));
  for (const [i, result] of results.entries()) {
    const png = storedBytes(result);
    assert.deepEqual(pngSize(png), expectedSize(i), `job ${i} has its own output`);
    const out = result.outputs.find((o) => o.stored)!;
    assert.equal(out.stored!.sha256, createHash('sha256').update(png).digest('hex'));
    assert.equal(out.mime, 'image/png');
    assert.equal(out.kind, 'image');
    assert.equal(out.base64, png.toString('base64'), 'small outputs also inline under the limit');
    assert.match(out.stored!.key, new RegExp(`^runs/${result.jobId}/`));
  }
  assert.deepEqual(new Set(results.map((r) => r.server)), new Set(['s0', 's1']), 'both servers worked');

  // An input by value (base64): LoadImage → ImageInvert → SaveImage.
  const withInput = await fleet.queue.submit(
    {
      '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'in' } },
    },
    { inputs: { '1.image': tinyPng(5, 3) } },
  );
  assert.deepEqual(pngSize(storedBytes(await withInput.result())), { width: 5, height: 3 });

  // Events of a finished job, from the start.
  const events: JobEvent[] = [];
  for await (const e of handles[0]!.events()) events.push(e);
  assert.deepEqual(events.map((e) => e.type).filter((x) => x !== 'node' && x !== 'progress'), ['queued', 'started', 'completed']);
  const started = events.find((e) => e.type === 'started') as Extract<JobEvent, { type: 'started' }>;
  assert.equal(started.worker, worker.id);

  // Nothing of the jobs is left on the servers' disks.
  assert.deepEqual(filesUnder(join(base, 'output')), []);
  assert.deepEqual(filesUnder(join(base, 'input')), []);

  const metrics = await (await fetch(`http://127.0.0.1:${worker.metrics.port}/metrics`)).text();
  assert.match(metrics, /comfy_worker_jobs_completed_total 7/);
  assert.match(metrics, /comfy_worker_queue_depth 0/);

  // Graceful drain: a running job finishes, then every server stops.
  const slow = await fleet.queue.submit(slowPrompt(8, 100));
  await until('the slow job to start', async () => (await slow.status()).state === 'active');
  const pids = worker.slots.map((s) => s.connector.server!.pid!);
  await worker.close({ drainTimeoutMs: 20_000 });
  assert.equal((await slow.status()).state, 'completed', 'the running job finished during the drain');
  for (const pid of pids) assert.equal(processAlive(pid), false);
  assert.deepEqual(await fleet.queue.workers(), [], 'the worker withdrew its ad');
});

test('worker: cancel of a running job interrupts it on ComfyUI within a second; failures that are the job\'s own are not retried; a drain out of time hands back', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const worker = await fleet.worker({ servers: [fleet.standin(fleet.base('w'))] });

  // Priorities: lower runs first (the worker holds back while they are queued).
  worker.pause();
  const byPriority = [];
  for (const p of [5, 0, -5]) byPriority.push(await fleet.queue.submit(sizedPrompt(20 + p), { priority: p }));
  worker.resume();
  const results = await Promise.all(byPriority.map((h) => h.result()));
  const startedAt = await Promise.all(results.map(async (r) => (await fleet.queue.status(r.jobId)).startedAt!));
  assert.ok(startedAt[2]! <= startedAt[1]! && startedAt[1]! <= startedAt[0]!, `started in priority order: ${startedAt.join(', ')}`);

  const slow = await fleet.queue.submit(slowPrompt(200, 50));
  await until('progress', async () => (await slow.status()).progress?.value !== undefined);
  const asked = Date.now();
  assert.equal(await slow.cancel(), 'signalled');
  await assert.rejects(slow.result(), { code: 'COMFY_JOB_CANCELLED' });
  assert.ok(Date.now() - asked < 1500, `cancelled in ${Date.now() - asked} ms`);
  assert.equal((await slow.status()).state, 'cancelled');

  // The server is free again at once (the prompt was interrupted, not left running).
  const next = await fleet.queue.submit(sizedPrompt(9));
  assert.deepEqual(pngSize(storedBytes(await next.result())), expectedSize(9));

  // A node that raises: an execution error, one attempt only.
  const raising = await fleet.queue.submit({ '1': { class_type: 'ComfyConnectorRaise', inputs: { message: 'no' } } });
  await assert.rejects(raising.result(), { code: 'COMFY_EXECUTION' });
  assert.equal((await raising.status()).attempts, 1);

  // An output node that ran before the failing one: its file was stored early, and is gone again.
  const halfway = await fleet.queue.submit({
    ...sizedPrompt(31),
    '3': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps: 3, delay_ms: 30, image: ['1', 0] } },
    '9': { class_type: 'ComfyConnectorRaise', inputs: { message: 'after the output', image: ['3', 0] } },
  });
  const ran = (async () => {
    const nodes: string[] = [];
    for await (const e of halfway.events()) if (e.type === 'node') nodes.push(e.node);
    return nodes;
  })();
  await assert.rejects(halfway.result(), { code: 'COMFY_EXECUTION' });
  const nodes = await ran;
  assert.ok(nodes.includes('2') && nodes.indexOf('2') < nodes.indexOf('9'), `the save ran before the failing node: ${nodes.join(', ')}`);
  // Nothing of either failed job in the store, not even the folders made for their outputs ahead.
  for (const failed of [raising, halfway]) assert.equal(existsSync(join(fleet.store.root, 'runs', failed.id)), false, `runs/${failed.id} is gone`);

  // A drain that runs out of time hands the running job back: waiting again, no attempt used.
  const long = await fleet.queue.submit(slowPrompt(400, 50));
  await until('the long job to run', async () => (await long.status()).state === 'active');
  await worker.close({ drainTimeoutMs: 300 });
  const back = await long.status();
  assert.equal(back.state, 'waiting');
  assert.equal(back.attempts, 0);
});

test('worker: a crashing ComfyUI is restarted, its job retried and completed; the other server keeps working', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const base = fleet.base('w');
  const worker = await fleet.worker({
    servers: [fleet.standin(base, { env: { COMFY_STANDIN_FAULTS: JSON.stringify({ crashOnNode: 'ComfyConnectorSlowCounter' }) } }), fleet.standin(base)],
  });
  const crashy = worker.slots[0]!;
  const steady = worker.slots[1]!;
  const steadyPid = steady.connector.server!.pid;
  // Only the first server crashes on the slow node; the retry may land on either, and completes there.
  const handles = await Promise.all([slowPrompt(3, 20), slowPrompt(3, 20), slowPrompt(3, 20)].map((p) => fleet.queue.submit(p)));
  const results = await Promise.all(handles.map((h) => h.result()));
  assert.ok(results.every((r) => r.server === 's1'), 'every slow job completed on the server that does not crash');
  assert.ok(results.some((r) => r.attempts > 1), 'at least one was retried after the crash');
  assert.equal(steady.connector.server!.pid, steadyPid, 'the other server was not restarted');
  await until('the crashed server to be back', () => crashy.state === 'idle');
  const metrics = await worker.metrics.registry.getSingleMetricAsString('comfy_worker_server_restarts_total');
  assert.match(metrics, /comfy_worker_server_restarts_total [1-9]/);
});

test('worker: routing by a model only one worker has', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const plain = await fleet.worker({ id: 'plain', servers: [fleet.standin(fleet.base('plain'))] });
  const rich = await fleet.worker({ id: 'rich', servers: [fleet.standin(fleet.base('rich', { checkpoints: ['only-here.safetensors'] }))] });
  assert.ok(rich.slots[0]!.capabilities.models['checkpoints']?.includes('only-here.safetensors'));
  assert.ok(!plain.slots[0]!.capabilities.models['checkpoints']?.includes('only-here.safetensors'));
  const requires = { models: [{ folder: 'checkpoints', name: 'only-here.safetensors' }] };
  const handles = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => fleet.queue.submit(sizedPrompt(i), { requires })));
  const free = await Promise.all([6, 7, 8, 9].map((i) => fleet.queue.submit(sizedPrompt(i))));
  for (const r of await Promise.all(handles.map((h) => h.result()))) assert.equal(r.worker, 'rich');
  await Promise.all(free.map((h) => h.result()));
});

test('worker: a lapsed lock stops the local run; the job runs again and has one result', { skip }, async (t) => {
  const fleet = await startFleet(t);
  const worker = await fleet.worker({ servers: [fleet.standin(fleet.base('w'))] });
  const slow = await fleet.queue.submit(slowPrompt(40, 50));
  await until('the job to run', async () => (await slow.status()).progress?.value !== undefined);
  // What a long-blocked event loop looks like from Redis: the lock is gone (another worker may take it).
  const redis = new Redis(fleet.redis.url);
  t.after(() => redis.disconnect());
  assert.equal(await redis.del(`comfy:${fleet.queueName}:${slow.id}:lock`), 1);
  const result = await slow.result();
  assert.equal(result.jobId, slow.id);
  const events: JobEvent[] = [];
  for await (const e of slow.events()) events.push(e);
  assert.equal(events.filter((e) => e.type === 'started').length, 2, 'it ran a second time');
  assert.equal(events.filter((e) => e.type === 'completed').length, 1, 'and completed once');
  assert.match(await worker.metrics.registry.getSingleMetricAsString('comfy_worker_lock_lost_total'), /comfy_worker_lock_lost_total 1/);
});
