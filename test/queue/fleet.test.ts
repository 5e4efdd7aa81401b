// The fleet's done-when test: a real redis-server, two worker PROCESSES with two stand-in servers
// each, 200 jobs with distinct outputs; one worker SIGKILLed halfway and Redis restarted once.
// Every job completes once, with its own output in the store; nothing is left behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { JobEvent, JobHandle } from '../../src/queue/index.js';
import { processAlive } from '../../src/server/process-group.js';
import { pngSize } from '../connector/harness.js';
import { redisSkip } from '../helpers/redis.js';
import { REPO_ROOT } from '../helpers/targets.js';
import { expectedSize, sizedPrompt, startFleet, until } from './fixtures.js';

const skip = redisSkip();

/** Files under dir (relative), without the store's hidden temp files and metadata. */
function storedFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}
const JOBS = 200;

interface Child {
  proc: ChildProcess;
  info: Promise<{ id: string; pids: number[]; dirs: string[] }>;
  log(): string;
  exited: Promise<number | null>;
}

function startWorkerProcess(config: Record<string, unknown>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'queue', 'worker-child.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, FLEET_CHILD: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const info = new Promise<{ id: string; pids: number[]; dirs: string[] }>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { id: string; pids: number[]; dirs: string[] });
    });
    proc.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${err.slice(-2000)}`)));
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, info, log: () => err, exited };
}

test('fleet: 200 jobs on two worker processes survive a SIGKILLed worker and a Redis restart; each completes once, with its own output', { skip, timeout: 240_000 }, async (t) => {
  const fleet = await startFleet(t);
  const children: Child[] = [];
  t.after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
  });
  const common = { redis: fleet.redis.url, queue: fleet.queueName, store: fleet.store.root, servers: 2 };
  const a = startWorkerProcess({ ...common, id: 'worker-a', base: fleet.base('a') });
  const b = startWorkerProcess({ ...common, id: 'worker-b', base: fleet.base('b') });
  children.push(a, b);
  const [infoA, infoB] = await Promise.all([a.info, b.info]);

  const handles: JobHandle[] = [];
  for (let i = 0; i < JOBS; i++) handles.push(await fleet.queue.submit(sizedPrompt(i), { idempotencyKey: `job-${i}` }));
  const results = Promise.all(handles.map((h) => h.result()));
  results.catch(() => {});

  // Halfway: SIGKILL worker A (mid-job), then restart Redis once.
  await until('half the jobs to complete', async () => ((await fleet.queue.counts())['completed'] ?? 0) >= JOBS / 2, 120_000);
  a.proc.kill('SIGKILL');
  await a.exited;
  await until("worker A's servers to die with it (the watchdog)", () => infoA.pids.every((p) => !processAlive(p)), 10_000);
  await until("worker A's server folders to be removed", () => infoA.dirs.every((d) => !existsSync(d)), 10_000);
  await fleet.redis.restart();

  const done = await results;
  for (const [i, result] of done.entries()) {
    assert.equal(result.jobId, `job-${i}`);
    const out = result.outputs.find((o) => o.stored);
    assert.ok(out?.stored?.url, `job ${i} names its output in the store`);
    const png = readFileSync(fileURLToPath(out.stored.url));
    assert.deepEqual(pngSize(png), expectedSize(i), `job ${i} has its own output`);
    assert.equal(out.stored.sha256, createHash('sha256').update(png).digest('hex'));
    // One result per job: one attempt folder in the store (a loser's files are deleted).
    assert.deepEqual(storedFiles(join(fleet.store.root, 'runs', `job-${i}`)), [out.stored.key.split('/').slice(2).join('/')], `job ${i} stored once`);
  }
  // Completed exactly once from the producer's point of view.
  let reran = 0;
  for (const h of handles) {
    const events: JobEvent[] = [];
    for await (const e of h.events()) events.push(e);
    assert.equal(events.filter((e) => e.type === 'completed').length, 1, `${h.id} completed once`);
    if (events.filter((e) => e.type === 'started').length > 1) reran++;
  }
  assert.ok(done.some((r) => r.worker === 'worker-a') && done.some((r) => r.worker === 'worker-b'), 'both workers ran jobs');
  t.diagnostic(`jobs started again after the SIGKILL or the restart: ${reran}`);

  // Graceful end of B: exit 0, its servers gone.
  b.proc.kill('SIGTERM');
  assert.equal(await b.exited, 0, b.log().slice(-2000));
  for (const pid of infoB.pids) assert.equal(processAlive(pid), false);
  for (const dir of infoB.dirs) assert.equal(existsSync(dir), false);
  assert.ok(existsSync(fleet.store.root));
});
