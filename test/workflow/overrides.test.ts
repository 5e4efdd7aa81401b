import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOverrides, type ApiPrompt } from '../../src/workflow/index.js';

const prompt: ApiPrompt = {
  '3': { class_type: 'KSampler', inputs: { seed: 1, steps: 20, model: ['4', 0] }, _meta: { title: 'KSampler' } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a', clip: ['4', 1] }, _meta: { title: 'Positive' } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'b', clip: ['4', 1] }, _meta: { title: 'Negative' } },
  '8': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'x' }, _meta: { title: 'SD v1.5 loader' } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'p' }, _meta: { title: 'Dup' } },
  '10': { class_type: 'SaveImage', inputs: { filename_prefix: 'q' }, _meta: { title: 'Dup' } },
};

describe('applyOverrides', () => {
  test('by id, by title, by unique class_type; titles with dots split on the last dot', () => {
    const out = applyOverrides(prompt, { '6.text': 'cat', 'Negative.text': 'dog', 'KSampler.seed': 42, 'SD v1.5 loader.ckpt_name': 'y' });
    assert.equal(out['6']?.inputs.text, 'cat');
    assert.equal(out['7']?.inputs.text, 'dog');
    assert.equal(out['3']?.inputs.seed, 42);
    assert.equal(out['8']?.inputs.ckpt_name, 'y');
  });

  test('input names with dots (dynamic combo inputs) resolve', () => {
    const withDots: ApiPrompt = { ...prompt, '20': { class_type: 'Resize', inputs: { resize_type: 'scale by multiplier', 'resize_type.multiplier': 2 }, _meta: { title: 'Resize' } } };
    assert.equal(applyOverrides(withDots, { 'Resize.resize_type.multiplier': 3 })['20']?.inputs['resize_type.multiplier'], 3);
    assert.equal(applyOverrides(withDots, { '20.resize_type.multiplier': 4 })['20']?.inputs['resize_type.multiplier'], 4);
  });

  test('returns a new prompt and leaves the input alone', () => {
    const out = applyOverrides(prompt, { '3.seed': 5 });
    assert.equal(prompt['3']?.inputs.seed, 1);
    assert.notEqual(out, prompt);
  });

  test('list values are wrapped as the frontend sends them; a [id, slot] pair stays a link', () => {
    const out = applyOverrides(prompt, { '6.text': ['a', 'b'], '3.model': ['8', 0] });
    assert.deepEqual(out['6']?.inputs.text, { __value__: ['a', 'b'] });
    assert.deepEqual(out['3']?.inputs.model, ['8', 0]);
  });

  test('OverrideError for unknown node, unknown input, ambiguous title or type, bad key', () => {
    const code = (e: Error & { code?: string }) => e.code === 'COMFY_BAD_OVERRIDE';
    assert.throws(() => applyOverrides(prompt, { 'Nope.seed': 1 }), code);
    assert.throws(() => applyOverrides(prompt, { 'KSampler.nope': 1 }), (e: Error) => code(e) && /has no input "nope"/.test(e.message));
    assert.throws(() => applyOverrides(prompt, { 'Dup.filename_prefix': 'z' }), (e: Error) => code(e) && /2 nodes are titled/.test(e.message));
    assert.throws(() => applyOverrides(prompt, { 'CLIPTextEncode.text': 'z' }), (e: Error) => code(e) && /2 nodes are of type/.test(e.message));
    assert.throws(() => applyOverrides(prompt, { seed: 1 }), code);
    assert.equal(applyOverrides(prompt, { '3.brand_new': 1 }, { allowNewInputs: true })['3']?.inputs.brand_new, 1);
  });
});
