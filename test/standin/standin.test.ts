// Stand-in specifics that real ComfyUI has no counterpart for (PNG codec, argv parsing, fault
// injection) plus extra_model_paths.yaml handling.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePng, encodePng } from './png.js';
import { ArgError, parseArgs } from './args.js';
import { startStandin } from '../helpers/targets.js';
import { getJson, postJson, RecordingSocket } from '../helpers/comfy-ws.js';

const SAVE = { '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0 } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'f' } } };

describe('png codec', () => {
  test('encode → decode round-trips pixels and text chunks', () => {
    const data = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 37) % 256);
    const png = encodePng({ width: 3, height: 2, channels: 4, data }, { prompt: '{"a": 1}' });
    const back = decodePng(png);
    assert.equal(back.width, 3);
    assert.equal(back.height, 2);
    assert.equal(back.channels, 4);
    assert.deepEqual([...back.data], [...data]);
    assert.equal(back.texts.prompt, '{"a": 1}');
  });
  test('rejects what is not a PNG', () => {
    assert.throws(() => decodePng(Buffer.from('nope')), /not a PNG/);
  });
});

describe('argv parsing', () => {
  test('accepts ComfyUI flags, repeatable extra configs and optional values', () => {
    const a = parseArgs(['--cpu', '--port', '1234', '--listen', '--extra-model-paths-config', 'a.yaml', 'b.yaml', '--extra-model-paths-config', 'c.yaml', '--preview-method', 'auto', '--cache-ram']);
    assert.equal(a.cpu, true);
    assert.equal(a.port, '1234');
    assert.equal(a.listen, null);
    assert.deepEqual(a.extra_model_paths_config, [['a.yaml', 'b.yaml'], ['c.yaml']]);
    assert.deepEqual(a.cache_ram, []);
  });
  test('rejects unknown flags, bad ints and bad choices like argparse', () => {
    assert.throws(() => parseArgs(['--x', '1']), (e: unknown) => e instanceof ArgError && e.message === 'unrecognized arguments: --x 1');
    assert.throws(() => parseArgs(['--port', 'abc']), /invalid int value: 'abc'/);
    assert.throws(() => parseArgs(['--preview-method', 'bogus']), /invalid choice: 'bogus'/);
    assert.throws(() => parseArgs(['--port']), /expected one argument/);
  });
});

describe('stand-in servers', { concurrency: 1 }, () => {
  test('extra_model_paths.yaml folders show in /models and /models/<key>', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'standin-models-'));
    try {
      mkdirSync(join(dir, 'ckpt'), { recursive: true });
      writeFileSync(join(dir, 'ckpt', 'model.safetensors'), 'x');
      writeFileSync(join(dir, 'ckpt', 'notes.txt'), 'x');
      mkdirSync(join(dir, 'mine'));
      writeFileSync(join(dir, 'mine', 'thing.bin'), 'x');
      writeFileSync(join(dir, 'extra.yaml'), `sec:\n  base_path: ${dir}\n  checkpoints: ckpt/\n  my_things: mine\n`);
      const t = await startStandin({ extraArgs: ['--extra-model-paths-config', join(dir, 'extra.yaml')] });
      try {
        const keys = await getJson(`${t.url}/models`);
        assert.ok(keys.includes('my_things'));
        assert.deepEqual(await getJson(`${t.url}/models/checkpoints`), ['model.safetensors']);
        assert.deepEqual(await getJson(`${t.url}/api/models/my_things`), ['thing.bin']);
        assert.ok((await getJson(`${t.url}/internal/folder_paths`)).checkpoints.includes(join(dir, 'ckpt')));
      } finally {
        await t.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('faults: stallWorker (from env) keeps prompts pending until cleared; dropSocketsAfterMessages closes sockets', async () => {
    const t = await startStandin({ env: { COMFY_STANDIN_FAULTS: JSON.stringify({ stallWorker: true }) } });
    try {
      const ws = await RecordingSocket.open(t.url, 'fault-client');
      const r = await postJson(`${t.url}/prompt`, { prompt: SAVE, client_id: 'fault-client' });
      assert.equal(r.status, 200);
      const q = await getJson(`${t.url}/queue`);
      assert.deepEqual(q.queue_pending.map((i: unknown[]) => i[1]), [r.body.prompt_id]);
      assert.deepEqual(await getJson(`${t.url}/__standin/faults`), { stallWorker: true });
      assert.equal((await postJson(`${t.url}/__standin/faults`, {})).status, 200);
      await ws.waitDone(r.body.prompt_id);
      ws.close();

      await postJson(`${t.url}/__standin/faults`, { dropSocketsAfterMessages: 3 });
      const ws2 = await RecordingSocket.open(t.url, 'drop-client', false);
      const closed = new Promise<void>((res) => ws2.ws.once('close', () => res()));
      await postJson(`${t.url}/prompt`, { prompt: SAVE, client_id: 'drop-client' });
      await closed;
      assert.ok(ws2.frames.length <= 3);
    } finally {
      await t.stop();
    }
  });

  test('faults: crashOnNode makes the process exit mid-prompt with the given code', async () => {
    const t = await startStandin();
    try {
      const exited = new Promise<number | null>((res) => t.child.once('exit', (code) => res(code)));
      await postJson(`${t.url}/__standin/faults`, { crashOnNode: 'SaveImage', crashExitCode: 3 });
      assert.equal((await postJson(`${t.url}/prompt`, { prompt: SAVE })).status, 200);
      assert.equal(await exited, 3);
    } finally {
      await t.stop();
    }
  });
});
