import { EventEmitter } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import {
  BadArgumentsError,
  ComfyNotFoundError,
  ConnectorClosedError,
  PortInUseError,
  ServerCrashedError,
  ServerStartError,
  StartTimeoutError,
  type ComfyError,
  type ProcessExitInfo,
} from '../errors.js';
import { buildCommand, clientUrl, flagValue, instanceDatabasePath } from './command.js';
import { cachedDatabaseTemplate, copyDatabaseTemplate, databaseTemplate, type DatabaseTemplate } from './database-template.js';
import { needsCpuFlag } from './device.js';
import { LineSplitter, LogRing, stripAnsi } from './log-buffer.js';
import {
  DEFAULT_HOST,
  DEFAULT_LOG_BUFFER_LINES,
  DEFAULT_START_TIMEOUT_MS,
  type ServerOptions,
  type ServerPaths,
} from './options.js';
import { isPortFree, pickFreePort } from './port.js';
import { Preloader, PreloadUnavailable } from './preload.js';
import { groupAlive, signalGroup, spawnWatched, terminateGroup, waitGroupGone, type ChildExit, type WatchedProcess } from './process-group.js';
import { checkPythonExists, resolvePython, checkTorch } from './python.js';
import { matchReadyLine, mentionsAddressInUse, waitForSystemStats } from './readiness.js';

export type LogStream = 'stdout' | 'stderr';

export interface ComfyServerEvents {
  /** One line of ComfyUI's output, ANSI codes removed. */
  log: [line: string, stream: LogStream];
  /** A process that was serving ended; expected=false is a crash. */
  exit: [info: ProcessExitInfo, expected: boolean];
}

export type ServerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';

/** Our own choice of port can be taken between choosing and binding; that many tries, then fail. */
const PORT_ATTEMPTS = 5;
/** stop(): SIGINT → SIGTERM → SIGKILL grace periods. ComfyUI needs well under a second for SIGINT. */
const INTERRUPT_GRACE_MS = 3000;
const TERMINATE_GRACE_MS = 2000;
/**
 * ComfyUI logs "Stopped server", cleans its temp folder, then can hang for seconds joining threads
 * at interpreter exit (seen at v0.33.0). After that line, this much more before SIGTERM.
 */
const ACKNOWLEDGED_GRACE_MS = 500;
const STOPPED_LINE = /(^|\] )Stopped server$/;

type Outcome =
  | { kind: 'ready' }
  | { kind: 'exit'; exit: ChildExit }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

/**
 * One managed ComfyUI process: its command line, a free port, a private instance folder (temp
 * folder, database), readiness, a log ring, crash detection and an orphan-proof kill.
 * Instances are independent: run as many as you like (one per GPU with cudaDevice).
 */
export class ComfyServer extends EventEmitter<ComfyServerEvents> {
  readonly options: Readonly<ServerOptions>;
  readonly #ring: LogRing;
  #state: ServerState = 'idle';
  #paths: ServerPaths | undefined;
  #port: number | undefined;
  #process: WatchedProcess | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #crashCleanup: Promise<void> | undefined;
  #abortStart: AbortController | undefined;
  #python: { python: string; env: NodeJS.ProcessEnv } | undefined;
  #lastExit: ProcessExitInfo | undefined;
  #onReadyLine: ((url: string) => void) | undefined;
  #onStoppedLine: (() => void) | undefined;
  /** The process that reached 'running': its end is an 'exit' event. */
  #servingProcess: WatchedProcess | undefined;
  /** startMode 'fork' without a shared preloader: ours, kept across restarts, closed by stop(). */
  #ownPreloader: Preloader | undefined;
  #startedBy: 'fork' | 'cold' | undefined;

  constructor(options: ServerOptions = {}) {
    super();
    this.options = { ...options };
    this.#ring = new LogRing(options.logBufferLines ?? DEFAULT_LOG_BUFFER_LINES);
  }

  get state(): ServerState {
    return this.#state;
  }

  /** True between a successful start() and the process's end. */
  get running(): boolean {
    return this.#state === 'running';
  }

  get host(): string {
    return this.options.host ?? DEFAULT_HOST;
  }

