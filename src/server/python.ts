import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { spawn } from 'node:child_process';
import { PythonNotUsableError } from '../errors.js';

const isWindows = process.platform === 'win32';

/** The interpreter to use: explicit option, COMFYUI_PYTHON, a venv in the ComfyUI folder, python3. */
export function resolvePython(explicit: string | undefined, comfyuiPath: string | undefined, env = process.env): string {
  if (explicit) return explicit;
  if (env.COMFYUI_PYTHON) return env.COMFYUI_PYTHON;
  const inside = comfyuiPath ? venvPython(comfyuiPath) : undefined;
  if (inside) return inside;
  return isWindows ? 'python' : 'python3';
}

/** The interpreter of a venv/ or .venv/ inside the ComfyUI folder, if there is one. */
export function venvPython(comfyuiPath: string): string | undefined {
  for (const venv of ['venv', '.venv']) {
    const candidate = isWindows ? join(comfyuiPath, venv, 'Scripts', 'python.exe') : join(comfyuiPath, venv, 'bin', 'python');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
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

export function checkPythonExists(python: string, env: NodeJS.ProcessEnv): void {
  if (!findExecutable(python, env)) {
    throw new PythonNotUsableError(python, python.includes('/') ? 'no executable file at this path' : 'not found on PATH');
  }
}

/**
 * Why ComfyUI could not start, when the reason is its Python: settles with a PythonNotUsableError,
 * or undefined when the interpreter imports torch. Only run after a failed start.
 */
export function checkTorch(python: string, env: NodeJS.ProcessEnv): Promise<PythonNotUsableError | undefined> {
  const child = spawn(python, ['-c', 'import torch'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  return new Promise((resolve) => {
    child.once('error', (error) => resolve(new PythonNotUsableError(python, error.message)));
    child.once('close', (code, signal) => {
      if (code === 0) return resolve(undefined);
      const last = stderr.trim().split('\n').pop() ?? '';
      resolve(new PythonNotUsableError(python, `\`import torch\` failed (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`));
    });
  });
}
