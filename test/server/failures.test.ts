import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ComfyServer } from '../../src/server/index.js';
import { pickFreePort } from '../../src/server/port.js';
import { assertNothingLeft, fakeCommand, footprint, privateTmpdir, stopAfter } from './helpers.js';

const tmp = privateTmpdir();
after(() => tmp.remove());

async function occupy(): Promise<{ port: number; holder: Server }> {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return { port: (holder.address() as { port: number }).port, holder };
}
const release = (holder: Server) => new Promise((resolve) => holder.close(resolve));

describe('ComfyServer start failures', () => {
  test('our own port taken between choice and bind: retried on another port', async (t) => {
    const { port: taken, holder } = await occupy();
    t.after(() => release(holder));
    const offered: number[] = [];
    const server = new ComfyServer({
      command: fakeCommand(),
      pickPort: async (host) => {
        const port = offered.length === 0 ? taken : await pickFreePort(host);
        offered.push(port);
        return port;
      },
    });
    stopAfter(t, server);
    await server.start();
    assert.equal(offered.length, 2);
    assert.equal(server.port, offered[1]);
    assert.ok(server.logTail().some((line) => line.includes(`Port ${taken} is already in use`)));
    assert.equal((await fetch(`${server.url}/system_stats`)).status, 200);
    const print = footprint(server);
    await server.stop();
    await assertNothingLeft(print, tmp);
  });

  test('address in use on every try: gives up after a few ports with COMFY_START_FAILED', async (t) => {
    let tries = 0;
    const server = new ComfyServer({
      command: fakeCommand(),
      env: { FAKE_COMFY_PORT_IN_USE: '1' },
      pickPort: (host) => (tries++, pickFreePort(host)),
    });
    stopAfter(t, server);
    await assert.rejects(server.start(), { code: 'COMFY_START_FAILED', exitCode: 1 });
    assert.equal(tries, 5);
    assert.deepEqual(tmp.entries(), []);
  });

  test('a port the user fixed that is taken: PortInUseError before anything is spawned', async (t) => {
    const { port, holder } = await occupy();
    t.after(() => release(holder));
    const server = new ComfyServer({ command: fakeCommand(), port });
    stopAfter(t, server);
    await assert.rejects(server.start(), { code: 'COMFY_PORT_IN_USE', port, host: '127.0.0.1' });
    assert.equal(server.pid, undefined, 'nothing was spawned');
    assert.deepEqual(tmp.entries(), []);
  });

  test('a fixed port taken at bind time (ComfyUI says so): PortInUseError, no retry', async (t) => {
    const port = await pickFreePort('127.0.0.1');
    const server = new ComfyServer({ command: fakeCommand(), port, env: { FAKE_COMFY_PORT_IN_USE: '1' } });
    stopAfter(t, server);
    await assert.rejects(server.start(), { code: 'COMFY_PORT_IN_USE', port });
    assert.deepEqual(tmp.entries(), []);
  });

  test('a fixed free port is used as given', async (t) => {
    const port = await pickFreePort('127.0.0.1');
    const server = new ComfyServer({ command: fakeCommand(), port });
    stopAfter(t, server);
    await server.start();
    assert.equal(server.url, `http://127.0.0.1:${port}`);
    await server.stop();
  });

  test('exit code 2 (bad arguments): BadArgumentsError naming the command line', async (t) => {
    const server = new ComfyServer({ command: fakeCommand(), extraArgs: ['--no-such-flag'] });
    stopAfter(t, server);
    await assert.rejects(server.start(), (error: Error & { code: string; args: string[]; logTail: string[] }) => {
      assert.equal(error.code, 'COMFY_BAD_ARGUMENTS');
      assert.ok(error.args.includes('--no-such-flag'));
      assert.ok(error.logTail.some((line) => line.includes('unrecognized arguments: --no-such-flag')));
      return true;
    });
    assert.deepEqual(tmp.entries(), []);
  });

  test('a crash during start: ServerStartError with exit code and log tail; nothing left', async (t) => {
    const server = new ComfyServer({ command: fakeCommand(), env: { FAKE_COMFY_EXIT: '3' } });
    stopAfter(t, server);
    const exits: unknown[] = [];
    server.on('exit', (info) => exits.push(info));
    await assert.rejects(server.start(), (error: Error & { code: string; exitCode: number; signal: unknown; logTail: string[] }) => {
      assert.equal(error.code, 'COMFY_START_FAILED');
      assert.equal(error.exitCode, 3);
      assert.equal(error.signal, null);
      assert.ok(error.logTail.includes('RuntimeError: fake failure 3'));
      assert.match(error.message, /exited with code 3 before it was ready/);
      return true;
    });
    assert.deepEqual(exits, [], "a start failure is start()'s rejection, not an 'exit' event");
    assert.equal(server.running, false);
    assert.deepEqual(tmp.entries(), []);
  });

  test('a command that does not exist: ServerStartError that says so', async (t) => {
    const server = new ComfyServer({ command: ['/no/such/executable'] });
    stopAfter(t, server);
    await assert.rejects(server.start(), (error: Error & { code: string }) => {
      assert.equal(error.code, 'COMFY_START_FAILED');
      assert.match(error.message, /\/no\/such\/executable/);
      return true;
    });
    assert.deepEqual(tmp.entries(), []);
  });

  test('start timeout: StartTimeoutError and nothing left running', async (t) => {
    const server = new ComfyServer({ command: fakeCommand(), env: { FAKE_COMFY_HANG: '1', FAKE_COMFY_GRANDCHILD: '1' }, startTimeout: 1500 });
    stopAfter(t, server);
    await assert.rejects(server.start(), (error: Error & { code: string; timeoutMs: number; logTail: string[] }) => {
      assert.equal(error.code, 'COMFY_START_TIMEOUT');
      assert.equal(error.timeoutMs, 1500);
      assert.ok(error.logTail.includes('[INFO] Loading forever'));
      return true;
    });
    const grandchild = Number(server.logTail().find((line) => line.startsWith('GRANDCHILD '))?.split(' ')[1]);
    await assertNothingLeft({ pids: [server.pid!, server.pgid!, grandchild], port: server.port!, host: '127.0.0.1', instanceDirectory: server.paths.instanceDirectory }, tmp);
  });

  test('missing ComfyUI folder, or one without main.py: ComfyNotFoundError', async () => {
    await assert.rejects(new ComfyServer({ comfyuiPath: join(tmp.root, 'nope') }).start(), { code: 'COMFY_NOT_FOUND' });
    const empty = mkdtempSync(join(tmp.root, 'empty-'));
    try {
      await assert.rejects(new ComfyServer({ comfyuiPath: empty }).start(), (error: Error & { code: string }) => {
        assert.equal(error.code, 'COMFY_NOT_FOUND');
        assert.match(error.message, /no main\.py/);
        return true;
      });
    } finally {
      rmSync(empty, { recursive: true });
    }
    assert.deepEqual(tmp.entries(), []);
  });

  test('a python that does not exist: PythonNotUsableError before anything runs', async () => {
    const comfy = fakeComfyFolder();
    try {
      await assert.rejects(new ComfyServer({ comfyuiPath: comfy, python: join(tmp.root, 'no-python') }).start(), { code: 'COMFY_PYTHON_UNUSABLE' });
    } finally {
      rmSync(comfy, { recursive: true });
    }
    assert.deepEqual(tmp.entries(), []);
  });

  test('a python without torch: PythonNotUsableError, and the started main.py is stopped', { skip: !pythonWithoutTorch() && 'no python3 without torch on this machine' }, async (t) => {
    const comfy = fakeComfyFolder();
    t.after(() => rmSync(comfy, { recursive: true, force: true }));
    const server = new ComfyServer({ comfyuiPath: comfy, python: 'python3' });
    stopAfter(t, server);
    await assert.rejects(server.start(), (error: Error & { code: string }) => {
      assert.equal(error.code, 'COMFY_PYTHON_UNUSABLE');
      assert.match(error.message, /import torch/);
      return true;
    });
    await assertNothingLeft({ pids: [server.pid ?? 0, server.pgid!].filter(Boolean), port: server.port!, host: '127.0.0.1', instanceDirectory: server.paths.instanceDirectory }, tmp);
  });
});

/** A folder with a main.py that loads forever (the Python check must be what ends the start). */
function fakeComfyFolder(): string {
  const dir = mkdtempSync(join(tmp.root, 'fake-comfyui-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.py'), 'import time\nprint("loading", flush=True)\ntime.sleep(120)\n');
  return dir;
}

function pythonWithoutTorch(): boolean {
  const result = spawnSync('python3', ['-c', 'import torch'], { stdio: 'ignore' });
  return result.status !== null && result.status !== 0;
}