  /** The port of the current (or last) process; undefined before start(). */
  get port(): number | undefined {
    return this.#port;
  }

  /** http://127.0.0.1:PORT (a wildcard listen address is reached through loopback). */
  get url(): string {
    if (this.#port === undefined) throw new Error('ComfyServer.url is known once start() was called.');
    const argv = this.options.extraArgs ?? [];
    const tls = flagValue(argv, '--tls-keyfile') !== undefined && flagValue(argv, '--tls-certfile') !== undefined;
    return clientUrl(this.host, this.#port, tls);
  }

  get paths(): ServerPaths {
    if (!this.#paths) throw new Error('ComfyServer.paths are known once start() was called.');
    return this.#paths;
  }

  /** ComfyUI's pid (of the current or last process). */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** The process group of the ComfyUI tree: ComfyUI's own pid (of the current or last process). */
  get pgid(): number | undefined {
    return this.#process?.pid === undefined ? undefined : this.#process.pgid;
  }

  /** The pid of the orphan watchdog beside the current (or last) ComfyUI; for diagnostics. */
  get watchdogPid(): number | undefined {
    return this.#process?.watchdogPid;
  }

  /** How the current (or last) process was started: forked from a preloader, or spawned cold. */
  get startedBy(): 'fork' | 'cold' | undefined {
    return this.#startedBy;
  }

  /** The preloader this server forks from (startMode 'fork'), once start() made or used it. */
  get preloader(): Preloader | undefined {
    return this.options.preloader ?? this.#ownPreloader;
  }

  /** How the last serving process ended, if it did. */
  get lastExit(): ProcessExitInfo | undefined {
    return this.#lastExit;
  }

  /** The last lines ComfyUI printed, oldest first, ANSI codes removed. */
  logTail(): string[] {
    return this.#ring.lines();
  }

  /**
   * Starts ComfyUI and resolves once the ready line was printed AND GET /system_stats answered 200.
   * Rejects with ComfyNotFoundError, PythonNotUsableError, PortInUseError, BadArgumentsError,
   * ServerStartError or StartTimeoutError; nothing is left running or on disk then.
   */
  start(): Promise<void> {
    if (this.#state === 'running') return Promise.resolve();
    if (this.#starting) return this.#starting;
    if (this.#state === 'stopping') return Promise.reject(new ConnectorClosedError('This ComfyUI server'));
    this.#starting = this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /**
   * Resolves when a process serves. After a crash, 'on-crash' starts a new one (a new port: read
   * url again); 'never' throws ServerCrashedError with the crash's exit code and log tail.
   */
  async ensureRunning(): Promise<void> {
    switch (this.#state) {
      case 'running':
        return;
      case 'idle':
      case 'starting':
        return this.start();
      case 'crashed':
        if (this.options.restart === 'on-crash') {
          await this.#crashCleanup;
          return this.start();
        }
        throw new ServerCrashedError(this.#lastExit ?? { exitCode: null, signal: null, logTail: this.logTail() });
      default:
        throw new ConnectorClosedError('This ComfyUI server');
    }
  }

  /**
   * Stops the whole process tree: SIGINT to the group (ComfyUI cleans its temp folder), then
   * SIGTERM, then SIGKILL, and resolves only when no process of the group is left and the instance
   * folder is removed. Idempotent; concurrent calls share one stop. A start in progress is abandoned.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const wasStarting = this.#starting;
    this.#state = 'stopping';
    this.#abortStart?.abort();
    if (wasStarting) await wasStarting.catch(() => {}); // the start cleans up after itself
    await this.#crashCleanup;
    const proc = this.#process;
    if (proc) {
      const acknowledged = new Promise<void>((resolve) => (this.#onStoppedLine = resolve));
      await terminateGroup(proc.pgid, proc.exited, {
        interruptGraceMs: INTERRUPT_GRACE_MS,
        terminateGraceMs: TERMINATE_GRACE_MS,
        interruptAcknowledged: acknowledged,
        acknowledgedGraceMs: ACKNOWLEDGED_GRACE_MS,
      });
      this.#onStoppedLine = undefined;
      await proc.exited;
      await proc.release();
    }
    await this.#cleanupInstance();
    await this.#closeOwnPreloader();
    this.#state = 'stopped';
  }

  // ------------------------------------------------------------------ start

  async #start(): Promise<void> {
    this.#stopping = undefined;
    this.#state = 'starting';
    const abort = new AbortController();
    this.#abortStart = abort;
    try {
      const plan = await this.#prepare();
      const deadline = Date.now() + (this.options.startTimeout ?? DEFAULT_START_TIMEOUT_MS);
      // Made (once per checkout) while the preload runs; both are one-off costs. A cold start takes
      // a template only when one is cached: waiting for the make would cost more than it saves.
      const template = this.#template(plan, this.options.startMode === 'fork' || this.options.preloader !== undefined);
      const forker = await this.#forker(plan, abort.signal);
      await this.#useTemplate(template, abort.signal);
      if (abort.signal.aborted) throw new ConnectorClosedError('This ComfyUI server (stopped while it was starting)');
      for (let attempt = 1; ; attempt++) {
        const port = this.options.port ?? (await (this.options.pickPort ?? pickFreePort)(this.host));
        this.#port = port;
        const argv = buildCommand({ ...plan, host: this.host, port, paths: this.paths });
        const outcome = await this.#attempt(argv, plan.cwd, plan.env, deadline, abort.signal, forker);
        // stop() may have come in while the ready check was settling: then it wins.
        if (outcome.kind === 'ready' && !abort.signal.aborted) {
          this.#state = 'running';
          this.#servingProcess = this.#process;
          return;
        }
        await this.#killCurrent();
        const failed = abort.signal.aborted || outcome.kind === 'ready' ? ({ kind: 'aborted' } as const) : outcome;
        const error = await this.#startError(failed, argv, port);
        if (error === 'retry' && attempt < PORT_ATTEMPTS) continue;
        if (error !== 'retry') throw error;
        throw new ServerStartError(
          this.#exitInfo(failed.kind === 'exit' ? failed.exit : { exitCode: null, signal: null }),
          `ComfyUI found its port taken on ${PORT_ATTEMPTS} free ports in a row; something on this machine takes ports as soon as they are free. Fix a port (port option, CLI --port) that you know is free.`,
        );
      }
    } catch (error) {
      await this.#killCurrent();
      await this.#cleanupInstance();
      // "Nothing is left running" after a failed start: our own preloader included.
      await this.#closeOwnPreloader();
      if (this.#state === 'starting') this.#state = 'idle';
      throw error;
    } finally {
      this.#abortStart = undefined;
    }
  }

  /** Pre-flight checks and everything that does not change between port attempts. */
  async #prepare() {
    const options = this.options;
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', ...options.env };
    // With a replacement command, COMFYUI_PATH is not taken: a stand-in must not use (and write to)
    // the folders of a real ComfyUI that happens to be configured in the environment.
    const comfyuiPath = options.command ? options.comfyuiPath : (options.comfyuiPath ?? process.env.COMFYUI_PATH);
    let base: string[];
    let pythonPlan: { python: string; comfyuiPath: string } | undefined;
    if (options.command) {
      if (options.command.length === 0) throw new ServerStartError({ exitCode: null, signal: null, logTail: [] }, 'options.command is empty: give [executable, ...args].');
      if (comfyuiPath !== undefined) checkComfyFolder(comfyuiPath, false);
      base = [...options.command];
    } else {
      if (comfyuiPath === undefined) throw new ComfyNotFoundError(undefined, 'no ComfyUI folder was given');
      checkComfyFolder(comfyuiPath, true);
      const python = resolvePython(options.python, comfyuiPath);
      checkPythonExists(python, env);
      base = [python, join(resolvePath(comfyuiPath), 'main.py')];
      pythonPlan = { python, comfyuiPath: resolvePath(comfyuiPath) };
      // Checked only when ComfyUI fails to start: on a 2-core machine a second `import torch` beside
      // ComfyUI's own would slow every boot down, to diagnose a case that its exit shows anyway.
      this.#python = { python, env };
    }
    if (this.options.port !== undefined && !(await isPortFree(this.host, this.options.port))) {
      throw new PortInUseError(this.options.port, this.host);
    }

    const instanceDirectory = await mkdtemp(join(tmpdir(), 'comfy-connector-'));
    const extraArgs = options.extraArgs ?? [];
    // Without a ComfyUI folder (a stand-in command), the instance folder plays its part.
    const synthetic = comfyuiPath === undefined;
    const baseDirectory = resolvePath(flagValue(extraArgs, '--base-directory') ?? comfyuiPath ?? join(instanceDirectory, 'base'));
    this.#paths = {
      comfyuiPath: comfyuiPath !== undefined ? resolvePath(comfyuiPath) : baseDirectory,
      baseDirectory,
      inputDirectory: resolvePath(options.inputDirectory ?? join(baseDirectory, 'input')),
      outputDirectory: resolvePath(options.outputDirectory ?? join(baseDirectory, 'output')),
      tempDirectory: join(instanceDirectory, 'temp'),
      userDirectory: resolvePath(options.userDirectory ?? join(baseDirectory, 'user')),
      extraModelPaths: (options.extraModelPaths ?? []).map((file) => resolvePath(file)),
      instanceDirectory,
    };
    const explicit = {
      input: synthetic || options.inputDirectory !== undefined,
      output: synthetic || options.outputDirectory !== undefined,
      user: synthetic || options.userDirectory !== undefined,
    };
    // ComfyUI's argparse rejects a --user-directory that does not exist.
    if (explicit.user) await mkdir(this.#paths.userDirectory, { recursive: true });
    if (synthetic) {
      await mkdir(this.#paths.inputDirectory, { recursive: true });
      await mkdir(this.#paths.outputDirectory, { recursive: true });
    }
    return {
      base,
      pythonPlan,
      env,
      // A replacement command is run from here, so its relative parts (`--import tsx`) resolve.
      cwd: comfyuiPath !== undefined && !options.command ? resolvePath(comfyuiPath) : process.cwd(),
      cpu: needsCpuFlag(options.device ?? 'auto', env),
      cudaDevice: options.cudaDevice,
      explicit,
      extraArgs,
    };
  }

  /**
   * The preloader to fork from, or undefined for a cold start. Every reason for a cold start in
   * 'fork' mode is said once, as a log line of this server.
   */
  async #forker(plan: { pythonPlan: { python: string; comfyuiPath: string } | undefined; env: NodeJS.ProcessEnv; base: string[] }, abort: AbortSignal): Promise<Preloader | undefined> {
    const shared = this.options.preloader;
    if (!shared && this.options.startMode !== 'fork') return undefined;
    const coldBecause = (why: string) => {
      this.#onLine(`[comfy-connector] fast start unavailable: ${why}; starting ComfyUI cold`, 'stderr');
      return undefined;
    };
    if (!plan.pythonPlan) return coldBecause('fork mode needs a Python ComfyUI (main.py), and a replacement command was given');
    let preloader = shared ?? this.#ownPreloader;
    if (!preloader) {
      try {
        preloader = new Preloader({ comfyuiPath: plan.pythonPlan.comfyuiPath, python: plan.pythonPlan.python, ...(this.options.env ? { env: this.options.env } : {}) });
      } catch (error) {
        return coldBecause((error as Error).message);
      }
      this.#ownPreloader = preloader;
    }
    const mismatch = preloader.incompatibility(plan.pythonPlan.python, plan.base[1] ?? '', plan.env);
    if (mismatch) return coldBecause(mismatch);
    try {
      // stop() does not wait for a preload (seconds): the start is abandoned, a private preloader closed.
      await Promise.race([preloader.start(), new Promise((resolve) => abort.addEventListener('abort', resolve, { once: true }))]);
    } catch (error) {
      return coldBecause(`the preload failed or is unsafe: ${(error as Error).message}`);
    }
    return preloader;
  }

  /**
   * The database template for this start (docs/fast-start.md), or undefined: with a replacement
   * command, a --database-url of the user's, `databaseTemplates: false`, or a checkout without
   * alembic migrations. A template that cannot be made is said once in the log, and the start goes on.
   */
  #template(plan: { pythonPlan: { python: string; comfyuiPath: string } | undefined; env: NodeJS.ProcessEnv; extraArgs: string[] }, make: boolean): Promise<DatabaseTemplate | undefined> | undefined {
    const cache = this.options.databaseTemplates;
    if (!plan.pythonPlan || cache === false || flagValue(plan.extraArgs, '--database-url') !== undefined) return undefined;
    const request = { ...plan.pythonPlan, env: plan.env, ...(cache !== undefined ? { cacheDirectory: cache } : {}) };
    const made = make ? databaseTemplate(request) : cachedDatabaseTemplate(request);
    made.catch(() => {}); // awaited (or abandoned by stop()) in #useTemplate
    return made;
  }

  /** Copies the template into the new instance's (absent) database file before ComfyUI starts. */
  async #useTemplate(template: Promise<DatabaseTemplate | undefined> | undefined, abort: AbortSignal): Promise<void> {
    if (!template || abort.aborted) return;
    const aborted = new Promise<undefined>((resolve) => abort.addEventListener('abort', () => resolve(undefined), { once: true }));
    try {
      const ready = await Promise.race([template, aborted]);
      if (!ready || abort.aborted) return;
      await copyDatabaseTemplate(ready, instanceDatabasePath(this.paths));
    } catch (error) {
      this.#onLine(`[comfy-connector] database template unavailable: ${(error as Error).message}; ComfyUI migrates the new database itself`, 'stderr');
    }
  }

  /** Forks from the preloader when there is one, else spawns; a refused fork falls back to a spawn. */
  async #launch(argv: string[], cwd: string, env: NodeJS.ProcessEnv, forker: Preloader | undefined): Promise<WatchedProcess> {
    const instanceDirectory = this.paths.instanceDirectory;
    if (forker) {
      try {
        const proc = await forker.fork({ argv, cwd, env, instanceDirectory });
        this.#startedBy = 'fork';
        return proc;
      } catch (error) {
        if (!(error instanceof PreloadUnavailable)) throw error;
        this.#onLine(`[comfy-connector] fast start unavailable: ${error.message}; starting ComfyUI cold`, 'stderr');
      }
    }
    this.#startedBy = 'cold';
    return spawnWatched({ command: argv, cwd, env, cleanupDirectory: instanceDirectory });
  }

  /** One start (spawned or forked), until ready, exit, timeout, a failed Python check or stop(). */
  async #attempt(argv: string[], cwd: string, env: NodeJS.ProcessEnv, deadline: number, abort: AbortSignal, forker: Preloader | undefined): Promise<Outcome> {
    const proc = await this.#launch(argv, cwd, env, forker);
    this.#process = proc;
    this.#pipeLogs(proc);
    void proc.exited.then((exit) => this.#onProcessExit(proc, exit));

    const ready = new AbortController();
    const url = this.url;
    try {
      return await new Promise<Outcome>((resolve) => {
        let readySeen = false;
        this.#onReadyLine = () => {
          if (readySeen) return;
          readySeen = true;
          waitForSystemStats(url, ready.signal).then(() => resolve({ kind: 'ready' }), () => {});
        };
        void proc.exited.then((exit) => resolve({ kind: 'exit', exit }));
        const timer = setTimeout(() => resolve({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
        ready.signal.addEventListener('abort', () => clearTimeout(timer));
        if (abort.aborted) resolve({ kind: 'aborted' });
        abort.addEventListener('abort', () => resolve({ kind: 'aborted' }));
      });
    } finally {
      ready.abort();
      this.#onReadyLine = undefined;
    }
  }

  /** The typed error for a failed attempt, or 'retry' when our own port choice was taken. */
  async #startError(outcome: Exclude<Outcome, { kind: 'ready' }>, argv: string[], port: number): Promise<ComfyError | 'retry'> {
    switch (outcome.kind) {
      case 'aborted':
        return new ConnectorClosedError('This ComfyUI server (stopped while it was starting)');
      case 'timeout':
        return new StartTimeoutError(this.options.startTimeout ?? DEFAULT_START_TIMEOUT_MS, this.logTail());
      case 'exit': {
        const { exit } = outcome;
        if (exit.watchdogError) {
          return new ServerStartError(this.#exitInfo(exit), `ComfyUI was stopped because ${exit.watchdogError}; without it ComfyUI could outlive this process. Check that /bin/sh runs.`);
        }
        if (exit.spawnError) {
          return new ServerStartError(this.#exitInfo(exit), `Could not run ${argv[0]}: ${exit.spawnError}. Check python (or command).`);
        }
        if (exit.exitCode === 1 && mentionsAddressInUse(this.logTail().slice(-20))) {
          return this.options.port !== undefined ? new PortInUseError(port, this.host) : 'retry';
        }
        if (exit.exitCode === 2) return new BadArgumentsError(argv, this.logTail());
        // A Python without torch shows up as an early exit; say that rather than "exit code 1".
        const pythonError = this.#python && (await checkTorch(this.#python.python, this.#python.env));
        return pythonError ?? this.#startFailure(outcome);
      }
    }
  }

  #startFailure(outcome: Outcome): ServerStartError {
    const exit = outcome.kind === 'exit' ? outcome.exit : { exitCode: null, signal: null };
    return new ServerStartError(this.#exitInfo(exit));
  }

  #exitInfo(exit: ChildExit): ProcessExitInfo {
    return { exitCode: exit.exitCode, signal: exit.signal, logTail: this.logTail() };
  }

  // ------------------------------------------------------------------ running

  #pipeLogs(proc: WatchedProcess): void {
    const logs = this.options.logs ?? 'silent';
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = proc[stream];
      const splitter = new LineSplitter((raw) => this.#onLine(raw, stream));
      source.on('data', (chunk: Buffer) => {
        if (logs === 'inherit') process[stream].write(chunk);
        splitter.write(chunk);
      });
      source.once('end', () => splitter.flush());
    }
  }

  #onLine(raw: string, stream: LogStream): void {
    const line = stripAnsi(raw);
    this.#ring.push(line);
    if (this.#onReadyLine && matchReadyLine(line) !== undefined) this.#onReadyLine(line);
    if (this.#onStoppedLine && STOPPED_LINE.test(line)) this.#onStoppedLine();
    const logs = this.options.logs;
    if (typeof logs === 'function') {
      try {
        logs(line, stream);
      } catch {
        // A failing log callback must not take the server down.
      }
    }
    if (this.listenerCount('log')) this.emit('log', line, stream);
  }

  #onProcessExit(proc: WatchedProcess, exit: ChildExit): void {
    // Exits before ready belong to start(), which reports them as its rejection.
    if (proc !== this.#servingProcess) return;
    this.#servingProcess = undefined;
    const info = this.#exitInfo(exit);
    this.#lastExit = info;
    const expected = this.#state === 'stopping';
    if (!expected) {
      this.#state = 'crashed';
      // What ComfyUI started may outlive it; the instance folder goes too (a restart makes a new one).
      this.#crashCleanup = this.#killCurrent().then(() => this.#cleanupInstance());
    }
    this.emit('exit', info, expected);
  }

  // ------------------------------------------------------------------ cleanup

  /** Ends the current process tree (if any) and waits until its group is empty. */
  async #killCurrent(): Promise<void> {
    const proc = this.#process;
    if (!proc) return;
    if (groupAlive(proc.pgid)) {
      // Nothing here has served yet, or ComfyUI itself is already dead: no grace needed.
      signalGroup(proc.pgid, 'SIGKILL');
    }
    await proc.exited;
    await waitGroupGone(proc.pgid, 5000);
    if (groupAlive(proc.pgid)) signalGroup(proc.pgid, 'SIGKILL');
    await proc.release();
  }

  async #closeOwnPreloader(): Promise<void> {
    const own = this.#ownPreloader;
    this.#ownPreloader = undefined;
    await own?.close();
  }

  async #cleanupInstance(): Promise<void> {
    const dir = this.#paths?.instanceDirectory;
    if (dir && existsSync(dir)) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function checkComfyFolder(path: string, needMain: boolean): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw new ComfyNotFoundError(path, 'the folder does not exist');
  }
  if (!isDirectory) throw new ComfyNotFoundError(path, 'this is a file, not a folder');
  if (needMain && !existsSync(join(path, 'main.py'))) throw new ComfyNotFoundError(path, 'the folder has no main.py');
}
