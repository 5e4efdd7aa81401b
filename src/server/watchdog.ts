/**
 * The watchdog: a tiny POSIX sh process beside ComfyUI that makes it orphan-proof.
 *
 * Node runs nothing when it is SIGKILLed, so the guarantee lives in another process. ComfyUI runs
 * detached (its own process group); the watchdog runs detached too, in a session of its own, so
 * signals to ComfyUI's group never reach it. Its stdin is a pipe whose write end only this process
 * holds (libuv opens it close-on-exec, so no child inherits it) and that carries nothing: `read`
 * returns at end-of-file, i.e. when this process is gone, by SIGKILL included. Then the watchdog
 * sends SIGINT to ComfyUI's group (ComfyUI empties its temp folder), waits up to the grace period
 * for the group to empty, SIGKILLs what is left, removes the instance folder and exits.
 *
 * If this process dies before sh even started, the pipe is already at end-of-file when `read`
 * runs: the group is still taken down. On a normal stop the parent SIGKILLs the watchdog once
 * ComfyUI's group is empty (it never closes the pipe itself: the watchdog would then signal a
 * process group id that may already belong to someone else).
 *
 * sh starts in about a millisecond and is not awaited: it is off the start path.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * $1: ComfyUI's process group id, $2: grace in tenths of a second, $3: folder to remove (may be "").
 * `kill -INT -PGID` (not `kill -s INT -- -PGID`): the one spelling dash, bash and busybox all take.
 * "Alive" means a member that is not a zombie: `kill -0` counts zombies, and once the parent is
 * dead ComfyUI's zombie waits for init to reap it, which some container inits do late (or never):
 * counting it made every orphan clean-up wait out the whole grace. Where /proc is readable, the
 * group's members are read from /proc/<pid>/stat (state, pgrp); elsewhere `kill -0` decides.
 */
export const WATCHDOG_SCRIPT = [
  'g=$1; n=$2; d=$3',
  'read -r _ && exit 0', // a line would mean "stand down"; the parent never writes one
  'alive() {',
  '  kill -0 -"$g" 2>/dev/null || return 1',
  '  [ -r /proc/self/stat ] || return 0',
  '  for f in /proc/[0-9]*/stat; do',
  '    read -r l 2>/dev/null < "$f" || continue',
  '    l=${l##*) }',
  '    set -f; set -- $l; set +f',
  '    [ "$3" = "$g" ] && [ "$1" != Z ] && [ "$1" != X ] && return 0',
  '  done',
  '  return 1',
  '}',
  'kill -INT -"$g" 2>/dev/null',
  'i=0',
  'while [ "$i" -lt "$n" ] && alive; do sleep 0.1 2>/dev/null || sleep 1; i=$((i + 1)); done',
  'kill -KILL -"$g" 2>/dev/null',
  '[ -n "$d" ] && rm -rf -- "$d"',
  'exit 0',
].join('\n');

export interface WatchdogOptions {
  /** The process group to take down: ComfyUI's pid (it was spawned detached). */
  pgid: number;
  /** SIGINT → SIGKILL grace when the parent died. */
  graceMs: number;
  /** Removed after the group is gone (the parent removes it itself on a normal stop). */
  cleanupDirectory?: string;
  /** The shell; default /bin/sh. */
  shell?: string;
}

/** Spawns the watchdog; returns at once (nothing waits for sh to start). */
export function spawnWatchdog(options: WatchdogOptions): ChildProcess {
  const tenths = String(Math.max(1, Math.ceil(options.graceMs / 100)));
  const watchdog = spawn(options.shell ?? '/bin/sh', ['-c', WATCHDOG_SCRIPT, 'comfy-watchdog', String(options.pgid), tenths, options.cleanupDirectory ?? ''], {
    detached: true, // a session of its own: group signals to ComfyUI do not reach it
    stdio: ['pipe', 'ignore', 'ignore'],
    cwd: '/',
  });
  // The lifeline carries nothing; neither it nor the watchdog may keep this process alive.
  watchdog.stdin?.on('error', () => {});
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.unref();
  return watchdog;
}
