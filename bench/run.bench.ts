/**
 * Per-run overhead of ComfyClient.run() against the bare minimum and against @saintno/comfyui-sdk,
 * on the same server with the same near-zero-cost prompt (EmptyImage 8x8 → PreviewImage, a new colour
 * each call so nothing is served from cache).
 *
 *   bare minimum: one POST /prompt (with our own prompt_id) on an already-open socket, then wait
 *                 for that prompt's execution_success message. No history read, no events.
 *   ComfyClient:  client.run(prompt) — socket, POST, events, history confirmation, RunResult.
 *   comfyui-sdk:  new CallWrapper(api, new PromptBuilder(prompt, [], ['out'])).run().
 *
 * Rounds are interleaved (the order rotates every round) so drift in server load hits every
 * contestant alike. Targets: the stand-in (test/standin/main.ts); real ComfyUI when COMFYUI_PATH and
 * COMFYUI_PYTHON are set.
 * Run directly: node --import tsx bench/run.bench.ts  (BENCH_ROUNDS=50 to change the rounds).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { ComfyClient, type PromptGraph } from '../src/client/index.js';
import { realSkip, startRealComfy } from '../test/client/real-comfy.js';
import { startStandin } from '../test/helpers/targets.js';

export interface Stats {
  median: number;
  p90: number;
  mean: number;
  n: number;
}

export interface BenchRow {
  target: string;
  contestant: string;
  stats: Stats;
  /** Runs that rejected or reported failure (left out of the timings). */
  failures: number;
  firstFailure?: string;
}

type Runner = { name: string; run(value: number): Promise<void>; close(): Promise<void> | void };

// EmptyImage → PreviewImage exists on the stand-in too; the colour changes every call so nothing is cached.
const promptFor = (value: number): PromptGraph => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: value % 0xffffff } },
  '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
});

/** A contestant that never settles must not stall the whole benchmark. */
async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { median: at(0.5), p90: at(0.9), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, n: sorted.length };
}

async function bareRunner(url: string): Promise<Runner> {
  const clientId = randomUUID();
  const waiters = new Map<string, () => void>();
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const msg = JSON.parse(data.toString()) as { type: string; data: { prompt_id?: string } };
    if (msg.type === 'execution_success' && msg.data.prompt_id) waiters.get(msg.data.prompt_id)?.();
  });
  return {
    name: 'bare minimum',
    async run(value) {
      const promptId = randomUUID();
      const done = new Promise<void>((resolve) => waiters.set(promptId, resolve));
      const res = await fetch(`${url}/prompt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: promptFor(value), client_id: clientId, prompt_id: promptId }),
      });
      if (!res.ok) throw new Error(`POST /prompt ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      await done;
      waiters.delete(promptId);
    },
    close: () => ws.terminate(),
  };
}

async function clientRunner(url: string): Promise<Runner> {
  const client = new ComfyClient({ url });
  await client.systemStats();
  return {
    name: 'ComfyClient.run',
    async run(value) {
      await client.run(promptFor(value));
    },
    close: () => client.close(),
  };
}

async function sdkRunner(url: string): Promise<Runner | undefined> {
  try {
    const sdk = await import('@saintno/comfyui-sdk');
    const api = new sdk.ComfyApi(url, randomUUID());
    api.init();
    await api.waitForReady();
    return {
      name: '@saintno/comfyui-sdk',
      async run(value) {
        const builder = new sdk.PromptBuilder(promptFor(value) as unknown as ConstructorParameters<typeof sdk.PromptBuilder>[0], [], ['out']).setOutputNode('out', '2');
        let failure: unknown;
        const result = await new sdk.CallWrapper(api, builder).onFailed((e) => (failure = e)).run();
        if (!result) throw new Error(`comfyui-sdk run failed: ${String(failure)}`);
      },
      close: () => api.destroy(),
    };
  } catch (error) {
    console.error(`comfyui-sdk skipped: ${String(error)}`);
    return undefined;
  }
}

async function benchTarget(target: string, url: string, rounds: number, warmup: number): Promise<BenchRow[]> {
  const runners = [await bareRunner(url), await clientRunner(url), await sdkRunner(url)].filter((r): r is Runner => !!r);
  console.error(`benchmarking ${target} (${url}): ${rounds} rounds + ${warmup} warm-up`);
  const samples = new Map<string, number[]>(runners.map((r) => [r.name, []]));
  const failures = new Map<string, string[]>(runners.map((r) => [r.name, []]));
  let value = 1;
  try {
    for (let round = 0; round < warmup + rounds; round++) {
      for (let k = 0; k < runners.length; k++) {
        const runner = runners[(round + k) % runners.length] as Runner;
        const started = performance.now();
        try {
          await withTimeout(runner.run(value++), 5_000);
        } catch (error) {
          failures.get(runner.name)?.push(String(error));
          continue;
        }
        const elapsed = performance.now() - started;
        if (round >= warmup) samples.get(runner.name)?.push(elapsed);
      }
    }
  } finally {
    for (const r of runners) await r.close();
  }
  return runners.map((r) => {
    const failed = failures.get(r.name) ?? [];
    const row: BenchRow = { target, contestant: r.name, stats: stats(samples.get(r.name) ?? []), failures: failed.length };
    if (failed[0]) row.firstFailure = failed[0];
    return row;
  });
}

export async function benchRun(options: { rounds?: number; warmup?: number; real?: boolean } = {}): Promise<BenchRow[]> {
  const rounds = options.rounds ?? Number(process.env['BENCH_ROUNDS'] ?? 30);
  const warmup = options.warmup ?? 3;
  const rows: BenchRow[] = [];

  const standin = await startStandin();
  try {
    rows.push(...(await benchTarget('stand-in', standin.url, rounds, warmup)));
  } finally {
    await standin.stop();
  }

  if ((options.real ?? true) && !realSkip) {
    const comfy = await startRealComfy();
    try {
      rows.push(...(await benchTarget('ComfyUI 0.33.0', comfy.url, rounds, warmup)));
    } finally {
      await comfy.stop();
    }
  } else if (realSkip) {
    console.error(realSkip);
  }
  printTable(rows);
  return rows;
}

function printTable(rows: BenchRow[]): void {
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(`\n${'target'.padEnd(18)}${'contestant'.padEnd(24)}${'median ms'.padStart(10)}${'p90 ms'.padStart(10)}${'mean ms'.padStart(10)}${'n'.padStart(5)}${'failed'.padStart(8)}`);
  for (const r of rows) {
    console.log(`${r.target.padEnd(18)}${r.contestant.padEnd(24)}  ${f(r.stats.median)}  ${f(r.stats.p90)}  ${f(r.stats.mean)}${String(r.stats.n).padStart(5)}${String(r.failures).padStart(8)}`);
  }
  for (const r of rows) if (r.firstFailure) console.log(`${r.target} / ${r.contestant}: first failure: ${r.firstFailure}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchRun().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
