// Starts the servers the contract suite runs against, each as a real child process with its own
// free port and temp folders: the stand-in always, real ComfyUI when COMFYUI_PATH and
// COMFYUI_PYTHON are set. stop() leaves no process, port or folder behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TEST_NODES_CONFIG = join(REPO_ROOT, 'test', 'comfy-nodes', 'extra_model_paths.yaml');
export const REAL_SKIP = 'COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI tests skipped';

export interface TargetDirs { root: string; input: string; output: string; tempBase: string; temp: string; user: string }

export interface StartedTarget {
  name: TargetName;
  url: string;
  port: number;
  dirs: TargetDirs;
  child: ChildProcess;
  /** Everything the process wrote to stderr/stdout so far. */
  log(): string;
  stop(): Promise<void>;
}

export type TargetName = 'standin' | 'comfyui';

export interface ContractTarget {
  name: TargetName;
  /** Set when the target cannot run here; pass it to node:test's `skip`. */
  skip: string | undefined;
  /** The command line (before ComfyUI flags) that starts this target. */
  command(): string[];
  start(options?: { extraArgs?: string[]; env?: Record<string, string>; timeoutMs?: number }): Promise<StartedTarget>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function standinCommand(): string[] {
  return [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'test', 'standin', 'main.ts')];
}

function comfyCommand(): string[] {
  return [process.env.COMFYUI_PYTHON!, join(process.env.COMFYUI_PATH!, 'main.py')];
}

export function makeDirs(prefix: string): TargetDirs {
  const root = mkdtempSync(join(tmpdir(), `contract-${prefix}-`));
  const dirs = { root, input: join(root, 'input'), output: join(root, 'output'), tempBase: join(root, 'tmp'), temp: join(root, 'tmp', 'temp'), user: join(root, 'user') };
  for (const d of [dirs.input, dirs.output, dirs.tempBase, dirs.user]) mkdirSync(d, { recursive: true });
  return dirs;
}

/** The flags ComfyServer passes; the test node pack is loaded through the extra model paths config. */
export function standardArgs(port: number, dirs: TargetDirs): string[] {
  return [
    '--cpu', '--listen', '127.0.0.1', '--port', String(port),
    '--temp-directory', dirs.tempBase, '--input-directory', dirs.input, '--output-directory', dirs.output,
    '--user-directory', dirs.user, '--database-url', 'sqlite:///:memory:',
    '--extra-model-paths-config', TEST_NODES_CONFIG,
  ];
}

/** Spawns a process in its own group and collects its output. */
export function spawnLogged(cmd: string[], env?: Record<string, string>): { child: ChildProcess; log: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', ...env } });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => { text += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, log: () => text, exited };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try { if (child.pid) process.kill(-child.pid, signal); } catch { /* already gone */ }
}

async function startTarget(name: TargetName, cmd: string[], options: { extraArgs?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<StartedTarget> {
  const port = await freePort();
  const dirs = makeDirs(name);
  const { child, log, exited } = spawnLogged([...cmd, ...standardArgs(port, dirs), ...(options.extraArgs ?? [])], options.env);
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGINT');
      const t = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    killGroup(child, 'SIGKILL');
    rmSync(dirs.root, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited during startup:\n${log().slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${name} did not become ready on port ${port}:\n${log().slice(-3000)}`);
      if (log().includes(`To see the GUI go to: ${url}`)) {
        try { if ((await fetch(`${url}/system_stats`)).ok) break; } catch { /* not yet */ }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { name, url, port, dirs, child, log, stop };
}

export function contractTargets(): ContractTarget[] {
  const realSkip = process.env.COMFYUI_PATH && process.env.COMFYUI_PYTHON ? undefined : REAL_SKIP;
  return [
    { name: 'standin', skip: undefined, command: standinCommand, start: (o) => startTarget('standin', standinCommand(), o) },
    { name: 'comfyui', skip: realSkip, command: comfyCommand, start: (o) => startTarget('comfyui', comfyCommand(), o) },
  ];
}

/** The stand-in alone, for tests of other modules that need a server. */
export function startStandin(options?: { extraArgs?: string[]; env?: Record<string, string> }): Promise<StartedTarget> {
  return startTarget('standin', standinCommand(), options);
}
