/**
 * Which ComfyUI to start when the caller names none: the checkout a user already has, found in a
 * fixed list of places (comfy-cli's configuration and default workspace, then ./ComfyUI), never by
 * guessing beyond that list. Every place looked at is recorded, so the CLI can say why it chose a
 * folder, `info` can show the whole search, and the not-found error can list where it looked.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ComfyNotFoundError } from '../errors.js';
import { findExecutable, venvPython } from './python.js';

export type ComfySource =
  | 'option'
  | 'env'
  | 'comfy-cli-default'
  | 'comfy-cli-recent'
  | 'comfy-cli-workspace'
  | 'legacy-workspace'
  | 'cwd';

/** One place looked at, in order. */
export interface SearchStep {
  source: ComfySource;
  /** For people: where the place comes from, e.g. "comfy-cli's config (default_workspace)". */
  label: string;
  /** The folder looked at; undefined when the source named none (option not given, key absent). */
  path: string | undefined;
  outcome: 'used' | 'not given' | 'missing' | 'not ComfyUI' | 'not looked at';
  /** Why a place gave nothing, e.g. "no such folder (skipped)". */
  detail?: string;
}

export interface ComfyLocation {
  /** The ComfyUI folder (as given for an option or COMFYUI_PATH, absolute when found). */
  path: string;
  source: ComfySource;
  label: string;
  python: string;
  /** For people: where the interpreter comes from. */
  pythonLabel: string;
  search: SearchStep[];
}

export interface LocateOptions {
  /** An explicit folder (option, --comfyui): used as given; the server checks it at start. */
  comfyuiPath?: string | undefined;
  python?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** For ./ComfyUI. Default: process.cwd(). */
  cwd?: string;
  /** Default: process.platform. */
  platform?: NodeJS.Platform;
}

export const INSTALL_HINT =
  'Install ComfyUI with comfy-cli (`pip install comfy-cli`, then `comfy install`), or point at a checkout: --comfyui DIR (library: comfyuiPath) or COMFYUI_PATH=DIR.';

/**
 * The ComfyUI to use and its Python, with the search that led there. Order: the option,
 * COMFYUI_PATH, comfy-cli's config (default_workspace, then recent_workspace), comfy-cli's default
 * workspace (today's, then the one older releases used), ./ComfyUI. The first folder with main.py
 * and comfy/ wins. Throws ComfyNotFoundError listing every place when none is found.
 */
export function locateComfyUI(options: LocateOptions = {}): ComfyLocation {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const home = homeFolder(env, platform);
  const search: SearchStep[] = [];
  let found: SearchStep | undefined;

  const given = (source: ComfySource, label: string, path: string | undefined) => {
    const step: SearchStep = found
      ? { source, label, path, outcome: 'not looked at' }
      : path
        ? { source, label, path, outcome: 'used' }
        : { source, label, path, outcome: 'not given' };
    search.push(step);
    if (step.outcome === 'used') found = step;
  };
  const candidate = (source: ComfySource, label: string, path: string | undefined, absent?: string) => {
    if (found) return void search.push({ source, label, path, outcome: 'not looked at' });
    if (!path) return void search.push({ source, label, path, outcome: 'not given', ...(absent ? { detail: absent } : {}) });
    const step = { source, label, path, ...checkCheckout(path) };
    search.push(step);
    if (step.outcome === 'used') found = step;
  };

  given('option', 'the comfyuiPath option (CLI: --comfyui)', nonEmpty(options.comfyuiPath));
  given('env', 'COMFYUI_PATH', nonEmpty(env.COMFYUI_PATH));

  const configFile = join(comfyCliConfigFolder(env, platform, home), 'config.ini');
  const config = readIni(configFile);
  const absent = config ? 'the key is not set' : `no config file at ${configFile}`;
  candidate('comfy-cli-default', `comfy-cli's config (default_workspace in ${configFile})`, expandHome(config?.get('default_workspace'), home), absent);
  candidate('comfy-cli-recent', `comfy-cli's config (recent_workspace in ${configFile})`, expandHome(config?.get('recent_workspace'), home), absent);

  const documents = platform === 'linux' || (platform !== 'darwin' && platform !== 'win32') ? home : join(home, 'Documents');
  candidate('comfy-cli-workspace', "comfy-cli's default workspace", join(documents, 'comfy', 'ComfyUI'));
  candidate('legacy-workspace', "comfy-cli's default workspace before May 2024", join(documents, 'ComfyUI'));
  candidate('cwd', './ComfyUI in the current folder', resolve(options.cwd ?? process.cwd(), 'ComfyUI'));

  if (!found?.path) {
    throw new ComfyNotFoundError(undefined, `none was given and none was found. Looked at, in order:\n${formatSearch(search).join('\n')}`, INSTALL_HINT);
  }
  const python = pythonFor(found.path, found.source, options.python, env);
  return { path: found.path, source: found.source, label: found.label, python: python.python, pythonLabel: python.label, search };
}

