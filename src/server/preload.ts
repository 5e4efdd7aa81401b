/**
 * Fast start: a Python process that has imported ComfyUI's heavy third-party modules once (torch,
 * torchvision, transformers, av, aiohttp, ...) and forks one child per server start; the child sets
 * its own session, stdio, cwd, environment and argv and runs ComfyUI's main.py, as a cold spawn does.
 * See docs/fast-start.md. One Preloader can serve many ComfyServers (pass it as `preloader`).
 *
 * What a cold start guarantees holds for a forked child: its own process group (it calls setsid),
 * port, temp folder and database (its own argv), the sh watchdog beside it (spawned here as soon as
 * its pid is known), readiness, crash detection (the preloader is its parent: it reaps it and
 * reports the exit code or signal on the control pipe), and no orphan when this process dies: the
 * preloader's stdin is a pipe only this process writes to; at its end the preloader SIGINTs its
 * children's groups, SIGKILLs them a second later and exits, and each child's watchdog does the same.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';
import { guardGroup, groupAlive, signalGroup, type ChildExit, type WatchedProcess } from './process-group.js';
import { resolvePython } from './python.js';
import { databaseTemplate } from './database-template.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Third-party modules a v0.33.0 cold start imports from ComfyUI's own code (measured with
 * `python -X importtime main.py --cpu --quick-test-for-ci`, stdlib left out): about 8 s of its boot
 * on 2 cores. Absent ones are skipped. The last line: what a forked v0.33.0 start still imported
 * itself (measured in the child; ~25 ms). OpenGL and comfy_angle are left out (~50 ms): ComfyUI's
 * nodes_glsl loads ANGLE's libEGL/libGLESv2 and sets PYOPENGL_PLATFORM before PyOpenGL may be
 * imported, which the preloader would have to copy, and a GL driver in a process that forks is not
 * worth it.
 */
export const DEFAULT_PRELOAD_MODULES: readonly string[] = [
  'torch', 'torchvision', 'torchaudio', 'torchaudio.functional', 'torchsde', 'numpy',
  'comfy_kitchen', 'comfy_aimdo.control', 'comfy_aimdo.torch', 'comfy_aimdo.model_vbar',
  'comfy_aimdo.host_buffer', 'comfy_aimdo.vram_buffer',
  'transformers', 'transformers.tokenization_utils', 'transformers.tokenization_utils_fast',
  'transformers.models.t5.tokenization_t5', 'tokenizers', 'sentencepiece', 'safetensors.torch',
  'einops', 'einops.layers.torch', 'kornia', 'spandrel', 'spandrel_extra_arches',
  'scipy', 'scipy.stats', 'scipy.ndimage', 'scipy.signal', 'scipy.integrate',
  'sqlalchemy', 'sqlalchemy.orm', 'sqlalchemy.dialects.sqlite', 'sqlalchemy.dialects.postgresql',
  'sqlalchemy.ext.compiler', 'alembic', 'mako.template',
  'av', 'av.subtitles.stream', 'aiohttp', 'aiohttp.web', 'yarl', 'yaml', 'pydantic', 'pydantic_settings',
  'PIL.Image', 'PIL.ImageDraw', 'PIL.PngImagePlugin', 'PIL.ImageSequence', 'psutil', 'tqdm', 'tqdm.auto',
  'filelock', 'blake3', 'simpleeval', 'tabulate', 'requests', 'huggingface_hub',
  'comfyui_frontend_package', 'comfyui_workflow_templates', 'comfyui_embedded_docs',
  'transformers.models.bert', 'transformers.models.clip', 'transformers.models.clip.tokenization_clip',
  'transformers.models.qwen2.tokenization_qwen2', 'pydantic.networks', 'pydantic.functional_serializers',
  'sqlite3', 'alembic.config', 'alembic.command',
];

/**
 * Environment variables that may differ between the preloader and a forked server: read by CUDA
 * (and its peers) when it initialises, which never happened in the preloader (checked before each
 * fork). Any other difference could have been read at import time, so it means a cold start.
 */
export const PER_SERVER_ENV: readonly string[] = [
  'CUDA_VISIBLE_DEVICES', 'HIP_VISIBLE_DEVICES', 'ROCR_VISIBLE_DEVICES', 'ASCEND_RT_VISIBLE_DEVICES', 'ONEAPI_DEVICE_SELECTOR',
];

