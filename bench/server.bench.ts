// How much ComfyServer adds to ComfyUI's own start, and how long stop() takes.
// For each target (the stand-in always; real ComfyUI when COMFYUI_PATH and COMFYUI_PYTHON are set):
//   bare   — a hand-written spawn (no watchdog, no checks): spawn → ready line
//   start  — ComfyServer.start(): folder, port, watchdog, spawn, ready line, GET /system_stats 200
//   stop   — ComfyServer.stop(): SIGINT to the group until it is empty, folder removed
// plus the watchdog's own cost (spawn → its child runs), from source (tsx) and from dist if built.
// Run: node --import tsx bench/server.bench.ts [--rounds N]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ComfyServer, matchReadyLine, pickFreePort } from '../src/server/index.js';
import { needsCpuFlag } from '../src/server/device.js';
import { spawnWatched, terminateGroup, watchdogCommand } from '../src/server/process-group.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ServerBenchRow {
  target: string;
  rounds: number;
  bareReadyMs: number;
  startMs: number;
  overheadMs: number;
  stopMs: number;
}

export interface ServerBenchResult {
  rows: ServerBenchRow[];
  /** spawn of the watchdog → its child running, median ms: run through tsx, and compiled (if built). */
  watchdog: { tsx: number; dist?: number; used: string };
}

interface Target {
  name: string;
  base: string[];
  cwd: string;
  rounds: number;
  python?: string;
  comfyuiPath?: string;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const now = () => performance.now();

/** A plain detached spawn, timed from spawn() to the ready line; then killed. */
async function bareReady(target: Target): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'comfy-bench-'));
  const port = await pickFreePort('127.0.0.1');
  const argv = [...target.base, '--listen', '127.0.0.1', '--port', String(port), '--temp-directory', dir, '--database-url', `sqlite:///${join(dir, 'comfyui.db')}`];
  if (needsCpuFlag('auto')) argv.push('--cpu');
  const t0 = now();
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: target.cwd, detached: true, env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    return await new Promise<number>((resolve, reject) => {
      let pending = '';
      const onData = (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        if (lines.some((line) => matchReadyLine(line))) resolve(now() - t0);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${target.name} exited with ${code} before ready`)));
    });
  } finally {
    await terminateGroup(child.pid ?? -1, exited, { interruptGraceMs: 3000, terminateGraceMs: 2000 });
    await rm(dir, { recursive: true, force: true });
  }
}

async function managed(target: Target): Promise<{ startMs: number; stopMs: number }> {
  const server = new ComfyServer(
    target.comfyuiPath
      ? { comfyuiPath: target.comfyuiPath, ...(target.python ? { python: target.python } : {}) }
      : { command: target.base },
  );
  const t0 = now();
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  const startMs = now() - t0;
  const t1 = now();
  await server.stop();
  return { startMs, stopMs: now() - t1 };
}

async function watchdogCost(watchdog: string[], rounds: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    const proc = spawnWatched({ command: [process.execPath, '-e', ''], cwd: ROOT, env: process.env, watchdog });
    await proc.started;
    times.push(now() - t0);
    await proc.exited;
  }
  return median(times);
}

export async function benchServer(options: { rounds?: number; realRounds?: number; log?: (line: string) => void } = {}): Promise<ServerBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const targets: Target[] = [
    { name: 'stand-in', base: [process.execPath, '--import', 'tsx', join(ROOT, 'test', 'standin', 'main.ts')], cwd: ROOT, rounds: options.rounds ?? 3 },
  ];
  const { COMFYUI_PATH, COMFYUI_PYTHON } = process.env;
  if (COMFYUI_PATH && COMFYUI_PYTHON) {
    targets.push({ name: 'real ComfyUI', base: [COMFYUI_PYTHON, join(COMFYUI_PATH, 'main.py')], cwd: COMFYUI_PATH, rounds: options.realRounds ?? 2, python: COMFYUI_PYTHON, comfyuiPath: COMFYUI_PATH });
  } else {
    log('COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI skipped');
  }

  const rows: ServerBenchRow[] = [];
  for (const target of targets) {
    const bare: number[] = [];
    const start: number[] = [];
    const stop: number[] = [];
    for (let i = 0; i < target.rounds; i++) {
      // Interleaved, so that a change in machine load hits both sides alike.
      bare.push(await bareReady(target));
      const m = await managed(target);
      start.push(m.startMs);
      stop.push(m.stopMs);
    }
    const row = { target: target.name, rounds: target.rounds, bareReadyMs: median(bare), startMs: median(start), overheadMs: median(start) - median(bare), stopMs: median(stop) };
    rows.push(row);
  }

  const tsx = [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'server', 'watchdog.ts')];
  const used = watchdogCommand();
  const watchdog: ServerBenchResult['watchdog'] = { tsx: await watchdogCost(tsx, 5), used: used.at(-1) ?? '' };
  const dist = join(ROOT, 'dist', 'server', 'watchdog.js');
  if (existsSync(dist)) watchdog.dist = await watchdogCost([process.execPath, dist], 5);

  const fmt = (ms: number) => `${ms.toFixed(0)} ms`.padStart(9);
  log('target        rounds  bare→ready  start()  overhead   stop()');
  for (const r of rows) log(`${r.target.padEnd(14)}${String(r.rounds).padStart(6)} ${fmt(r.bareReadyMs)} ${fmt(r.startMs)} ${fmt(r.overheadMs)} ${fmt(r.stopMs)}`);
  log(`watchdog spawn → child running: ${watchdog.tsx.toFixed(0)} ms through tsx${watchdog.dist !== undefined ? `, ${watchdog.dist.toFixed(0)} ms compiled` : ', dist not built'}; start() above used ${watchdog.used}`);
  return { rows, watchdog };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--rounds');
  const rounds = i > 0 ? Number(process.argv[i + 1]) : undefined;
  await benchServer(rounds ? { rounds, realRounds: rounds } : {});
}
