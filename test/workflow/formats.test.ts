import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isApiPrompt, isUiWorkflow, parseWorkflowInput } from '../../src/workflow/index.js';

const ui = { version: 0.4, nodes: [{ id: 1, type: 'Note' }], links: [] };
const api = { '3': { class_type: 'KSampler', inputs: { seed: 1 } } };

describe('formats', () => {
  test('tells UI workflows and API prompts apart', () => {
    assert.equal(isUiWorkflow(ui), true);
    assert.equal(isApiPrompt(ui), false);
    assert.equal(isApiPrompt(api), true);
    assert.equal(isUiWorkflow(api), false);
    assert.equal(isApiPrompt({}), false);
    assert.equal(isApiPrompt({ '1': { class_type: 'X' } }), false);
    assert.equal(isUiWorkflow({ nodes: [] }), false);
    assert.equal(isUiWorkflow({ nodes: [], state: {} }), true);
  });

  test('parses text and objects, including the {prompt} wrapper', () => {
    assert.deepEqual(parseWorkflowInput(JSON.stringify(ui)), ui);
    assert.deepEqual(parseWorkflowInput({ prompt: api, client_id: 'x' }), api);
    assert.deepEqual(parseWorkflowInput({ workflow: ui }), ui);
  });

  test('seeds above 2^53 round as JSON.parse rounds them, like the frontend', () => {
    const parsed = parseWorkflowInput('{"1": {"class_type": "KSampler", "inputs": {"seed": 18446744073709551615}}}');
    assert.equal(isApiPrompt(parsed) && parsed['1']?.inputs.seed, 18446744073709552000);
  });

  test('typed errors for text that is not JSON and for JSON that is neither format', () => {
    assert.throws(() => parseWorkflowInput('{nope'), (e: Error & { code?: string }) => e.code === 'COMFY_INVALID_WORKFLOW' && /not valid JSON/.test(e.message));
    assert.throws(() => parseWorkflowInput({ hello: 'world' }), (e: Error & { code?: string }) => e.code === 'COMFY_INVALID_WORKFLOW' && /neither/.test(e.message));
    assert.throws(() => parseWorkflowInput('[1,2]'), (e: Error & { code?: string }) => e.code === 'COMFY_INVALID_WORKFLOW');
  });
});
