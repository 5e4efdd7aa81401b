// Fork mode (startMode 'fork', a shared Preloader) on a fake ComfyUI written in Python: the same
// lifecycle, crash and orphan guarantees as a cold spawn, no shared state between forked servers,
// and a cold start with one log line whenever a fork would not be exact. The real-ComfyUI variant
// is the contract suite's `comfyui-fork` target (test/helpers/targets.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { ComfyServer, Preloader, type ServerOptions } from '../../src/server/index.js';
import { groupAlive, processAlive } from '../../src/server/process-group.js';
import type { ProcessExitInfo } from '../../src/errors.js';
import { assertNothingLeft, footprint, privateTmpdir, REPO_ROOT, stopAfter, waitFor } from './helpers.js';

const tmp = privateTmpdir();
after(() => tmp.remove());

const FAKE = fileURLToPath(new URL('./fixtures/fake-comfy-py', import.meta.url));
const PARENT = fileURLToPath(new URL('./fixtures/parent-fork.mts', import.meta.url));
/** A `torch` whose CUDA says it is initialised; also what the after-failure `import torch` check finds. */
const FAKE_TORCH = fileURLToPath(new URL('./fixtures/fake-torch', import.meta.url));
/** The interpreter itself, not a pyenv shim in front of it. */
const PYTHON = (() => {
  const found = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
})();
const skip = PYTHON ? false : 'no python3 on this machine: fork-mode tests skipped';
// No __pycache__ in the fixture folder; the preloader and its servers share one environment.
const ENV = { PYTHONDONTWRITEBYTECODE: '1' };

function preloader(t: { after(fn: () => Promise<void>): void }, extra: { modules?: string[]; env?: Record<string, string> } = {}): Preloader {
  const p = new Preloader({ comfyuiPath: FAKE, python: PYTHON!, env: { ...ENV, ...extra.env }, modules: extra.modules ?? ['fake_heavy'] });
  t.after(() => p.close());
  return p;
}

function server(options: ServerOptions): ComfyServer {
  return new ComfyServer({ comfyuiPath: FAKE, python: PYTHON!, env: ENV, ...options });
}

async function stats(s: ComfyServer): Promise<{ argv: string[]; pid: number; cwd: string; heavy: unknown[]; database_url: string; temp: string; echo: string | null }> {
  const response = await fetch(`${s.url}/system_stats`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { system: never }).system;
}

const getJson = async (url: string) => (await fetch(url)).json();
const fallbackLines = (s: ComfyServer) => s.logTail().filter((line) => line.startsWith('[comfy-connector] fast start unavailable'));
const nextExit = (s: ComfyServer) => new Promise<{ info: ProcessExitInfo; expected: boolean; at: number }>((resolve) => s.once('exit', (info, expected) => resolve({ info, expected, at: Date.now() })));

/** Session id and parent pid from /proc/<pid>/stat. */
function sessionOf(pid: number): { ppid: number; pgrp: number; session: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]) };
}

