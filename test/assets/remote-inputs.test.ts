// connect() to a ComfyUI we do not manage: inline inputs (bytes and URLs) of a run go to temp, not
// input/, since ComfyUI has no route to delete an upload; network callers cannot name local paths.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { ComfyConnector } from '../../src/connector.js';
import { loadImagePrompt, pngSize, tinyPng } from '../connector/harness.js';
import { startOrigin } from '../helpers/http-origin.js';
import { startStandin } from '../helpers/targets.js';

test('remote inline inputs (bytes and URL) go to temp, leaving input/ as it was', { timeout: 180_000 }, async (t) => {
  const server = await startStandin();
  t.after(() => server.stop());
  const origin = await startOrigin();
  t.after(() => origin.stop());
  const connector = await ComfyConnector.connect(server.url, { sources: { fetch: { allowPrivateNetwork: true } } });
  t.after(() => connector.killApi());
  const before = readdirSync(server.dirs.input);
  const fromBytes = await connector.runWorkflow(loadImagePrompt('remote-bytes'), { inputs: { 'LoadImage.image': tinyPng(4, 6) } });
  assert.deepEqual(pngSize((await fromBytes.files())[0]!.data), { width: 4, height: 6 });
  const url = origin.add('remote-cat.png', { body: tinyPng(9, 2), type: 'image/png' });
  const fromUrl = await connector.runWorkflow(loadImagePrompt('remote-url'), { inputs: { 'LoadImage.image': url }, sourceKinds: { localPaths: false } });
  assert.deepEqual(pngSize((await fromUrl.files())[0]!.data), { width: 9, height: 2 });
  assert.deepEqual(readdirSync(server.dirs.input), before, 'nothing new in input/');
  assert.ok(readdirSync(server.dirs.temp).includes('remote-cat.png'), 'the URL input went to temp');
  await assert.rejects(connector.runWorkflow(loadImagePrompt('x'), { inputs: { 'LoadImage.image': '/etc/hostname' }, sourceKinds: { localPaths: false } }), { code: 'COMFY_UPLOAD' });
});
