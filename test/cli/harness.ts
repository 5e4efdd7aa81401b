/**
 * Runs the BUILT command (`node dist/cli/main.js`) as a subprocess, the way a user or CI does,
 * and tracks the processes it starts so a test can prove none is left behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export const REAL_COMFY = process.env.COMFYUI_PATH && process.env.COMFYUI_PYTHON
  ? { path: process.env.COMFYUI_PATH, python: process.env.COMFYUI_PYTHON }
  : undefined;
export const REAL_SKIP = 'COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI tests skipped';

/**
 * Real ComfyUI gets a base folder of its own (input, output, user, models), so the tests leave
 * nothing in the user's checkout; scripts/checkout-guard.mjs fails a run that does.
 * Pass `args` to the CLI; call `cleanup` in an after hook.
 */
export function realComfyBase(): { base: string; args: string[]; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'cli-comfy-base-'));
  // ComfyUI lists <base>/custom_nodes at start and exits when it is missing.
  mkdirSync(join(base, 'custom_nodes'));
  return { base, args: [`--arg=--base-directory=${base}`], cleanup: () => rmSync(base, { recursive: true, force: true }) };
}
export const TEST_NODES_YAML = join(ROOT, 'test', 'comfy-nodes', 'extra_model_paths.yaml');
export const STANDIN_MAIN = join(ROOT, 'test', 'standin', 'main.ts');
/** How the CLI starts the stand-in (COMFY_CONNECTOR_COMMAND); tsx by absolute URL, as the cwd may be anywhere. */
export const STANDIN_COMMAND = JSON.stringify([process.execPath, '--import', import.meta.resolve('tsx'), STANDIN_MAIN]);

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(path) : stat.mtimeMs);
  }
  return newest;
}

/** `npm test` builds first; a direct run of this file builds when dist is missing or older than src. */
export function ensureBuilt(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestMtime(join(ROOT, 'src'))) return;
  // tsc still emits when another module has type errors; what matters here is that the CLI exists.
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(CLI)) throw new Error('npm run build did not produce dist/cli/main.js');
}

export interface CliRun {
  child: ChildProcess;
  /** Resolves when the process has exited and its streams are drained. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout or stderr contains a match (or rejects when the process ends first). */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<void>;
}

export function startCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliRun {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const w of [...waiters]) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const w of [...waiters]) w();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of [...waiters]) w();
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  let exited = false;
  void done.then(() => (exited = true));
  return {
    child,
    done,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, stream) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = stream === 'stdout' ? out : stream === 'stderr' ? err : out + err;
          if (pattern.test(text)) {
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          } else if (exited || child.exitCode !== null || child.signalCode !== null) {
            waiters.splice(waiters.indexOf(check), 1);
            reject(new Error(`the CLI ended before ${pattern} appeared.\nstdout:\n${out}\nstderr:\n${err}`));
          }
        };
        waiters.push(check);
        check();
      });
    },
  };
}

export async function runCliToEnd(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  return startCli(args, options).done;
}

/** Every live descendant of `pid` (children, grandchildren, ...), read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // the process ended while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Alive means it exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits (bounded) until none of `pids` lives; returns those still alive. */
export async function survivors(pids: number[], waitMs = 5000): Promise<number[]> {
  const until = Date.now() + waitMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > until) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills whatever a failed test left (by pid, never by name). */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

// ------------------------------------------------------------------ prompts (API format)

/** A 8x8 image saved with SaveImage: runs on CPU without weights. */
export function savePrompt(prefix: string): Record<string, unknown> {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix }, _meta: { title: 'Save' } },
  };
}

/** Rejected by validation: a width below its minimum. */
export function invalidPrompt(): Record<string, unknown> {
  const prompt = savePrompt('cli-invalid');
  (prompt['1'] as { inputs: Record<string, unknown> }).inputs.width = 0;
  return prompt;
}

/** Fails while executing (test node pack). */
export function raisePrompt(): Record<string, unknown> {
  return { '1': { class_type: 'ComfyConnectorRaise', inputs: { message: 'cli test asked this node to fail' } } };
}

/** Counts slowly with progress and previews, then saves (test node pack). */
export function slowPrompt(steps: number, delayMs: number, prefix = 'cli-slow'): Record<string, unknown> {
  return {
    '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: delayMs, send_preview: true } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
  };
}

/** A 1x1 PNG for --input. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);
