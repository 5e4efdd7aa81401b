import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LaunchedComfy {
  url: string;
  stop(): Promise<void>;
}

/** Asks the OS for a free port by binding port 0 and releasing it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The command line the recorder uses: CPU, private folders, an in-memory database, the test node pack. */
export function comfyArgs(mainPy: string, port: number, dirs: { temp: string; input: string; output: string }, extraModelPaths: string): string[] {
  return [
    mainPy,
    '--cpu',
    '--listen', '127.0.0.1',
    '--port', String(port),
    '--temp-directory', dirs.temp,
    '--input-directory', dirs.input,
    '--output-directory', dirs.output,
    '--database-url', 'sqlite:///:memory:',
    '--extra-model-paths-config', extraModelPaths,
    '--preview-method', 'auto',
  ];
}

/**
 * Starts ComfyUI for a recording and resolves once /system_stats answers. Its folders live in
 * a fresh temp directory that stop() removes, so every recording starts from empty input/output.
 */
export async function launchComfy(comfyDir: string, python: string, extraModelPaths: string): Promise<LaunchedComfy> {
  const root = mkdtempSync(join(tmpdir(), 'comfy-record-'));
  const dirs = { temp: join(root, 'tmp'), input: join(root, 'input'), output: join(root, 'output') };
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(python, comfyArgs(join(comfyDir, 'main.py'), port, dirs, extraModelPaths), {
    cwd: comfyDir,
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }, // no __pycache__ in test/comfy-nodes
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n'));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const stop = async () => {
    await stopChild(child, () => exited);
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(url, () => exited, 180_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\nlast ComfyUI log lines:\n${log.slice(-40).join('\n')}`);
  }
  return { url, stop };
}

async function waitUntilReady(url: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('ComfyUI exited before it was ready');
    try {
      const response = await fetch(`${url}/system_stats`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`ComfyUI did not answer ${url}/system_stats within ${timeoutMs / 1000} s`);
}

/** SIGINT lets ComfyUI clean its temp dir; SIGKILL to the group if it does not exit in 15 s. */
async function stopChild(child: ChildProcess, exited: () => boolean): Promise<void> {
  if (exited() || child.pid === undefined) return;
  const pid = child.pid;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-pid, 'SIGINT');
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 15_000);
  await gone;
  clearTimeout(timer);
}
