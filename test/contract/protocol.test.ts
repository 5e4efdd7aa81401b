// The HTTP + WebSocket protocol, asserted identically against the stand-in and real ComfyUI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { contractTargets, type StartedTarget } from '../helpers/targets.js';
import { getJson, postJson, RecordingSocket } from '../helpers/comfy-ws.js';
import { assertHistoryEntryShape, RAISE_PROMPT, SAVE_PROMPT, SLOW_PROMPT, squash, webpSize } from './shapes.js';
import { NODE_REPLACEMENTS } from '../standin/node-replacements.js';

const RECORDED_STATS = JSON.parse(readFileSync(new URL('../fixtures/comfyui-0.33.0/system_stats.json', import.meta.url), 'utf8')) as { system: { comfy_package_versions: unknown[] } };

for (const target of contractTargets({ fork: true })) {
  describe(`protocol contract: ${target.name}`, { skip: target.skip, concurrency: 1 }, () => {
    let t: StartedTarget;
    let ws: RecordingSocket;
    const clientId = `contract-${target.name}-${randomUUID()}`;
    const queue = (prompt: unknown, extra: Record<string, unknown> = {}) => postJson(`${t.url}/prompt`, { prompt, client_id: clientId, ...extra });

    before(async () => {
      t = await target.start();
      ws = await RecordingSocket.open(t.url, clientId);
    });
    after(async () => { ws?.close(); await t?.stop(); });

    test('the test node pack (test/comfy-nodes, part of this repository) is loaded', async () => {
      // It ships with the repository, so a server without it is broken here, never a reason to skip.
      const info = await getJson(`${t.url}/object_info`);
      for (const name of ['ComfyConnectorSlowCounter', 'ComfyConnectorRaise']) assert.ok(info[name], `${name} missing from /object_info:\n${t.log().slice(-2000)}`);
    });

    test('/object_info lists the core nodes with their definitions', async () => {
      const info = await getJson(`${t.url}/object_info`);
      for (const name of ['KSampler', 'CheckpointLoaderSimple', 'SaveImage', 'EmptyImage', 'LoadImage', 'ImageInvert', 'PreviewImage', 'VAEDecodeTiled']) assert.ok(info[name], name);
      assert.equal(info.SaveImage.output_node, true);
      assert.deepEqual(info.SaveImage.input_order.required, ['images', 'filename_prefix']);
      assert.deepEqual(await getJson(`${t.url}/api/object_info/NoSuchNode`), {});
      const one = await getJson(`${t.url}/object_info/EmptyImage`);
      assert.deepEqual(Object.keys(one), ['EmptyImage']);
    });

    test('/system_stats, /features, /models, /embeddings, /prompt answer with the recorded shapes', async () => {
      const stats = await getJson(`${t.url}/system_stats`);
      assert.equal(stats.system.comfyui_version, '0.33.0');
      assert.ok(Array.isArray(stats.devices) && stats.devices.length >= 1);
      const features = await getJson(`${t.url}/api/features`);
      assert.equal(features.supports_preview_metadata, true);
      assert.equal(features.max_upload_size, 104857600);
      const models = await getJson(`${t.url}/models`);
      assert.ok(models.includes('checkpoints') && models.includes('custom_nodes'));
      assert.ok(Array.isArray(await getJson(`${t.url}/models/checkpoints`)));
      assert.equal((await fetch(`${t.url}/models/unet`)).status, 404);
      assert.ok(Array.isArray(await getJson(`${t.url}/embeddings`)));
      assert.deepEqual(await getJson(`${t.url}/prompt`), { exec_info: { queue_remaining: 0 } });
      assert.deepEqual(stats.system.comfy_package_versions, RECORDED_STATS.system.comfy_package_versions);
    });

    test('/node_replacements answers what v0.33 registers, as /features advertises', async () => {
      assert.equal((await getJson(`${t.url}/features`)).node_replacements, true);
      const replacements = await getJson(`${t.url}/node_replacements`);
      assert.deepEqual(replacements, NODE_REPLACEMENTS);
      assert.deepEqual(await getJson(`${t.url}/api/node_replacements`), replacements);
    });

    test('a normal run writes a PNG readable via /view and a history entry of the recorded shape', async () => {
      const from = ws.frames.length;
      const prefix = `contract_${target.name}`;
      const r = await queue(SAVE_PROMPT(prefix), { extra_data: { extra_pnginfo: { workflow: { id: 'wf-1' } } } });
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body).sort(), ['node_errors', 'number', 'prompt_id']);
      assert.deepEqual(r.body.node_errors, {});
      await ws.waitDone(r.body.prompt_id);
      const hist = await getJson(`${t.url}/history/${r.body.prompt_id}`);
      const entry = hist[r.body.prompt_id];
      assertHistoryEntryShape(entry, r.body.prompt_id);
      assert.equal(entry.status.status_str, 'success');
      assert.equal(entry.status.completed, true);
      assert.deepEqual(entry.outputs, { '2': { images: [{ filename: `${prefix}_00001_.png`, subfolder: '', type: 'output' }] } });
      assert.deepEqual(entry.prompt[4], ['2']);
      assert.equal(entry.prompt[3].client_id, clientId);
      const view = await fetch(`${t.url}/view?filename=${prefix}_00001_.png&type=output&subfolder=`);
      assert.equal(view.status, 200);
      assert.equal(view.headers.get('content-type'), 'image/png');
      const png = Buffer.from(await view.arrayBuffer());
      assert.deepEqual(png.subarray(1, 4).toString(), 'PNG');
      assert.ok(png.includes(Buffer.from('tEXtprompt\0')), 'prompt text chunk');
      assert.ok(png.includes(Buffer.from('tEXtworkflow\0{"id": "wf-1"}')), 'workflow text chunk');
      assert.ok(existsSync(join(t.dirs.output, `${prefix}_00001_.png`)));
      // ?preview=webp;50 converts: a WebP of the same size (lossy on ComfyUI, lossless on the stand-in).
      const preview = await fetch(`${t.url}/view?filename=${prefix}_00001_.png&type=output&preview=webp;50`);
      assert.equal(preview.status, 200);
      assert.equal(preview.headers.get('content-type'), 'image/webp');
      assert.deepEqual(webpSize(Buffer.from(await preview.arrayBuffer())), { width: 16, height: 8 });

      const types = ws.forPrompt(r.body.prompt_id, from).map((m) => m.type);
      assert.deepEqual(squash(types), [
        'status', 'execution_start', 'execution_cached',
        'progress_state', 'executing', 'progress_state', // EmptyImage
        'executing', 'executed', 'progress_state', // SaveImage
        'execution_success', 'status', 'executing',
      ]);
    });

    test('a fully cached re-run replays executed with the old filenames and saves nothing', async () => {
      const prefix = `cached_${target.name}`;
      const first = await queue(SAVE_PROMPT(prefix, 0x00ff00));
      await ws.waitDone(first.body.prompt_id);
      const from = ws.frames.length;
      const again = await queue(SAVE_PROMPT(prefix, 0x00ff00));
      await ws.waitDone(again.body.prompt_id);
      const msgs = ws.forPrompt(again.body.prompt_id, from);
      assert.deepEqual(squash(msgs.map((m) => m.type)), ['status', 'execution_start', 'execution_cached', 'executed', 'progress_state', 'execution_success', 'status', 'executing']);
      assert.deepEqual(msgs.find((m) => m.type === 'execution_cached')!.data.nodes, ['1', '2']);
      assert.deepEqual((msgs.find((m) => m.type === 'executed')!.data.output as any).images[0].filename, `${prefix}_00001_.png`);
      assert.equal(existsSync(join(t.dirs.output, `${prefix}_00002_.png`)), false);
    });

    test('a node that raises ends with execution_error and an error history entry', async () => {
      const from = ws.frames.length;
      const r = await queue(RAISE_PROMPT('contract boom'));
      assert.equal(r.status, 200);
      await ws.waitDone(r.body.prompt_id);
      const msgs = ws.forPrompt(r.body.prompt_id, from);
      assert.deepEqual(squash(msgs.map((m) => m.type)).slice(-3), ['execution_error', 'status', 'executing']);
      assert.ok(!msgs.some((m) => m.type === 'execution_success'));
      const err = msgs.find((m) => m.type === 'execution_error')!.data;
      assert.deepEqual(Object.keys(err).sort(), ['current_inputs', 'current_outputs', 'exception_message', 'exception_type', 'executed', 'node_id', 'node_type', 'prompt_id', 'timestamp', 'traceback']);
      assert.equal(err.node_id, '2');
      assert.equal(err.node_type, 'ComfyConnectorRaise');
      assert.equal(err.exception_type, 'RuntimeError');
      assert.equal(err.exception_message, 'contract boom\n');
      assert.deepEqual(err.executed, ['1']);
      const entry = (await getJson(`${t.url}/history/${r.body.prompt_id}`))[r.body.prompt_id];
      assertHistoryEntryShape(entry, r.body.prompt_id);
      assert.equal(entry.status.status_str, 'error');
      assert.equal(entry.status.completed, false);
      assert.equal(entry.status.messages.at(-1)[0], 'execution_error');
    });

    test('interrupt with prompt_id stops a running SlowCounter: execution_interrupted, error history', async () => {
      const from = ws.frames.length;
      const r = await queue(SLOW_PROMPT(200, 100));
      await ws.waitFor((f) => f.kind === 'json' && f.type === 'progress' && f.data.prompt_id === r.body.prompt_id);
      const other = await postJson(`${t.url}/interrupt`, { prompt_id: randomUUID() });
      assert.equal(other.status, 200);
      const res = await postJson(`${t.url}/api/interrupt`, { prompt_id: r.body.prompt_id });
      assert.equal(res.status, 200);
      assert.equal(res.text, '');
      await ws.waitDone(r.body.prompt_id, 30_000);
      const msgs = ws.forPrompt(r.body.prompt_id, from);
      assert.deepEqual(squash(msgs.map((m) => m.type)).slice(-3), ['execution_interrupted', 'status', 'executing']);
      const data = msgs.find((m) => m.type === 'execution_interrupted')!.data;
      assert.deepEqual(Object.keys(data).sort(), ['executed', 'node_id', 'node_type', 'prompt_id', 'timestamp']);
      assert.equal(data.node_type, 'ComfyConnectorSlowCounter');
      const progress = msgs.filter((m) => m.type === 'progress');
      assert.ok(progress.length >= 1 && (progress.at(-1)!.data.value as number) < 200);
      const entry = (await getJson(`${t.url}/history/${r.body.prompt_id}`))[r.body.prompt_id];
      assert.equal(entry.status.status_str, 'error');
      assert.equal(entry.status.messages.at(-1)[0], 'execution_interrupted');
      assert.deepEqual(Object.keys(entry.status.messages.at(-1)[1]).sort(), ['executed', 'node_id', 'node_type', 'prompt_id', 'timestamp'], 'the history copy has no traceback either');
      // A bare reply (aiohttp's web.Response(status=200)) has no Content-Type.
      const idle = await fetch(`${t.url}/interrupt`, { method: 'POST' });
      assert.equal(idle.status, 200);
      assert.equal(idle.headers.get('content-type'), null);
      assert.equal(await idle.text(), '');
    });

    test('queued prompts wait behind the running one; a pending one can be deleted', async () => {
      const a = await queue(SLOW_PROMPT(30, 100));
      const b = await queue(SLOW_PROMPT(2, 1));
      const c = await queue(SLOW_PROMPT(3, 1));
      assert.ok(b.body.number > a.body.number && c.body.number > b.body.number);
      await ws.waitFor((f) => f.kind === 'json' && f.type === 'executing' && f.data.prompt_id === a.body.prompt_id);
      const q = await getJson(`${t.url}/queue`);
      assert.deepEqual(q.queue_running.map((i: unknown[]) => i[1]), [a.body.prompt_id]);
      assert.deepEqual(q.queue_pending.map((i: unknown[]) => i[1]).sort(), [b.body.prompt_id, c.body.prompt_id].sort());
      for (const item of [...q.queue_running, ...q.queue_pending]) assert.equal(item.length, 5);
      assert.deepEqual(await getJson(`${t.url}/prompt`), { exec_info: { queue_remaining: 3 } });
      const del = await postJson(`${t.url}/queue`, { delete: [c.body.prompt_id] });
      assert.equal(del.status, 200);
      const q2 = await getJson(`${t.url}/queue`);
      assert.deepEqual(q2.queue_pending.map((i: unknown[]) => i[1]), [b.body.prompt_id]);
      await postJson(`${t.url}/interrupt`, {});
      await ws.waitDone(b.body.prompt_id, 30_000);
      const hist = await getJson(`${t.url}/history`);
      assert.ok(hist[b.body.prompt_id]);
      assert.equal(hist[c.body.prompt_id], undefined);
      const last = await getJson(`${t.url}/history?max_items=1`);
      assert.deepEqual(Object.keys(last), [b.body.prompt_id]);
    });

    test('uploads: same bytes reuse the name, different bytes get "name (1).ext", overwrite replaces, traversal is 400', async () => {
      const up = async (name: string, data: Buffer, fields: Record<string, string> = {}) => {
        const form = new FormData();
        form.append('image', new Blob([new Uint8Array(data)], { type: 'image/png' }), name);
        for (const [k, v] of Object.entries(fields)) form.append(k, v);
        const r = await fetch(`${t.url}/upload/image`, { method: 'POST', body: form });
        const text = await r.text();
        return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
      };
      const png = readFileSync(join(t.dirs.output, `contract_${target.name}_00001_.png`));
      const name = `up_${target.name}.png`;
      assert.deepEqual((await up(name, png)).body, { name, subfolder: '', type: 'input' });
      assert.deepEqual((await up(name, png)).body, { name, subfolder: '', type: 'input' });
      const other = Buffer.concat([png, Buffer.from('x')]);
      assert.deepEqual((await up(name, other)).body, { name: `up_${target.name} (1).png`, subfolder: '', type: 'input' });
      assert.deepEqual((await up(name, other, { overwrite: 'true' })).body, { name, subfolder: '', type: 'input' });
      assert.deepEqual(readFileSync(join(t.dirs.input, name)), other);
      assert.deepEqual((await up(name, png, { subfolder: 'sub', type: 'input' })).body, { name, subfolder: 'sub', type: 'input' });
      assert.ok(existsSync(join(t.dirs.input, 'sub', name)));
      assert.equal((await up(name, png, { subfolder: '../../escape' })).status, 400);
      // An empty filename is not a file part for aiohttp: ComfyUI answers 500, not 400.
      assert.equal((await up('', png)).status, 500);
      const li = await queue({ '1': { class_type: 'LoadImage', inputs: { image: `sub/${name}` } }, '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } }, '3': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } } });
      assert.equal(li.status, 200, JSON.stringify(li.body));
      await ws.waitDone(li.body.prompt_id);
      const entry = (await getJson(`${t.url}/history/${li.body.prompt_id}`))[li.body.prompt_id];
      assert.equal(entry.status.status_str, 'success');
      const img = entry.outputs['3'].images[0];
      assert.equal(img.type, 'temp');
      assert.equal((await fetch(`${t.url}/view?filename=${img.filename}&type=temp`)).status, 200);
    });

    test('/view: hits, 404 for missing, 400 for ".." or bad type, 403 for subfolder escape', async () => {
      writeFileSync(join(t.dirs.input, 'plain.txt'), 'hello');
      const status = async (q: string) => (await fetch(`${t.url}/view?${q}`)).status;
      assert.equal(await status('filename=plain.txt&type=input'), 200);
      assert.equal(await status('filename=plain.txt%20[input]'), 200);
      assert.equal(await status('filename=plain.txt'), 404);
      assert.equal(await status('filename=nope.png&type=output'), 404);
      assert.equal(await status('type=output'), 404);
      assert.equal(await status('filename=../x.png'), 400);
      assert.equal(await status('filename=/etc/passwd'), 400);
      assert.equal(await status('filename=plain.txt&type=models'), 400);
      assert.equal(await status('filename=plain.txt&type=input&subfolder=../..'), 403);
    });

    test('validation errors: types, messages and body shapes', async () => {
      const bad = async (body: unknown) => { const r = await postJson(`${t.url}/prompt`, body); assert.equal(r.status, 400, JSON.stringify(r.body)); return r.body; };
      assert.deepEqual(await bad({ x: 1 }), { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });
      assert.deepEqual(await bad({ prompt: { '1': { class_type: 'Nope', inputs: {} } } }), {
        error: { type: 'missing_node_type', message: "Node 'Nope' not found. The custom node may not be installed.", details: "Node ID '#1'", extra_info: { node_id: '1', class_type: 'Nope', node_title: 'Nope' } }, node_errors: {},
      });
      assert.equal((await bad({ prompt: { '1': { inputs: {}, _meta: { title: 'T' } } } })).error.message, "Node 'T' has no class_type. The workflow may be corrupted or a custom node is missing.");
      assert.equal((await bad({ prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 1, height: 1, batch_size: 1, color: 0 } } } })).error.type, 'prompt_no_outputs');
      assert.equal((await bad({ prompt: SAVE_PROMPT('x'), prompt_id: 'not-a-uuid' })).error.type, 'invalid_prompt_id');

      const many = await bad({ prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 'abc', height: 99999, batch_size: 0 } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } } } });
      assert.equal(many.error.type, 'prompt_outputs_failed_validation');
      assert.equal(many.error.details, '');
      assert.deepEqual(Object.keys(many.node_errors), ['1']);
      assert.deepEqual(many.node_errors['1'].dependent_outputs, ['2']);
      assert.equal(many.node_errors['1'].class_type, 'EmptyImage');
      const byType = Object.fromEntries(many.node_errors['1'].errors.map((e: any) => [e.type, e]));
      assert.deepEqual(Object.keys(byType).sort(), ['invalid_input_type', 'required_input_missing', 'value_bigger_than_max', 'value_smaller_than_min']);
      assert.deepEqual(byType.invalid_input_type, {
        type: 'invalid_input_type', message: 'Failed to convert an input value to a INT value', details: "width, abc, invalid literal for int() with base 10: 'abc'",
        extra_info: { input_name: 'width', input_config: ['INT', { default: 512, min: 1, max: 16384, step: 1 }], received_value: 'abc', exception_message: "invalid literal for int() with base 10: 'abc'" },
      });
      assert.equal(byType.value_bigger_than_max.message, 'Value 99999 bigger than max of 16384');
      assert.equal(byType.value_smaller_than_min.message, 'Value 0 smaller than min of 1');
      assert.deepEqual(byType.required_input_missing, { type: 'required_input_missing', message: 'Required input is missing', details: 'color', extra_info: { input_name: 'color' } });

      const links = await bad({ prompt: { '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0, 3], filename_prefix: 'x' } }, '3': { class_type: 'SaveImage', inputs: { images: ['99', 0], filename_prefix: 'x' } } } });
      assert.equal(links.node_errors['2'].errors[0].type, 'bad_linked_input');
      assert.equal(links.node_errors['3'].errors[0].type, 'exception_during_validation');
      assert.equal(links.node_errors['3'].errors[0].details, "'99'");
      assert.equal(links.node_errors['3'].errors[0].extra_info.exception_type, 'KeyError');

      const combo = await bad({ prompt: { '1': { class_type: 'VAELoader', inputs: { vae_name: 'zzz.safetensors' } }, '2': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0 } }, '3': { class_type: 'VAEEncodeTiled', inputs: { pixels: ['2', 0], vae: ['1', 0], tile_size: 64, overlap: 0, temporal_size: 64, temporal_overlap: 8 } }, '4': { class_type: 'VAEDecodeTiled', inputs: { samples: ['3', 0], vae: ['1', 0], tile_size: 64, overlap: 0, temporal_size: 64, temporal_overlap: 8 } }, '5': { class_type: 'PreviewImage', inputs: { images: ['4', 0] } } } });
      const e = combo.node_errors['1'].errors[0];
      assert.equal(e.type, 'value_not_in_list');
      assert.equal(e.details.startsWith("vae_name: 'zzz.safetensors' not in"), true);
      assert.equal(e.extra_info.received_value, 'zzz.safetensors');

      const mismatch = await bad({ prompt: { '1': { class_type: 'SaveImage', inputs: { filename_prefix: 'x', images: ['2', 0] } }, '2': { class_type: 'VAELoader', inputs: { vae_name: 'pixel_space' } } } });
      assert.equal(mismatch.node_errors['1'].errors[0].type, 'return_type_mismatch');
      assert.equal(mismatch.node_errors['1'].errors[0].details, 'images, received_type(VAE) mismatch input_type(IMAGE)');
    });

    test('partial node_errors: the valid output is queued on 200, the failing one reported', async () => {
      const r = await queue({
        '1': { class_type: 'LoadImage', inputs: { image: 'not-there.png' } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
        '3': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } }, '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.node_errors, { '1': { errors: [{ type: 'custom_validation_failed', message: 'Custom validation failed for node', details: 'image - Invalid image file: not-there.png', extra_info: { input_name: 'image' } }], dependent_outputs: ['2'], class_type: 'LoadImage' } });
      await ws.waitDone(r.body.prompt_id);
      const entry = (await getJson(`${t.url}/history/${r.body.prompt_id}`))[r.body.prompt_id];
      assert.deepEqual(entry.prompt[4], ['4']);
      assert.deepEqual(Object.keys(entry.outputs), ['4']);
    });

    test('POST /history delete and clear', async () => {
      const all = await getJson(`${t.url}/history`);
      const [first] = Object.keys(all);
      assert.ok(first);
      assert.equal((await postJson(`${t.url}/history`, { delete: [first] })).status, 200);
      assert.deepEqual(await getJson(`${t.url}/history/${first}`), {});
      assert.equal((await postJson(`${t.url}/api/history`, { clear: true })).status, 200);
      assert.deepEqual(await getJson(`${t.url}/history`), {});
    });
  });
}
