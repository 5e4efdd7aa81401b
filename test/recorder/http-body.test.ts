import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describeHttpBody } from '../../scripts/recorder/http-body.js';
import { crc32, solidPng } from '../../scripts/recorder/png.js';

describe('describeHttpBody', () => {
  test('JSON content types are parsed', () => {
    assert.deepEqual(describeHttpBody('application/json; charset=utf-8', Buffer.from('{"a":[1]}')), { a: [1] });
  });

  test('invalid JSON under a JSON content type falls back to the text', () => {
    assert.equal(describeHttpBody('application/json', Buffer.from('{nope')), '{nope');
  });

  test('text bodies stay text, even when they look like JSON', () => {
    assert.equal(describeHttpBody('text/plain; charset=utf-8', Buffer.from('500 Internal Server Error')), '500 Internal Server Error');
    assert.equal(describeHttpBody('text/plain', Buffer.from('{}')), '{}');
  });

  test('an empty body is the empty string whatever the content type', () => {
    assert.equal(describeHttpBody('', Buffer.alloc(0)), '');
    assert.equal(describeHttpBody('image/png', Buffer.alloc(0)), '');
  });

  test('binary bodies are described by length and sha256', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]);
    assert.deepEqual(describeHttpBody('image/png', bytes), {
      contentType: 'image/png',
      length: 7,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });
});

describe('solidPng', () => {
  test('crc32 matches the known IEND chunk checksum', () => {
    assert.equal(crc32(Buffer.from('IEND', 'ascii')), 0xae426082);
  });

  test('writes a PNG signature, the requested size and is deterministic', () => {
    const png = solidPng(4, 3, [1, 2, 3, 4]);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
    assert.equal(png.readUInt32BE(16), 4);
    assert.equal(png.readUInt32BE(20), 3);
    assert.ok(png.equals(solidPng(4, 3, [1, 2, 3, 4])));
    assert.ok(!png.equals(solidPng(4, 3, [1, 2, 3, 5])));
  });
});
