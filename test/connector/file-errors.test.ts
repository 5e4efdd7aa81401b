// Every verb that reads a local file rejects a missing one with COMFY_FILE_UNREADABLE naming the
// file (not Node's raw ENOENT), before anything is queued or uploaded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyConnector } from '../../src/connector.js';
import { connectorTargets } from './harness.js';

const MISSING = join(tmpdir(), 'comfy-connector-no-such-dir', 'missing');

function isUnreadable(file: string, role: string) {
  return (error: unknown) => {
    const e = error as { code?: string; file?: string; message?: string };
    assert.equal(e.code, 'COMFY_FILE_UNREADABLE', String(e.message));
    assert.equal(e.file, file);
    assert.ok(e.message?.includes(`The ${role} file "${file}" does not exist.`), e.message);
    assert.match(e.message ?? '', /Check the path/);
    return true;
  };
}

const standin = connectorTargets().find((t) => t.name === 'standin')!;

describe('missing files (stand-in)', () => {
  let connector: ComfyConnector;
  let cleanup = () => {};
  before(async () => {
    const made = standin.options({ notices: 'silent' });
    cleanup = made.cleanup;
    connector = await ComfyConnector.launch(made.options);
  });
  after(async () => {
    await connector?.killApi();
    cleanup();
  });

  test('runWorkflow and getPromptFromWorkflow: the workflow file', async () => {
    await assert.rejects(connector.runWorkflow(`${MISSING}.json`), isUnreadable(`${MISSING}.json`, 'workflow'));
    await assert.rejects(connector.getPromptFromWorkflow(`${MISSING}.json`), isUnreadable(`${MISSING}.json`, 'workflow'));
  });

  test('runWorkflow inputs and uploadData: the source file, before anything is uploaded', async () => {
    const prompt = { '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } } };
    await assert.rejects(connector.runWorkflow(prompt, { inputs: { '1.image': `${MISSING}.png` } }), isUnreadable(`${MISSING}.png`, 'input'));
    await assert.rejects(connector.uploadData({ source: `${MISSING}.png`, to: 'input' }), isUnreadable(`${MISSING}.png`, 'upload source'));
    await assert.rejects(connector.uploadData({ source: `${MISSING}.safetensors`, to: 'loras' }), isUnreadable(`${MISSING}.safetensors`, 'upload source'));
  });
});

test('launch(): a missing extra_model_paths file fails before any process starts', async () => {
  const { options, cleanup } = standin.options({ extraModelPaths: [`${MISSING}.yaml`], notices: 'silent' });
  try {
    await assert.rejects(ComfyConnector.launch(options), isUnreadable(`${MISSING}.yaml`, 'extra_model_paths'));
  } finally {
    cleanup();
  }
});

test('create() without a ComfyUI anywhere: COMFY_NOT_FOUND listing the places, before any process starts', async (t) => {
  const saved = { HOME: process.env.HOME, COMFYUI_PATH: process.env.COMFYUI_PATH, PATH: process.env.PATH };
  const home = join(tmpdir(), `comfy-connector-empty-home-${process.pid}`);
  t.after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  process.env.HOME = home;
  delete process.env.COMFYUI_PATH;
  process.env.PATH = '';
  await assert.rejects(ComfyConnector.launch({ notices: 'silent' }), (error: unknown) => {
    const e = error as { code?: string; message?: string };
    assert.equal(e.code, 'COMFY_NOT_FOUND');
    assert.ok(e.message?.includes(join(home, '.config', 'comfy-cli', 'config.ini')), e.message);
    assert.match(e.message ?? '', /comfy install/);
    return true;
  });
});
