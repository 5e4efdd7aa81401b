/**
 * What isolation 'job' (a fresh ComfyUI after every job) costs per job, side by side in one run:
 * one slot, BENCH_ISOLATION_JOBS (6) `EmptyImage → SaveImage` jobs back to back (the next submitted
 * when the last result arrived, so it waits for the renewal), per mode:
 *
 *   isolation 'none'         the warm server runs every job
 *   isolation 'job', fork    renewals forked from the worker's preloader (the default startMode)
 *   isolation 'job', cold    renewals as a new `python main.py` (real ComfyUI only)
 *
 * On the stand-in (always; not Python, so every start is a Node start) and on real ComfyUI when
 * COMFYUI_PATH and COMFYUI_PYTHON are set. "renewal" is the worker's own `renewed … in N ms` line:
 * the old server's stop and the fresh one's start, which run side by side.
 *
 * Run: npm run bench -- isolation
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CreateOptions } from '../src/connector.js';
import { ComfyQueue, ComfyWorker, RedisServer } from '../src/queue/index.js';
import { FolderStore } from '../src/stores/index.js';
import { STANDIN_COMMAND, TEST_NODES_CONFIG } from '../test/connector/harness.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (n: number) => `${Number.isNaN(n) ? '-' : n.toFixed(0)} ms`.padStart(10);

const prompt = (i: number) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8 + i, height: 8, batch_size: 1, color: (i * 7919) % 0xffffff } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: `iso${i}` } },
});

interface Mode {
  name: string;
  isolation: 'none' | 'job';
  startMode: 'fork' | 'cold';
}

export async function benchIsolation(options: { jobs?: number } = {}): Promise<void> {
  const jobs = options.jobs ?? Number(process.env.BENCH_ISOLATION_JOBS ?? 6);
  const root = mkdtempSync(join(tmpdir(), 'bench-isolation-'));
  const redis = await RedisServer.start();
  const store = new FolderStore(join(root, 'store'));
  const { COMFYUI_PATH, COMFYUI_PYTHON } = process.env;
  const targets: Array<{ name: string; spec: (base: string) => CreateOptions; modes: Mode[] }> = [
    {
      name: 'stand-in',
      spec: (base) => ({ command: STANDIN_COMMAND, extraModelPaths: [TEST_NODES_CONFIG], extraArgs: ['--base-directory', base] }),
      modes: [
        { name: "isolation 'none'", isolation: 'none', startMode: 'fork' },
        { name: "isolation 'job'", isolation: 'job', startMode: 'fork' },
      ],
    },
  ];
  if (COMFYUI_PATH && COMFYUI_PYTHON) {
    targets.push({
      name: 'real ComfyUI',
      // The database template cache goes to this run's folder, not to ~/.cache.
      spec: (base) => ({ comfyuiPath: COMFYUI_PATH, python: COMFYUI_PYTHON, device: 'cpu', notices: 'silent', databaseTemplates: join(root, 'db-templates'), extraArgs: ['--base-directory', base] }),
      modes: [
        { name: "isolation 'none'", isolation: 'none', startMode: 'fork' },
        { name: "isolation 'job', fork", isolation: 'job', startMode: 'fork' },
        { name: "isolation 'job', cold", isolation: 'job', startMode: 'cold' },
      ],
    });
  } else console.log('COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI skipped');
  const rows: string[] = [];
  try {
    for (const target of targets) {
      for (const [m, mode] of target.modes.entries()) {
        const base = join(root, `${target.name.replace(/\W/g, '')}-${m}`);
        mkdirSync(join(base, 'custom_nodes'), { recursive: true });
        const queueName = `bench-iso-${process.pid}-${target.name.replace(/\W/g, '')}-${m}`;
        const renewals: number[] = [];
        const worker = await ComfyWorker.start({
          redis: redis.url, queue: queueName, store, pollMs: 100, isolation: mode.isolation, startMode: mode.startMode,
          servers: [target.spec(base)],
          log: (line) => {
            const found = /renewed at .* in (\d+) ms/.exec(line);
            if (found) renewals.push(Number(found[1]));
          },
        });
        const queue = new ComfyQueue({ redis: redis.url, queue: queueName });
        try {
          const t0 = performance.now();
          for (let i = 0; i < jobs; i++) await (await queue.submit(prompt(i))).result();
          // Until the last renewal too: the slot is ready for the next job.
          while (worker.slots[0]!.state !== 'idle') await new Promise((r) => setTimeout(r, 10));
          const perJob = (performance.now() - t0) / jobs;
          rows.push(`${target.name.padEnd(14)} ${mode.name.padEnd(24)} ${ms(perJob)} ${ms(median(renewals))}   ${renewals.length ? `${Math.min(...renewals)}-${Math.max(...renewals)} ms` : ''}`);
        } finally {
          await queue.close();
          await worker.close({ drainTimeoutMs: 0 });
        }
      }
    }
  } finally {
    await redis.stop();
    rmSync(root, { recursive: true, force: true });
  }
  console.log(`${'target'.padEnd(14)} ${'mode'.padEnd(24)} ${'per job'.padStart(10)} ${'renewal'.padStart(10)}   range`);
  for (const row of rows) console.log(row);
  console.log(`  ${jobs} jobs back to back on one slot; per job includes the renewal after it. Load: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}
