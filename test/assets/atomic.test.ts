import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AssetStore } from '../../src/assets/index.js';
import { commit, numberedName, writeTemp } from '../../src/assets/atomic.js';
import { UploadError } from '../../src/errors.js';
import { ForbiddenClient, listTree, tempComfyTree } from './fixtures.js';

describe('atomic model writes', () => {
  test('path, Buffer and stream sources land complete, with no temp file left', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const src = join(tree.root, 'src.safetensors');
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    writeFileSync(src, big);
    let changed = 0;
    const store = new AssetStore({ client: new ForbiddenClient(), paths: tree.paths, onModelsChanged: () => void changed++ });
    const r = await store.upload([
      { source: src, to: 'checkpoints' },
      { source: big, to: 'checkpoints', name: 'buf.safetensors' },
      { source: Readable.from([big.subarray(0, 1000), big.subarray(1000)]), to: 'checkpoints', name: 'stream.safetensors' },
    ]);
    assert.deepEqual(r.map((x) => x.name), ['src.safetensors', 'buf.safetensors', 'stream.safetensors']);
    const dir = join(tree.paths.baseDirectory, 'models', 'checkpoints');
    assert.deepEqual(listTree(dir), ['buf.safetensors', 'src.safetensors', 'stream.safetensors']);
    for (const name of listTree(dir)) assert.ok(readFileSync(join(dir, name)).equals(big), name);
    assert.equal(changed, 1, 'one models-changed notification per batch');
  });

  test('a stream that fails mid-way leaves neither the file nor a temp file', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const store = new AssetStore({ client: new ForbiddenClient(), paths: tree.paths });
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('network dropped'));
      },
    });
    await assert.rejects(store.upload([{ source: failing, to: 'loras', name: 'x.safetensors', ephemeral: true }]), UploadError);
    assert.deepEqual(listTree(join(tree.paths.baseDirectory, 'models', 'loras')), []);
    await assert.rejects(store.upload([{ source: join(tree.root, 'missing.bin'), to: 'loras' }]), UploadError);
    assert.deepEqual(listTree(join(tree.paths.baseDirectory, 'models', 'loras')), []);
  });

  test('commit without overwrite never clobbers a file that appeared meanwhile', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const dir = join(tree.root, 'd');
    mkdirSync(dir);
    await writeTemp(Buffer.from('new'), join(dir, 't'));
    writeFileSync(join(dir, 'final'), 'old');
    await assert.rejects(commit(join(dir, 't'), join(dir, 'final'), false, dir), /exists/);
    assert.equal(readFileSync(join(dir, 'final'), 'utf8'), 'old');
    await commit(join(dir, 't'), join(dir, 'final'), true, dir);
    assert.equal(readFileSync(join(dir, 'final'), 'utf8'), 'new');
    assert.equal(existsSync(join(dir, 't')), false);
  });

  test('numbered names match Python\'s splitext', () => {
    assert.equal(numberedName('cat.png', 1), 'cat (1).png');
    assert.equal(numberedName('a.tar.gz', 2), 'a.tar (2).gz');
    assert.equal(numberedName('.hidden', 1), '.hidden (1)');
    assert.equal(numberedName('noext', 3), 'noext (3)');
  });

  test('overwrite replaces and reports it; a non-ephemeral replacement is never undone', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const dir = join(tree.paths.baseDirectory, 'models', 'vae');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'v.safetensors'), 'old');
    const store = new AssetStore({ client: new ForbiddenClient(), paths: tree.paths });
    const [r] = await store.upload([{ source: Buffer.from('new'), to: 'vae', name: 'v.safetensors', overwrite: true }]);
    assert.equal(r?.replaced, true);
    assert.equal(r?.ephemeral, false);
    await store.removeEphemeral();
    assert.equal(readFileSync(join(dir, 'v.safetensors'), 'utf8'), 'new');
    assert.deepEqual(listTree(dir), ['v.safetensors']);
  });
});
