import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetStore } from '../../src/assets/index.js';
import { ComfyClient } from '../../src/client/index.js';
import { killedUploader, listTree } from './fixtures.js';
import { COMFYUI_PYTHON, REAL_SKIP, STANDIN_SKIP, comboOptions, makePng, runPrompt, startRealComfy, startStandin, type RealComfy } from './real-comfy.js';

interface TargetTraits {
  /**
   * Real ComfyUI rebuilds loader combos from the model folders on every /object_info; the stand-in
   * (so far) serves a fixed catalogue, so its lists are read from GET /models/<key> instead.
   */
  objectInfoListsModels: boolean;
}

function assetSuite(title: string, skip: string | false, start: () => Promise<RealComfy>, traits: TargetTraits): void {
  describe(title, { skip, timeout: 600_000 }, () => {
    let comfy: RealComfy;
    let client: ComfyClient;
    let modelsChanged = 0;
    let store: AssetStore;
    const FOLDER_OF: Record<string, string> = { LoraLoader: 'loras', CheckpointLoaderSimple: 'checkpoints', VAELoader: 'vae' };
    /** The names a loader offers: its combo on real ComfyUI, the folder listing on the stand-in. */
    const loaderList = async (nodeClass: string, input: string): Promise<string[]> =>
      traits.objectInfoListsModels
        ? comboOptions(comfy.url, nodeClass, input)
        : ((await (await fetch(`${comfy.url}/models/${FOLDER_OF[nodeClass]}`)).json()) as string[]);

    before(async () => {
      comfy = await start();
      client = new ComfyClient({ url: comfy.url });
      store = new AssetStore({ client, paths: comfy.paths, onModelsChanged: () => void modelsChanged++ });
      await store.recover();
    });
    after(async () => {
      client?.close();
      await comfy?.stop();
    });

    test('an uploaded image (in a subfolder) feeds LoadImage -> SaveImage', async () => {
      // A path source goes up as a file-backed Blob (the name defaults to the basename).
      const source = join(comfy.root, 'cat.png');
      writeFileSync(source, makePng(16, 12, [200, 30, 30]));
      const [up] = await store.upload([{ source, to: 'input', subfolder: 'pets' }]);
      assert.equal(up?.name, 'pets/cat.png');
      assert.equal(up?.path, join(comfy.paths.inputDirectory, 'pets', 'cat.png'));
      const entry = await runPrompt(comfy.url, {
        '1': { class_type: 'LoadImage', inputs: { image: up?.name } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'assets_test' } },
      });
      const outputs = entry.outputs as Record<string, { images: Array<{ filename: string }> }>;
      const saved = outputs['2']?.images[0]?.filename as string;
      assert.match(saved, /^assets_test_/);
      assert.equal(existsSync(join(comfy.paths.outputDirectory, saved)), true);
    });

    test('collisions match ComfyUI: same bytes reuse the name, other bytes get "name (1).ext", overwrite replaces', async () => {
      const red = makePng(8, 8, [255, 0, 0]);
      const blue = makePng(8, 8, [0, 0, 255]);
      const green = makePng(8, 8, [0, 255, 0]);
      const r = await store.upload([
        { source: red, to: 'input', name: 'dup.png' },
        { source: red, to: 'input', name: 'dup.png', ephemeral: true },
        { source: blue, to: 'input', name: 'dup.png', ephemeral: true },
        { source: blue, to: 'input', name: 'dup.png' },
        { source: green, to: 'input', name: 'dup.png', ephemeral: true },
      ]);
      assert.deepEqual(r.map((x) => [x.name, x.ephemeral, x.reused ?? false]), [
        ['dup.png', false, false],
        ['dup.png', false, true],
        ['dup (1).png', true, false],
        ['dup (1).png', false, true],
        ['dup (2).png', true, false],
      ]);
      const [over] = await store.upload([{ source: blue, to: 'input', name: 'dup.png', overwrite: true, ephemeral: true }]);
      assert.equal(over?.replaced, true);
      assert.ok(readFileSync(join(comfy.paths.inputDirectory, 'dup.png')).equals(blue));
      await store.removeEphemeral();
      assert.ok(readFileSync(join(comfy.paths.inputDirectory, 'dup.png')).equals(red), 'the overwritten original is back');
      assert.equal(existsSync(join(comfy.paths.inputDirectory, 'dup (2).png')), false, 'the ephemeral upload is gone');
      assert.ok(readFileSync(join(comfy.paths.inputDirectory, 'dup (1).png')).equals(blue), 'kept: a plain upload reused it');
      assert.deepEqual(listTree(comfy.paths.inputDirectory).filter((f) => f.startsWith('dup') || f.startsWith('.')), ['dup (1).png', 'dup.png']);
    });

    test('ephemeral uploads to temp and output land where ComfyUI serves them, and go away', async () => {
      const png = makePng(4, 4, [1, 2, 3]);
      const [tmp, out] = await store.upload([
        { source: png, to: 'temp', name: 'scratch.png', ephemeral: true },
        { source: png, to: 'output', name: 'shown.png', subfolder: 'runs', ephemeral: true },
      ]);
      assert.equal(tmp?.name, 'scratch.png [temp]');
      assert.equal(out?.name, 'runs/shown.png [output]');
      const viewed = await fetch(`${comfy.url}/view?filename=scratch.png&type=temp`);
      assert.equal(viewed.status, 200);
      assert.ok(Buffer.from(await viewed.arrayBuffer()).equals(png));
      await store.removeEphemeral();
      assert.equal(existsSync(tmp?.path as string), false);
      assert.equal(existsSync(out?.path as string), false);
      assert.equal((await fetch(`${comfy.url}/view?filename=shown.png&subfolder=runs&type=output`)).status, 404);
    });

    test('a mask lands on its original image through /upload/mask', async () => {
      await store.upload([{ source: makePng(8, 8, [10, 200, 10]), to: 'input', name: 'base.png' }]);
      const [mask] = await store.upload([
        { source: makePng(8, 8, [0, 0, 0]), to: 'input', name: 'base-mask.png', mask: { originalRef: { filename: 'base.png', type: 'input' } }, ephemeral: true },
      ]);
      assert.equal(mask?.ephemeral, true);
      assert.equal(existsSync(mask?.path as string), true);
      await store.removeEphemeral();
      assert.equal(existsSync(mask?.path as string), false);
      await assert.rejects(
        store.upload([{ source: makePng(8, 8, [0, 0, 0]), to: 'input', name: 'orphan-mask.png', mask: { originalRef: { filename: 'nope.png', type: 'input' } } }]),
        /wrote no mask/,
      );
    });

    test('model files uploaded into loras and checkpoints appear in the loaders\' lists', async () => {
      const before = modelsChanged;
      const r = await store.upload([
        { source: Buffer.from('not really a lora'), to: 'loras', name: 'test-lora.safetensors', subfolder: 'mine' },
        { source: Buffer.from('not really a checkpoint'), to: 'checkpoints', name: 'test-ckpt.safetensors' },
      ]);
      assert.deepEqual(r.map((x) => x.name), ['mine/test-lora.safetensors', 'test-ckpt.safetensors']);
      assert.equal(modelsChanged, before + 1);
      assert.ok((await loaderList('LoraLoader', 'lora_name')).includes('mine/test-lora.safetensors'));
      assert.ok((await loaderList('CheckpointLoaderSimple', 'ckpt_name')).includes('test-ckpt.safetensors'));
      const listed = (await (await fetch(`${comfy.url}/models/loras`)).json()) as string[];
      assert.ok(listed.includes('mine/test-lora.safetensors'));
      assert.equal(existsSync(join(comfy.paths.baseDirectory, 'models', 'loras', 'mine', 'test-lora.safetensors')), true);
    });

    test('a SIGKILLed uploader\'s ephemeral files (sent through the real routes) are undone by recover()', async (t) => {
      const input = comfy.paths.inputDirectory;
      writeFileSync(join(input, 'crash-cat.png'), 'ORIGINAL');
      await killedUploader(t, comfy.paths, comfy.url, () => {
        assert.equal(readFileSync(join(input, 'crash-cat.png'), 'utf8'), 'ephemeral image');
        assert.equal(existsSync(join(input, 'crash-new.png')), true);
      });
      const report = await new AssetStore({ client, paths: comfy.paths }).recover();
      assert.deepEqual(report.ignored, []);
      assert.equal(readFileSync(join(input, 'crash-cat.png'), 'utf8'), 'ORIGINAL');
      assert.equal(existsSync(join(input, 'crash-new.png')), false);
      assert.equal(existsSync(join(comfy.paths.baseDirectory, 'models', 'loras', 'session', 'tmp.safetensors')), false);
      assert.equal(existsSync(join(comfy.paths.baseDirectory, 'models', 'loras', 'kept.safetensors')), true);
      assert.deepEqual(listTree(input).filter((f) => f.startsWith('.') || f.startsWith('crash')), ['crash-cat.png']);
    });

    test('a random TAESD-shaped VAE uploaded ephemeral decodes a latent, then removeEphemeral deletes it', async (t) => {
      const vaeFile = join(comfy.root, 'random-taesd.safetensors');
      // Real ComfyUI decodes with it, so it needs real weights (made with ComfyUI's own Python, which
      // the real suite requires anyway); the stand-in never reads model files, so any bytes do there.
      if (traits.objectInfoListsModels) execFileSync(COMFYUI_PYTHON as string, [fileURLToPath(new URL('./make_taesd.py', import.meta.url)), vaeFile], { stdio: 'pipe' });
      else writeFileSync(vaeFile, 'stand-in: never read');
      const [vae] = await store.upload([{ source: vaeFile, to: 'vae', name: 'random-taesd.safetensors', ephemeral: true }]);
      assert.equal(vae?.ephemeral, true);
      assert.ok((await loaderList('VAELoader', 'vae_name')).includes('random-taesd.safetensors'));
      if (traits.objectInfoListsModels) {
        const entry = await runPrompt(comfy.url, {
          '1': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
          '2': { class_type: 'VAELoader', inputs: { vae_name: 'random-taesd.safetensors' } },
          '3': { class_type: 'VAEDecode', inputs: { samples: ['1', 0], vae: ['2', 0] } },
          '4': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'taesd' } },
        });
        const outputs = entry.outputs as Record<string, { images: Array<{ filename: string }> }>;
        assert.match(outputs['4']?.images[0]?.filename ?? '', /^taesd_/);
      } else {
        t.diagnostic('the stand-in validates VAELoader against a fixed list, so the decode step is not run there');
      }

      const report = await store.removeEphemeral();
      assert.ok(report.removed.includes(vae?.path as string));
      assert.equal(existsSync(vae?.path as string), false);
      assert.equal((await loaderList('VAELoader', 'vae_name')).includes('random-taesd.safetensors'), false);
      assert.deepEqual(listTree(join(comfy.paths.baseDirectory, 'models', 'vae')), []);
      // Non-ephemeral uploads of the earlier tests are still there.
      assert.equal(existsSync(join(comfy.paths.baseDirectory, 'models', 'checkpoints', 'test-ckpt.safetensors')), true);
      assert.equal(existsSync(join(comfy.paths.baseDirectory, 'user', 'comfy-connector-journal')), false, 'journal and its emptied folder removed');
    });
  });
}

assetSuite('assets against real ComfyUI', REAL_SKIP, startRealComfy, { objectInfoListsModels: true });
assetSuite('assets against the stand-in', STANDIN_SKIP, startStandin, { objectInfoListsModels: false });