describe('ComfyServer fork mode (Python fake ComfyUI)', { skip }, () => {
  test('a forked server runs main.py with its own argv, cwd, session and group; stop() leaves nothing; close() ends the preloader', async (t) => {
    const pre = preloader(t);
    const s = server({ preloader: pre });
    stopAfter(t, s);
    const exits: Array<[number | null, boolean]> = [];
    s.on('exit', (info, expected) => exits.push([info.exitCode, expected]));
    await s.start();
    assert.equal(s.startedBy, 'fork');
    assert.deepEqual(fallbackLines(s), []);
    const info = await stats(s);
    assert.equal(info.pid, s.pid);
    assert.deepEqual(info.argv.slice(0, 1), [`${FAKE}/main.py`]);
    assert.ok(info.argv.includes(s.paths.instanceDirectory));
    assert.equal(info.cwd, FAKE);
    assert.equal(info.database_url, `sqlite:///${s.paths.instanceDirectory}/comfyui.db`);
    if (process.platform === 'linux') {
      const own = sessionOf(s.pid!);
      assert.equal(own.pgrp, s.pid, 'it leads its own process group');
      assert.equal(own.session, s.pid, 'and its own session');
      assert.equal(own.ppid, pre.pid, 'the preloader is its parent (and reports its exit)');
    }
    assert.ok(s.watchdogPid && processAlive(s.watchdogPid), 'a watchdog guards it');
    assert.equal(existsSync(join(s.paths.instanceDirectory, 'stdio.sock')), false, 'the stdio socket file goes once both streams are connected');
    const print = footprint(s);
    await s.stop();
    assert.ok(s.logTail().some((line) => line.includes('Stopped server')), 'SIGINT reached it');
    assert.deepEqual(exits, [[0, true]]);
    await assertNothingLeft(print, tmp);
    const preloaderPid = pre.pid!;
    assert.ok(processAlive(preloaderPid), 'a shared preloader outlives the servers');
    await pre.close();
    assert.equal(processAlive(preloaderPid), false);
  });

  test('two forked servers side by side share no state: ports, folders, databases, temp files, module state', async (t) => {
    const pre = preloader(t);
    const a = server({ preloader: pre });
    const b = server({ preloader: pre });
    stopAfter(t, a, b);
    await Promise.all([a.start(), b.start()]);
    assert.deepEqual([a.startedBy, b.startedBy], ['fork', 'fork']);
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.pgid, b.pgid);
    assert.notEqual(a.paths.instanceDirectory, b.paths.instanceDirectory);
    const [sa, sb] = [await stats(a), await stats(b)];
    assert.notEqual(sa.database_url, sb.database_url);
    assert.notEqual(sa.temp, sb.temp);
    assert.equal((await fetch(`${a.url}/write?name=from-a.txt`)).status, 200);
    assert.deepEqual(await getJson(`${a.url}/temp`), ['from-a.txt']);
    assert.deepEqual(await getJson(`${b.url}/temp`), [], "a file written by one is not in the other's temp");
    // The preloaded module: a change in one server reaches neither its sibling nor later forks.
    assert.deepEqual(await getJson(`${a.url}/mutate`), ['pristine', a.pid]);
    assert.deepEqual((await stats(b)).heavy, ['pristine']);
    const c = server({ preloader: pre });
    stopAfter(t, c);
    await c.start();
    assert.deepEqual((await stats(c)).heavy, ['pristine']);
    const prints = [a, b, c].map(footprint);
    await Promise.all([a.stop(), b.stop(), c.stop()]);
    for (const print of prints) await assertNothingLeft(print);
    assert.deepEqual(tmp.entries(), []);
  });

  test('the preload is frozen (gc.freeze) before forking, so a child\'s collections skip it; freeze: false leaves it as a cold start has it', async (t) => {
    const frozen = preloader(t);
    const plain = new Preloader({ comfyuiPath: FAKE, python: PYTHON!, env: ENV, modules: ['fake_heavy'], freeze: false });
    t.after(() => plain.close());
    const [a, b] = [server({ preloader: frozen }), server({ preloader: plain })];
    stopAfter(t, a, b);
    await a.start();
    await b.start();
    assert.ok((frozen.info?.frozen ?? 0) > 1000, `the preloader froze ${frozen.info?.frozen} objects`);
    assert.equal(plain.info?.frozen, 0);
    const [sa, sb] = [(await stats(a)) as unknown as { frozen: number }, (await stats(b)) as unknown as { frozen: number }];
    assert.ok(sa.frozen > 1000, 'the forked child inherits the permanent generation');
    assert.equal(sb.frozen, 0);
  });

  test("SIGKILL of a forked server: 'exit' with expected=false and its signal; on-crash forks a new one", async (t) => {
    const pre = preloader(t);
    const s = server({ preloader: pre, restart: 'on-crash' });
    stopAfter(t, s);
    await s.start();
    const first = footprint(s);
    const exit = nextExit(s);
    const killedAt = Date.now();
    process.kill(s.pid!, 'SIGKILL');
    const { info, expected, at } = await exit;
    assert.equal(expected, false);
    assert.equal(info.signal, 'SIGKILL');
    assert.equal(info.exitCode, null);
    t.diagnostic(`crash reported ${at - killedAt} ms after the SIGKILL`);
    assert.ok(at - killedAt < 1000, `the crash was reported after ${at - killedAt} ms`);
    await s.ensureRunning();
    assert.equal(s.startedBy, 'fork');
    assert.notEqual(s.pid, first.pids[0]);
    await stats(s);
    await assertNothingLeft(first);
    const second = footprint(s);
    await s.stop();
    await assertNothingLeft(second, tmp);
  });

  test('exit codes of a forked start reach start(): argparse 2 → BadArgumentsError, 3 → ServerStartError', async (t) => {
    const bad = server({ preloader: preloader(t), extraArgs: ['--no-such-flag'] });
    stopAfter(t, bad);
    await assert.rejects(bad.start(), (error: Error & { code: string; logTail: string[] }) => {
      assert.equal(error.code, 'COMFY_BAD_ARGUMENTS');
      assert.ok(error.logTail.some((line) => line.includes('unrecognized arguments: --no-such-flag')), 'its stderr came through');
      return true;
    });
    assert.equal(bad.startedBy, 'fork');
    // PYTHONPATH: the `import torch` check that follows a failed start must pass, or it names the Python instead.
    const env = { FAKE_COMFY_EXIT: '3', PYTHONPATH: FAKE_TORCH };
    const failing = server({ env: { ...ENV, ...env }, preloader: preloader(t, { env }) });
    stopAfter(t, failing);
    await assert.rejects(failing.start(), (error: Error & { code: string; exitCode: number; logTail: string[] }) => {
      assert.equal(error.code, 'COMFY_START_FAILED');
      assert.equal(error.exitCode, 3);
      assert.ok(error.logTail.includes('RuntimeError: fake failure 3'));
      return true;
    });
    assert.equal(failing.startedBy, 'fork');
    assert.deepEqual(tmp.entries(), []);
  });

  test('the preloader dies: its server is stopped and reported as a crash; the next start is cold, said once', async (t) => {
    const pre = preloader(t, { env: { FAKE_COMFY_GRANDCHILD: '1' } });
    const s = server({ preloader: pre, restart: 'on-crash', env: { ...ENV, FAKE_COMFY_GRANDCHILD: '1' } });
    stopAfter(t, s);
    await s.start();
    const grandchild = Number(s.logTail().find((line) => line.startsWith('GRANDCHILD '))?.split(' ')[1]);
    const first = footprint(s);
    const exit = nextExit(s);
    process.kill(pre.pid!, 'SIGKILL');
    const { info, expected } = await exit;
    assert.equal(expected, false);
    assert.equal(info.signal, 'SIGKILL');
    assert.equal(processAlive(grandchild), false);
    await s.ensureRunning();
    assert.equal(s.startedBy, 'cold');
    assert.equal(fallbackLines(s).length, 1);
    assert.match(fallbackLines(s)[0]!, /preloader ended \(SIGKILL\)/);
    await assertNothingLeft(first);
    const second = footprint(s);
    await s.stop();
    await assertNothingLeft(second, tmp);
  });

  for (const [what, modules, env, reason] of [
    ['fails (its import exits)', ['fake_explode'], {}, /preloader ended \(exit code 3\).*fake_explode: giving up/],
    ['has initialised CUDA', ['torch'], { PYTHONPATH: FAKE_TORCH }, /CUDA is initialised/],
    ['runs Python threads', ['fake_threads'], {}, /runs Python threads \(fake-background\)/],
  ] as const) {
    test(`a preload that ${what}: the server starts cold, with one log line that says why`, async (t) => {
      const s = server({ env: { ...ENV, ...env }, preloader: preloader(t, { modules: [...modules], env }) });
      stopAfter(t, s);
      await s.start();
      assert.equal(s.startedBy, 'cold');
      const lines = fallbackLines(s);
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0]!, reason);
      await stats(s);
      const print = footprint(s);
      await s.stop();
      await assertNothingLeft(print, tmp);
    });
  }

  test('a server whose environment differs from the preloader\'s starts cold, naming the variable, never its value', async (t) => {
    const s = server({ preloader: preloader(t), env: { ...ENV, FAKE_ECHO: 'secret-value' } });
    stopAfter(t, s);
    await s.start();
    assert.equal(s.startedBy, 'cold');
    assert.equal((await stats(s)).echo, 'secret-value');
    const [line, ...more] = fallbackLines(s);
    assert.deepEqual(more, []);
    assert.match(line!, /differs from the preloader's in FAKE_ECHO/);
    assert.equal(line!.includes('secret-value'), false);
    await s.stop();
  });

  test("startMode 'fork' alone: a private preloader, reused after a crash, closed by stop()", async (t) => {
    const s = server({ startMode: 'fork', restart: 'on-crash' });
    stopAfter(t, s);
    await s.start();
    assert.equal(s.startedBy, 'fork');
    const preloaderPid = s.preloader!.pid!;
    const exit = nextExit(s);
    process.kill(s.pid!, 'SIGKILL');
    await exit;
    await s.ensureRunning();
    assert.equal(s.startedBy, 'fork');
    assert.equal(s.preloader?.pid, preloaderPid, 'the same preloader');
    const print = footprint(s);
    await s.stop();
    await assertNothingLeft(print, tmp);
    assert.equal(processAlive(preloaderPid), false, 'stop() closed the private preloader');
  });

  test('stop() during a preload abandons the start at once (COMFY_CLOSED) and leaves nothing', async (t) => {
    const pre = preloader(t, { modules: ['fake_slow'] });
    const s = server({ preloader: pre });
    stopAfter(t, s);
    const starting = s.start();
    const rejected = assert.rejects(starting, { code: 'COMFY_CLOSED' });
    assert.ok(await waitFor(() => pre.pid !== undefined, 5000), 'the preload runs');
    const t0 = Date.now();
    await s.stop();
    await rejected;
    assert.ok(Date.now() - t0 < 2000, `stop() waited ${Date.now() - t0} ms for a preload`);
    assert.equal(s.pid, undefined, 'nothing was forked or spawned');
    assert.deepEqual(tmp.entries(), []);
    const preloaderPid = pre.pid!;
    await pre.close();
    assert.equal(processAlive(preloaderPid), false);
  });

  test('a TMPDIR too long for a Unix socket path: the stdio socket goes to a private folder under /tmp, gone once connected', async (t) => {
    const long = join(tmp.root, 'x'.repeat(100));
    mkdirSync(long);
    const before = process.env.TMPDIR;
    process.env.TMPDIR = long;
    t.after(() => {
      process.env.TMPDIR = before;
    });
    const s = server({ preloader: preloader(t) });
    stopAfter(t, s);
    await s.start();
    assert.equal(s.startedBy, 'fork');
    assert.ok(s.paths.instanceDirectory.startsWith(long));
    assert.equal((await stats(s)).pid, s.pid);
    assert.deepEqual(readdirSync('/tmp').filter((name) => name.startsWith('comfy-stdio-')), []);
    assert.equal(existsSync(join(s.paths.instanceDirectory, 'stdio.sock')), false);
    const print = footprint(s);
    await s.stop();
    await assertNothingLeft(print);
  });

  test("startMode 'fork' with a replacement command (the Node stand-in): cold, said once", async (t) => {
    const s = new ComfyServer({ command: [process.execPath, fileURLToPath(new URL('./fixtures/fake-comfy.mjs', import.meta.url))], startMode: 'fork' });
    stopAfter(t, s);
    await s.start();
    assert.equal(s.startedBy, 'cold');
    assert.match(fallbackLines(s).join('\n'), /needs a Python ComfyUI/);
    await s.stop();
  });

  test('SIGKILL of the Node parent: the forked tree, its watchdog and the preloader are gone, the folder removed', async (t) => {
    const parent = spawn(process.execPath, ['--import', 'tsx', PARENT, PYTHON!], { cwd: REPO_ROOT, env: { ...process.env, TMPDIR: tmp.root }, stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: parent.stdout! }).once('line', resolve);
      parent.once('exit', (code) => reject(new Error(`the parent fixture exited with ${code}`)));
    });
    const started = JSON.parse(line) as { pid: number; pgid: number; watchdog: number; grandchild: number; preloader: number; startedBy: string; instanceDirectory: string; url: string };
    assert.equal(started.startedBy, 'fork');
    const pids = [started.pid, started.watchdog, started.grandchild, started.preloader];
    assert.ok(pids.every((pid) => Number.isInteger(pid) && processAlive(pid)), JSON.stringify(started));
    assert.equal((await fetch(`${started.url}/system_stats`)).status, 200);
    const parentDead = new Promise((resolve) => parent.once('exit', resolve));
    const killedAt = Date.now();
    parent.kill('SIGKILL');
    await parentDead;
    const gone = await waitFor(() => pids.every((pid) => !processAlive(pid)), 3000);
    t.diagnostic(`everything gone ${Date.now() - killedAt} ms after the SIGKILL`);
    assert.ok(gone, `still alive after the parent died: ${pids.filter(processAlive).join(', ')}`);
    assert.ok(await waitFor(() => !existsSync(started.instanceDirectory), 1000), 'the instance folder was removed');
    assert.equal(groupAlive(started.pgid), false);
    assert.deepEqual(tmp.entries(), []);
  });
});
