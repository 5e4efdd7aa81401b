import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { spawnWatchdog } from './watchdog.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How the watched process ended. */
export interface ChildExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started at all (e.g. ENOENT). */
  spawnError?: string;
  /** Set when the watchdog could not run or died first: ComfyUI was then killed (it must not run unguarded). */
  watchdogError?: string;
}

export interface WatchedProcess {
  /** ComfyUI's pid; undefined when it could not be started. */
  pid: number | undefined;
  /** ComfyUI's process group (its own pid: it was spawned detached); -1 when it did not start. */
  pgid: number;
  /** The watchdog's pid (undefined when ComfyUI did not start, so none was needed). */
  watchdogPid: number | undefined;
  stdout: Readable;
  stderr: Readable;
  /** Resolves when ComfyUI has ended and its output is read (never rejects). */
  exited: Promise<ChildExit>;
  /**
   * Ends the watchdog and resolves once it is reaped. Call it when ComfyUI's group is empty: until
   * then, the watchdog is what takes leftovers down should this process die. Idempotent.
   */
  release(): Promise<void>;
}

export interface WatchOptions {
  command: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Removed by the watchdog when this process dies without stopping the server. */
  cleanupDirectory?: string;
  /** SIGINT → SIGKILL grace the watchdog gives ComfyUI when this process died. */
  orphanGraceMs?: number;
  /** The shell that runs the watchdog; default /bin/sh. */
  shell?: string;
}


/**
 * Spawns the command detached (a process group of its own, pgid = its pid) with stdout/stderr piped
 * here, and beside it, not awaited, the watchdog that kills that group if this process dies.
 * Both spawns happen in one synchronous call, so the only unguarded moment is the spawn of sh itself.
 */
export function spawnWatched(options: WatchOptions): WatchedProcess {
  const [file, ...args] = options.command;
  const child: ChildProcess = spawn(file ?? '', args, {
    cwd: options.cwd,
    env: options.env,
    detached: true, // its own process group: one signal reaches the whole ComfyUI tree
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  const pgid = pid ?? -1;

  let childExited = false;
  const guard = pid === undefined ? undefined : guardGroup(pgid, options, () => childExited);
  const release = guard ? guard.release : () => Promise.resolve();

  const ended = (stream: Readable) =>
    new Promise<void>((resolve) => {
      if (stream.readableEnded || stream.destroyed) return resolve();
      stream.once('end', resolve).once('close', resolve).once('error', () => resolve());
    });
  const exited = new Promise<ChildExit>((resolve) => {
    let spawnError: string | undefined;
    child.once('error', (error) => {
      spawnError = error.message;
      // No process: no 'exit' may follow, and there is nothing to guard.
      if (pid === undefined) {
        childExited = true;
        resolve({ exitCode: null, signal: null, spawnError });
      }
    });
    // Not 'close': what ComfyUI started may hold stdout/stderr open after it ended, and its own
    // end is what we report.
    child.once('exit', (code, signal) => {
      childExited = true;
      // Nothing of the group left: the watchdog has nothing more to guard.
      if (!groupAlive(pgid)) void release();
      const logsDrained = Promise.all([ended(child.stdout as Readable), ended(child.stderr as Readable)]);
      // The last log lines (a traceback) belong in the exit report; a grandchild holding the
      // pipes open must not delay it, though.
      void Promise.race([logsDrained, sleep(200)]).then(() => {
        const watchdogError = guard?.error();
        resolve({
          exitCode: code,
          signal,
          ...(spawnError !== undefined ? { spawnError } : {}),
          ...(watchdogError !== undefined ? { watchdogError } : {}),
        });
      });
    });
  });

  return {
    pid,
    pgid,
    watchdogPid: guard?.pid,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    exited,
    release,
  };
}

/** The watchdog beside one process group, and what happens when it ends first. */
export interface GroupGuard {
  /** The watchdog's pid. */
  pid: number | undefined;
  /** Ends the watchdog and resolves once it is reaped; idempotent. Call it once the group is empty. */
  release(): Promise<void>;
  /** Why the group was SIGKILLed because its watchdog ended first, if it was. */
  error(): string | undefined;
}

/**
 * Spawns the watchdog for a process group that already runs (a spawned ComfyUI, or one forked by
 * the preloader). If the watchdog ends before release() (killed, or /bin/sh cannot run), the group
 * must not run on unguarded: it is SIGKILLed, and its exit then reads as a crash.
 */
export function guardGroup(pgid: number, options: Pick<WatchOptions, 'cleanupDirectory' | 'orphanGraceMs' | 'shell'>, exited: () => boolean): GroupGuard {
  let released = false;
  let error: string | undefined;
  const watchdog = spawnWatchdog({
    pgid,
    graceMs: options.orphanGraceMs ?? 1000,
    ...(options.cleanupDirectory ? { cleanupDirectory: options.cleanupDirectory } : {}),
    ...(options.shell ? { shell: options.shell } : {}),
  });
  const gone = new Promise<void>((resolve) => {
    let done = false;
    const ended = (why: string) => {
      resolve();
      if (released || done) return;
      done = true;
      error = why;
      if (!exited() || groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    };
    watchdog.once('error', (e) => ended(`the watchdog (${options.shell ?? '/bin/sh'}) could not run: ${e.message}`));
    watchdog.once('exit', (code, signal) => ended(`the watchdog ended unexpectedly (${signal ?? `exit code ${code}`})`));
  });
  return {
    pid: watchdog.pid,
    error: () => error,
    release: async () => {
      if (!released) {
        released = true;
        if (watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGKILL');
      }
      await gone;
      watchdog.stdin?.destroy();
    },
  };
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
 * until no process of the group is left. `exited` is ComfyUI's reaping: a zombie still counts
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
