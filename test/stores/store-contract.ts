// The assertions every OutputStore must pass (folder and S3 alike), so the two stay interchangeable.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import type { OutputStore } from '../../src/stores/types.js';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function storeContract(name: string, test: (name: string, fn: (t: TestContext) => Promise<void>) => unknown, getStore: () => OutputStore): void {
  test(`${name}: put a Buffer, head, get byte-equal, delete`, async () => {
    const store = getStore();
    const body = randomBytes(4096);
    const put = await store.put('runs/job-1/9/out_00001_.png', body, { mime: 'image/png' });
    assert.equal(put.key, 'runs/job-1/9/out_00001_.png');
    assert.equal(put.size, body.length);
    assert.equal(put.sha256, sha(body));
    assert.equal(put.mime, 'image/png');
    const head = await store.head(put.key);
    assert.ok(head);
    assert.equal(head.size, body.length);
    assert.equal(head.mime, 'image/png');
    assert.equal(head.sha256, sha(body));
    assert.deepEqual(await readAll(await store.get(put.key)), body);
    await store.delete(put.key);
    assert.equal(await store.head(put.key), undefined);
    await assert.rejects(store.get(put.key), { code: 'COMFY_STORE_NOT_FOUND' });
    await store.delete(put.key); // deleting twice is fine (idempotent, like S3)
  });

  test(`${name}: a stream larger than one part is written whole, and put replaces`, async () => {
    const store = getStore();
    const body = randomBytes(12 * 1024 * 1024 + 17);
    const chunks = [];
    for (let i = 0; i < body.length; i += 1 << 20) chunks.push(body.subarray(i, i + (1 << 20)));
    const put = await store.put('big/video.mp4', Readable.from(chunks), { mime: 'video/mp4' });
    assert.equal(put.size, body.length);
    assert.equal(put.sha256, sha(body));
    assert.equal(sha(await readAll(await store.get('big/video.mp4'))), sha(body));
    const again = await store.put('big/video.mp4', Buffer.from('short'), { mime: 'text/plain' });
    assert.equal(again.size, 5);
    assert.equal((await readAll(await store.get('big/video.mp4'))).toString(), 'short');
    assert.equal((await store.head('big/video.mp4'))?.mime, 'text/plain');
    await store.delete('big/video.mp4');
  });

  test(`${name}: keys that would escape are refused before anything is written`, async () => {
    const store = getStore();
    for (const key of ['../x.png', 'a/../../x.png', '/etc/passwd', 'a//b.png', 'a/./b.png', 'a\\b.png', 'a/b\0.png', '', 'a/', '.comfy-store-meta/x']) {
      await assert.rejects(store.put(key, Buffer.from('x'), { mime: 'text/plain' }), { code: 'COMFY_UNSAFE_PATH' }, `key ${JSON.stringify(key)}`);
      await assert.rejects(store.get(key), { code: 'COMFY_UNSAFE_PATH' });
    }
  });

  test(`${name}: a failing body leaves no object behind`, async () => {
    const store = getStore();
    const failing = new Readable({
      read() {
        this.push(randomBytes(1024));
        this.destroy(new Error('the source broke'));
      },
    });
    await assert.rejects(store.put('broken/out.png', failing, { mime: 'image/png' }));
    assert.equal(await store.head('broken/out.png'), undefined);
  });

  test(`${name}: describe() is JSON without credentials`, async () => {
    const d = getStore().describe();
    const text = JSON.stringify(d);
    assert.equal(d.kind, getStore().kind);
    assert.doesNotMatch(text, /secret|password/i);
  });
}
