// isolation 'job' (a fresh ComfyUI for every job) and startMode 'fork' (the worker's shared
// preloader), with the same assertions on the stand-in and on real ComfyUI (when COMFYUI_PATH and
// COMFYUI_PYTHON are set): every job runs on its own server process, the previous job's server and
// its temp folder are gone before the next job runs, a crash restart comes back (forked on real
// ComfyUI, cold with one line on the stand-in, which is not Python), and close() leaves nothing.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ComfyQueue, ComfyWorker, type ServerSlot } from '../../src/queue/index.js';
import { processAlive } from '../../src/server/process-group.js';
import { STANDIN_COMMAND, TEST_NODES_YAML } from '../cli/harness.js';
import { connectorTargets } from '../connector/harness.js';
import { redisSkip, startRedis, uniqueQueueName } from '../helpers/redis.js';
import { freePort, REPO_ROOT } from '../helpers/targets.js';
import { sizedPrompt, slowPrompt, startFleet, until } from './fixtures.js';

const skip = redisSkip();

/** The process and folders of the server a slot holds now. */
function serverOf(slot: ServerSlot): { pid: number; instance: string; temp: string } {
  const server = slot.connector.server!;
  return { pid: server.pid!, instance: server.paths.instanceDirectory, temp: server.paths.tempDirectory };
}

