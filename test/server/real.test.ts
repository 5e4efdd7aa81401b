// The same lifecycle on the stand-in ComfyUI (test/standin) and, when COMFYUI_PATH and
// COMFYUI_PYTHON are set, on real ComfyUI.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ComfyServer, Preloader } from '../../src/server/index.js';
import { processAlive } from '../../src/server/process-group.js';
import type { ProcessExitInfo } from '../../src/errors.js';
import { pickFreePort } from '../../src/server/port.js';
import { assertNothingLeft, footprint, privateTmpdir, REPO_ROOT, stopAfter } from './helpers.js';

const tmp = privateTmpdir();
after(() => tmp.remove());
// ComfyUI makes <base>/user at start; real servers get one of ours so the checkout stays as it was.
const userDirectory = join(tmp.root, 'real-user');

const STANDIN = join(REPO_ROOT, 'test', 'standin', 'main.ts');
const standinCommand = [process.execPath, '--import', 'tsx', STANDIN];
const realSkip = process.env.COMFYUI_PATH && process.env.COMFYUI_PYTHON ? false : 'COMFYUI_PATH/COMFYUI_PYTHON not set: real ComfyUI tests skipped';

async function occupy(): Promise<{ port: number; holder: Server }> {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return { port: (holder.address() as { port: number }).port, holder };
}

async function systemStats(server: ComfyServer): Promise<{ system: { argv: string[] } }> {
  const response = await fetch(`${server.url}/system_stats`);
  assert.equal(response.status, 200);
  return (await response.json()) as { system: { argv: string[] } };
}

describe('ComfyServer on the stand-in', { skip: !existsSync(STANDIN) && 'test/standin/main.ts does not exist yet' }, () => {
  test('starts, serves, stops cleanly with SIGINT and leaves nothing', async (t) => {
    const server = new ComfyServer({ command: standinCommand });
    stopAfter(t, server);
    await server.start();
    const { argv } = (await systemStats(server)).system;
    assert.ok(argv.includes(server.paths.instanceDirectory));
    assert.ok(existsSync(server.paths.tempDirectory));
    const print = footprint(server);
    await server.stop();
    assert.ok(server.logTail().some((line) => line.includes('Stopped server')));
    await assertNothingLeft(print, tmp);
  });

  test('an unknown flag: BadArgumentsError', async (t) => {
    const server = new ComfyServer({ command: standinCommand, extraArgs: ['--no-such-comfy-flag'] });
    stopAfter(t, server);
    await assert.rejects(server.start(), { code: 'COMFY_BAD_ARGUMENTS' });
    assert.deepEqual(tmp.entries(), []);
  });

  test('our chosen port taken: retried', async (t) => {
    const { port: taken, holder } = await occupy();
    t.after(() => new Promise((resolve) => holder.close(resolve)));
    let calls = 0;
    const server = new ComfyServer({ command: standinCommand, pickPort: (host) => (calls++ === 0 ? Promise.resolve(taken) : pickFreePort(host)) });
    stopAfter(t, server);
    await server.start();
    assert.notEqual(server.port, taken);
    assert.equal(calls, 2);
    await server.stop();
    assert.deepEqual(tmp.entries(), []);
  });
});

describe('ComfyServer on real ComfyUI', { skip: realSkip }, () => {
  test('port taken at bind time is retried; the server then serves and stops with SIGINT', async (t) => {
    const { port: taken, holder } = await occupy();
    t.after(() => new Promise((resolve) => holder.close(resolve)));
    let calls = 0;
    const server = new ComfyServer({ userDirectory, pickPort: (host) => (calls++ === 0 ? Promise.resolve(taken) : pickFreePort(host)) });
    stopAfter(t, server);
    await server.start();
    assert.equal(calls, 2);
    assert.ok(server.logTail().some((line) => line.includes(`Port ${taken} is already in use`) || /address already in use/i.test(line)));
    const { argv } = (await systemStats(server)).system;
    assert.ok(argv.includes('--cpu') || existsSync('/dev/nvidia0'));
    assert.ok(existsSync(server.paths.tempDirectory), 'ComfyUI made <instance>/temp');
    const print = footprint(server);
    await server.stop();
    assert.ok(server.logTail().some((line) => line.includes('Stopped server')), 'ComfyUI stopped on SIGINT');
    await assertNothingLeft(print, tmp);
  });

  test('a fixed port that is taken: PortInUseError without starting ComfyUI', async (t) => {
    const { port, holder } = await occupy();
    t.after(() => new Promise((resolve) => holder.close(resolve)));
    await assert.rejects(new ComfyServer({ userDirectory, port }).start(), { code: 'COMFY_PORT_IN_USE', port });
    assert.deepEqual(tmp.entries(), []);
  });

  test('an unknown flag: BadArgumentsError (argparse exits 2)', async (t) => {
    const server = new ComfyServer({ userDirectory, extraArgs: ['--no-such-comfy-flag'] });
    stopAfter(t, server);
    await assert.rejects(server.start(), (error: Error & { code: string; logTail: string[] }) => {
      assert.equal(error.code, 'COMFY_BAD_ARGUMENTS');
      assert.ok(error.logTail.some((line) => line.includes('--no-such-comfy-flag')));
      return true;
    });
    assert.deepEqual(tmp.entries(), []);
  });
});

describe('ComfyServer fork mode on real ComfyUI', { skip: realSkip }, () => {
  test('a forked ComfyUI serves with its own folders, a SIGKILL is a crash, on-crash forks again, stop() leaves nothing', async (t) => {
    const preloader = new Preloader();
    t.after(() => preloader.close());
    const info = await preloader.start();
    t.diagnostic(`preload: ${info.readyMs.toFixed(0)} ms, ${info.imported.length} modules, ${info.compiled} files compiled, CUDA initialised: ${info.cudaInitialized}`);
    assert.equal(info.cudaInitialized, false);
    assert.ok(info.imported.includes('torch'));
    const server = new ComfyServer({ userDirectory, preloader, restart: 'on-crash' });
    stopAfter(t, server);
    const t0 = Date.now();
    await server.start();
    t.diagnostic(`forked start() → ready: ${Date.now() - t0} ms`);
    assert.equal(server.startedBy, 'fork');
    const { argv } = (await systemStats(server)).system;
    assert.ok(argv.includes(server.paths.instanceDirectory));
    assert.ok(existsSync(server.paths.tempDirectory), 'ComfyUI made <instance>/temp');
    const first = footprint(server);
    const exit = new Promise<[ProcessExitInfo, boolean]>((resolve) => server.once('exit', (i, expected) => resolve([i, expected])));
    process.kill(server.pid!, 'SIGKILL');
    const [crash, expected] = await exit;
    assert.equal(expected, false);
    assert.equal(crash.signal, 'SIGKILL');
    await server.ensureRunning();
    assert.equal(server.startedBy, 'fork');
    await systemStats(server);
    await assertNothingLeft(first);
    const second = footprint(server);
    await server.stop();
    assert.ok(server.logTail().some((line) => line.includes('Stopped server')), 'ComfyUI stopped on SIGINT');
    await assertNothingLeft(second, tmp);
    const preloaderPid = preloader.pid!;
    await preloader.close();
    assert.equal(processAlive(preloaderPid), false);
  });
});
