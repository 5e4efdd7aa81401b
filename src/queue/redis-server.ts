/**
 * A private Redis for the fleet: Debian's `redis-server` on a free loopback port, with AOF on (every
 * accepted job survives a restart), no RDB snapshots and `noeviction` (BullMQ's production
 * settings). The service's embedded mode and the tests use it; production points at its own Redis.
 *
 * Orphan-proof the same way as ComfyUI: redis-server runs in a process group of its own with the
 * watchdog beside it (src/server/watchdog.ts), so a SIGKILLed parent takes it down too.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { groupAlive, signalGroup, spawnWatched, type WatchedProcess } from '../server/process-group.js';
import { pickFreePort } from '../server/port.js';
import { RedisNotInstalledError, RedisStartError } from './errors.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisServerOptions {
  /** Data folder (the AOF lives here). Default: a private temp folder, removed by stop(). */
  dir?: string;
  /** Default: a free port, chosen once and kept across restart(). */
  port?: number;
  /** Default: `redis-server` found on PATH. */
  redisServerPath?: string;
  /** Milliseconds to wait for PING after spawn (AOF replay counts). Default 15 s. */
  startTimeoutMs?: number;
  /** More `redis-server` arguments, e.g. ['--requirepass', 'x']. */
  extraArgs?: string[];
}

/** The first executable `name` on PATH, or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** One PING over a raw socket: true on +PONG (false on -LOADING while the AOF replays). */
export function pingRedis(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

export class RedisServer {
  readonly dir: string;
  readonly #ownsDir: boolean;
  #port: number | undefined;
  readonly #options: RedisServerOptions;
  #process: WatchedProcess | undefined;
  #log: string[] = [];
  #removed = false;

  constructor(options: RedisServerOptions = {}) {
    this.#options = options;
    this.#port = options.port;
    this.#ownsDir = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'comfy-redis-'));
  }

  /** Starts a private Redis and resolves when one is running: `const r = await RedisServer.start()`. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(options);
    try {
      await server.start();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get port(): number {
    if (this.#port === undefined) throw new Error('RedisServer has no port before start()');
    return this.#port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Last lines redis-server printed. */
  logTail(): string[] {
    return this.#log.slice(-30);
  }

  /** Spawns redis-server (same dir and port on a second call: a restart) and waits for PING. */
  async start(): Promise<void> {
    if (this.#process) return;
    if (this.#removed) throw new Error('RedisServer was stopped and its folder removed; create a new one');
    const bin = this.#options.redisServerPath ?? findOnPath('redis-server');
    if (!bin) throw new RedisNotInstalledError(process.env.PATH ?? '');
    mkdirSync(this.dir, { recursive: true });
    const choose = this.#port === undefined;
    for (let attempt = 0; ; attempt++) {
      this.#port ??= await pickFreePort('127.0.0.1');
      try {
        await this.#spawnAndWait(bin);
        return;
      } catch (error) {
        // Someone took the port we chose between our probe and redis' bind: choose another.
        const portTaken = this.#log.some((l) => /Address already in use|bind: /i.test(l));
        if (choose && portTaken && attempt < 4) {
          this.#port = undefined;
          continue;
        }
        throw error;
      }
    }
  }

  async #spawnAndWait(bin: string): Promise<void> {
    const port = this.port;
    this.#log = [];
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes',
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--dir', this.dir,
      '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning',
      ...(this.#options.extraArgs ?? []),
    ];
    const watched = spawnWatched({
      command: [bin, ...args],
      cwd: this.dir,
      env: { ...process.env },
      // Only a folder we made is ours to remove when this process dies unannounced.
      ...(this.#ownsDir ? { cleanupDirectory: this.dir } : {}),
      orphanGraceMs: 2000,
    });
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) this.#log.push(line);
      if (this.#log.length > 200) this.#log.splice(0, this.#log.length - 200);
    };
    watched.stdout.on('data', collect);
    watched.stderr.on('data', collect);
    let exited: string | undefined;
    void watched.exited.then((exit) => {
      exited = exit.spawnError ?? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.exitCode}`);
      if (this.#process === watched) this.#process = undefined;
    });
    this.#process = watched;
    const deadline = Date.now() + (this.#options.startTimeoutMs ?? 15_000);
    for (;;) {
      if (exited !== undefined) {
        await watched.release();
        throw new RedisStartError(`it exited (${exited}) before answering PING on port ${port}`, this.logTail());
      }
      if (await pingRedis(port)) return;
      if (Date.now() > deadline) {
        await this.#kill(watched);
        throw new RedisStartError(`no PONG on port ${port} within ${this.#options.startTimeoutMs ?? 15_000} ms`, this.logTail());
      }
      await sleep(25);
    }
  }

  /**
   * Stops redis-server (SIGTERM: it flushes the AOF), SIGKILL after 5 s. `keepData` keeps the folder
   * for a later start() on the same port (a restart); otherwise a folder this object made is removed.
   */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    const watched = this.#process;
    this.#process = undefined;
    if (watched) await this.#kill(watched, 'SIGTERM');
    if (!options.keepData && this.#ownsDir && !this.#removed) {
      this.#removed = true;
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** SIGKILL, as a crash would (the AOF keeps what was fsynced, at most ~1 s may be lost). */
  async kill(): Promise<void> {
    const watched = this.#process;
    this.#process = undefined;
    if (watched) await this.#kill(watched, 'SIGKILL');
  }

  /** Stops and starts again on the same port and folder: clients reconnect, data is kept. */
  async restart(options: { downMs?: number; hard?: boolean } = {}): Promise<void> {
    if (options.hard) await this.kill();
    else await this.stop({ keepData: true });
    if (options.downMs) await sleep(options.downMs);
    await this.start();
  }

  async #kill(watched: WatchedProcess, first: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    signalGroup(watched.pgid, first);
    const deadline = Date.now() + 5000;
    while (groupAlive(watched.pgid)) {
      if (Date.now() > deadline) signalGroup(watched.pgid, 'SIGKILL');
      await sleep(20);
    }
    await watched.exited;
    await watched.release();
  }
}
