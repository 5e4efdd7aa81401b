// Sources by URL and the output store through the facade, on the stand-in always and on real
// ComfyUI when COMFYUI_PATH/COMFYUI_PYTHON are set (same assertions): a model fetched by URL into
// the cache appears in its loader's list (and, on real ComfyUI, decodes a latent); an input image
// by URL feeds LoadImage; outputs land in an S3 bucket (SeaweedFS) and a folder, byte-equal.
import assert from 'node:assert/strict';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ComfyConnector } from '../../src/connector.js';
import { FolderStore } from '../../src/stores/folder-store.js';
import { S3Store } from '../../src/stores/s3-store.js';
import type { TransferProgress } from '../../src/sources/types.js';
import { connectorTargets, loadImagePrompt, pngSize, stopThenDelete, tinyPng } from '../connector/harness.js';
import { startOrigin } from '../helpers/http-origin.js';
import { startSeaweed, weedSkip } from '../helpers/seaweed.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

for (const target of connectorTargets()) {
  const real = target.name === 'comfyui';
  describe(`assets by URL and output stores (${target.name})`, { skip: target.skip ?? weedSkip(), timeout: 600_000 }, () => {
    test('model by URL → loader list (and a run on real ComfyUI); image by URL → LoadImage; outputs → S3 and folder, byte-equal', async (t) => {
      const { options, base, cleanup } = target.options();
      const after = stopThenDelete(t, cleanup);
      const scratch = mkdtempSync(join(tmpdir(), 'url-run-'));
      t.after(() => rmSync(scratch, { recursive: true, force: true }));
      const origin = await startOrigin();
      after(() => origin.stop());
      const weed = await startSeaweed();
      after(() => weed.stop());
      const bucket = `runs-${randomBytes(4).toString('hex')}`;
      const admin = new S3Client({ endpoint: weed.endpoint, region: weed.region, forcePathStyle: true, credentials: weed.admin });
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      admin.destroy();

      // The model: real weights for real ComfyUI (it decodes with them); any bytes for the stand-in.
      const vaeFile = join(scratch, 'random-taesd.safetensors');
      if (real) execFileSync(process.env.COMFYUI_PYTHON!, [fileURLToPath(new URL('./make_taesd.py', import.meta.url)), vaeFile], { stdio: 'pipe' });
      else writeFileSync(vaeFile, randomBytes(4096));
      const vaeBytes = readFileSync(vaeFile);
      const vaeUrl = origin.add('models/random-taesd.safetensors', { path: vaeFile });
      const imageUrl = origin.add('inputs/cat.png', { body: tinyPng(11, 7), type: 'image/png' });
      const lora = randomBytes(2048);
      const loraUrl = origin.add('extra-lora.safetensors', { body: lora });
      const manifestUrl = origin.add('manifest.yaml', { body: Buffer.from(`models:\n  - to: loras\n    url: ${loraUrl}\n    sha256: ${sha(lora)}\n`) });

      const connector = await ComfyConnector.launch({
        ...options,
        sources: { fetch: { allowPrivateNetwork: true, retryDelayMs: 10 }, modelCache: { dir: join(scratch, 'cache') }, models: manifestUrl },
      });
      after(() => connector.killApi());
      // The manifest's models are in place when launch() resolves.
      assert.deepEqual(readFileSync(join(connector.server!.paths.baseDirectory, 'models', 'loras', 'extra-lora.safetensors')), lora);

      const progress: TransferProgress[] = [];
      const [vae] = await connector.uploadData({ to: 'vae', source: vaeUrl, sha256: sha(vaeBytes) }, { onProgress: (p) => progress.push(p) });
      assert.equal(vae?.name, 'random-taesd.safetensors');
      assert.equal(vae?.sha256, sha(vaeBytes));
      assert.equal(vae?.cached, false);
      assert.ok(progress.at(-1)?.done);
      const placed = join(connector.server!.paths.baseDirectory, 'models', 'vae', 'random-taesd.safetensors');
      assert.equal(vae?.path, placed);
      assert.deepEqual(readFileSync(placed), vaeBytes);
      const again = await connector.uploadData({ to: 'vae', source: vaeUrl });
      assert.equal(again[0]?.cached, true);
      assert.equal(again[0]?.reused, true);
      assert.equal(origin.requests.filter((r) => r.path.includes('random-taesd')).length, 1, 'downloaded once');

      // Visible where the loader lists it: the next /object_info on real ComfyUI, the folder listing on the stand-in.
      const listed = real
        ? (((await (await fetch(`${connector.url}/object_info/VAELoader`)).json()) as { VAELoader: { input: { required: { vae_name: [string[]] } } } }).VAELoader.input.required.vae_name[0])
        : ((await (await fetch(`${connector.url}/models/vae`)).json()) as string[]);
      assert.ok(listed.includes('random-taesd.safetensors'), `listed: ${listed.join(', ')}`);

      const s3 = new S3Store({ bucket, endpoint: weed.endpoint, region: weed.region, credentials: weed.admin });
      after(() => s3.client.destroy());
      const result = await connector.runWorkflow(loadImagePrompt('url-in'), { inputs: { 'LoadImage.image': imageUrl }, store: s3, presign: true, runId: 'job-1' });
      const stored = result.stored ?? [];
      assert.equal(stored.length, 1);
      const out = stored[0]!;
      assert.match(out.key, /^runs\/job-1\/3\/url-in_\d+_\.png$/);
      assert.equal(out.mime, 'image/png');
      const onDisk = readFileSync(join(connector.server!.paths.outputDirectory, result.outputs[0]!.subfolder, result.outputs[0]!.filename));
      assert.deepEqual(pngSize(onDisk), { width: 11, height: 7 });
      assert.deepEqual(await readAll(await s3.get(out.key)), onDisk, 'the S3 object reads back byte-equal');
      assert.equal(out.sha256, sha(onDisk));
      const presigned = await fetch(out.presignedUrl!);
      assert.deepEqual(Buffer.from(await presigned.arrayBuffer()), onDisk);
      assert.equal(readdirSync(connector.server!.paths.inputDirectory).filter((n) => n.startsWith('cat')).length, 0, 'the URL input is removed after the run');

      if (real) {
        const folder = new FolderStore(join(scratch, 'store'));
        const decoded = await connector.runWorkflow({
          '1': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
          '2': { class_type: 'VAELoader', inputs: { vae_name: 'random-taesd.safetensors' } },
          '3': { class_type: 'VAEDecode', inputs: { samples: ['1', 0], vae: ['2', 0] } },
          '4': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'taesd-url' } },
        }, { store: folder });
        const file = decoded.stored?.[0];
        assert.ok(file);
        assert.deepEqual(readFileSync(join(scratch, 'store', file.key)), readFileSync(join(connector.server!.paths.outputDirectory, decoded.outputs[0]!.filename)));
      } else {
        const folder = new FolderStore(join(scratch, 'store'));
        const second = await connector.runWorkflow(loadImagePrompt('url-folder'), { inputs: { '1.image': imageUrl }, store: folder });
        const file = second.stored?.[0];
        assert.ok(file);
        assert.deepEqual(readFileSync(join(scratch, 'store', file.key)), readFileSync(join(connector.server!.paths.outputDirectory, second.outputs[0]!.filename)));
      }

      // Network callers: a path is refused, a private URL is refused under the default policy.
      await assert.rejects(connector.runWorkflow(loadImagePrompt('x'), { inputs: { 'LoadImage.image': '/etc/passwd' }, sourceKinds: { localPaths: false } }), { code: 'COMFY_UPLOAD', message: /never read as a local file/ });
      await assert.rejects(connector.runWorkflow(loadImagePrompt('x'), { inputs: { 'LoadImage.image': 'file:///etc/passwd' } }), { code: 'COMFY_SOURCE_REFUSED' });
      await assert.rejects(connector.uploadData({ to: 'input', source: `${origin.url}/files/missing.png` }), { code: 'COMFY_SOURCE_HTTP' });
      assert.equal(existsSync(join(base, 'input', 'missing.png')), false);
    });
  });
}
