import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AssetStore } from '../../src/assets/index.js';
import { DiskRouteClient, tempComfyTree } from './fixtures.js';

test('SIGKILL of a process that uploaded ephemeral files: the next store.recover() cleans up', async (t) => {
  const tree = tempComfyTree();
  t.after(tree.cleanup);
  writeFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'ORIGINAL');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-child.ts', import.meta.url)), JSON.stringify(tree.paths)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      if (out.includes('READY')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
  const loras = join(tree.paths.baseDirectory, 'models', 'loras');
  assert.equal(readFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'utf8'), 'ephemeral image');
  assert.equal(existsSync(join(loras, 'session', 'tmp.safetensors')), true);

  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');

  const store = new AssetStore({ client: new DiskRouteClient(tree.paths), paths: tree.paths });
  const report = await store.recover();
  assert.deepEqual(report.ignored, []);
  assert.equal(readFileSync(join(tree.paths.inputDirectory, 'cat.png'), 'utf8'), 'ORIGINAL', 'replaced image restored');
  assert.deepEqual(readdirSync(tree.paths.inputDirectory), ['cat.png'], 'no backup left');
  assert.equal(existsSync(join(loras, 'session', 'tmp.safetensors')), false, 'ephemeral model removed');
  assert.equal(readFileSync(join(loras, 'kept.safetensors'), 'utf8'), 'kept lora', 'non-ephemeral upload untouched');
  assert.deepEqual(readdirSync(join(tree.paths.baseDirectory, 'user', 'comfy-connector-journal')), [], 'journal cleared');
});
