/**
 * The fleet, measured side by side in one run on the same stand-in servers:
 *
 *   overhead:   per job, submit → result through Redis and a worker (which also stores the output in
 *               a folder store) against calling runWorkflow directly on the same server, rounds
 *               interleaved. "queue − direct" is the queue's cost; the store's share is shown apart.
 *   throughput: jobs/s with 1, 2 and 4 servers in one worker (each job ComfyConnectorSlowCounter
 *               4 × 50 ms, so a server waits rather than computes, as on a GPU) and the share of
 *               linear scaling.
 *   recovery:   a worker process SIGKILLed while its job runs → the job started again on another
 *               worker (lock 2 s, stall check every 1 s; BullMQ's defaults are 30 s and 30 s).
 *
 * Run: npm run bench -- queue   (BENCH_QUEUE_ROUNDS, BENCH_QUEUE_JOBS to change sizes).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ComfyQueue, ComfyWorker, RedisServer } from '../src/queue/index.js';
import { FolderStore } from '../src/stores/index.js';
import type { CreateOptions } from '../src/connector.js';
import { STANDIN_COMMAND, TEST_NODES_CONFIG } from '../test/connector/harness.js';
import { REPO_ROOT } from '../test/helpers/targets.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))] ?? NaN;
const f = (n: number) => n.toFixed(1).padStart(9);

const tiny = (i: number) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: (i * 7919) % 0xffffff } },
  '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
});
const slow = () => ({ '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps: 4, delay_ms: 50 } } });

export async function benchQueue(options: { rounds?: number; jobsPerServer?: number } = {}): Promise<void> {
  const rounds = options.rounds ?? Number(process.env.BENCH_QUEUE_ROUNDS ?? 40);
  const jobsPerServer = options.jobsPerServer ?? Number(process.env.BENCH_QUEUE_JOBS ?? 24);
  const root = mkdtempSync(join(tmpdir(), 'bench-queue-'));
  const redis = await RedisServer.start();
  const base = join(root, 'base');
  mkdirSync(join(base, 'custom_nodes'), { recursive: true });
  const standin = (): CreateOptions => ({ command: STANDIN_COMMAND, extraModelPaths: [TEST_NODES_CONFIG], extraArgs: ['--base-directory', base] });
  const store = new FolderStore(join(root, 'store'));
  const fast = { lockDurationMs: 2000, stalledIntervalMs: 1000, pollMs: 250 };
  try {
    // ---- overhead: queue vs direct on the same server
    {
      const name = `bench-${process.pid}-o`;
      const queue = new ComfyQueue({ redis: redis.url, queue: name });
      const worker = await ComfyWorker.start({ redis: redis.url, queue: name, store, servers: [standin()] });
      const connector = worker.slots[0]!.connector;
      const direct: number[] = [];
      const viaQueue: number[] = [];
      const storeMs: number[] = [];
      // Where a queued job's time goes, from its own event timestamps (one clock: one process).
      const stages: Record<string, number[]> = {};
      const stage = (name: string, ms: number) => (stages[name] ??= []).push(ms);
      for (let i = 0; i < rounds + 3; i++) {
        const order = i % 2 === 0 ? ['direct', 'queue'] : ['queue', 'direct'];
        for (const which of order) {
          const started = performance.now();
          if (which === 'direct') {
            await connector.runWorkflow(tiny(i * 2) as never);
            if (i >= 3) direct.push(performance.now() - started);
          } else {
            const t0 = Date.now();
            const handle = await queue.submit(tiny(i * 2 + 1));
            const submitted = Date.now();
            const result = await handle.result();
            const done = Date.now();
            if (i >= 3) {
              viaQueue.push(performance.now() - started);
              storeMs.push(result.timings.storeMs);
              const events = await queue.recentEvents(handle.id, 50);
              const at = (type: string) => events.find((e) => e.type === type)?.at ?? NaN;
              stage('submit() returns', submitted - t0);
              stage('queued → started (worker fetch)', at('started') - at('queued'));
              stage('started → completed event', at('completed') - at('started'));
              stage('  runWorkflow on the worker (runMs)', result.timings.runMs);
              stage('  store write (storeMs)', result.timings.storeMs);
              stage('  result record + state + event', at('completed') - at('started') - result.timings.runMs - result.timings.storeMs);
              stage('completed event → result() returns', done - at('completed'));
            }
          }
        }
      }
      await worker.close({ drainTimeoutMs: 0 });
      await queue.close();
      console.log(`\nper-job time, ${rounds} rounds interleaved, one stand-in server (EmptyImage 8×8 → PreviewImage)`);
      console.log(`${'path'.padEnd(44)}${'median ms'.padStart(10)}${'p90 ms'.padStart(10)}`);
      console.log(`${'runWorkflow direct'.padEnd(44)}${f(median(direct))} ${f(p90(direct))}`);
      console.log(`${'submit → result through the queue'.padEnd(44)}${f(median(viaQueue))} ${f(p90(viaQueue))}`);
      console.log(`${'  of which: storing the output (FolderStore)'.padEnd(44)}${f(median(storeMs))} ${f(p90(storeMs))}`);
      const overhead = viaQueue.map((q, i) => q - (direct[i] ?? 0));
      const overheadNoStore = overhead.map((o, i) => o - (storeMs[i] ?? 0));
      console.log(`${'queue overhead (queue − direct, per round)'.padEnd(44)}${f(median(overhead))} ${f(p90(overhead))}`);
      console.log(`${'queue overhead without the store write'.padEnd(44)}${f(median(overheadNoStore))} ${f(p90(overheadNoStore))}   (goal ≤ 20 ms median)`);
      console.log('stages of a queued job (event timestamps, ms resolution)');
      for (const [name, xs] of Object.entries(stages)) console.log(`${`  ${name}`.padEnd(44)}${f(median(xs))} ${f(p90(xs))}`);
    }

    // ---- throughput with 1, 2, 4 servers
    {
      console.log(`\nthroughput: ${jobsPerServer} jobs per server, each SlowCounter 4 × 50 ms, one worker`);
      console.log(`${'servers'.padEnd(10)}${'jobs'.padStart(6)}${'seconds'.padStart(10)}${'jobs/s'.padStart(10)}${'of linear'.padStart(12)}`);
      let single = 0;
      for (const n of [1, 2, 4]) {
        const name = `bench-${process.pid}-t${n}`;
        const queue = new ComfyQueue({ redis: redis.url, queue: name });
        const worker = await ComfyWorker.start({ redis: redis.url, queue: name, store, servers: Array.from({ length: n }, standin) });
        // Warm each server once (first prompt loads the node pack's code paths).
        await Promise.all(Array.from({ length: n }, async () => (await queue.submit(slow())).result()));
        const jobs = jobsPerServer * n;
        const started = performance.now();
        const handles = await Promise.all(Array.from({ length: jobs }, () => queue.submit(slow())));
        await Promise.all(handles.map((h) => h.result()));
        const seconds = (performance.now() - started) / 1000;
        const rate = jobs / seconds;
        if (n === 1) single = rate;
        console.log(`${String(n).padEnd(10)}${String(jobs).padStart(6)}${seconds.toFixed(2).padStart(10)}${rate.toFixed(2).padStart(10)}${`${((rate / (single * n)) * 100).toFixed(0)}%`.padStart(12)}`);
        await worker.close({ drainTimeoutMs: 0 });
        await queue.close();
      }
    }

    // ---- SIGKILL → running again elsewhere
    {
      const name = `bench-${process.pid}-k`;
      const queue = new ComfyQueue({ redis: redis.url, queue: name });
      const survivor = await ComfyWorker.start({ redis: redis.url, queue: name, store, servers: [standin()], ...fast, id: 'survivor' });
      const times: number[] = [];
      for (let round = 0; round < 3; round++) {
        const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'queue', 'worker-child.ts')], {
          cwd: REPO_ROOT,
          env: { ...process.env, FLEET_CHILD: JSON.stringify({ redis: redis.url, queue: name, store: store.root, base, servers: 1, id: `victim-${round}` }) },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
        // The survivor holds back until the victim runs the job, then is ready to take it over.
        survivor.pause();
        const job = await queue.submit({ '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps: 200, delay_ms: 50 } } });
        let killedAt = 0;
        let again = 0;
        for await (const e of queue.events(job.id)) {
          if (e.type === 'started' && !killedAt) {
            survivor.resume();
            await sleep(200);
            killedAt = performance.now();
            child.kill('SIGKILL');
          } else if (e.type === 'started' && killedAt) {
            again = performance.now();
            await job.cancel();
          }
          if (e.type === 'cancelled' || e.type === 'completed' || e.type === 'failed') break;
        }
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        if (again) times.push(again - killedAt);
      }
      await survivor.close({ drainTimeoutMs: 0 });
      await queue.close();
      console.log('\nworker SIGKILLed mid-job → the job started again on another worker (lock 2 s, stall check 1 s)');
      console.log(`${'rounds'.padEnd(10)}${'median ms'.padStart(10)}${'max ms'.padStart(10)}`);
      console.log(`${String(times.length).padEnd(10)}${f(median(times))} ${f(Math.max(...times))}`);
      console.log('(bounded by lockDuration + stalledInterval; with BullMQ\'s defaults, 30 s + 30 s)');
    }
  } finally {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchQueue();
