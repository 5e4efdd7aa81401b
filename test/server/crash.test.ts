import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { ComfyServer } from '../../src/server/index.js';
import { groupAlive, liveGroupMembers, processAlive } from '../../src/server/process-group.js';
import type { ProcessExitInfo } from '../../src/errors.js';
import { assertNothingLeft, fakeCommand, footprint, PARENT_FIXTURE, privateTmpdir, RACE_FIXTURE, REPO_ROOT, stopAfter, waitFor } from './helpers.js';

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

  test('SIGKILL of the watchdog: ComfyUI does not run on unguarded, it is a crash', async (t) => {
    const server = new ComfyServer({ command: fakeCommand() });
    stopAfter(t, server);
    await server.start();
    const print = footprint(server);
    assert.notEqual(server.watchdogPid, server.pid);
    const exit = nextExit(server);
    process.kill(server.watchdogPid!, 'SIGKILL');
    const { expected, info } = await exit;
    assert.equal(expected, false);
    assert.equal(info.signal, 'SIGKILL');
    assert.ok(await waitFor(() => !processAlive(server.pid!), 5000), 'ComfyUI was killed when its watchdog died');
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
    const started = JSON.parse(line) as { pid: number; pgid: number; watchdog: number; grandchild: number; instanceDirectory: string; url: string };
    assert.equal(started.pgid, started.pid, 'ComfyUI leads its own group');
    const pids = [started.pid, started.watchdog, started.grandchild];
    assert.ok(pids.every((pid) => Number.isInteger(pid) && processAlive(pid)));
    assert.equal((await fetch(`${started.url}/system_stats`)).status, 200);

    const parentDead = new Promise((resolve) => parent.once('exit', resolve));
    const killedAt = Date.now();
    parent.kill('SIGKILL');
    await parentDead;
    const gone = await waitFor(() => pids.every((pid) => !processAlive(pid)), 2000);
    assert.ok(gone, `still alive 2 s after the parent died: ${pids.filter(processAlive).join(', ')}`);
    assert.ok(await waitFor(() => !existsSync(started.instanceDirectory), 1000), 'the watchdog removed the instance folder');
    // The watchdog stops waiting once only zombies are left (init may reap them late): this used to
    // sit at the end of its 1 s grace (1.1-1.3 s); see src/server/README.md.
    t.diagnostic(`processes gone and folder removed ${Date.now() - killedAt} ms after the parent's SIGKILL`);
    assert.equal(groupAlive(started.pgid), false);
    assert.deepEqual(tmp.entries(), []);
  });

  test('the parent SIGKILLed right after spawn, before the watchdog reads: the group still goes', async (t) => {
    const directory = mkdtempSync(join(tmp.root, 'comfy-connector-race-'));
    const parent = spawn(process.execPath, ['--import', 'tsx', RACE_FIXTURE, directory], {
      cwd: REPO_ROOT,
      env: { ...process.env, TMPDIR: tmp.root },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const [line, signal] = await Promise.all([
      new Promise<string>((resolve) => createInterface({ input: parent.stdout! }).once('line', resolve)),
      new Promise((resolve) => parent.once('exit', (_code, signal) => resolve(signal))),
    ]);
    assert.equal(signal, 'SIGKILL');
    const started = JSON.parse(line) as { pid: number; pgid: number; watchdog: number; watchdogExe: string };
    t.diagnostic(`the watchdog's executable when the parent died: ${started.watchdogExe}`);
    assert.ok(Number.isInteger(started.pid) && Number.isInteger(started.watchdog));
    assert.equal(started.pgid, started.pid);
    const gone = await waitFor(() => !groupAlive(started.pgid) && !processAlive(started.watchdog), 2000);
    assert.ok(gone, `still alive 2 s after the parent died: ${[...(liveGroupMembers(started.pgid) ?? []), started.watchdog].filter(processAlive).join(', ')}`);
    assert.ok(await waitFor(() => !existsSync(directory), 1000), 'the watchdog removed the folder');
  });

  test("the lifeline's write end is held by this process only, not by ComfyUI or later children", { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
    const a = new ComfyServer({ command: fakeCommand(), env: { FAKE_COMFY_GRANDCHILD: '1' } });
    const b = new ComfyServer({ command: fakeCommand() });
    stopAfter(t, a, b);
    await a.start();
    await b.start(); // spawned after a's lifeline existed: must not inherit it
    const lifelines = [a, b].map((server) => readlinkSync(`/proc/${server.watchdogPid}/fd/0`));
    const holders = (inode: string) => [a.pgid!, b.pgid!].flatMap((pgid) => liveGroupMembers(pgid) ?? []).concat(a.watchdogPid!, b.watchdogPid!).filter((pid) => openFiles(pid).includes(inode));
    // The watchdog's own read end is a socket whose peer this process holds; what matters is that
    // no other process shares it, so that this process's death is its end-of-file.
    for (const [i, end] of lifelines.entries()) {
      assert.match(end, /^(socket|pipe):\[\d+\]$/);
      assert.deepEqual(holders(end), [[a, b][i]!.watchdogPid]);
    }
    // libuv makes every stdio channel (the lifeline included) a socketpair and keeps its own end
    // close-on-exec; pipes this process inherited from whoever started it are not ours to judge.
    const ours = new Set(openFiles(process.pid));
    for (const pid of [a.pgid!, b.pgid!].flatMap((pgid) => liveGroupMembers(pgid) ?? [])) {
      const shared = openFiles(pid).filter((file) => file.startsWith('socket:') && ours.has(file));
      assert.deepEqual(shared, [], `process ${pid} of a ComfyUI group holds this process's end of ${shared.join(', ')}`);
    }
  });
});

/** What a process has open (readlink of /proc/<pid>/fd/*); empty once it is gone. */
function openFiles(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}
