import assert from 'node:assert/strict';
import { CreateBucketCommand, ListMultipartUploadsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { S3Store } from '../../src/stores/s3-store.js';
import { openStore } from '../../src/stores/open.js';
import { FolderStore } from '../../src/stores/folder-store.js';
import { freePort } from '../helpers/targets.js';
import { startSeaweed, weedSkip, type Seaweed } from '../helpers/seaweed.js';
import { readAll, storeContract } from './store-contract.js';

const skip = weedSkip();

describe('S3Store against SeaweedFS', { skip }, async () => {
  let weed: Seaweed;
  let store: S3Store;
  const bucket = `out-${randomBytes(4).toString('hex')}`;
  before(async () => {
    weed = await startSeaweed();
    const admin = new S3Client({ endpoint: weed.endpoint, region: weed.region, forcePathStyle: true, credentials: weed.admin });
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    admin.destroy();
    store = new S3Store({ bucket, prefix: 'tests', endpoint: weed.endpoint, region: weed.region, credentials: weed.admin, partSize: 5 * 1024 * 1024 });
  });
  after(async () => {
    store?.client.destroy();
    await weed?.stop();
  });

  storeContract('s3', test, () => store);

  test('a presigned URL reads the object without credentials; plain fetch without it is refused', async () => {
    const body = randomBytes(2000);
    await store.put('runs/r1/img.png', body, { mime: 'image/png' });
    const url = await store.publicUrl('runs/r1/img.png', { expiresInSeconds: 60 });
    assert.match(url, /X-Amz-Signature=/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
    const bare = await fetch(`${weed.endpoint}/${bucket}/tests/runs/r1/img.png`);
    await bare.arrayBuffer();
    assert.equal(bare.status, 403);
  });

  test('objects live below the prefix; a multipart failure leaves no upload open', async () => {
    const admin = new S3Client({ endpoint: weed.endpoint, region: weed.region, forcePathStyle: true, credentials: weed.admin });
    try {
      const put = await store.put('k.txt', Buffer.from('hi'), { mime: 'text/plain' });
      assert.equal(put.url, `s3://${bucket}/tests/k.txt`);
      let sent = 0;
      const breaksLate = new Readable({
        read() {
          if (sent >= 12 * 1024 * 1024) return this.destroy(new Error('the source broke after two parts'));
          sent += 1024 * 1024;
          this.push(randomBytes(1024 * 1024));
        },
      });
      await assert.rejects(store.put('late/broken.mp4', breaksLate, { mime: 'video/mp4' }), /broke after two parts/);
      assert.equal(await store.head('late/broken.mp4'), undefined);
      const uploads = await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      assert.equal((uploads.Uploads ?? []).length, 0);
    } finally {
      admin.destroy();
    }
  });

  test('a reader-only identity is denied writes (COMFY_STORE_DENIED naming the key, no secret)', async () => {
    const reader = new S3Store({ bucket, endpoint: weed.endpoint, region: weed.region, credentials: weed.reader });
    try {
      const err = await reader.put('denied.png', Buffer.from('x'), { mime: 'image/png' }).then(() => undefined, (e: unknown) => e as Error & { code: string });
      assert.ok(err);
      assert.equal(err.code, 'COMFY_STORE_DENIED');
      assert.match(err.message, /denied\.png/);
      assert.doesNotMatch(err.message, new RegExp(weed.reader.secretAccessKey));
      const wrong = new S3Store({ bucket, endpoint: weed.endpoint, region: weed.region, credentials: { accessKeyId: 'nobody', secretAccessKey: 'nothing' } });
      await assert.rejects(wrong.get('tests/k.txt'), { code: 'COMFY_STORE_DENIED' });
      wrong.client.destroy();
    } finally {
      reader.client.destroy();
    }
  });

  test('an endpoint where nothing listens is a typed store error', async () => {
    const port = await freePort();
    const none = new S3Store({ bucket, endpoint: `http://127.0.0.1:${port}`, region: weed.region, credentials: weed.admin });
    try {
      const err = await none.put('x.png', Buffer.from('x'), { mime: 'image/png' }).then(() => undefined, (e: unknown) => e as Error & { code: string });
      assert.equal(err?.code, 'COMFY_STORE');
      assert.match(err.message, /x\.png/);
    } finally {
      none.client.destroy();
    }
  });

  test('head() computes the sha256 of an object written by someone else', async () => {
    const admin = new S3Client({ endpoint: weed.endpoint, region: weed.region, forcePathStyle: true, credentials: weed.admin });
    try {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'tests/foreign.bin', Body: Buffer.from('abc'), ContentType: 'application/octet-stream' }));
      const h = await store.head('foreign.bin');
      assert.equal(h?.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      assert.deepEqual(await readAll(await store.get('foreign.bin')), Buffer.from('abc'));
    } finally {
      admin.destroy();
    }
  });
});

test('openStore: s3://bucket/prefix and folder paths; other schemes refused', () => {
  const s3 = openStore('s3://my-bucket/runs/x', { endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'a', secretAccessKey: 'SECRET' } });
  assert.deepEqual(s3.describe(), { kind: 's3', bucket: 'my-bucket', prefix: 'runs/x', endpoint: 'http://127.0.0.1:1', region: 'us-east-1' });
  (s3 as S3Store).client.destroy();
  assert.ok(openStore('/tmp/some-folder') instanceof FolderStore);
  assert.throws(() => openStore('ftp://x/y'), TypeError);
  assert.throws(() => openStore('s3:///x'), TypeError);
});