export interface PreloaderOptions {
  /** The ComfyUI checkout. Default: env COMFYUI_PATH. */
  comfyuiPath?: string;
  /** Its interpreter; resolved as ComfyServer does (option, COMFYUI_PYTHON, a venv in the folder, python3). */
  python?: string;
  /** Added to this process's environment, as ServerOptions.env. Servers forked from here must have the same. */
  env?: Record<string, string>;
  /** What to import once. Default DEFAULT_PRELOAD_MODULES. */
  modules?: readonly string[];
  /**
   * Compile ComfyUI's own .py files once, in memory; a child's import of a file whose bytes are
   * unchanged then skips its compile (as a warm __pycache__ would). Default true.
   */
  precompile?: boolean;
  /**
   * Move what the preload made into the garbage collector's permanent generation (`gc.freeze()`)
   * before forking, as Python's docs advise for fork() without exec(): a forked server's full
   * collections then skip the ~450k inherited objects (on v0.33.0, 70 ms instead of 360-820 ms at
   * start) and leave their pages shared. Those objects are never collected and `gc.get_objects()`
   * does not list them (docs/fast-start.md). Default true.
   */
  freeze?: boolean;
  /**
   * The database template cache of the servers forked from here (ServerOptions.databaseTemplates):
   * start() makes the template beside the preload when it is not cached yet. false: none.
   */
  databaseTemplates?: string | false;
  /** The preloader's own output (import warnings, tracebacks); default: kept for errors only. */
  logs?: (line: string) => void;
}

/** What the preload did, from its 'ready' message. */
export interface PreloadInfo {
  pid: number;
  /** Milliseconds from the preloader's interpreter start to all imports done (its one-off cost). */
  importMs: number;
  /** Milliseconds from spawn() to ready, as seen from here. */
  readyMs: number;
  imported: string[];
  /** "module: error" for each module that could not be imported (the children import it themselves). */
  failed: string[];
  /** ComfyUI source files compiled in memory for the children. */
  compiled: number;
  /** Objects moved to the collector's permanent generation (0 with freeze: false). */
  frozen: number;
  cudaInitialized: boolean;
  /** OS threads of the preloader after the imports (BLAS pools and the like; forks copy one). */
  threads: number | null;
  /** Set when no fork would be safe (CUDA initialised, Python threads running). */
  unsafe: string | null;
}

/** Why a server cannot be forked; ComfyServer then starts it cold and logs this once. */
export class PreloadUnavailable extends Error {
  override readonly name = 'PreloadUnavailable';
}

export interface ForkRequest {
  /** [python, main.py, ...ComfyUI flags], as a cold spawn would run. */
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The instance folder: the stdio socket lives here; the watchdog and preloader remove it if we die. */
  instanceDirectory: string;
}

type Message =
  | { event: 'ready'; pid: number; ms: number; imported: string[]; failed: string[]; compiled: number; frozen?: number; cuda_initialized: boolean; threads: number | null; unsafe: string | null }
  | { event: 'forked'; id: number; pid: number }
  | { event: 'refused'; id: number; reason: string }
  | { event: 'exit'; pid: number; code: number | null; signal: string | null };

/** The Python half, shipped in the package: next to this file (src, or dist when copied), else under the package root. */
export function preloadScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'python', 'preload.py');
  if (existsSync(beside)) return beside;
  return join(here, '..', '..', 'src', 'server', 'python', 'preload.py');
}

/** The environment a server (or the preloader) runs with: ComfyServer's rule. */
export function serverEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', ...extra };
}

/**
 * A preloaded Python process and the servers forked from it. start() once (the import cost), then
 * fork() per server start, from as many ComfyServers as you like; close() when done.
 */
