import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { decodeInputs } from '../../src/queue/run-job.js';
import { normalizeSpec } from '../../src/queue/spec.js';
import { tinyPng } from '../connector/harness.js';

const prompt = { '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } } };

test('job inputs are values: URLs, data: URLs, base64; a local path is refused at submit', () => {
  for (const bad of ['/etc/passwd', './cat.png', 'file:///etc/passwd', 'C:\\x.png']) {
    assert.throws(() => normalizeSpec({ workflow: prompt, inputs: { '1.image': bad } }), { code: 'COMFY_BAD_JOB_INPUT' });
  }
  assert.throws(() => normalizeSpec({ workflow: prompt, inputs: { '1.image': { base64: 'AAAA', filename: '../x.png' } } }), { code: 'COMFY_BAD_JOB_INPUT' });
  assert.throws(() => normalizeSpec({ workflow: prompt, inputs: { 'nodot': 'https://example.com/x.png' } }), { code: 'COMFY_BAD_JOB_INPUT' });
  const ok = normalizeSpec({ workflow: prompt, inputs: { '1.image': 'https://example.com/x.png' } });
  assert.equal(ok.inputs?.['1.image'], 'https://example.com/x.png');
});

test('URL inputs follow the source policy: loopback refused by default, fetched when the operator allows private networks', async (t) => {
  const png = tinyPng(3, 2);
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/x.png`;
  const signal = new AbortController().signal;
  await assert.rejects(decodeInputs({ '1.image': url }, signal, { env: {} }), { code: 'COMFY_SOURCE_REFUSED' });
  const fetched = await decodeInputs({ '1.image': url, '2.image': `data:image/png;base64,${png.toString('base64')}`, '3.image': { base64: png.toString('base64'), filename: 'a.png' } }, signal, { allowPrivateNetwork: true });
  assert.deepEqual(fetched?.['1.image'], png);
  assert.deepEqual(fetched?.['2.image'], png);
  assert.deepEqual(fetched?.['3.image'], png);
});
