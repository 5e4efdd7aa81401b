// Shared by the server tests: the fake ComfyUI command, a private temp root per test file, and the
// checks that nothing was left behind.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPortFree } from '../../src/server/port.js';
import { processAlive } from '../../src/server/process-group.js';
import type { ComfyServer } from '../../src/server/index.js';

export const FAKE_COMFY = fileURLToPath(new URL('./fixtures/fake-comfy.mjs', import.meta.url));
export const PARENT_FIXTURE = fileURLToPath(new URL('./fixtures/parent.mts', import.meta.url));
export const RACE_FIXTURE = fileURLToPath(new URL('./fixtures/parent-dies-at-spawn.mts', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function fakeCommand(): string[] {
  return [process.execPath, FAKE_COMFY];
}

/**
 * Points os.tmpdir() (and so every instance folder) at a private folder for this test file, so that
 * "nothing left on disk" can be checked exactly even while other test files run.
 */
export function privateTmpdir(): { root: string; entries(): string[]; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'comfy-server-test-'));
  process.env.TMPDIR = root;
  // Database templates (src/server/database-template.ts) are cached under XDG_CACHE_HOME: here, not in ~/.cache.
  process.env.XDG_CACHE_HOME = join(root, 'cache');
  return {
    root,
    // Only our instance folders count (tsx keeps a cache folder of its own there).
    entries: () => readdirSync(root).filter((name) => name.startsWith('comfy-connector-')),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** What a started server owns, captured while it runs. */
export interface Footprint {
  pids: number[];
  port: number;
  host: string;
  instanceDirectory: string;
}

export function footprint(server: ComfyServer): Footprint {
  return {
    pids: [server.pid, server.watchdogPid].filter((pid): pid is number => typeof pid === 'number'),
    port: server.port ?? 0,
    host: server.host,
    instanceDirectory: server.paths.instanceDirectory,
  };
}

/** Asserts that every process is dead, the port free and the instance folder gone. */
export async function assertNothingLeft(print: Footprint, tmp?: { entries(): string[] }): Promise<void> {
  for (const pid of print.pids) assert.equal(processAlive(pid), false, `process ${pid} is still alive`);
  assert.equal(await isPortFree(print.host, print.port), true, `port ${print.port} is still taken`);
  assert.equal(existsSync(print.instanceDirectory), false, `${print.instanceDirectory} is still there`);
  if (tmp) assert.deepEqual(tmp.entries(), [], 'the temp root still holds instance folders');
}

/** A server stopped after the test whatever happens (the test's own asserts come first). */
export function stopAfter(t: { after(fn: () => Promise<void> | void): void }, ...servers: ComfyServer[]): void {
  t.after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });
}
