// uploadData() on a managed server: ephemeral files go at killApi(), plain ones stay, and a new
// model is visible to the loaders at once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ComfyConnector } from '../../src/connector.js';
import { connectorTargets, stopThenDelete, tinyPng } from './harness.js';

async function loraNames(connector: ComfyConnector): Promise<string[]> {
  const info = (await (await fetch(`${connector.url}/object_info/LoraLoader`)).json()) as {
    LoraLoader: { input: { required: { lora_name: [string[] | string, { options?: string[] }?] } } };
  };
  const spec = info.LoraLoader.input.required.lora_name;
  return Array.isArray(spec[0]) ? spec[0] : (spec[1]?.options ?? []);
}

for (const target of connectorTargets()) {
  describe(`uploadData (${target.name})`, { skip: target.skip }, () => {
    test('an ephemeral model is gone after killApi(); a plain one stays', async (t) => {
      const { options, base, cleanup } = target.options();
      const stopFirst = stopThenDelete(t, cleanup);
      const connector = await ComfyConnector.create(options);
      stopFirst(() => connector.killApi());
      const [ephemeral, kept, image] = await connector.uploadData([
        { source: Buffer.from('ephemeral lora'), to: 'loras', name: 'eph.safetensors', subfolder: 'tests', ephemeral: true },
        { source: Buffer.from('kept lora'), to: 'loras', name: 'kept.safetensors' },
        { source: tinyPng(2, 2), to: 'input', name: 'eph-image.png', ephemeral: true },
      ]);
      const loras = join(base, 'models', 'loras');
      stopFirst(() => rmSync(join(loras, 'kept.safetensors'), { force: true }));
      assert.equal(ephemeral?.name, 'tests/eph.safetensors');
      assert.equal(ephemeral?.path, join(loras, 'tests', 'eph.safetensors'));
      assert.equal(ephemeral?.ephemeral, true);
      assert.equal(kept?.ephemeral, false);
      assert.equal(image?.name, 'eph-image.png');
      assert.equal(readFileSync(ephemeral!.path!, 'utf8'), 'ephemeral lora');
      assert.ok(existsSync(join(connector.server!.paths.inputDirectory, 'eph-image.png')));
      // Real ComfyUI's loaders list new files at once; the stand-in's /object_info is the recorded
      // catalogue, so there the server's live listing of the folder (GET /models/loras) is asked.
      const names = target.name === 'comfyui' ? await loraNames(connector) : ((await (await fetch(`${connector.url}/models/loras`)).json()) as string[]);
      assert.ok(names.includes('tests/eph.safetensors') && names.includes('kept.safetensors'), `LoraLoader lists: ${names.join(', ')}`);

      await connector.killApi();
      assert.equal(existsSync(ephemeral!.path!), false, 'the ephemeral model is gone');
      assert.equal(existsSync(join(connector.server!.paths.inputDirectory, 'eph-image.png')), false, 'the ephemeral image is gone');
      assert.equal(readFileSync(join(loras, 'kept.safetensors'), 'utf8'), 'kept lora', 'the plain upload stays');
    });
  });
}
