import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionPlan } from '../../src/cli/connection.js';
import { UsageError } from '../../src/cli/usage-error.js';

test('flags win over COMFYUI_PATH/COMFYUI_PYTHON; seconds become milliseconds', () => {
  const plan = connectionPlan(
    { comfyui: '/flag/ComfyUI', arg: ['--lowvram'], startTimeout: '90', extraModelPaths: ['a.yaml'], port: '18188' },
    { COMFYUI_PATH: '/env/ComfyUI', COMFYUI_PYTHON: '/env/python' },
  );
  assert.deepEqual(plan, {
    mode: 'managed',
    options: { comfyuiPath: '/flag/ComfyUI', python: '/env/python', extraArgs: ['--lowvram'], extraModelPaths: ['a.yaml'], port: 18188, startTimeout: 90_000 },
  });
});

test('COMFY_CONNECTOR_COMMAND becomes the server command (how tests start the stand-in)', () => {
  const plan = connectionPlan({}, { COMFY_CONNECTOR_COMMAND: '["node","standin.js"]' });
  assert.deepEqual(plan, { mode: 'managed', options: { command: ['node', 'standin.js'] } });
});

test('--url uses a running server with its headers', () => {
  assert.deepEqual(connectionPlan({ url: 'http://127.0.0.1:8188', header: ['Authorization: Bearer t'] }, { COMFYUI_PATH: '/x' }), {
    mode: 'remote',
    url: 'http://127.0.0.1:8188',
    headers: { Authorization: 'Bearer t' },
  });
});

test('contradictions and a missing ComfyUI are usage errors', () => {
  assert.throws(() => connectionPlan({}, {}), (e: unknown) => e instanceof UsageError && /--comfyui DIR/.test(e.message));
  assert.throws(() => connectionPlan({ url: 'http://x', comfyui: '/c' }, {}), /--comfyui/);
  assert.throws(() => connectionPlan({ url: 'http://x', arg: ['--cpu'] }, {}), /--arg/);
  assert.throws(() => connectionPlan({ url: 'not a url' }, {}), UsageError);
  assert.throws(() => connectionPlan({ comfyui: '/c', header: ['A: b'] }, {}), /--header only applies with --url/);
});
