import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { collectOutputs, decodeBinaryFrame, safeFileName, validationErrorFromBody } from '../../src/client/index.js';
import type { HistoryEntry } from '../../src/client/index.js';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

describe('binary frames', () => {
  test('type 1 previews carry the format and the image bytes after 8 bytes', () => {
    const jpeg = decodeBinaryFrame(Buffer.concat([u32(1), u32(1), Buffer.from([0xff, 0xd8, 0xff])]));
    assert.deepEqual(jpeg, { kind: 'preview', mime: 'image/jpeg', data: Buffer.from([0xff, 0xd8, 0xff]) });
    const png = decodeBinaryFrame(Buffer.concat([u32(1), u32(2), Buffer.from([0x89, 0x50])]));
    assert.equal(png?.kind === 'preview' && png.mime, 'image/png');
  });

  test('type 4 previews are routed by the node and prompt id of their metadata', () => {
    const meta = Buffer.from(JSON.stringify({ node_id: '7', display_node_id: '7', prompt_id: 'p1', image_type: 'image/png' }));
    const frame = decodeBinaryFrame(Buffer.concat([u32(4), u32(meta.length), meta, Buffer.from('IMG')]));
    assert.deepEqual(frame, { kind: 'preview', mime: 'image/png', data: Buffer.from('IMG'), node: '7', promptId: 'p1' });
  });

  test('type 3 text frames split node id and text', () => {
    const frame = decodeBinaryFrame(Buffer.concat([u32(3), u32(2), Buffer.from('12hello')]));
    assert.deepEqual(frame, { kind: 'text', node: '12', text: 'hello' });
  });

  test('short, truncated and unknown frames are ignored', () => {
    assert.equal(decodeBinaryFrame(Buffer.from([0, 0, 0, 1])), undefined);
    assert.equal(decodeBinaryFrame(Buffer.concat([u32(4), u32(100), Buffer.from('{}')])), undefined);
    assert.equal(decodeBinaryFrame(Buffer.concat([u32(9), u32(0)])), undefined);
  });
});

describe('outputs of a history entry', () => {
  const entry = {
    prompt: [0, 'p', {}, {}, []],
    status: { status_str: 'success', completed: true, messages: [] },
    outputs: {
      '9': { images: [{ filename: 'a.png', subfolder: 'x', type: 'output' }] },
      '10': { images: [{ filename: 'b.webp', subfolder: '', type: 'output' }], animated: [true] },
      '11': { gifs: [{ filename: 'c.mp4', subfolder: '', type: 'output', format: 'video/h264-mp4' }] },
      '12': { audio: [{ filename: 'd.flac', subfolder: 'audio', type: 'output' }] },
      '13': { '3d': [{ filename: 'e.glb', subfolder: '3d', type: 'output' }] },
      '14': { text: ['hello', 'world'] },
      '15': { mystery: [{ filename: 'f.bin', subfolder: '', type: 'temp' }], count: [5] },
      '16': { images: [{ filename: 'g.png', subfolder: '', type: 'temp' }] },
    },
  } as unknown as HistoryEntry;

  test('every file gets its node, kind, key and type; texts are gathered per node', () => {
    const { outputs, texts } = collectOutputs(entry);
    const summary = outputs.map((o) => `${o.node}:${o.kind}:${o.key}:${o.type}:${o.subfolder}/${o.filename}`);
    assert.deepEqual(summary, [
      '9:image:images:output:x/a.png',
      '10:animated:images:output:/b.webp',
      '11:video:gifs:output:/c.mp4',
      '12:audio:audio:output:audio/d.flac',
      '13:3d:3d:output:3d/e.glb',
      '15:unknown:mystery:temp:/f.bin',
      '16:image:images:temp:/g.png',
    ]);
    assert.deepEqual(texts, { '14': ['hello', 'world'] });
  });

  test('server-supplied names are reduced to a base name', () => {
    assert.equal(safeFileName('../../etc/passwd'), 'passwd');
    assert.equal(safeFileName('..\\..\\evil.png'), 'evil.png');
    assert.equal(safeFileName('..'), 'output');
    assert.equal(safeFileName('/abs/x.png'), 'x.png');
  });
});

describe('validation errors', () => {
  test('a 400 body becomes one issue per failing input, with node, class, input, value and details', () => {
    const body = {
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
      node_errors: {
        '1': {
          class_type: 'EmptyImage',
          dependent_outputs: ['2'],
          errors: [
            { type: 'value_bigger_than_max', message: 'Value bigger than max', details: 'width 99999 > 16384', extra_info: { input_name: 'width', received_value: 99999 } },
          ],
        },
      },
    };
    const error = validationErrorFromBody(body, JSON.stringify(body));
    assert.equal(error.code, 'COMFY_VALIDATION');
    assert.equal(error.errorType, 'prompt_outputs_failed_validation');
    assert.deepEqual(error.issues, [
      { nodeId: '1', classType: 'EmptyImage', type: 'value_bigger_than_max', message: 'Value bigger than max', details: 'width 99999 > 16384', inputName: 'width', receivedValue: 99999 },
    ]);
    assert.match(error.message, /node 1 \(EmptyImage\) input "width"/);
  });

  test('missing_node_type names its node from extra_info', () => {
    const body = { error: { type: 'missing_node_type', message: "Node 'X' not found", details: '', extra_info: { node_id: '4', class_type: 'Nope', node_title: 'Nope' } }, node_errors: {} };
    const error = validationErrorFromBody(body, '');
    assert.equal(error.issues[0]?.nodeId, '4');
    assert.equal(error.issues[0]?.classType, 'Nope');
  });

  test('a body that is not JSON still gives a ValidationError with the text', () => {
    const error = validationErrorFromBody(undefined, 'bad things');
    assert.match(error.message, /bad things/);
  });
});

describe('RunResult.save', () => {
  test('writes server-named files inside the folder only, numbering clashing base names', async () => {
    const { buildRunResult } = await import('../../src/client/result.js');
    const { mkdtemp, readdir, rm, readFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join, dirname } = await import('node:path');
    const entry = {
      prompt: [0, 'p', {}, {}, []],
      outputs: {
        '1': { images: [{ filename: '../../escape.png', subfolder: 'a', type: 'output' }, { filename: 'escape.png', subfolder: 'b', type: 'output' }] },
      },
    } as unknown as HistoryEntry;
    const asked: string[] = [];
    const result = buildRunResult('p', entry, {}, async (ref) => {
      asked.push(`${ref.subfolder}/${ref.filename}`);
      return Buffer.from(ref.subfolder ?? '');
    });
    const dir = await mkdtemp(join(tmpdir(), 'cc-client-result-'));
    try {
      const paths = await result.save(dir);
      assert.deepEqual(paths, [join(dir, 'escape.png'), join(dir, 'escape (1).png')]);
      for (const p of paths) assert.equal(dirname(p), dir);
      assert.deepEqual((await readdir(dir)).sort(), ['escape (1).png', 'escape.png']);
      assert.equal(await readFile(join(dir, 'escape (1).png'), 'utf8'), 'b');
      assert.deepEqual(asked, ['a/../../escape.png', 'b/escape.png']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
