// The pure gateway: `startService` with a shared Redis and no servers of its own, in front of a
// fleet worker (the fleet's ComfyWorker on a stand-in) that writes to a shared folder store the
// gateway reads outputs from.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ComfyWorker } from '../../src/queue/worker.js';
import { startService } from '../../src/service/start.js';
import { FolderStore } from '../../src/stores/folder-store.js';
import { redisSkip, startRedis, uniqueQueueName } from '../helpers/redis.js';
import { serviceTargets, tempRoot } from './targets.js';

const KEY = `gateway-${'g'.repeat(20)}`;

test('gateway: jobs run on a worker elsewhere; status, result bytes and readiness come through', { skip: redisSkip(), timeout: 120_000 }, async (t) => {
  const root = tempRoot('gateway');
  const redis = await startRedis();
  const queue = uniqueQueueName('gw');
  const storeDir = join(root, 'shared-store');
  const worker = await ComfyWorker.start({ redis: redis.url, queue, store: new FolderStore(storeDir), servers: [serviceTargets()[0]!.server(join(root, 'worker'))] });
  const gw = await startService({ port: 0, redis: redis.url, queue, dataDir: join(root, 'gw'), servers: [], store: new FolderStore(storeDir), apiKeys: [{ name: 'ops', key: KEY, admin: true }] });
  t.after(async () => {
    await gw.close({ drainMs: 0 });
    await worker.close({ drainTimeoutMs: 0 });
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  });
  assert.equal(gw.worker, undefined, 'the gateway runs no worker');
  assert.equal(gw.redis, undefined, 'and no Redis of its own');
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  for (let i = 0; i < 100 && (await fetch(`${gw.url}/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  const ready = (await (await fetch(`${gw.url}/ready`)).json()) as { workers: number; servers: number };
  assert.deepEqual([ready.workers, ready.servers], [1, 1]);
  const workflow = {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 123456 } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'gw' } },
  };
  const res = await fetch(`${gw.url}/v1/jobs?wait=60`, { method: 'POST', headers, body: JSON.stringify({ workflow }) });
  assert.equal(res.status, 200, await res.clone().text());
  const job = (await res.json()) as { outputs: Array<{ url: string; size: number; mime: string }> };
  assert.equal(job.outputs[0]!.mime, 'image/png');
  const bytes = Buffer.from(await (await fetch(`${gw.url}${job.outputs[0]!.url}`, { headers })).arrayBuffer());
  assert.equal(bytes.length, job.outputs[0]!.size);
});
