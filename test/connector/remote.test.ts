// connect(url): the facade over a ComfyUI that something else started; no process, no filesystem.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ComfyConnector } from '../../src/connector.js';
import { ComfyError } from '../../src/errors.js';
import { contractTargets } from '../helpers/targets.js';
import { invertPrompt, loadImagePrompt, pngSize, tinyPng } from './harness.js';

function isCode(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ComfyError, `expected a ComfyError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

for (const target of contractTargets()) {
  describe(`connect() remote mode (${target.name})`, { skip: target.skip }, () => {
    test('runWorkflow works; model uploads and ephemeral files are COMFY_REMOTE_UNSUPPORTED; killApi leaves the server running', async (t) => {
      const server = await target.start();
      // One hook, client first: after hooks run in registration order.
      let connector: ComfyConnector | undefined;
      t.after(async () => {
        await connector?.killApi();
        await server.stop();
      });
      connector = await ComfyConnector.connect(server.url);
      assert.equal(connector.server, undefined);
      assert.equal(connector.url, server.url);

      const result = await connector.runWorkflow(invertPrompt('remote', 10, 6));
      assert.deepEqual(pngSize((await result.files())[0]!.data), { width: 10, height: 6 });
      assert.ok(existsSync(join(server.dirs.output, result.outputs[0]!.filename)), 'the remote server wrote it');

      // Inline inputs go through the upload route (they cannot be deleted remotely, so they stay).
      const withInput = await connector.runWorkflow(loadImagePrompt('remote-in'), { inputs: { 'LoadImage.image': tinyPng(5, 3) } });
      assert.deepEqual(pngSize((await withInput.files())[0]!.data), { width: 5, height: 3 });

      await assert.rejects(connector.uploadData({ source: Buffer.from('lora'), to: 'loras', name: 'remote.safetensors' }), isCode('COMFY_REMOTE_UNSUPPORTED'));
      await assert.rejects(connector.uploadData({ source: tinyPng(1, 1), to: 'input', name: 'eph.png', ephemeral: true }), isCode('COMFY_REMOTE_UNSUPPORTED'));
      const [plain] = await connector.uploadData({ source: tinyPng(1, 1), to: 'input', name: 'remote-plain.png' });
      assert.equal(plain?.name, 'remote-plain.png');
      assert.ok(existsSync(join(server.dirs.input, 'remote-plain.png')));

      await connector.killApi();
      await assert.rejects(connector.runWorkflow(invertPrompt('closed')), isCode('COMFY_CLOSED'));
      assert.equal((await fetch(`${server.url}/system_stats`)).ok, true, 'the remote server still runs');
    });

    test('connect() to an address where nothing answers rejects at once', async () => {
      await assert.rejects(ComfyConnector.connect('http://127.0.0.1:9'), (error: unknown) => error instanceof ComfyError);
    });
  });
}
