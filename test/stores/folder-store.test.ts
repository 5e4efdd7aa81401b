import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { FolderStore } from '../../src/stores/folder-store.js';
import { storeContract } from './store-contract.js';

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe('FolderStore', async () => {
  let root = '';
  let store: FolderStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'folder-store-'));
    store = new FolderStore({ root });
  });
  after(() => rm(root, { recursive: true, force: true }));
  storeContract('folder', test, () => store);

  test('put writes the file at root/key with a file:// URL, and head trusts only a matching sidecar', async () => {
    const put = await store.put('runs/a/out.png', Buffer.from('png bytes'), { mime: 'image/x-custom' });
    assert.ok(put.url);
    assert.equal(fileURLToPath(put.url), join(root, 'runs/a/out.png'));
    // Someone else rewrites the file: the sidecar no longer matches, head recomputes.
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(join(root, 'runs/a/out.png'), 'other bytes!');
    const head = await store.head('runs/a/out.png');
    assert.equal(head?.size, 12);
    assert.equal(head?.mime, 'image/png');
    await store.delete('runs/a/out.png');
  });

  test('a failed put leaves no temporary file', async () => {
    const files = await listAll(root);
    assert.deepEqual(files.filter((f) => f.includes('comfy-connector-partial')), []);
  });

  test('a symlink inside the root that leads out is refused', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'folder-store-outside-'));
    try {
      await mkdir(join(root, 'runs'), { recursive: true });
      await symlink(outside, join(root, 'runs', 'escape'));
      await assert.rejects(store.put('runs/escape/x.png', Buffer.from('x'), { mime: 'image/png' }), { code: 'COMFY_UNSAFE_PATH' });
      assert.deepEqual(await readdir(outside), []);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('FolderStore: folders and file bodies', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'folder-store-2-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('delete removes the folders its key made once empty, up to (not including) the root', async () => {
    const store = new FolderStore({ root: join(root, 'prune') });
    await store.put('runs/r1/9/sub/a.png', Buffer.from('a'), { mime: 'image/png' });
    await store.put('runs/r1/9/b.png', Buffer.from('b'), { mime: 'image/apng' }); // a MIME type the name does not say: a sidecar
    await store.delete('runs/r1/9/sub/a.png');
    assert.deepEqual((await readdir(join(root, 'prune'), { recursive: true })).sort(), ['.comfy-store-meta', '.comfy-store-meta/runs', '.comfy-store-meta/runs/r1', '.comfy-store-meta/runs/r1/9', '.comfy-store-meta/runs/r1/9/b.png.json', 'runs', 'runs/r1', 'runs/r1/9', 'runs/r1/9/b.png']);
    await store.delete('runs/r1/9/b.png');
    assert.deepEqual(await readdir(join(root, 'prune')), [], 'nothing left but the root');
    await store.delete('runs/r1/9/b.png'); // again: still fine
  });

  test('a small object whose name gives its MIME type has no sidecar; head() still knows size, hash and type', async () => {
    const store = new FolderStore({ root: join(root, 'small') });
    const body = Buffer.from('small png bytes');
    const put = await store.put('runs/s/1/x.png', body, { mime: 'image/png' });
    assert.deepEqual(await readdir(join(root, 'small')), ['runs'], 'no .comfy-store-meta');
    const head = await store.head('runs/s/1/x.png');
    assert.deepEqual({ size: head?.size, sha256: head?.sha256, mime: head?.mime }, { size: body.length, sha256: put.sha256, mime: 'image/png' });
    assert.equal(put.sha256, createHash('sha256').update(body).digest('hex'));
  });

  test('prepare makes the folders of a prefix ahead; release removes them while empty, never a file', async () => {
    const store = new FolderStore({ root: join(root, 'ahead') });
    await store.prepare('runs/j1/a1');
    assert.deepEqual((await readdir(join(root, 'ahead'), { recursive: true })).sort(), ['runs', 'runs/j1', 'runs/j1/a1']);
    await store.release('runs/j1/a1');
    assert.deepEqual(await readdir(join(root, 'ahead')), [], 'empty folders gone, up to the root');
    await store.prepare('runs/j2/a1');
    await store.put('runs/j2/a1/9/x.png', Buffer.from('x'), { mime: 'image/png' });
    await store.release('runs/j2/a1');
    assert.deepEqual((await readdir(join(root, 'ahead'), { recursive: true })).sort(), ['runs', 'runs/j2', 'runs/j2/a1', 'runs/j2/a1/9', 'runs/j2/a1/9/x.png']);
    await assert.rejects(store.prepare('../out'), { code: 'COMFY_UNSAFE_PATH' });
  });

  test('puts and deletes racing in one folder: every put lands', async () => {
    const store = new FolderStore({ root: join(root, 'race') });
    for (let round = 0; round < 20; round++) {
      await store.put('runs/x/first.bin', Buffer.from('1'), { mime: 'application/octet-stream' });
      const [, second] = await Promise.all([store.delete('runs/x/first.bin'), store.put('runs/x/second.bin', Buffer.from('2'), { mime: 'application/octet-stream' })]);
      assert.equal((await store.head('runs/x/second.bin'))?.sha256, second.sha256);
      await store.delete('runs/x/second.bin');
    }
    assert.deepEqual(await readdir(join(root, 'race')), []);
  });

  test('a file read stream (kernel copy) and a ranged one (streamed) both report the stored bytes', async () => {
    const store = new FolderStore({ root: join(root, 'files') });
    const source = join(root, 'source.bin');
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(source, bytes);
    const whole = await store.put('w.bin', createReadStream(source), { mime: 'application/octet-stream' });
    assert.equal(whole.size, bytes.length);
    assert.equal(whole.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.ok((await readFile(join(root, 'files', 'w.bin'))).equals(bytes));
    const ranged = await store.put('r.bin', createReadStream(source, { start: 5, end: 1000 }), { mime: 'application/octet-stream' });
    assert.equal(ranged.size, 996);
    assert.equal(ranged.sha256, createHash('sha256').update(bytes.subarray(5, 1001)).digest('hex'));
    assert.ok((await readFile(join(root, 'files', 'r.bin'))).equals(bytes.subarray(5, 1001)));
    await assert.rejects(store.put('gone.bin', createReadStream(join(root, 'missing.bin')), { mime: 'application/octet-stream' }));
    assert.deepEqual((await readdir(join(root, 'files'))).filter((n) => n.includes('partial')), [], 'no temp file left');
  });
});
