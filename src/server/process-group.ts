import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';

/** How the watched process ended, as the watchdog saw it. */
export interface ChildExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started at all (e.g. ENOENT). */
  spawnError?: string;
}

export interface WatchedProcess {
  /** The watchdog's pid, which is also the process group id of everything below it. */
  pgid: number;
  /** ComfyUI's own pid, once known. */
  pid(): number | undefined;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when ComfyUI has ended and the watchdog with it (never rejects). */
  exited: Promise<ChildExit>;
  /** Resolves with ComfyUI's pid as soon as it runs (undefined if it could not start). */
  started: Promise<number | undefined>;
}

export interface WatchOptions {
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Removed by the watchdog when this process dies without stopping the server. */
  cleanupDirectory?: string;
  /** SIGINT → SIGKILL grace the watchdog gives ComfyUI when this process died. */
  orphanGraceMs?: number;
  /** How to run the watchdog (node and its arguments); default: see watchdogCommand(). */
  watchdog?: string[];
}

/**
 * The watchdog as this module was shipped: dist/server/watchdog.js beside the compiled module.
 * Running from source, an up-to-date build of it (dist/server/watchdog.js newer than the .ts) is
 * preferred: plain node starts in tens of milliseconds, node with tsx in about a second. Without
 * one, src/server/watchdog.ts runs through tsx.
 */
export function watchdogCommand(): string[] {
  const beside = fileURLToPath(new URL('./watchdog.js', import.meta.url));
  if (existsSync(beside)) return [process.execPath, beside];
  const ts = fileURLToPath(new URL('./watchdog.ts', import.meta.url));
  const built = fileURLToPath(new URL('../../dist/server/watchdog.js', import.meta.url));
  if (newerOrSame(built, ts)) return [process.execPath, built];
  // Resolved from here, not from the child's working directory (the ComfyUI folder has no tsx).
  return [process.execPath, '--import', import.meta.resolve('tsx'), ts];
}

