import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ComfyServer } from '../../src/server/index.js';
import { processAlive } from '../../src/server/process-group.js';
import type { ProcessExitInfo } from '../../src/errors.js';
import { assertNothingLeft, fakeCommand, footprint, privateTmpdir, stopAfter, waitFor } from './helpers.js';

const tmp = privateTmpdir();
after(() => tmp.remove());

async function systemStats(server: ComfyServer): Promise<{ system: { argv: string[] } }> {
  const response = await fetch(`${server.url}/system_stats`);
  assert.equal(response.status, 200);
  return (await response.json()) as { system: { argv: string[] } };
}

describe('ComfyServer lifecycle (fake ComfyUI)', () => {
  test('start() serves; stop() ends the tree, frees the port and removes the instance folder', async (t) => {
    const server = new ComfyServer({ command: fakeCommand(), device: 'cpu' });
    stopAfter(t, server);
    const exits: Array<[ProcessExitInfo, boolean]> = [];
    server.on('exit', (info, expected) => exits.push([info, expected]));
    assert.equal(server.running, false);

    await server.start();
    assert.equal(server.running, true);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const { argv } = (await systemStats(server)).system;
    const paths = server.paths;
    assert.ok(statSync(paths.instanceDirectory).isDirectory());
    assert.ok(existsSync(paths.tempDirectory), 'the fake (like ComfyUI) made <instance>/temp');
    assert.equal(paths.tempDirectory, join(paths.instanceDirectory, 'temp'));
    assert.deepEqual(argv.slice(argv.indexOf('--temp-directory'), argv.indexOf('--temp-directory') + 2), ['--temp-directory', paths.instanceDirectory]);
    assert.ok(argv.includes(`sqlite:///${join(paths.instanceDirectory, 'comfyui.db')}`));
    assert.ok(argv.includes('--cpu'));
    assert.ok(processAlive(server.pid!) && processAlive(server.pgid!));
    const print = footprint(server);

    await server.stop();
    assert.equal(server.running, false);
    assert.equal(server.state, 'stopped');
    assert.deepEqual(exits.map(([info, expected]) => [info.exitCode, expected]), [[0, true]]);
    assert.ok(server.logTail().some((line) => line.includes('Stopped server')), 'SIGINT came first: the fake logged its clean stop');
    await assertNothingLeft(print, tmp);
  });

  test('two servers run side by side, each with its own port and folder', async (t) => {
    const a = new ComfyServer({ command: fakeCommand() });
    const b = new ComfyServer({ command: fakeCommand() });
    stopAfter(t, a, b);
    await Promise.all([a.start(), b.start()]);
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.paths.instanceDirectory, b.paths.instanceDirectory);
    assert.notEqual(a.pgid, b.pgid);
    await systemStats(a);
    await systemStats(b);
    const printA = footprint(a);
    await a.stop();
    await assertNothingLeft(printA);
    await systemStats(b); // untouched by the other's stop
    const printB = footprint(b);
    await b.stop();
    await assertNothingLeft(printB, tmp);
  });

  test('stop() is idempotent and concurrent calls share one stop', async (t) => {
    const server = new ComfyServer({ command: fakeCommand() });
    stopAfter(t, server);
    let exits = 0;
    server.on('exit', () => exits++);
    await server.start();
    const print = footprint(server);
    const first = server.stop();
    const second = server.stop();
    assert.equal(first, second);
    await Promise.all([first, second, server.stop()]);
    await server.stop();
    assert.equal(exits, 1);
    await assertNothingLeft(print, tmp);
  });

  test('stop() before start() resolves; start() after stop() runs a fresh instance', async (t) => {
    const server = new ComfyServer({ command: fakeCommand() });
    stopAfter(t, server);
    await server.stop();
    await server.start();
    const first = footprint(server);
    await server.stop();
    await server.start();
    assert.notEqual(server.paths.instanceDirectory, first.instanceDirectory);
    await systemStats(server);
    const second = footprint(server);
    await server.stop();
    await assertNothingLeft(first);
    await assertNothingLeft(second, tmp);
  });

  test('stop() during start() abandons the start, which rejects with COMFY_CLOSED', async (t) => {
    const server = new ComfyServer({ command: fakeCommand(), env: { FAKE_COMFY_HANG: '1' } });
    stopAfter(t, server);
    const starting = server.start();
    const rejected = assert.rejects(starting, { code: 'COMFY_CLOSED' });
    assert.ok(await waitFor(() => server.pid !== undefined, 30_000), 'the fake was spawned');
    const print = footprint(server);
    await server.stop();
    await rejected;
    await assertNothingLeft(print, tmp);
  });

  test('stop() escalates to SIGTERM and SIGKILL and also ends grandchildren', async (t) => {
    const server = new ComfyServer({
      command: fakeCommand(),
      env: { FAKE_COMFY_IGNORE_SIGINT: '1', FAKE_COMFY_IGNORE_SIGTERM: '1', FAKE_COMFY_GRANDCHILD: '1' },
    });
    stopAfter(t, server);
    let exit: ProcessExitInfo | undefined;
    server.on('exit', (info) => (exit = info));
    await server.start();
    const grandchild = Number(server.logTail().find((line) => line.startsWith('GRANDCHILD '))?.split(' ')[1]);
    assert.ok(processAlive(grandchild));
    const print = footprint(server);
    await server.stop();
    assert.equal(processAlive(grandchild), false);
    assert.equal(exit?.signal, 'SIGKILL');
    assert.ok(server.logTail().includes('[INFO] ignoring SIGTERM'));
    await assertNothingLeft(print, tmp);
  });

  test('readiness waits for /system_stats to answer 200 after the ready line', async (t) => {
    const server = new ComfyServer({ command: fakeCommand(), env: { FAKE_COMFY_STATS_503: '3' } });
    stopAfter(t, server);
    await server.start();
    await systemStats(server); // would have been the 4th request: the start consumed three 503s
    const print = footprint(server);
    await server.stop();
    await assertNothingLeft(print, tmp);
  });

  test('logs: ring buffer bounded, ANSI removed, log events and a log callback', async (t) => {
    const seen: Array<[string, string]> = [];
    const server = new ComfyServer({ command: fakeCommand(), logBufferLines: 3, logs: (line, stream) => seen.push([line, stream]) });
    stopAfter(t, server);
    const events: string[] = [];
    server.on('log', (line) => events.push(line));
    await server.start();
    assert.equal(server.logTail().length, 3);
    assert.ok(seen.some(([line, stream]) => line === '[INFO] To see the GUI go to: http://127.0.0.1:' + server.port && stream === 'stderr'));
    assert.ok(seen.some(([line, stream]) => line.startsWith('ARGS ') && stream === 'stdout'));
    assert.deepEqual(events, seen.map(([line]) => line));
    assert.ok(seen.every(([line]) => !line.includes('\x1b')));
    await server.stop();
  });

  test('folders and device options reach the command line; userDirectory is created', async (t) => {
    const server = new ComfyServer({
      command: fakeCommand(),
      device: 'gpu',
      cudaDevice: 1,
      inputDirectory: join(tmp.root, 'my-input'),
      userDirectory: join(tmp.root, 'my-user'),
      extraModelPaths: ['/tmp/one.yaml', '/tmp/two.yaml'],
      extraArgs: ['--base-directory', join(tmp.root, 'base')],
    });
    stopAfter(t, server);
    await server.start();
    const { argv } = (await systemStats(server)).system;
    const after = (flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(after('--cuda-device'), '1');
    assert.equal(argv.includes('--cpu'), false);
    assert.equal(after('--input-directory'), join(tmp.root, 'my-input'));
    assert.equal(after('--user-directory'), join(tmp.root, 'my-user'));
    assert.ok(statSync(join(tmp.root, 'my-user')).isDirectory());
    assert.deepEqual(argv.filter((_, i) => argv[i - 1] === '--extra-model-paths-config'), ['/tmp/one.yaml', '/tmp/two.yaml']);
    assert.equal(server.paths.baseDirectory, join(tmp.root, 'base'));
    assert.equal(server.paths.outputDirectory, join(tmp.root, 'base', 'output'));
    assert.equal(argv.at(-1), join(tmp.root, 'base'));
    await server.stop();
    assert.ok(existsSync(join(tmp.root, 'my-user')), 'a folder the user named is theirs: stop() keeps it');
    rmSync(join(tmp.root, 'my-user'), { recursive: true });
  });
});
