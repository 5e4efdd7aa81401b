import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeBinaryFrame } from '../../scripts/recorder/binary-frame.js';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

describe('describeBinaryFrame', () => {
  test('type 1 keeps the image format and the whole frame length, not the bytes', () => {
    const frame = Buffer.concat([u32(1), u32(1), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])]);
    assert.deepEqual(describeBinaryFrame(frame), { kind: 'ws-binary', eventType: 1, length: 15, imageFormat: 1 });
  });

  test('type 1 with a PNG reports format 2', () => {
    const frame = Buffer.concat([u32(1), u32(2), Buffer.from('\x89PNG')]);
    assert.equal(describeBinaryFrame(frame).imageFormat, 2);
  });

  test('type 4 parses the JSON metadata header', () => {
    const metadata = { node_id: '3', prompt_id: 'p', display_node_id: '3', parent_node_id: null, real_node_id: '3', image_type: 'image/jpeg' };
    const json = Buffer.from(JSON.stringify(metadata));
    const frame = Buffer.concat([u32(4), u32(json.length), json, Buffer.from([0xff, 0xd8])]);
    const step = describeBinaryFrame(frame);
    assert.equal(step.eventType, 4);
    assert.equal(step.length, frame.length);
    assert.deepEqual(step.metadata, metadata);
    assert.equal(step.imageFormat, undefined);
  });

  test('type 3 splits node id and text', () => {
    const nodeId = Buffer.from('12');
    const frame = Buffer.concat([u32(3), u32(nodeId.length), nodeId, Buffer.from('hello ✓')]);
    const step = describeBinaryFrame(frame);
    assert.equal(step.nodeId, '12');
    assert.equal(step.text, 'hello ✓');
  });

  test('a frame shorter than its event type is reported with eventType -1', () => {
    assert.deepEqual(describeBinaryFrame(Buffer.from([0, 1])), { kind: 'ws-binary', eventType: -1, length: 2 });
  });

  test('an unknown event type keeps only type and length', () => {
    const step = describeBinaryFrame(Buffer.concat([u32(9), u32(1), Buffer.from('x')]));
    assert.deepEqual(step, { kind: 'ws-binary', eventType: 9, length: 9 });
  });
});