/** Lines of `pgrep -f pattern` (none: pgrep exits 1). */
function pgrep(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function checkoutStatus(): string {
  return execFileSync('git', ['status', '--short', '--ignored'], { cwd: process.env.COMFYUI_PATH!, encoding: 'utf8' });
}

for (const target of connectorTargets()) {
  const real = target.name !== 'standin';
  test(`isolation 'job' on ${target.name}: each job (completed, failed, cancelled) on a fresh server, the last one's temp folder gone; a crash restart ${real ? 'forks' : 'starts cold'}; close leaves nothing`, { skip: skip ?? target.skip, timeout: 600_000 }, async (t) => {
    const before = real ? checkoutStatus() : '';
    const fleet = await startFleet(t);
    // The database template cache of src/server/database-template.ts goes to a folder of this test.
    const cache = mkdtempSync(join(tmpdir(), 'isolation-cache-'));
    const { options, base, cleanup } = target.options({ databaseTemplates: cache });
    t.after(() => {
      cleanup();
      rmSync(cache, { recursive: true, force: true });
    }); // registered after the fleet's: runs once the worker has stopped
    const lines: string[] = [];
    const worker = await fleet.worker({ servers: [options], isolation: 'job', lockDurationMs: 30_000, stalledIntervalMs: 30_000, log: (line) => lines.push(line) });
    const slot = worker.slots[0]!;
    const expected = real ? 'fork' : 'cold';
    assert.equal(slot.connector.server!.startedBy, expected);
    const preloaderPid = slot.connector.server!.preloader?.pid;
    if (real) assert.ok(preloaderPid, 'the worker made a preloader for its managed server');
    else assert.equal(preloaderPid, undefined, 'no preloader for a replacement command');

    const seen: Array<ReturnType<typeof serverOf>> = [];
    /** Runs one job on the idle slot; then the slot gets a fresh server and the old one is gone. */
    const oneJob = async (run: () => Promise<void>) => {
      assert.equal(slot.state, 'idle');
      const used = serverOf(slot);
      seen.push(used);
      // A file of "the job" in its server's temp folder: it must not reach the next job.
      mkdirSync(used.temp, { recursive: true });
      writeFileSync(join(used.temp, 'tenant-secret.txt'), 'of this job only');
      await run();
      const fresh = await until('a fresh server on the slot', () => slot.state === 'idle' && slot.connector.server!.running && serverOf(slot).pid !== used.pid && serverOf(slot), 120_000);
      assert.notEqual(fresh.instance, used.instance);
      assert.equal(existsSync(used.temp), false, 'the last job\'s temp folder is gone before the next job runs');
      assert.equal(existsSync(used.instance), false);
      assert.equal(processAlive(used.pid), false, 'the last job\'s server process is gone');
      assert.equal(slot.connector.server!.startedBy, expected);
      const ad = worker.ad().servers[0]!;
      assert.equal(ad.url, slot.connector.url, 'the ad names the fresh server');
      assert.ok(ad.capabilities.nodeClasses.includes('SaveImage'));
    };

    // Completed: while the slot gets its fresh server it is busy (no job is taken), not idle.
    await oneJob(async () => {
      const result = await (await fleet.queue.submit(sizedPrompt(1, 'iso1'))).result();
      assert.equal(slot.state, 'busy', 'the slot is not idle while its server is renewed');
      assert.ok(result.outputs.some((o) => o.stored));
    });
    // Failed (an execution error of the job's own).
    await oneJob(async () => {
      await assert.rejects((await fleet.queue.submit({ '1': { class_type: 'ComfyConnectorRaise', inputs: { message: 'no' } } })).result(), { code: 'COMFY_EXECUTION' });
    });
    // Cancelled while it runs.
    await oneJob(async () => {
      const slow = await fleet.queue.submit(slowPrompt(400, 50));
      await until('the slow job to run', async () => (await slow.status()).progress?.value !== undefined, 120_000);
      assert.equal(await slow.cancel(), 'signalled');
      await assert.rejects(slow.result(), { code: 'COMFY_JOB_CANCELLED' });
    });
    assert.equal(new Set(seen.map((s) => s.pid)).size, 3, 'three jobs, three server processes');

    // A crash of the idle server: restarted by the crash path, from the preloader on real ComfyUI.
    const crashed = serverOf(slot);
    seen.push(crashed);
    process.kill(crashed.pid, 'SIGKILL');
    const back = await until('the crashed server back', () => slot.state === 'idle' && slot.connector.server!.running && serverOf(slot).pid !== crashed.pid && serverOf(slot), 120_000);
    assert.equal(slot.connector.server!.startedBy, expected, `the crash restart was a ${expected} start`);
    assert.ok(lines.some((l) => l.includes('crashed') && l.includes('restarting')), 'the crash was logged');
    if (!real) {
      // The same ComfyServer started twice (after the renewal that made it, and after the crash).
      const said = slot.connector.server!.logTail().filter((l) => l.includes('fast start unavailable'));
      assert.equal(said.length, 2, `the stand-in says once per start why it starts cold: ${said.join(' | ')}`);
    }
    const after = await (await fleet.queue.submit(sizedPrompt(3, 'iso3'))).result();
    assert.equal(after.outputs.filter((o) => o.stored).length, 1, 'the next job completes');
    await until('the last fresh server', () => slot.state === 'idle' && serverOf(slot).pid !== back.pid && serverOf(slot), 120_000);
    seen.push(serverOf(slot));

    await worker.close({ drainTimeoutMs: 10_000 });
    for (const s of seen) {
      assert.equal(processAlive(s.pid), false, `server ${s.pid} is gone`);
      assert.equal(existsSync(s.instance), false, `${s.instance} is gone`);
    }
    if (preloaderPid) assert.equal(processAlive(preloaderPid), false, 'the worker closed its preloader');
    assert.deepEqual(pgrep(base), [], 'no process of the worker\'s servers is left');
    assert.deepEqual(pgrep(cache), []);
    if (real) assert.equal(checkoutStatus(), before, 'the ComfyUI checkout is as it was');
  });
}

test("isolation 'job' refuses a server attached by URL with a typed usage error, before starting anything", { skip }, async (t) => {
  const fleet = await startFleet(t);
  await assert.rejects(
    ComfyWorker.start({ redis: fleet.redis.url, queue: fleet.queueName, store: fleet.store, servers: [{ url: 'http://127.0.0.1:9' }], isolation: 'job' }),
    (error: Error & { code?: string; hint?: string }) => {
      assert.equal(error.code, 'COMFY_WORKER_OPTIONS');
      assert.match(error.message, /attached by URL/);
      assert.match(error.hint ?? '', /--servers or --gpus/);
      return true;
    },
  );
  assert.deepEqual(await fleet.queue.workers(), [], 'no worker was advertised');
});

test("startMode 'cold' leaves the worker's servers as they were: no preloader, no fast-start line", { skip }, async (t) => {
  const fleet = await startFleet(t);
  const worker = await fleet.worker({ servers: [fleet.standin(fleet.base('cold'))], startMode: 'cold' });
  const server = worker.slots[0]!.connector.server!;
  assert.equal(server.startedBy, 'cold');
  assert.equal(server.logTail().filter((l) => l.includes('fast start unavailable')).length, 0);
  const result = await (await fleet.queue.submit(sizedPrompt(2))).result();
  assert.ok(result.outputs.some((o) => o.stored));
});

test('cli: worker and api take --isolation and --start-mode; --isolation job with --url is a usage error (exit 2)', { skip, timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'isolation-cli-'));
  const redis = await startRedis();
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const cli = (args: string[], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
    return { child, done, stdout: () => stdout };
  };
  const queueName = uniqueQueueName('iso-cli');
  const queue = ['--redis', redis.url, '--queue', queueName];

  const refused = await cli(['worker', ...queue, '--url', 'http://127.0.0.1:9', '--isolation', 'job', '--store', join(dir, 'store')]).done;
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /attached by URL/);
  const apiRefused = await cli(['api', '--url', 'http://127.0.0.1:9', '--isolation', 'job', '--no-auth', '--port', String(await freePort()), '--data', join(dir, 'api')]).done;
  assert.equal(apiRefused.code, 2, apiRefused.stderr);
  assert.match(apiRefused.stderr, /attached by URL/);
  const bogus = await cli(['worker', ...queue, '--isolation', 'tenant', '--store', join(dir, 'store')]).done;
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /--isolation/);

  // The flags reach the worker: each job is followed by a fresh server (its log line).
  const base = join(dir, 'base');
  mkdirSync(join(base, 'custom_nodes'), { recursive: true });
  const worker = cli(['worker', ...queue, '--servers', '1', '--store', join(dir, 'store'), '--extra-model-paths', TEST_NODES_YAML, `--arg=--base-directory=${base}`, '--json', '--isolation', 'job', '--start-mode', 'fork'], { COMFY_CONNECTOR_COMMAND: STANDIN_COMMAND });
  await until('the worker to be ready', () => worker.stdout().includes('"type":"ready"'), 120_000);
  const producer = new ComfyQueue({ redis: redis.url, queue: queueName });
  t.after(() => producer.close());
  for (const i of [1, 2]) await (await producer.submit(sizedPrompt(i, `cli${i}`))).result();
  await until('two renewals', () => worker.stdout().split('\n').filter((l) => l.includes(' renewed at ')).length >= 2, 60_000);
  worker.child.kill('SIGTERM');
  assert.equal((await worker.done).code, 0);
  assert.deepEqual(pgrep(base), [], 'the drained worker left no server');
});
