import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetStore } from '../../src/assets/index.js';
import { DiskRouteClient, killedUploader, tempComfyTree } from './fixtures.js';

test('SIGKILL of a process that uploaded ephemeral files: the next store.recover() cleans up', async (t) => {
  const tree = tempComfyTree();
  t.after(tree.cleanup);
  writeFileSync(join(tree.paths.inputDirectory, 'crash-cat.png'), 'ORIGINAL');
  const loras = join(tree.paths.baseDirectory, 'models', 'loras');
  await killedUploader(t, tree.paths, undefined, () => {
    assert.equal(readFileSync(join(tree.paths.inputDirectory, 'crash-cat.png'), 'utf8'), 'ephemeral image');
    assert.equal(existsSync(join(loras, 'session', 'tmp.safetensors')), true);
  });

  const store = new AssetStore({ client: new DiskRouteClient(tree.paths), paths: tree.paths });
  const report = await store.recover();
  assert.deepEqual(report.ignored, []);
  assert.equal(report.removed.length, 2);
  assert.equal(readFileSync(join(tree.paths.inputDirectory, 'crash-cat.png'), 'utf8'), 'ORIGINAL', 'replaced image restored');
  assert.deepEqual(readdirSync(tree.paths.inputDirectory), ['crash-cat.png'], 'new image gone, no backup left');
  assert.equal(existsSync(join(loras, 'session', 'tmp.safetensors')), false, 'ephemeral model removed');
  assert.equal(readFileSync(join(loras, 'kept.safetensors'), 'utf8'), 'kept lora', 'non-ephemeral upload untouched');
  assert.equal(existsSync(join(tree.paths.baseDirectory, 'user', 'comfy-connector-journal')), false, 'journal cleared, and its emptied folder removed');
});
