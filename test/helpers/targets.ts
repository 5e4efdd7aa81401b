// Starts the servers the contract suite runs against, each as a real child process with its own
// free port and temp folders: the stand-in always, real ComfyUI when COMFYUI_PATH and
// COMFYUI_PYTHON are set. stop() leaves no process, port or folder behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnWatchdog } from '../../src/server/watchdog.js';
import { EventEmitter } from 'node:events';
import { Preloader } from '../../src/server/preload.js';

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

export type TargetName = 'standin' | 'comfyui' | 'comfyui-fork';

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

/**
 * A detached child outlives a test run that is killed (Ctrl-C on the runner, a CI timeout):
 * nothing of this process runs then. The connector's watchdog (src/server/watchdog.ts) takes its
 * process group down once this process is gone, by SIGKILL included. When the child exits on its
 * own, what is left of its group is killed and the watchdog stood down (so it never signals a
 * group id that was reused meanwhile).
 */
export function guardGroup(child: ChildProcess, graceMs = 3000, cleanupDirectory?: string): void {
  if (!child.pid) return;
  const pgid = child.pid;
  const watchdog = spawnWatchdog({ pgid, graceMs, ...(cleanupDirectory ? { cleanupDirectory } : {}) });
  child.once('exit', () => {
    try { process.kill(-pgid, 'SIGKILL'); } catch { /* the group is empty */ }
    watchdog.kill('SIGKILL');
  });
}

/** Spawns a process in its own group (guarded by a watchdog) and collects its output. */
export function spawnLogged(cmd: string[], env?: Record<string, string>, cleanupDirectory?: string): { child: ChildProcess; log: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env } });
  guardGroup(child, 3000, cleanupDirectory);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => { text += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, log: () => text, exited };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try { if (child.pid) process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** Waits for the ready line and a 200 from /system_stats while the process lives; stops it on failure. */
async function untilServing(
  name: string,
  t: { child: { exitCode: number | null; signalCode: NodeJS.Signals | null }; log: () => string; url: string; port: number; stop: () => Promise<void> },
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (t.child.exitCode !== null || t.child.signalCode !== null) throw new Error(`${name} exited during startup:\n${t.log().slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${name} did not become ready on port ${t.port}:\n${t.log().slice(-3000)}`);
      if (t.log().includes(`To see the GUI go to: ${t.url}`)) {
        try { if ((await fetch(`${t.url}/system_stats`)).ok) return; } catch { /* not yet */ }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await t.stop();
    throw e;
  }
}

async function startTarget(name: TargetName, cmd: string[], options: { extraArgs?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<StartedTarget> {
  const port = await freePort();
  const dirs = makeDirs(name);
  const { child, log, exited } = spawnLogged([...cmd, ...standardArgs(port, dirs), ...(options.extraArgs ?? [])], options.env, dirs.root);
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
  await untilServing(name, { child, log, url, port, stop }, options.timeoutMs);
  return { name, url, port, dirs, child, log, stop };
}

/** `fork`: also real ComfyUI forked from a preloaded process (the process and protocol contracts run it; CONTRACT_FORK=1 adds it everywhere). */
export function contractTargets(options: { fork?: boolean } = {}): ContractTarget[] {
  const realSkip = process.env.COMFYUI_PATH && process.env.COMFYUI_PYTHON ? undefined : REAL_SKIP;
  return [
    { name: 'standin', skip: undefined, command: standinCommand, start: (o) => startTarget('standin', standinCommand(), o) },
    { name: 'comfyui', skip: realSkip, command: comfyCommand, start: (o) => startTarget('comfyui', comfyCommand(), o) },
    // Real ComfyUI forked from a preloaded process (src/server/preload.ts). Only start() forks; the
    // tests that spawn command() themselves run it cold.
    ...(options.fork || process.env.CONTRACT_FORK === '1' ? [{ name: 'comfyui-fork' as const, skip: realSkip, command: comfyCommand, start: startForked }] : []),
  ];
}

/** The stand-in alone, for tests of other modules that need a server. */
export function startStandin(options?: { extraArgs?: string[]; env?: Record<string, string> }): Promise<StartedTarget> {
  return startTarget('standin', standinCommand(), options);
}

// ---------------------------------------------------------------- forked real ComfyUI (fast start)

let preloader: Preloader | undefined;

/**
 * Real ComfyUI forked from one preloader per test process (it ends with this process: its stdin is
 * its lifeline), with the same argv, cwd and folders as startTarget. A server with extra env vars
 * would not be an exact fork (the preload read the environment), so that one starts cold.
 */
async function startForked(options: { extraArgs?: string[]; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<StartedTarget> {
  if (options.env && Object.keys(options.env).length) return startTarget('comfyui-fork', comfyCommand(), options);
  // databaseTemplates: false: these forks pass their own --database-url (no template is copied), and no cache goes to ~/.cache.
  preloader ??= new Preloader({ comfyuiPath: process.env.COMFYUI_PATH!, python: process.env.COMFYUI_PYTHON!, env: { PYTHONDONTWRITEBYTECODE: '1' }, databaseTemplates: false });
  const port = await freePort();
  const dirs = makeDirs('comfyui-fork');
  const argv = [...comfyCommand(), ...standardArgs(port, dirs), ...(options.extraArgs ?? [])];
  let proc: Awaited<ReturnType<Preloader['fork']>>;
  try {
    proc = await preloader.fork({ argv, cwd: REPO_ROOT, env: preloader.env, instanceDirectory: dirs.root });
  } catch (error) {
    rmSync(dirs.root, { recursive: true, force: true });
    throw error;
  }
  let text = '';
  proc.stdout.on('data', (d: Buffer) => { text += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { text += d.toString(); });
  const log = () => text;
  // What the suites use of a ChildProcess: pid, exitCode/signalCode and the 'exit' event.
  const child = Object.assign(new EventEmitter(), { pid: proc.pid, exitCode: null as number | null, signalCode: null as NodeJS.Signals | null });
  const exited = proc.exited.then(async (exit) => {
    child.exitCode = exit.exitCode;
    child.signalCode = exit.signal;
    child.emit('exit', exit.exitCode, exit.signal);
    try { process.kill(-proc.pgid, 'SIGKILL'); } catch { /* the group is empty */ }
    await proc.release();
  });
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(-proc.pgid, 'SIGINT'); } catch { /* gone */ }
      const t = setTimeout(() => { try { process.kill(-proc.pgid, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
      await exited;
      clearTimeout(t);
    }
    await exited;
    rmSync(dirs.root, { recursive: true, force: true });
  };
  await untilServing('comfyui-fork', { child, log, url, port, stop }, options.timeoutMs);
  return { name: 'comfyui-fork', url, port, dirs, child: child as unknown as ChildProcess, log, stop };
}
