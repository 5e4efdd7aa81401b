// `comfy-connector api` as users start it (the CLI, embedded default: private redis-server with
// AOF, in-process workers), SIGKILLed with jobs in flight and started again on the same data
// folder: every accepted job completes exactly once and its result is readable after the restart.
// Then SIGTERM drains it and nothing is left behind. Stand-in only: the CLI has no flags for
// ComfyUI's input/output folders, which real ComfyUI would otherwise write into its checkout (the
// jobs suite runs the same HTTP assertions on real ComfyUI).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSse } from '../../src/service/sse.js';
import { redisSkip } from '../helpers/redis.js';
import { contractTargets, freePort, REPO_ROOT, TEST_NODES_CONFIG } from '../helpers/targets.js';
import { tempRoot } from './targets.js';

const KEY = `restart-${'r'.repeat(24)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startCli(dataDir: string, port: number): { child: ChildProcess; log: () => string; exited: Promise<number | null> } {
  const standin = contractTargets()[0]!.command();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'api',
    '--data', dataDir, '--port', String(port), '--api-key', KEY, '--servers', '2',
    '--extra-model-paths', TEST_NODES_CONFIG, '--lock-duration', '2'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COMFY_CONNECTOR_COMMAND: JSON.stringify(standin), NO_COLOR: '1' },
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, log: () => text, exited };
}

async function waitReady(url: string, log: () => string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const res = await fetch(`${url}/ready`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`the service did not become ready:\n${log().slice(-3000)}`);
    await sleep(200);
  }
}

const slow = (i: number) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 4242 + i } },
  '2': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps: 15, delay_ms: 100, image: ['1', 0] } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `restart${i}` } },
});

test('SIGKILL with jobs in flight: after a restart every accepted job completes once, results readable', { skip: redisSkip(), timeout: 240_000 }, async (t) => {
  const dataDir = tempRoot('restart');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set('authorization', `Bearer ${KEY}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${url}${path}`, { ...rest, headers, ...(json !== undefined ? { method: 'POST', body: JSON.stringify(json) } : {}) });
  };
  const procs: ChildProcess[] = [];
  t.after(async () => {
    for (const p of procs) {
      try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
    await sleep(2500); // the watchdogs' grace before they take redis-server and ComfyUI down
    rmSync(dataDir, { recursive: true, force: true });
  });

  const first = startCli(dataDir, port);
  procs.push(first.child);
  await waitReady(url, first.log);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await call('/v1/jobs', { json: { workflow: slow(i) }, headers: { 'idempotency-key': `restart-${i}` } });
    assert.equal(res.status, 202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  // Two of them running on the two servers, four waiting: then the crash.
  let active = 0;
  for (let i = 0; i < 200 && active < 2; i++) {
    const states = await Promise.all(ids.map(async (id) => ((await (await call(`/v1/jobs/${id}`)).json()) as { state: string }).state));
    active = states.filter((s) => s === 'active').length;
    if (active < 2) await sleep(50);
  }
  assert.equal(active, 2, 'two jobs were running when the service was killed');
  process.kill(first.child.pid!, 'SIGKILL');
  await first.exited;
  await sleep(2500);
  assert.equal((await fetch(`${url}/health`).catch(() => undefined))?.status, undefined, 'nothing answers after the kill');

  const second = startCli(dataDir, port);
  procs.push(second.child);
  await waitReady(url, second.log);
  for (const [i, id] of ids.entries()) {
    const res = await call(`/v1/jobs/${id}?wait=90`);
    const job = (await res.json()) as { state: string; outputs?: Array<{ kind: string; url: string; size: number }> };
    assert.equal(job.state, 'completed', `job ${i}: ${JSON.stringify(job)}\n${second.log().slice(-2000)}`);
    const image = job.outputs!.find((o) => o.kind === 'image')!;
    const bytes = Buffer.from(await (await call(image.url)).arrayBuffer());
    assert.equal(bytes.length, image.size);
    const events: string[] = [];
    for await (const e of parseSse((await call(`/v1/jobs/${id}/events`)).body!)) events.push(e.event ?? '');
    assert.equal(events.filter((e) => e === 'completed').length, 1, `job ${i} completed once: ${events.join()}`);
    // The same Idempotency-Key still names the same job after the restart.
    const again = await call('/v1/jobs', { json: { workflow: slow(i) }, headers: { 'idempotency-key': `restart-${i}` } });
    assert.equal(((await again.json()) as { id: string }).id, id);
  }

  process.kill(second.child.pid!, 'SIGTERM');
  assert.equal(await second.exited, 0, second.log().slice(-2000));
  await sleep(500);
  assert.equal((await fetch(`${url}/health`).catch(() => undefined))?.status, undefined);
  assert.ok(existsSync(join(dataDir, 'redis')), 'the AOF folder stays for the next start');
});
