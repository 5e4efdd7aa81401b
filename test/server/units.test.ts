import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { buildCommand, clientUrl, flagValue } from '../../src/server/command.js';
import { needsCpuFlag } from '../../src/server/device.js';
import { LineSplitter, LogRing, stripAnsi } from '../../src/server/log-buffer.js';
import { isPortFree, pickFreePort } from '../../src/server/port.js';
import { findExecutable, resolvePython } from '../../src/server/python.js';
import { matchReadyLine, mentionsAddressInUse } from '../../src/server/readiness.js';
import type { ServerPaths } from '../../src/server/index.js';

describe('log lines', () => {
  test('stripAnsi removes the colour codes ComfyUI prints', () => {
    assert.equal(stripAnsi('\x1b[32m[INFO]\x1b[0m To see the GUI'), '[INFO] To see the GUI');
    assert.equal(stripAnsi('\x1b[1m\x1b[31m[ERROR]\x1b[0m boom'), '[ERROR] boom');
  });

  test('LogRing keeps only the last N lines, oldest first', () => {
    const ring = new LogRing(3);
    for (const line of ['a', 'b', 'c', 'd', 'e']) ring.push(line);
    assert.deepEqual(ring.lines(), ['c', 'd', 'e']);
    assert.deepEqual(new LogRing(0).lines(), []);
  });

  test('LineSplitter joins split chunks, splits on \\r (tqdm) and flushes the rest', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.write(Buffer.from('hel'));
    splitter.write(Buffer.from('lo\nwor'));
    splitter.write(Buffer.from('ld\r\n 10%|#\r 20%|##\r'));
    splitter.write(Buffer.from([0xc3])); // the first byte of "é", finished in the next chunk
    splitter.write(Buffer.from([0xa9, 0x0a]));
    splitter.write(Buffer.from('tail'));
    splitter.flush();
    assert.deepEqual(lines, ['hello', 'world', ' 10%|#', ' 20%|##', 'é', 'tail']);
  });
});

describe('readiness', () => {
  test('the ready line of real ComfyUI is recognised, with or without colour', () => {
    assert.equal(matchReadyLine('\x1b[32m[INFO]\x1b[0m To see the GUI go to: http://127.0.0.1:18188'), 'http://127.0.0.1:18188');
    assert.equal(matchReadyLine('To see the GUI go to: https://[::]:8188'), 'https://[::]:8188');
    assert.equal(matchReadyLine('Starting server'), undefined);
  });

  test('address-in-use messages of both ComfyUI generations are recognised', () => {
    assert.ok(mentionsAddressInUse(['[ERROR] Port 18911 is already in use on address 127.0.0.1. Please close the other application']));
    assert.ok(mentionsAddressInUse(["OSError: [Errno 98] error while attempting to bind on address ('127.0.0.1', 8188): address already in use"]));
    assert.equal(mentionsAddressInUse(['RuntimeError: something else']), false);
  });
});

describe('command line', () => {
  const paths: ServerPaths = {
    comfyuiPath: '/c',
    baseDirectory: '/c',
    inputDirectory: '/in',
    outputDirectory: '/out',
    tempDirectory: '/i/temp',
    userDirectory: '/u',
    extraModelPaths: ['/a.yaml', '/b.yaml'],
    instanceDirectory: '/i',
  };

  test('carries port, per-instance temp and database, device and folders', () => {
    const argv = buildCommand({
      base: ['py', '/c/main.py'],
      host: '127.0.0.1',
      port: 4321,
      paths,
      cpu: false,
      cudaDevice: 1,
      explicit: { input: true, output: false, user: true },
      extraArgs: ['--lowvram'],
    });
    assert.deepEqual(argv, [
      'py', '/c/main.py', '--listen', '127.0.0.1', '--port', '4321', '--temp-directory', '/i',
      '--database-url', 'sqlite:////i/comfyui.db', '--cuda-device', '1', '--input-directory', '/in',
      '--user-directory', '/u', '--extra-model-paths-config', '/a.yaml', '--extra-model-paths-config', '/b.yaml',
      '--lowvram',
    ]);
  });

  test('--cpu replaces --cuda-device', () => {
    const argv = buildCommand({ base: ['x'], host: 'h', port: 1, paths, cpu: true, cudaDevice: 0, explicit: { input: false, output: false, user: false }, extraArgs: [] });
    assert.ok(argv.includes('--cpu'));
    assert.equal(argv.includes('--cuda-device'), false);
  });

  test('flagValue reads both spellings, the last one wins', () => {
    assert.equal(flagValue(['--base-directory', '/a', '--base-directory=/b'], '--base-directory'), '/b');
    assert.equal(flagValue(['--x'], '--base-directory'), undefined);
  });

  test('clientUrl reaches wildcard addresses through loopback and brackets IPv6', () => {
    assert.equal(clientUrl('0.0.0.0', 80, false), 'http://127.0.0.1:80');
    assert.equal(clientUrl('::', 80, true), 'https://[::1]:80');
    assert.equal(clientUrl('10.0.0.5,127.0.0.1', 81, false), 'http://10.0.0.5:81');
  });
});

