import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { ComfyServer } from '../../src/server/index.js';
import { processAlive } from '../../src/server/process-group.js';
import type { ProcessExitInfo } from '../../src/errors.js';
import { assertNothingLeft, fakeCommand, footprint, PARENT_FIXTURE, privateTmpdir, REPO_ROOT, stopAfter, waitFor } from './helpers.js';

const tmp = privateTmpdir();
after(() => tmp.remove());

function nextExit(server: ComfyServer): Promise<{ info: ProcessExitInfo; expected: boolean; at: number }> {
  return new Promise((resolve) => server.once('exit', (info, expected) => resolve({ info, expected, at: Date.now() })));
}

describe('ComfyServer crashes', () => {
  test("SIGKILL of a serving ComfyUI: 'exit' with expected=false within a second", async (t) => {
    const server = new ComfyServer({ command: fakeCommand() });
    stopAfter(t, server);
    await server.start();
    const print = footprint(server);
    const exit = nextExit(server);
    const killedAt = Date.now();
    process.kill(server.pid!, 'SIGKILL');
    const { info, expected, at } = await exit;
    assert.equal(expected, false);
    assert.equal(info.signal, 'SIGKILL');
    assert.equal(info.exitCode, null);
    assert.ok(info.logTail.some((line) => line.includes('To see the GUI')));
    assert.ok(at - killedAt < 1000, `the crash was reported after ${at - killedAt} ms`);
    assert.equal(server.running, false);
    assert.equal(server.state, 'crashed');
    await assert.rejects(server.ensureRunning(), { code: 'COMFY_SERVER_CRASHED', signal: 'SIGKILL' });
    await server.stop();
    await server.stop();
    await assertNothingLeft(print, tmp);
  });

  test('SIGKILL of the watchdog also counts as a crash, and ComfyUI is not left behind', async (t) => {
    const server = new ComfyServer({ command: fakeCommand() });
    stopAfter(t, server);
    await server.start();
    const print = footprint(server);
    const exit = nextExit(server);
    process.kill(server.pgid!, 'SIGKILL');
    const { expected } = await exit;
    assert.equal(expected, false);
    assert.ok(await waitFor(() => !processAlive(server.pid!), 5000), 'ComfyUI was killed with its watchdog');
    await server.stop();
    await assertNothingLeft(print, tmp);
  });

  test("restart: 'on-crash' brings a new process up on ensureRunning()", async (t) => {
    const server = new ComfyServer({ command: fakeCommand(), restart: 'on-crash' });
    stopAfter(t, server);
    await server.start();
    const first = footprint(server);
    const exit = nextExit(server);
    process.kill(server.pid!, 'SIGKILL');
    assert.equal((await exit).expected, false);
    await server.ensureRunning();
    assert.equal(server.running, true);
    assert.notEqual(server.pid, first.pids[0]);
    assert.equal((await fetch(`${server.url}/system_stats`)).status, 200);
    await assertNothingLeft(first); // the crashed instance's folder went with it
    const second = footprint(server);
    await server.stop();
    await assertNothingLeft(second, tmp);
  });

  test('SIGKILL of the Node parent: the whole ComfyUI tree and its folder are gone within 2 s', async (t) => {
    const parent = spawn(process.execPath, ['--import', 'tsx', PARENT_FIXTURE], {
      cwd: REPO_ROOT,
      env: { ...process.env, TMPDIR: tmp.root },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: parent.stdout! }).once('line', resolve);
      parent.once('exit', (code) => reject(new Error(`the parent fixture exited with ${code}`)));
    });
    const started = JSON.parse(line) as { pid: number; pgid: number; grandchild: number; instanceDirectory: string; url: string };
    const pids = [started.pid, started.pgid, started.grandchild];
    assert.ok(pids.every((pid) => Number.isInteger(pid) && processAlive(pid)));
    assert.equal((await fetch(`${started.url}/system_stats`)).status, 200);

    const parentDead = new Promise((resolve) => parent.once('exit', resolve));
    parent.kill('SIGKILL');
    await parentDead;
    const gone = await waitFor(() => pids.every((pid) => !processAlive(pid)), 2000);
    assert.ok(gone, `still alive 2 s after the parent died: ${pids.filter(processAlive).join(', ')}`);
    assert.ok(await waitFor(() => !existsSync(started.instanceDirectory), 1000), 'the watchdog removed the instance folder');
    assert.deepEqual(tmp.entries(), []);
  });
});
