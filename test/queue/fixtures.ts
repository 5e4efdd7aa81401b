// Shared pieces of the fleet tests: a private Redis, stand-in servers for in-process workers,
// a folder store, prompts with distinct outputs, and cleanup in the right order.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ComfyQueue, ComfyWorker, type ComfyWorkerOptions } from '../../src/queue/index.js';
import { FolderStore } from '../../src/stores/index.js';
import type { CreateOptions } from '../../src/connector.js';
import { STANDIN_COMMAND, TEST_NODES_CONFIG } from '../connector/harness.js';
import { startRedis, uniqueQueueName, type RedisServer } from '../helpers/redis.js';

export { STANDIN_COMMAND, TEST_NODES_CONFIG };

/** Fast stall detection for tests (production keeps BullMQ's 30 s). */
export const FAST = { lockDurationMs: 2000, stalledIntervalMs: 1000, pollMs: 250 } as const;

export interface Fleet {
  redis: RedisServer;
  queueName: string;
  root: string;
  store: FolderStore;
  queue: ComfyQueue;
  /** A base folder per server group (its own models, input and output). */
  base(name: string, models?: Record<string, string[]>): string;
  standin(base: string, extra?: CreateOptions): CreateOptions;
  worker(options: Partial<ComfyWorkerOptions> & { servers: ComfyWorkerOptions['servers'] }): Promise<ComfyWorker>;
}

/**
 * Everything one test file needs; every part is stopped in t.after (workers, then the producer,
 * then Redis, then the folders).
 */
export async function startFleet(t: TestContext | { after(fn: () => unknown): void }): Promise<Fleet> {
  const root = mkdtempSync(join(tmpdir(), 'fleet-test-'));
  const workers: ComfyWorker[] = [];
  let queue: ComfyQueue | undefined;
  let redis: RedisServer | undefined;
  t.after(async () => {
    await Promise.allSettled(workers.map((w) => w.close({ drainTimeoutMs: 0 })));
    await queue?.close();
    await redis?.stop();
    rmSync(root, { recursive: true, force: true });
  });
  redis = await startRedis();
  const queueName = uniqueQueueName('fleet');
  queue = new ComfyQueue({ redis: redis.url, queue: queueName, backoffMs: 100 });
  const store = new FolderStore(join(root, 'store'));
  const base = (name: string, models: Record<string, string[]> = {}) => {
    const dir = join(root, name);
    mkdirSync(join(dir, 'custom_nodes'), { recursive: true });
    for (const [folder, files] of Object.entries(models)) {
      mkdirSync(join(dir, 'models', folder), { recursive: true });
      for (const f of files) writeFileSync(join(dir, 'models', folder, f), 'not really a model');
    }
    return dir;
  };
  const standin = (dir: string, extra: CreateOptions = {}): CreateOptions => ({
    command: STANDIN_COMMAND,
    extraModelPaths: [TEST_NODES_CONFIG],
    startTimeout: 120_000,
    ...extra,
    extraArgs: ['--base-directory', dir, ...(extra.extraArgs ?? [])],
  });
  const worker = async (options: Partial<ComfyWorkerOptions> & { servers: ComfyWorkerOptions['servers'] }) => {
    const w = await ComfyWorker.start({ redis: redis!.url, queue: queueName, store, ...FAST, ...options });
    workers.push(w);
    return w;
  };
  return { redis, queueName, root, store, queue, base, standin, worker };
}

/** EmptyImage → SaveImage whose PNG size encodes i (distinct outputs per job). */
export function sizedPrompt(i: number, prefix = `job${i}`): Record<string, unknown> {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8 + (i % 64), height: 8 + Math.floor(i / 64), batch_size: 1, color: (i * 7919) % 0xffffff } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
  };
}

export function expectedSize(i: number): { width: number; height: number } {
  return { width: 8 + (i % 64), height: 8 + Math.floor(i / 64) };
}

/** ComfyConnectorSlowCounter: steps × delayMs, interruptible, progress per step. */
export function slowPrompt(steps: number, delayMs: number): Record<string, unknown> {
  return { '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: delayMs } } };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