export class Preloader {
  readonly python: string;
  readonly comfyuiPath: string;
  readonly mainPy: string;
  readonly env: NodeJS.ProcessEnv;
  readonly #options: PreloaderOptions;
  #child: ChildProcess | undefined;
  #starting: Promise<PreloadInfo> | undefined;
  #info: PreloadInfo | undefined;
  #dead: string | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (pid: number) => void; reject: (error: Error) => void }>();
  readonly #exits = new Map<number, (exit: { code: number | null; signal: string | null }) => void>();
  readonly #earlyExits = new Map<number, { code: number | null; signal: string | null }>();
  readonly #onDeath = new Set<(why: string) => void>();
  readonly #stderrTail: string[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: PreloaderOptions = {}) {
    this.#options = options;
    const comfyuiPath = options.comfyuiPath ?? process.env.COMFYUI_PATH;
    if (!comfyuiPath) throw new PreloadUnavailable('no ComfyUI folder (comfyuiPath or COMFYUI_PATH) to preload for');
    this.comfyuiPath = resolvePath(comfyuiPath);
    this.mainPy = join(this.comfyuiPath, 'main.py');
    this.python = resolvePython(options.python, this.comfyuiPath);
    this.env = serverEnv(options.env);
  }

  /** The preload's result once start() resolved. */
  get info(): PreloadInfo | undefined {
    return this.#info;
  }

  /** The preloader's pid while it runs. */
  get pid(): number | undefined {
    return this.#dead === undefined ? this.#child?.pid : undefined;
  }

  /** Starts the preloader and resolves when its imports are done. Idempotent; rejects with PreloadUnavailable. */
  start(): Promise<PreloadInfo> {
    if (!this.#starting) {
      this.#starting = this.#start();
      // Its failure is each caller's to handle; a start nobody awaits any more must not crash the process.
      this.#starting.catch(() => {});
    }
    return this.#starting;
  }

  async #start(): Promise<PreloadInfo> {
    if (this.#closing) throw new PreloadUnavailable('the preloader was closed');
    const config = JSON.stringify({ main: this.mainPy, modules: this.#options.modules ?? DEFAULT_PRELOAD_MODULES, precompile: this.#options.precompile ?? true, freeze: this.#options.freeze ?? true });
    const t0 = performance.now();
    const cache = this.#options.databaseTemplates;
    // A one-off cost beside the preload's; servers that start meanwhile wait for the same make.
    if (cache !== false) databaseTemplate({ comfyuiPath: this.comfyuiPath, python: this.python, env: this.env, ...(cache !== undefined ? { cacheDirectory: cache } : {}) }).catch(() => {});
    const child = spawn(this.python, [preloadScript(), config], {
      cwd: this.comfyuiPath,
      env: this.env,
      detached: true, // a session of its own: signals to a terminal's or a server's group do not reach it
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    // An idle preloader must not keep this process alive (its lifeline ends it when we exit); the
    // control pipe is referenced only while a start or a fork waits for an answer.
    child.unref();
    for (const stream of [child.stdin, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    child.stdin?.on('error', () => {});
    this.#busy(+1);
    let ready: (info: PreloadInfo) => void = () => {};
    let failed: (error: Error) => void = () => {};
    const readyPromise = new Promise<PreloadInfo>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
      const lines = stderr.split('\n');
      stderr = lines.pop() ?? '';
      for (const line of lines) {
        this.#stderrTail.push(line);
        if (this.#stderrTail.length > 30) this.#stderrTail.shift();
        this.#options.logs?.(line);
      }
    });
    let control = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      control += text;
      const lines = control.split('\n');
      control = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        let message: Message;
        try {
          message = JSON.parse(line) as Message;
        } catch {
          continue;
        }
        if (message.event === 'ready') {
          ready({
            pid: message.pid,
            importMs: message.ms,
            readyMs: performance.now() - t0,
            imported: message.imported,
            failed: message.failed,
            compiled: message.compiled,
            frozen: message.frozen ?? 0,
            cudaInitialized: message.cuda_initialized,
            threads: message.threads,
            unsafe: message.unsafe,
          });
        } else this.#onMessage(message);
      }
    });
    const died = (why: string) => {
      if (this.#dead !== undefined) return;
      this.#dead = why;
      const error = new PreloadUnavailable(why);
      failed(error);
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      for (const callback of this.#onDeath) callback(why);
    };
    child.once('error', (error) => died(`the preloader could not run (${this.python}): ${error.message}`));
    child.once('exit', (code, signal) => {
      const tail = this.#stderrTail.slice(-5).join(' | ');
      died(`the preloader ended (${signal ?? `exit code ${code}`})${tail ? `: ${tail}` : ''}`);
    });
    const info = await readyPromise.finally(() => this.#busy(-1));
    this.#info = info;
    if (info.unsafe) throw new PreloadUnavailable(info.unsafe);
    return info;
  }

  #waiting = 0;

  /** References the control pipe while an answer is awaited, so that the event loop waits for it. */
  #busy(delta: number): void {
    this.#waiting += delta;
    const control = this.#child?.stdout as unknown as { ref?: () => void; unref?: () => void } | null | undefined;
    if (this.#waiting > 0) control?.ref?.();
    else control?.unref?.();
  }

  #onMessage(message: Message): void {
    if (message.event === 'forked') {
      this.#pending.get(message.id)?.resolve(message.pid);
      this.#pending.delete(message.id);
    } else if (message.event === 'refused') {
      this.#pending.get(message.id)?.reject(new PreloadUnavailable(message.reason));
      this.#pending.delete(message.id);
    } else if (message.event === 'exit') {
      const exit = { code: message.code, signal: message.signal };
      const callback = this.#exits.get(message.pid);
      if (callback) callback(exit);
      // The exit can overtake our handling of 'forked' (a child that dies at once).
      else this.#earlyExits.set(message.pid, exit);
    }
  }

  /**
   * Why a server with this interpreter, main.py and environment cannot be forked from here
   * (undefined when it can). Names the differing variables, never their values.
   */
  incompatibility(python: string, mainPy: string, env: NodeJS.ProcessEnv): string | undefined {
    if (resolvePath(mainPy) !== this.mainPy) return `the preloader serves ${this.mainPy}, not ${mainPy}`;
    if (python !== this.python) return `the preloader runs ${this.python}, not ${python}`;
    const keys = new Set([...Object.keys(env), ...Object.keys(this.env)]);
    const differ = [...keys].filter((key) => !PER_SERVER_ENV.includes(key) && env[key] !== this.env[key]);
    if (differ.length) return `the environment differs from the preloader's in ${differ.sort().join(', ')}`;
    return undefined;
  }

  /**
   * Forks a server. Resolves with its process once its pid is known and the watchdog beside it runs;
   * rejects with PreloadUnavailable (nothing started) when the preload failed, is unsafe or gone.
   */
  async fork(request: ForkRequest): Promise<WatchedProcess> {
    await this.start();
    if (this.#dead !== undefined) throw new PreloadUnavailable(this.#dead);
    if (this.#closing) throw new PreloadUnavailable('the preloader was closed');
    const token = randomBytes(16).toString('hex');
    const stdio = await listenForStdio(request.instanceDirectory, token);
    const id = this.#nextId++;
    let pid: number;
    try {
      this.#busy(+1);
      pid = await new Promise<number>((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        const line = JSON.stringify({ op: 'fork', id, argv: request.argv.slice(1), cwd: request.cwd, env: request.env, stdio: stdio.address, token, cleanup: request.instanceDirectory });
        this.#child?.stdin?.write(`${line}\n`);
      }).finally(() => this.#busy(-1));
    } catch (error) {
      stdio.close();
      throw error;
    }
    return this.#watch(pid, stdio, request.instanceDirectory);
  }

  #watch(pid: number, stdio: StdioListener, instanceDirectory: string): WatchedProcess {
    let childExited = false;
    // A running server keeps this process alive, as a spawned one does (its exit comes on the control pipe).
    this.#busy(+1);
    const guard = guardGroup(pid, { cleanupDirectory: instanceDirectory }, () => childExited);
    const exited = new Promise<ChildExit>((resolve) => {
      let done = false;
      const finish = (exit: ChildExit) => {
        if (done) return;
        done = true;
        childExited = true;
        this.#busy(-1);
        this.#exits.delete(pid);
        this.#onDeath.delete(onPreloaderDeath);
        if (!groupAlive(pid)) void guard.release();
        // As for a spawned ComfyUI: its last lines (a traceback) belong to the report, but a
        // grandchild holding the sockets open must not delay it.
        void Promise.race([stdio.drained(), sleep(200)]).then(() => {
          const watchdogError = guard.error() ?? exit.watchdogError;
          resolve({ exitCode: exit.exitCode, signal: exit.signal, ...(watchdogError !== undefined ? { watchdogError } : {}) });
        });
      };
      const fromPreloader = ({ code, signal }: { code: number | null; signal: string | null }) =>
        finish({ exitCode: code, signal: (signal && signal in constants.signals ? signal : null) as NodeJS.Signals | null });
      // Without its parent nobody can report this child's end: it must not run on unobserved.
      const onPreloaderDeath = (why: string) => {
        signalGroup(pid, 'SIGKILL');
        void waitGone(pid).then(() => finish({ exitCode: null, signal: 'SIGKILL', watchdogError: `${why}; the server forked from it was stopped (its exit could no longer be observed)` }));
      };
      const early = this.#earlyExits.get(pid);
      this.#earlyExits.delete(pid);
      if (early) fromPreloader(early);
      else {
        this.#exits.set(pid, fromPreloader);
        this.#onDeath.add(onPreloaderDeath);
        if (this.#dead !== undefined) onPreloaderDeath(this.#dead);
      }
    });
    return {
      pid,
      pgid: pid,
      watchdogPid: guard.pid,
      stdout: stdio.stdout,
      stderr: stdio.stderr,
      exited,
      release: async () => {
        stdio.close();
        await guard.release();
      },
    };
  }

  /**
   * Ends the preloader: its stdin is closed, it takes down whatever it still has forked (SIGINT,
   * SIGKILL a second later) and exits. Resolves when it is gone. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.ref(); // wait for it even if nothing else keeps the event loop alive
    child.stdin?.end();
    const quick = await Promise.race([gone.then(() => true), sleep(3000).then(() => false)]);
    if (!quick) child.kill('SIGKILL');
    await gone;
  }
}

async function waitGone(pgid: number): Promise<void> {
  for (let i = 0; i < 200 && groupAlive(pgid); i++) await sleep(10);
}

interface StdioListener {
  /** Where the child connects: a socket file in the private instance folder (or a private folder under /tmp when that path is too long). */
  address: string;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when both streams ended (or never connected and were closed). */
  drained(): Promise<void>;
  close(): void;
}

/**
 * A Unix socket the forked child connects to twice, for its stdout and stderr (it dup2()s them onto
 * fds 1 and 2: a socketpair is what a spawned ComfyUI's stdio is too). Each connection starts with
 * "o" or "e" and the token; anything else is dropped.
 */
async function listenForStdio(instanceDirectory: string, token: string): Promise<StdioListener> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const sockets = new Set<Socket>();
  // sun_path holds 108 bytes: with a long TMPDIR, a private (0700) folder under /tmp instead.
  let own: string | undefined;
  let address = join(instanceDirectory, 'stdio.sock');
  if (Buffer.byteLength(address) >= 100) {
    own = await mkdtemp('/tmp/comfy-stdio-').catch(() => undefined);
    if (!own) throw new PreloadUnavailable(`the instance folder's path is too long for a Unix socket (${address})`);
    address = join(own, 's');
  }
  let connected = 0;
  // Once both streams are connected nothing else may connect, and the socket file can go.
  const unlisten = () => {
    server.close();
    if (own) void rm(own, { recursive: true, force: true });
    else void rm(address, { force: true });
  };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const newline = head.indexOf(10);
      if (newline < 0) {
        if (head.length > 64) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const tag = head.subarray(0, 1).toString();
      const target = tag === 'o' ? stdout : tag === 'e' ? stderr : undefined;
      if (!target || head.subarray(1, newline).toString() !== token) return void socket.destroy();
      const rest = head.subarray(newline + 1);
      if (rest.length) target.write(rest);
      socket.pipe(target);
      if (++connected === 2) unlisten();
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => resolve());
  });
  server.unref();
  const ended = (stream: Readable) => new Promise<void>((resolve) => {
    if (stream.readableEnded) return resolve();
    stream.once('end', resolve).once('close', resolve);
  });
  return {
    address,
    stdout,
    stderr,
    drained: () => Promise.all([ended(stdout), ended(stderr)]).then(() => {}),
    close: () => {
      unlisten();
      for (const socket of sockets) socket.destroy();
      // Streams that never got their connection (the child died first) end here.
      if (!stdout.writableEnded) stdout.end();
      if (!stderr.writableEnded) stderr.end();
    },
  };
}
