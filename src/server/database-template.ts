/**
 * Database templates: every instance gets a fresh SQLite file (`--database-url` in its instance
 * folder), and ComfyUI migrates a fresh file from nothing to its alembic head at every start (six
 * migrations at v0.33.0: 150-300 ms of a forked start). A template is that migrated file, made once
 * per checkout by ComfyUI's own `init_db` (python/template_db.py, the servers' interpreter and
 * environment) and cached; each new instance gets a copy before ComfyUI starts. ComfyUI's own
 * init_db then finds the head revision in it and skips the upgrade, as it does for any up-to-date
 * database. See docs/fast-start.md.
 *
 * The cache key is a hash of everything that decides the schema in the checkout: alembic.ini, the
 * alembic_db folder (migrations, env.py), app/database/db.py and models.py (naming conventions),
 * plus the checkout's path and the interpreter. A changed migration is a new key, so a template is
 * never older or newer than the code that opens it. Whatever fails, the start goes on without one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/** A migrated database ready to copy. */
export interface DatabaseTemplate {
  /** The cached file; copy it, never open it. */
  path: string;
  /** The alembic head revision it is at. */
  revision: string;
  /** Milliseconds it took to make, when this call made it (undefined when it was cached). */
  madeMs?: number;
}

export interface DatabaseTemplateRequest {
  comfyuiPath: string;
  python: string;
  /** The servers' environment (the maker runs with it). */
  env: NodeJS.ProcessEnv;
  /** The cache folder; default defaultDatabaseTemplateCache(). */
  cacheDirectory?: string;
  /** Give up making one after this long. Default 60 s. */
  timeoutMs?: number;
}

const MAKE_TIMEOUT_MS = 60_000;
const ABANDONED_MS = 10 * 60_000;
const SCHEMA_FILES = ['alembic.ini', 'app/database/db.py', 'app/database/models.py'];

/** $XDG_CACHE_HOME/comfy-connector/comfyui-db, else ~/.cache/comfy-connector/comfyui-db. */
export function defaultDatabaseTemplateCache(env = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'comfy-connector', 'comfyui-db');
}

function makerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'python', 'template_db.py');
  if (existsSync(beside)) return beside;
  return join(here, '..', '..', 'src', 'server', 'python', 'template_db.py');
}