describe('environment', () => {
  test('resolvePython: option, then COMFYUI_PYTHON, then a venv in the folder, then python3', () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfy-python-test-'));
    try {
      assert.equal(resolvePython('/my/python', dir, { COMFYUI_PYTHON: '/env/python' }), '/my/python');
      assert.equal(resolvePython(undefined, dir, { COMFYUI_PYTHON: '/env/python' }), '/env/python');
      assert.equal(resolvePython(undefined, dir, {}), 'python3');
      mkdirSync(join(dir, '.venv', 'bin'), { recursive: true });
      writeFileSync(join(dir, '.venv', 'bin', 'python'), '');
      assert.equal(resolvePython(undefined, dir, {}), join(dir, '.venv', 'bin', 'python'));
      mkdirSync(join(dir, 'venv', 'bin'), { recursive: true });
      writeFileSync(join(dir, 'venv', 'bin', 'python'), '');
      assert.equal(resolvePython(undefined, dir, {}), join(dir, 'venv', 'bin', 'python'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('findExecutable searches PATH and checks the execute bit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'comfy-exe-test-'));
    try {
      const file = join(dir, 'tool');
      writeFileSync(file, '#!/bin/sh\n');
      assert.equal(findExecutable('tool', { PATH: dir }), undefined);
      chmodSync(file, 0o755);
      assert.equal(findExecutable('tool', { PATH: dir }), file);
      assert.equal(findExecutable(file, {}), file);
      assert.equal(findExecutable('/no/such/python', {}), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('needsCpuFlag: explicit modes win; CUDA_VISIBLE_DEVICES="" or -1 means no GPU', () => {
    assert.equal(needsCpuFlag('cpu', {}), true);
    assert.equal(needsCpuFlag('gpu', {}), false);
    if (process.platform !== 'darwin') {
      assert.equal(needsCpuFlag('auto', { CUDA_VISIBLE_DEVICES: '-1', PATH: '' }), true);
      assert.equal(needsCpuFlag('auto', { CUDA_VISIBLE_DEVICES: '', PATH: '' }), true);
    }
  });
});

describe('ports', () => {
  test('pickFreePort gives a bindable port that is never 8188', async () => {
    const port = await pickFreePort('127.0.0.1');
    assert.ok(port > 0 && port !== 8188);
    assert.equal(await isPortFree('127.0.0.1', port), true);
  });

  test('isPortFree sees a taken port', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      assert.equal(await isPortFree('127.0.0.1', port), false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    assert.equal(await isPortFree('127.0.0.1', port), true);
  });
});

describe('fork compatibility', () => {
  test('a server forks only with the preloader\'s interpreter, main.py and environment; device selectors may differ', async () => {
    const { Preloader } = await import('../../src/server/preload.js');
    const preloader = new Preloader({ comfyuiPath: '/opt/ComfyUI', python: '/venv/bin/python', env: { HF_HOME: '/cache' } });
    const env = { ...preloader.env };
    assert.equal(preloader.incompatibility('/venv/bin/python', '/opt/ComfyUI/main.py', env), undefined);
    assert.equal(preloader.incompatibility('/venv/bin/python', '/opt/ComfyUI/main.py', { ...env, CUDA_VISIBLE_DEVICES: '1', HIP_VISIBLE_DEVICES: '1' }), undefined);
    const differs = preloader.incompatibility('/venv/bin/python', '/opt/ComfyUI/main.py', { ...env, HF_HOME: '/secret/path', EXTRA: 'x' });
    assert.match(differs ?? '', /differs from the preloader's in EXTRA, HF_HOME$/);
    assert.equal(differs?.includes('/secret/path'), false, 'values are never named');
    const { HF_HOME: _dropped, ...without } = env;
    assert.match(preloader.incompatibility('/venv/bin/python', '/opt/ComfyUI/main.py', without) ?? '', /HF_HOME/);
    assert.match(preloader.incompatibility('/other/python', '/opt/ComfyUI/main.py', env) ?? '', /runs \/venv\/bin\/python/);
    assert.match(preloader.incompatibility('/venv/bin/python', '/elsewhere/main.py', env) ?? '', /serves \/opt\/ComfyUI\/main\.py/);
  });
});
