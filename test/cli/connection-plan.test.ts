import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectionPlan, describePlan } from '../../src/cli/connection.js';
import { ComfyError } from '../../src/errors.js';
import { UsageError } from '../../src/cli/usage-error.js';

test('flags win over COMFYUI_PATH/COMFYUI_PYTHON; seconds become milliseconds', () => {
  const plan = connectionPlan(
    { comfyui: '/flag/ComfyUI', arg: ['--lowvram'], startTimeout: '90', extraModelPaths: ['a.yaml'], port: '18188' },
    { COMFYUI_PATH: '/env/ComfyUI', COMFYUI_PYTHON: '/env/python' },
  );
  assert.ok(plan.mode === 'managed');
  const { location, ...rest } = plan;
  assert.deepEqual(rest, {
    mode: 'managed',
    options: { comfyuiPath: '/flag/ComfyUI', python: '/env/python', notices: 'silent', extraArgs: ['--lowvram'], extraModelPaths: ['a.yaml'], port: 18188, startTimeout: 90_000 },
  });
  assert.equal(location?.source, 'option');
  assert.equal(describePlan(plan), 'using ComfyUI at /flag/ComfyUI (from the comfyuiPath option (CLI: --comfyui)), Python /env/python (COMFYUI_PYTHON); starting it…');
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

test('without --comfyui or COMFYUI_PATH the ComfyUI comfy-cli installed is used, and the plan says so', () => {
  const home = mkdtempSync(join(tmpdir(), 'plan-home-'));
  try {
    const workspace = join(home, 'comfy', 'ComfyUI');
    mkdirSync(join(workspace, 'comfy'), { recursive: true });
    writeFileSync(join(workspace, 'main.py'), '');
    const plan = connectionPlan({}, { HOME: home, PATH: '' }, home);
    assert.ok(plan.mode === 'managed');
    assert.equal(plan.options.comfyuiPath, workspace);
    assert.match(describePlan(plan), new RegExp(`^using ComfyUI at ${workspace} \\(from comfy-cli's default workspace\\)`));
    rmSync(workspace, { recursive: true });
    assert.throws(() => connectionPlan({}, { HOME: home, PATH: '' }, home), (e: unknown) => e instanceof ComfyError && e.code === 'COMFY_NOT_FOUND' && /--comfyui DIR/.test(e.message));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('contradictions are usage errors', () => {
  assert.throws(() => connectionPlan({ url: 'http://x', comfyui: '/c' }, {}), /--comfyui/);
  assert.throws(() => connectionPlan({ url: 'http://x', arg: ['--cpu'] }, {}), /--arg/);
  assert.throws(() => connectionPlan({ url: 'not a url' }, {}), UsageError);
  assert.throws(() => connectionPlan({ comfyui: '/c', header: ['A: b'] }, {}), /--header only applies with --url/);
});