async function filesUnder(root: string, folder: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, folder), { withFileTypes: true })) {
    if (entry.name === '__pycache__' || entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(root, path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * The cache key of a checkout's schema, or undefined when the checkout has no alembic migrations
 * (an older ComfyUI, a stand-in): then there is nothing to template.
 */
export async function databaseTemplateKey(comfyuiPath: string, python: string): Promise<string | undefined> {
  const root = resolvePath(comfyuiPath);
  let files: string[];
  try {
    files = [...SCHEMA_FILES, ...(await filesUnder(root, 'alembic_db'))].sort();
  } catch {
    return undefined;
  }
  const hash = createHash('sha256').update(`comfy-connector database template v1\0${root}\0${python}\0`);
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(root, file)).catch(() => Buffer.from('\0absent\0')));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * In this process, one make per cache file; later calls find it on disk. A make that failed is not
 * retried by this process (each start would pay for it again).
 */
const making = new Map<string, Promise<DatabaseTemplate>>();

/**
 * The template for this checkout: from the cache, or made now (once; concurrent callers share the
 * make). Resolves undefined when the checkout has nothing to template; rejects with an Error saying
 * why when it cannot be made (the caller starts without one).
 */
export async function databaseTemplate(request: DatabaseTemplateRequest): Promise<DatabaseTemplate | undefined> {
  const key = await databaseTemplateKey(request.comfyuiPath, request.python);
  if (!key) return undefined;
  const cache = resolvePath(request.cacheDirectory ?? defaultDatabaseTemplateCache());
  const folder = join(cache, key);
  const cached = await readCached(folder);
  if (cached) return cached;
  let pending = making.get(folder);
  if (!pending) {
    pending = make(request, cache, folder);
    making.set(folder, pending);
    // Made: the next call reads it from disk (it may be removed meanwhile, then it is made again).
    pending.then(() => making.delete(folder), () => {});
  }
  return pending;
}

/**
 * The cached template only, never made here: a cold start would wait for the make (0.6–0.8 s
 * on 2 cores, more than the migrations it saves), so it uses one only when a preload (or an
 * earlier fork-mode start) already made it.
 */
export async function cachedDatabaseTemplate(request: DatabaseTemplateRequest): Promise<DatabaseTemplate | undefined> {
  const key = await databaseTemplateKey(request.comfyuiPath, request.python);
  return key ? readCached(join(resolvePath(request.cacheDirectory ?? defaultDatabaseTemplateCache()), key)) : undefined;
}

async function readCached(folder: string): Promise<DatabaseTemplate | undefined> {
  try {
    // Only a plain file of our own: a template is copied into every new instance.
    const stat = await lstat(join(folder, 'comfyui.db'));
    if (!stat.isFile() || (process.getuid && stat.uid !== process.getuid())) return undefined;
    const revision = (await readFile(join(folder, 'revision'), 'utf8')).trim();
    return revision ? { path: join(folder, 'comfyui.db'), revision } : undefined;
  } catch {
    return undefined;
  }
}

async function make(request: DatabaseTemplateRequest, cache: string, folder: string): Promise<DatabaseTemplate> {
  const t0 = performance.now();
  await mkdir(cache, { recursive: true, mode: 0o700 });
  await removeAbandoned(cache);
  // Made in a private folder next to its place, then renamed there whole: a reader sees all or nothing.
  const work = await mkdtemp(join(cache, '.making-'));
  try {
    const file = join(work, 'comfyui.db');
    const result = await runMaker(request, file);
    if (!result.head) throw new Error('ComfyUI reports no alembic head revision');
    if (result.current !== result.head) throw new Error(`the new database is at ${result.current ?? 'no revision'}, not at the head ${result.head}`);
    await rm(`${file}.lock`, { force: true }); // ComfyUI's file lock, released when the maker exited
    const extra = (await readdir(work)).filter((name) => name !== 'comfyui.db');
    if (extra.length) throw new Error(`ComfyUI left more than the database (${extra.join(', ')})`);
    await writeFile(join(work, 'revision'), `${result.head}\n`);
    try {
      await rename(work, folder);
    } catch (error) {
      // Another process put it there first: theirs is as good as ours.
      const theirs = await readCached(folder);
      if (theirs) return theirs;
      throw error;
    }
    return { path: join(folder, 'comfyui.db'), revision: result.head, madeMs: performance.now() - t0 };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Work folders of makes whose process died (SIGKILL) over ten minutes ago. */
async function removeAbandoned(cache: string): Promise<void> {
  const entries = await readdir(cache).catch(() => [] as string[]);
  for (const name of entries.filter((entry) => entry.startsWith('.making-'))) {
    const path = join(cache, name);
    const stat = await lstat(path).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > ABANDONED_MS) await rm(path, { recursive: true, force: true });
  }
}

function runMaker(request: DatabaseTemplateRequest, file: string): Promise<{ head: string | null; current: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(request.python, [makerScript(), file], {
      cwd: resolvePath(request.comfyuiPath),
      env: request.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), request.timeoutMs ?? MAKE_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${request.python}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const last = stderr.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`ComfyUI's init_db ended with ${signal ?? `exit code ${code}`}${last ? `: ${last}` : ''}`));
      try {
        const line = stdout.trim().split('\n').pop() ?? '';
        const parsed = JSON.parse(line) as { head?: unknown; current?: unknown };
        resolve({ head: typeof parsed.head === 'string' ? parsed.head : null, current: typeof parsed.current === 'string' ? parsed.current : null });
      } catch {
        reject(new Error(`the template maker printed no result${last ? ` (${last})` : ''}`));
      }
    });
  });
}

/**
 * Copies the template to a new instance's database path, only when nothing is there yet (false
 * then). A copy, not a link: the instance owns its file. Other failures reject.
 */
export async function copyDatabaseTemplate(template: DatabaseTemplate, databasePath: string): Promise<boolean> {
  try {
    await copyFile(template.path, databasePath, constants.COPYFILE_EXCL);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** For tests: where a checkout's template lives in a cache folder (it may not exist yet). */
export async function databaseTemplatePath(comfyuiPath: string, python: string, cacheDirectory: string): Promise<string | undefined> {
  const key = await databaseTemplateKey(comfyuiPath, python);
  return key ? join(resolvePath(cacheDirectory), key, 'comfyui.db') : undefined;
}