function newerOrSame(file: string, than: string): boolean {
  try {
    return statSync(file).mtimeMs >= statSync(than).mtimeMs;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function spawnWatched(options: WatchOptions): WatchedProcess {
  const [node, ...nodeArgs] = options.watchdog ?? watchdogCommand();
  const config = {
    command: options.command,
    cwd: options.cwd,
    graceMs: options.orphanGraceMs ?? 1000,
    ...(options.cleanupDirectory ? { cleanupDirectory: options.cleanupDirectory } : {}),
  };
  const watchdog: ChildProcess = spawn(node ?? process.execPath, [...nodeArgs, JSON.stringify(config)], {
    cwd: options.cwd,
    env: options.env,
    detached: true, // its own process group: one signal reaches the whole ComfyUI tree
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  // The lifeline carries nothing and must not keep this process alive on its own. The watchdog's
  // handle stays referenced: its 'close' (the exit report) must be awaited, e.g. by stop().
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();

  let pid: number | undefined;
  let status: ChildExit | undefined;
  let resolveStarted!: (pid: number | undefined) => void;
  const started = new Promise<number | undefined>((resolve) => (resolveStarted = resolve));

  const statusPipe = watchdog.stdio[3] as Readable;
  let buffered = '';
  statusPipe.setEncoding('utf8');
  statusPipe.on('data', (text: string) => {
    buffered += text;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const message = parseStatus(line);
      if (message?.pid !== undefined) {
        pid = message.pid;
        resolveStarted(pid);
      } else if (message?.exit) {
        status = { exitCode: message.exit.code, signal: message.exit.signal };
      } else if (message?.error !== undefined) {
        status = { exitCode: null, signal: null, spawnError: message.error };
        resolveStarted(undefined);
      }
    }
  });

  const ended = (stream: Readable) =>
    new Promise<void>((resolve) => {
      if (stream.readableEnded || stream.destroyed) return resolve();
      stream.once('end', resolve).once('close', resolve).once('error', () => resolve());
    });
  const exited = new Promise<ChildExit>((resolve) => {
    watchdog.once('error', (error) => {
      resolveStarted(undefined);
      resolve({ exitCode: null, signal: null, spawnError: `could not start the watchdog: ${error.message}` });
    });
    // Not 'close': ComfyUI (or what it started) may hold stdout/stderr open after the watchdog was
    // killed, and its death is what we must report. Only the watchdog holds the status pipe.
    watchdog.once('exit', (code, signal) => {
      const logsDrained = Promise.all([ended(watchdog.stdout as Readable), ended(watchdog.stderr as Readable)]);
      // The last log lines (a traceback) belong in the exit report; a grandchild holding the
      // pipes open must not delay it, though.
      void Promise.all([ended(statusPipe), Promise.race([logsDrained, sleep(200)])]).then(() => {
        resolveStarted(undefined);
        // Without a status line the watchdog itself was killed; its own end is the best we know.
        resolve(status ?? { exitCode: code, signal });
      });
    });
  });

  return {
    pgid: watchdog.pid ?? -1,
    pid: () => pid,
    stdout: watchdog.stdout as Readable,
    stderr: watchdog.stderr as Readable,
    exited,
    started,
  };
}

interface StatusMessage {
  pid?: number;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  error?: string;
}

function parseStatus(line: string): StatusMessage | undefined {
  try {
    return JSON.parse(line) as StatusMessage;
  } catch {
    return undefined;
  }
}

/** Sends a signal to every process of a group; false when the group is already empty. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  if (pgid <= 0) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return true; // exists, not ours to signal
    throw error;
  }
}

/**
 * True while a process of the group still runs. A zombie counts as a member for kill(), but it is
 * dead: where its new parent reaps slowly (some container inits take a second), /proc tells.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  const members = liveGroupMembers(pgid);
  return members === undefined || members.length > 0;
}

/** The pids of the group that are not zombies; undefined where /proc cannot tell (not Linux). */
export function liveGroupMembers(pgid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const live: number[] = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readStat(entry);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') live.push(Number(entry));
  }
  return live;
}

/** State and process group from /proc/<pid>/stat; the command name may hold spaces and parens. */
export function readStat(pid: number | string): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** True while the process runs (a zombie is dead). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readStat(pid);
  if (stat === undefined) return process.platform !== 'linux'; // gone meanwhile, or no /proc to ask
  return stat.state !== 'Z' && stat.state !== 'X';
}


/** Waits until the group is empty; true if it emptied within `ms`. */
export async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await sleep(15);
  }
  return true;
}

export interface TerminateOptions {
  /** SIGINT → SIGTERM grace. */
  interruptGraceMs: number;
  /** SIGTERM → SIGKILL grace. */
  terminateGraceMs: number;
  /**
   * Settles when the process said it handled SIGINT. ComfyUI logs "Stopped server", cleans up in
   * milliseconds, and may then hang for seconds in interpreter shutdown (joining threads): from
   * here on only `acknowledgedGraceMs` more is given before SIGTERM.
   */
  interruptAcknowledged?: Promise<unknown>;
  acknowledgedGraceMs?: number;
}

/**
 * SIGINT (ComfyUI cleans up its temp folder), then SIGTERM, then SIGKILL, each to the whole group,
 * until no process of the group is left. `exited` is the watchdog's reaping: a zombie still counts
 * as a group member, so the group can only be found empty after it.
 */
export async function terminateGroup(pgid: number, exited: Promise<unknown>, options: TerminateOptions): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', options.interruptGraceMs],
    ['SIGTERM', options.terminateGraceMs],
  ];
  for (const [signal, grace] of steps) {
    if (!signalGroup(pgid, signal)) return;
    let deadline = Date.now() + grace;
    const waits: Array<Promise<unknown>> = [exited, sleep(grace)];
    if (signal === 'SIGINT' && options.interruptAcknowledged) {
      const short = options.acknowledgedGraceMs ?? 500;
      waits.push(options.interruptAcknowledged.then(() => {
        deadline = Math.min(deadline, Date.now() + short);
        return sleep(short);
      }));
    }
    await Promise.race(waits);
    if (await waitGroupGone(pgid, Math.max(0, deadline - Date.now()))) return;
  }
  for (;;) {
    if (!signalGroup(pgid, 'SIGKILL')) return;
    await Promise.race([exited, sleep(50)]);
    if (await waitGroupGone(pgid, 200)) return;
  }
}
