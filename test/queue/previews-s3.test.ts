import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { JobEvent } from '../../src/queue/index.js';
import { normalizeSpec } from '../../src/queue/spec.js';
import { pngSize, tinyPng } from '../connector/harness.js';
import { redisSkip } from '../helpers/redis.js';
import { startSeaweed, weedSkip } from '../helpers/seaweed.js';
import { startFleet } from './fixtures.js';

const skip = redisSkip();

const previewPrompt = (steps: number) => ({ '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: 20, send_preview: true } } });

async function eventsOf(handle: { events(): AsyncIterable<JobEvent> }): Promise<JobEvent[]> {
  const out: JobEvent[] = [];
  for await (const e of handle.events()) out.push(e);
  return out;
}

test('worker: preview events only for a job that asked for them (previews: true), as base64 images', { skip }, async (t) => {
  const fleet = await startFleet(t);
  await fleet.worker({ servers: [fleet.standin(fleet.base('p'))] });
  assert.throws(() => normalizeSpec({ workflow: previewPrompt(1), previews: 'yes' as never }), { code: 'COMFY_BAD_JOB_INPUT' });
  const asked = await fleet.queue.submit(previewPrompt(3), { previews: true });
  const notAsked = await fleet.queue.submit(previewPrompt(3));
  await asked.result();
  await notAsked.result();
  const withPreviews = await eventsOf(asked);
  const previews = withPreviews.filter((e): e is Extract<JobEvent, { type: 'preview' }> => e.type === 'preview');
  assert.ok(previews.length >= 1, withPreviews.map((e) => e.type).join());
  for (const p of previews) {
    assert.match(p.mime, /^image\//);
    assert.ok(Buffer.from(p.base64, 'base64').length > 0);
  }
  assert.equal(withPreviews.at(-1)?.type, 'completed');
  const without = (await eventsOf(notAsked)).map((e) => e.type);
  assert.ok(without.includes('progress') && !without.includes('preview'), without.join());
});

test('worker: s3:// inputs are fetched with the S3 endpoint and keys of the worker\'s environment; a loopback http input stays refused', { skip: skip ?? weedSkip() }, async (t) => {
  const weed = await startSeaweed();
  const fleet = await startFleet(t); // its cleanup runs first (after hooks in order): workers, then weed
  t.after(() => weed.stop());
  const bucket = `fleet-${process.pid}`;
  const admin = new S3Client({ endpoint: weed.endpoint, region: weed.region, forcePathStyle: true, credentials: weed.admin });
  t.after(() => admin.destroy());
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/cat.png', Body: tinyPng(7, 4), ContentType: 'image/png' }));

  // The worker's environment names the S3 endpoint and keys (as an operator would set them); the job only names the object.
  const env = { AWS_ENDPOINT_URL_S3: weed.endpoint, AWS_REGION: weed.region, AWS_ACCESS_KEY_ID: weed.reader.accessKeyId, AWS_SECRET_ACCESS_KEY: weed.reader.secretAccessKey };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });
  await fleet.worker({ servers: [fleet.standin(fleet.base('s3'))] });
  const load = {
    '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 's3' } },
  };
  const job = await fleet.queue.submit(load, { inputs: { '1.image': `s3://${bucket}/in/cat.png` } });
  const result = await job.result();
  const out = result.outputs.find((o) => o.stored);
  assert.ok(out?.stored?.url);
  const { readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  assert.deepEqual(pngSize(readFileSync(fileURLToPath(out.stored.url))), { width: 7, height: 4 });

  // A missing object fails the job with the source's typed error, naming the URL.
  const missing = await fleet.queue.submit(load, { inputs: { '1.image': `s3://${bucket}/in/nope.png` } });
  await assert.rejects(missing.result(), (e: Error & { code?: string }) => e.code === 'COMFY_SOURCE_HTTP' && /nope\.png/.test(e.message));
  // The URL policy still holds for http(s): loopback is refused unless the operator allows it.
  const loopback = await fleet.queue.submit(load, { inputs: { '1.image': `${weed.endpoint}/${bucket}/in/cat.png` } });
  await assert.rejects(loopback.result(), { code: 'COMFY_SOURCE_REFUSED' });
});
