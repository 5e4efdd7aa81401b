import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetStore, resolveModelFolders, allowedRoots } from '../../src/assets/index.js';
import { RemoteUnsupportedError, UnknownFolderError } from '../../src/errors.js';
import { DiskRouteClient, ForbiddenClient, tempComfyTree } from './fixtures.js';

describe('model folders', () => {
  test('the built-in table, aliases and output subfolders follow ComfyUI', (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const map = resolveModelFolders(tree.paths);
    const models = join(tree.paths.baseDirectory, 'models');
    assert.deepEqual(map.get('checkpoints'), [join(models, 'checkpoints'), join(tree.paths.outputDirectory, 'checkpoints')]);
    assert.deepEqual(map.get('diffusion_models'), [join(models, 'unet'), join(models, 'diffusion_models'), join(tree.paths.outputDirectory, 'diffusion_models')]);
    assert.deepEqual(map.get('text_encoders'), [join(models, 'text_encoders'), join(models, 'clip'), join(tree.paths.outputDirectory, 'clip')]);
    assert.deepEqual(map.get('controlnet'), [join(models, 'controlnet'), join(models, 't2i_adapter')]);
    assert.equal(map.has('unet'), false);
  });

  test('extra_model_paths files: base_path, blocks, is_default first, new keys, aliases', (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const yamlDir = join(tree.root, 'cfg');
    mkdirSync(yamlDir);
    const first = join(yamlDir, 'first.yaml');
    writeFileSync(first, [
      'shared:',
      '  base_path: /srv/models',
      '  loras: loras/',
      '  text_encoders: |',
      '    text_encoders/',
      '    clip/',
      '  ipadapter: ipadapter',
      'empty:',
      'relative:',
      '  unet: ../rel_unet',
      '',
    ].join('\n'));
    const second = join(yamlDir, 'second.yaml');
    writeFileSync(second, ['fast:', '  is_default: true', '  base_path: ./fast', '  loras: loras', '  checkpoints: /abs/ckpt', ''].join('\n'));
    const map = resolveModelFolders({ ...tree.paths, extraModelPaths: [first, second] });
    const models = join(tree.paths.baseDirectory, 'models');
    assert.deepEqual(map.get('loras'), [join(yamlDir, 'fast', 'loras'), join(models, 'loras'), '/srv/models/loras', join(tree.paths.outputDirectory, 'loras')]);
    assert.deepEqual(map.get('checkpoints'), ['/abs/ckpt', join(models, 'checkpoints'), join(tree.paths.outputDirectory, 'checkpoints')]);
    assert.deepEqual(map.get('text_encoders')?.slice(2, 4), ['/srv/models/text_encoders', '/srv/models/clip']);
    assert.deepEqual(map.get('ipadapter'), ['/srv/models/ipadapter']);
    assert.equal(map.get('diffusion_models')?.includes(join(tree.root, 'rel_unet')), true);
    const roots = allowedRoots(tree.paths, map);
    assert.equal(roots.includes('/srv/models/ipadapter'), true);
    assert.equal(roots.some((r) => r.endsWith('custom_nodes')), false);
  });

  test('a model goes into the first folder of its key, is_default included', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const yaml = join(tree.root, 'extra.yaml');
    writeFileSync(yaml, `mine:\n  is_default: true\n  base_path: ${tree.root}/shared\n  loras: loras\n  my_things: things\n`);
    const store = new AssetStore({ client: new ForbiddenClient(), paths: { ...tree.paths, extraModelPaths: [yaml] } });
    const [lora, thing, unet] = await store.upload([
      { source: Buffer.from('lora'), to: 'loras', name: 'a.safetensors' },
      { source: Buffer.from('thing'), to: 'my_things', name: 't.bin', subfolder: 'deep/er' },
      { source: Buffer.from('unet'), to: 'unet', name: 'u.safetensors' },
    ]);
    assert.equal(lora?.path, join(tree.root, 'shared', 'loras', 'a.safetensors'));
    assert.equal(thing?.name, 'deep/er/t.bin');
    assert.equal(thing?.path, join(tree.root, 'shared', 'things', 'deep', 'er', 't.bin'));
    assert.equal(unet?.folder, 'diffusion_models');
    assert.equal(unet?.path, join(tree.paths.baseDirectory, 'models', 'unet', 'u.safetensors'));
  });

  test('an unknown key is refused with the known keys listed', async (t) => {
    const tree = tempComfyTree();
    t.after(tree.cleanup);
    const store = new AssetStore({ client: new DiskRouteClient(tree.paths), paths: tree.paths });
    await assert.rejects(store.upload([{ source: Buffer.from('x'), to: 'lorax', name: 'x.bin' }]), (e: unknown) => {
      assert.ok(e instanceof UnknownFolderError);
      assert.equal(e.code, 'COMFY_UNKNOWN_FOLDER');
      assert.ok(e.known.includes('loras') && e.known.includes('input'));
      assert.match(e.message, /loras/);
      return true;
    });
    await assert.rejects(store.upload([{ source: Buffer.from('x'), to: 'custom_nodes', name: 'evil.py' }]), UnknownFolderError);
    // DiskRouteClient.models() lists "vae"...; a key the server has but we cannot place gets its own message.
    const odd = new AssetStore({
      client: Object.assign(new DiskRouteClient(tree.paths), { models: async () => ['runtime_key'] }),
      paths: tree.paths,
    });
    await assert.rejects(odd.upload([{ source: Buffer.from('x'), to: 'runtime_key', name: 'x.bin' }]), /custom node added it at run time/);
  });

  test('remote: model folders and ephemeral route uploads are refused, plain images go through', async () => {
    const calls: string[] = [];
    const client = {
      async uploadImage(o: { filename: string }) {
        calls.push(o.filename);
        return { name: o.filename, subfolder: 'pets', type: 'input' };
      },
      async uploadMask(o: { filename: string }) {
        calls.push(o.filename);
        return { name: o.filename, subfolder: '', type: 'input' };
      },
    };
    const store = new AssetStore({ client });
    await assert.rejects(store.upload([{ source: Buffer.from('x'), to: 'loras', name: 'x.safetensors' }]), RemoteUnsupportedError);
    await assert.rejects(store.upload([{ source: Buffer.from('x'), to: 'input', name: 'x.png', ephemeral: true }]), RemoteUnsupportedError);
    assert.deepEqual(calls, []);
    const [up] = await store.upload([{ source: Buffer.from('x'), to: 'input', name: 'cat.png', subfolder: 'pets' }]);
    assert.deepEqual(up, { folder: 'input', subfolder: 'pets', name: 'pets/cat.png', filename: 'cat.png', ephemeral: false });
    const report = await store.removeEphemeral();
    assert.deepEqual(report, { removed: [], restored: [], ignored: [] });
  });
});
