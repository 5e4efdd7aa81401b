import assert from 'node:assert/strict';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fetchToFile } from '../../src/sources/fetch.js';
import { rejection } from './rejection.js';
import { startSeaweed, weedSkip, type Seaweed } from '../helpers/seaweed.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('fetchToFile from s3:// (SeaweedFS)', { skip: weedSkip() }, () => {
  let weed: Seaweed;
  let dir: string;
  const bucket = `src-${randomBytes(4).toString('hex')}`;
  const body = randomBytes(6 * 1024 * 1024 + 3);
  before(async () => {
    weed = await startSeaweed();
    dir = await mkdtemp(join(tmpdir(), 's3-source-'));
    const admin = new S3Client({ endpoint: weed.endpoint, region: weed.region, forcePathStyle: true, credentials: weed.admin });
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'loras/style.safetensors', Body: body, ContentType: 'application/octet-stream' }));
    admin.destroy();
  });
  after(async () => {
    await weed?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('reads an object with keys from options (or per bucket) and reports its sha256', async () => {
    const got = await fetchToFile(`s3://${bucket}/loras/style.safetensors`, { path: join(dir, 'a.safetensors'), sha256: sha(body) }, { s3: { endpoint: weed.endpoint, credentials: weed.reader } });
    assert.equal(got.size, body.length);
    assert.equal(got.fileName, 'style.safetensors');
    assert.equal(sha(await readFile(join(dir, 'a.safetensors'))), sha(body));
    const perBucket = await fetchToFile(`s3://${bucket}/loras/style.safetensors`, { path: join(dir, 'b.safetensors') }, { s3: { endpoint: weed.endpoint }, credentials: { [`s3://${bucket}`]: { s3: weed.reader } } });
    assert.equal(perBucket.sha256, sha(body));
  });

  test('wrong keys are COMFY_SOURCE_DENIED; a missing key is COMFY_SOURCE_HTTP 404; nothing is left', async () => {
    const denied = await rejection(fetchToFile(`s3://${bucket}/loras/style.safetensors`, { path: join(dir, 'c.bin') }, { s3: { endpoint: weed.endpoint, credentials: { accessKeyId: 'nobody', secretAccessKey: 'wrong-secret' } }, retries: 0 }));
    assert.equal(denied.code, 'COMFY_SOURCE_DENIED');
    assert.match(denied.message, new RegExp(`s3://${bucket}/loras/style\\.safetensors`));
    assert.doesNotMatch(denied.message, /wrong-secret/);
    await assert.rejects(fetchToFile(`s3://${bucket}/nope.bin`, { path: join(dir, 'd.bin') }, { s3: { endpoint: weed.endpoint, credentials: weed.admin } }), { code: 'COMFY_SOURCE_HTTP', message: /404/ });
    await assert.rejects(fetchToFile(`s3://${bucket}`, { path: join(dir, 'e.bin') }, {}), { code: 'COMFY_SOURCE_REFUSED' });
    assert.deepEqual((await readdir(dir)).filter((n) => !n.endsWith('.safetensors')), []);
  });
});
