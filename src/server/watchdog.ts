/**
 * The watchdog: a tiny process between the Node parent and ComfyUI that makes ComfyUI orphan-proof.
 *
 * The parent spawns it detached, so it leads a process group of its own; ComfyUI and everything
 * ComfyUI starts join that group. Its stdin is a pipe from the parent that carries nothing: when it
 * closes, the parent is gone (even by SIGKILL, where no parent code runs), and the watchdog takes
 * the whole group down: SIGINT first (ComfyUI empties its temp folder), SIGKILL after a grace period.
 *
 * stdout and stderr are handed to ComfyUI as they are (no copying). fd 3 carries JSON lines to the
 * parent: {"pid":N} once ComfyUI runs, {"exit":{"code":C,"signal":S}} when it ends, or
 * {"error":"..."} when it could not be started.
 *
 * Kept dependency-free and small: it is on the start path of every server.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeSync } from 'node:fs';

interface WatchdogConfig {
  command: string[];
  cwd: string;
  /** Removed when the parent dies (the parent removes it itself on a normal stop). */
  cleanupDirectory?: string;
  /** Milliseconds between SIGINT and SIGKILL when the parent died. */
  graceMs: number;
}

const STATUS_FD = 3;
const config = JSON.parse(process.argv[2] ?? '{}') as WatchdogConfig;
const [file, ...args] = config.command;

function report(message: object): void {
  try {
    writeSync(STATUS_FD, `${JSON.stringify(message)}\n`);
  } catch {
    // The parent is gone; the lifeline handler cleans up.
  }
}

// Signals sent to the group are meant for ComfyUI: the watchdog stays to report how it ended.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.on('SIGHUP', () => {});

const child = spawn(file ?? '', args, { cwd: config.cwd, stdio: ['ignore', 'inherit', 'inherit'] });
let childExited = false;
let orphaned = false;

child.once('spawn', () => report({ pid: child.pid }));
child.once('error', (error) => {
  childExited = true;
  report({ error: error.message, code: (error as NodeJS.ErrnoException).code });
  if (!orphaned) process.exit(127);
});
child.once('exit', (code, signal) => {
  childExited = true;
  report({ exit: { code, signal } });
  // When orphaned, parentGone() still has stragglers to kill and a folder to remove.
  if (!orphaned) process.exit(code ?? 1);
});

function signalGroup(signal: NodeJS.Signals): void {
  try {
    process.kill(-process.pid, signal);
  } catch {
    // Already empty.
  }
}

// The lifeline: the parent never writes to it, so end-of-file means the parent died.
function parentGone(): void {
  if (orphaned) return;
  orphaned = true;
  signalGroup('SIGINT');
  const deadline = Date.now() + config.graceMs;
  const poll = setInterval(() => {
    if (!childExited && Date.now() < deadline) return;
    clearInterval(poll);
    if (config.cleanupDirectory) {
      try {
        rmSync(config.cleanupDirectory, { recursive: true, force: true });
      } catch {
        // Best effort: a leftover temp folder is harmless, a leftover process is not.
      }
    }
    signalGroup('SIGKILL'); // ends ComfyUI's stragglers and this process too
  }, 20);
}
process.stdin.once('end', parentGone);
process.stdin.once('error', parentGone);
process.stdin.resume();
