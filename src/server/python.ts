import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { PythonNotUsableError } from '../errors.js';

const isWindows = process.platform === 'win32';

/** The interpreter to use: explicit option, COMFYUI_PYTHON, a venv in the ComfyUI folder, python3. */
export function resolvePython(explicit: string | undefined, comfyuiPath: string | undefined, env = process.env): string {
  if (explicit) return explicit;
  if (env.COMFYUI_PYTHON) return env.COMFYUI_PYTHON;
  if (comfyuiPath) {
    for (const venv of ['venv', '.venv']) {
      const candidate = isWindows ? join(comfyuiPath, venv, 'Scripts', 'python.exe') : join(comfyuiPath, venv, 'bin', 'python');
      if (existsSync(candidate)) return candidate;
    }
  }
  return isWindows ? 'python' : 'python3';
}

/** The full path of an executable named with or without a directory; undefined when none is found. */
export function findExecutable(name: string, env = process.env): string | undefined {
  if (name.includes('/') || name.includes('\\') || isAbsolute(name)) return isExecutable(name) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, isWindows ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Interpreters that already imported torch in this process: checked once, not on every start. */
const usable = new Set<string>();

/**
 * A check that can run beside ComfyUI's own start: it settles with a PythonNotUsableError, or with
 * undefined when the interpreter imports torch. `cancel()` ends it early (the start won already).
 */
export interface PythonCheck {
  result: Promise<PythonNotUsableError | undefined>;
  cancel(): void;
}

export function checkPythonExists(python: string, env: NodeJS.ProcessEnv): void {
  if (!findExecutable(python, env)) {
    throw new PythonNotUsableError(python, python.includes('/') ? 'no executable file at this path' : 'not found on PATH');
  }
}

export function startTorchCheck(python: string, env: NodeJS.ProcessEnv): PythonCheck {
  if (usable.has(python)) return { result: Promise.resolve(undefined), cancel: () => {} };
  const child = spawn(python, ['-c', 'import torch'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // ComfyUI imports torch at the same moment; the check must not slow that down. If ComfyUI gets
  // ready first the check is cancelled, and a ComfyUI that fails early waits for its verdict.
  try {
    if (child.pid) setPriority(child.pid, 19);
  } catch {
    // Not allowed here: the check simply runs at normal priority.
  }
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  let cancelled = false;
  const result = new Promise<PythonNotUsableError | undefined>((resolve) => {
    child.once('error', (error) => resolve(new PythonNotUsableError(python, error.message)));
    child.once('close', (code, signal) => {
      if (code === 0) {
        usable.add(python);
        resolve(undefined);
      } else if (cancelled) resolve(undefined);
      else {
        const last = stderr.trim().split('\n').pop() ?? '';
        resolve(new PythonNotUsableError(python, `\`import torch\` failed (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`));
      }
    });
  });
  return {
    result,
    cancel: () => {
      cancelled = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