/** The one line every command and create() print: which ComfyUI, and why. */
export function describeLocation(location: ComfyLocation): string {
  return `using ComfyUI at ${location.path} (from ${location.label}), Python ${location.python} (${location.pythonLabel})`;
}

/** The search, one line per place, for `info` and the not-found error. */
export function formatSearch(search: readonly SearchStep[]): string[] {
  return search.map((step, i) => {
    const where = step.path ? `${step.path}: ` : '';
    const what =
      step.outcome === 'used' ? 'used'
      : step.outcome === 'not given' ? step.detail ?? 'not given'
      : step.outcome === 'not looked at' ? 'not looked at (an earlier place was used)'
      : `${step.detail ?? step.outcome} (skipped)`;
    return `  ${i + 1}. ${step.label}: ${where}${what}`;
  });
}

/**
 * The interpreter, in the order the server has always used (option, COMFYUI_PYTHON, a venv/ or
 * .venv/ inside), then, for a comfy-cli workspace, the Python comfy-cli runs with: comfy-cli
 * records no interpreter per workspace, and without a workspace venv it installs ComfyUI's
 * requirements into its own environment (comfy_cli/resolve_python.py), which the `comfy` script's
 * `#!` line names. Last, python3 on PATH.
 */
function pythonFor(path: string, source: ComfySource, explicit: string | undefined, env: NodeJS.ProcessEnv): { python: string; label: string } {
  if (explicit) return { python: explicit, label: 'the python option (CLI: --python)' };
  if (env.COMFYUI_PYTHON) return { python: env.COMFYUI_PYTHON, label: 'COMFYUI_PYTHON' };
  const inside = venvPython(path);
  if (inside) return { python: inside, label: 'the venv inside the ComfyUI folder' };
  if (source.startsWith('comfy-cli')) {
    const comfyCli = comfyCliPython(env);
    if (comfyCli) return { python: comfyCli, label: "the Python comfy-cli runs with" };
  }
  const fallback = process.platform === 'win32' ? 'python' : 'python3';
  return { python: fallback, label: `${fallback} on PATH` };
}

/** The absolute interpreter in the first line of the `comfy` script on PATH (`#!/usr/bin/env …` names none). */
export function comfyCliPython(env: NodeJS.ProcessEnv): string | undefined {
  const script = findExecutable('comfy', env);
  if (!script) return undefined;
  let first = '';
  try {
    first = readFileSync(script, 'utf8').slice(0, 512).split('\n')[0] ?? '';
  } catch {
    return undefined;
  }
  const match = /^#!\s*(\/\S+)\s*$/.exec(first);
  const python = match?.[1];
  return python && /python[\d.]*$/.test(python) && existsSync(python) ? python : undefined;
}

function checkCheckout(path: string): Pick<SearchStep, 'outcome' | 'detail'> {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return { outcome: 'missing', detail: 'no such folder' };
  }
  if (!isDirectory) return { outcome: 'not ComfyUI', detail: 'a file, not a folder' };
  if (!existsSync(join(path, 'main.py'))) return { outcome: 'not ComfyUI', detail: 'no main.py in it' };
  if (!existsSync(join(path, 'comfy'))) return { outcome: 'not ComfyUI', detail: 'no comfy/ in it' };
  return { outcome: 'used' };
}

function homeFolder(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  return nonEmpty(platform === 'win32' ? env.USERPROFILE ?? env.HOME : env.HOME) ?? homedir();
}

/** Where comfy-cli keeps config.ini (comfy_cli/constants.py DEFAULT_CONFIG). */
export function comfyCliConfigFolder(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (platform === 'win32') return join(nonEmpty(env.LOCALAPPDATA) ?? join(home, 'AppData', 'Local'), 'comfy-cli');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'comfy-cli');
  return join(home, '.config', 'comfy-cli');
}

/**
 * The [DEFAULT] section of an INI file as Python's configparser writes it ("key = value"; keys are
 * case-insensitive; "%%" is a literal "%"). Undefined when the file cannot be read.
 */
export function readIni(file: string): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const values = new Map<string, string>();
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    if (section !== 'DEFAULT') continue;
    const at = line.search(/[=:]/);
    if (at <= 0) continue;
    values.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim().replaceAll('%%', '%'));
  }
  return values;
}

function expandHome(path: string | undefined, home: string): string | undefined {
  if (!path) return undefined;
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
