/**
 * Minimal harness that starts a real ComfyUI for the client tests: free port, own temp, input and
 * output folders, the test node pack, in-memory database. Stopped (and its folders removed) by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardGroup } from '../helpers/targets.js';

export const COMFYUI_PATH = process.env['COMFYUI_PATH'];
export const COMFYUI_PYTHON = process.env['COMFYUI_PYTHON'];
export const realSkip: string | false =
  COMFYUI_PATH && COMFYUI_PYTHON ? false : 'COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI tests skipped';

const TEST_NODES = new URL('../comfy-nodes/extra_model_paths.yaml', import.meta.url).pathname;

export interface RealComfy {
  url: string;
  port: number;
  dir: string;
  outputDirectory: string;
  log: string[];
  process: ChildProcess;
  /** SIGKILL, like a crash; stop() still cleans up. */
  kill(): void;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRealComfy(extraArgs: string[] = []): Promise<RealComfy> {
  if (!COMFYUI_PATH || !COMFYUI_PYTHON) throw new Error('COMFYUI_PATH/COMFYUI_PYTHON not set');
  const dir = await mkdtemp(join(tmpdir(), 'cc-client-comfy-'));
  await mkdir(join(dir, 'user')); // ComfyUI refuses a --user-directory that does not exist
  const port = await freePort();
  const outputDirectory = join(dir, 'output');
  const args = [
    join(COMFYUI_PATH, 'main.py'), '--cpu', '--listen', '127.0.0.1', '--port', String(port),
    '--temp-directory', dir, '--input-directory', join(dir, 'input'), '--output-directory', outputDirectory,
    '--user-directory', join(dir, 'user'),
    '--database-url', 'sqlite:///:memory:', '--extra-model-paths-config', TEST_NODES, ...extraArgs,
  ];
  const child = spawn(COMFYUI_PYTHON, args, {
    cwd: COMFYUI_PATH,
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }, // no __pycache__ in test/comfy-nodes
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  guardGroup(child, 5000, dir); // gone with this process, even if it is SIGKILLed
  const log: string[] = [];
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log.push(line);
    if (log.length > 400) log.splice(0, log.length - 400);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const killGroup = (signal: NodeJS.Signals) => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const stop = async () => {
    killGroup('SIGINT');
    const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
    await exitPromise;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  while (true) {
    if (exited) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`ComfyUI exited before it was ready:\n${log.slice(-20).join('\n')}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ComfyUI not ready after 120 s:\n${log.slice(-20).join('\n')}`);
    }
    if (log.some((l) => l.includes('To see the GUI go to'))) {
      try {
        const res = await fetch(`${url}/system_stats`);
        if (res.ok) break;
      } catch {
        // not yet
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, dir, outputDirectory, log, process: child, kill: () => killGroup('SIGKILL'), stop };
}
