/**
 * The browser converter itself (src/workflow/browser.ts): errors are typed, conversion is
 * deterministic (no control_after_generate on graphToPrompt), randomness and the clock are
 * injectable, and close() leaves no browser profile behind. Uses the stand-in serving the real
 * frontend; skips with one line without chromium or the frontend package.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { BrowserError, InvalidWorkflowError, UnknownNodeTypeError } from '../../src/errors.js';
import { BrowserConverter, findChromium } from '../../src/workflow/browser.js';
import { oracleUnavailable, startOracleServer, type OracleServer } from './oracle-server.js';

const ownProfiles = () => readdirSync(tmpdir()).filter((n) => n.startsWith(`comfy-connector-chromium-${process.pid}-`));

/** A KSampler whose seed is set to "randomize", fed by a checkpoint loader; a SaveImage with %date%. */
function samplerWorkflow(text = 'a photo of a cat', prefix = 'ComfyUI'): Record<string, unknown> {
  const node = (id: number, type: string, widgets: unknown[], inputs: unknown[] = [], outputs: unknown[] = []) =>
    ({ id, type, pos: [0, 0], size: [200, 100], flags: {}, order: id, mode: 0, inputs, outputs, properties: {}, widgets_values: widgets });
  return {
    last_node_id: 9, last_link_id: 9, version: 0.4, groups: [], config: {}, extra: {},
    nodes: [
      node(4, 'CheckpointLoaderSimple', ['model.safetensors'], [], [
        { name: 'MODEL', type: 'MODEL', links: [1] }, { name: 'CLIP', type: 'CLIP', links: [3, 5] }, { name: 'VAE', type: 'VAE', links: [8] }]),
      node(6, 'CLIPTextEncode', [text], [{ name: 'clip', type: 'CLIP', link: 3 }], [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [4] }]),
      node(7, 'CLIPTextEncode', ['blurry'], [{ name: 'clip', type: 'CLIP', link: 5 }], [{ name: 'CONDITIONING', type: 'CONDITIONING', links: [6] }]),
      node(5, 'EmptyLatentImage', [512, 512, 1], [], [{ name: 'LATENT', type: 'LATENT', links: [2] }]),
      node(3, 'KSampler', [156680208700286, 'randomize', 20, 8, 'euler', 'normal', 1], [
        { name: 'model', type: 'MODEL', link: 1 }, { name: 'positive', type: 'CONDITIONING', link: 4 },
        { name: 'negative', type: 'CONDITIONING', link: 6 }, { name: 'latent_image', type: 'LATENT', link: 2 }],
      [{ name: 'LATENT', type: 'LATENT', links: [7] }]),
      node(8, 'VAEDecode', [], [{ name: 'samples', type: 'LATENT', link: 7 }, { name: 'vae', type: 'VAE', link: 8 }], [{ name: 'IMAGE', type: 'IMAGE', links: [9] }]),
      node(9, 'SaveImage', [prefix], [{ name: 'images', type: 'IMAGE', link: 9 }]),
    ],
    links: [
      [1, 4, 0, 3, 0, 'MODEL'], [2, 5, 0, 3, 3, 'LATENT'], [3, 4, 1, 6, 0, 'CLIP'], [4, 6, 0, 3, 1, 'CONDITIONING'],
      [5, 4, 1, 7, 0, 'CLIP'], [6, 7, 0, 3, 2, 'CONDITIONING'], [7, 3, 0, 8, 0, 'LATENT'], [8, 4, 2, 8, 1, 'VAE'], [9, 8, 0, 9, 0, 'IMAGE'],
    ],
  };
}

const IN_CI = process.env.CI === 'true';
describe('BrowserConverter without a server', { skip: findChromium() || IN_CI ? false : 'no chromium at /usr/bin/chromium: browser tests skipped' }, () => {
  test('a URL that serves nothing is a BrowserError naming it, and leaves no profile behind', async () => {
    const converter = new BrowserConverter({ url: 'http://127.0.0.1:9', bootTimeout: 20_000 });
    try {
      await assert.rejects(converter.convert(samplerWorkflow()), (error: unknown) =>
        error instanceof BrowserError && error.code === 'COMFY_BROWSER' && error.message.includes('127.0.0.1:9'));
    } finally {
      await converter.close();
    }
    assert.deepEqual(ownProfiles(), []);
  });

  test('a missing chromium and a malformed URL are BrowserErrors', async () => {
    assert.throws(() => new BrowserConverter({ url: 'not a url' }), BrowserError);
    const converter = new BrowserConverter({ url: 'http://127.0.0.1:9', executablePath: '/nonexistent/chromium' });
    await assert.rejects(converter.start(), (error: unknown) => error instanceof BrowserError && error.message.includes('/nonexistent/chromium'));
    await converter.close();
  });
});

const unavailable = oracleUnavailable();
describe('BrowserConverter with the real frontend', { skip: IN_CI ? false : unavailable ?? false }, () => {
  let server: OracleServer | undefined;
  let converter: BrowserConverter | undefined;

  before(async () => {
    assert.equal(unavailable, undefined, `CI installs chromium and the frontend package: ${unavailable}`);
    server = await startOracleServer();
    converter = new BrowserConverter({ url: server.url });
  });
  after(async () => {
    await converter?.close();
    await server?.stop();
  });

  test('boots the frontend 1.48.7 with the node definitions registered', async () => {
    const info = await converter!.start();
    assert.equal(info.frontendVersion, '1.48.7');
    assert.ok(info.nodeTypes > 800, `only ${info.nodeTypes} node types registered`);
  });

  test('converts without applying control_after_generate: the saved seed is sent, every time', async () => {
    const first = await converter!.convert(samplerWorkflow());
    const second = await converter!.convert(samplerWorkflow());
    assert.deepEqual(first, second);
    assert.equal(first['3']?.inputs.seed, 156680208700286);
    assert.deepEqual(first['3']?.inputs.model, ['4', 0]);
    assert.equal(first['3']?.class_type, 'KSampler');
    assert.deepEqual(Object.keys(first).sort(), ['3', '4', '5', '6', '7', '8', '9']);
  });

  test('dynamic prompts draw from the injected random, %date% reads the injected clock', async () => {
    const workflow = samplerWorkflow('a {red|green|blue} ball', 'out/%date:yyyy-MM-dd%');
    const pick = (r: number) => converter!.convert(workflow, { random: () => r, now: () => new Date(2024, 2, 5, 6, 7, 8) });
    assert.equal((await pick(0))['6']?.inputs.text, 'a red ball');
    assert.equal((await pick(0.99))['6']?.inputs.text, 'a blue ball');
    assert.equal((await pick(0))['9']?.inputs.filename_prefix, 'out/2024-03-05');
  });

  test('a node type the server lacks is an UnknownNodeTypeError naming node and type', async () => {
    const workflow = samplerWorkflow();
    (workflow.nodes as Array<{ id: number; type: string }>).find((n) => n.id === 8)!.type = 'NoSuchNodeAnywhere';
    await assert.rejects(converter!.convert(workflow), (error: unknown) =>
      error instanceof UnknownNodeTypeError && error.nodeId === '8' && error.classType === 'NoSuchNodeAnywhere');
    // The page is still usable afterwards: no dialog or half-loaded graph gets in the way.
    assert.equal((await converter!.convert(samplerWorkflow()))['8']?.class_type, 'VAEDecode');
  });

  test('input that is not a UI workflow is an InvalidWorkflowError', async () => {
    await assert.rejects(converter!.convert([1, 2, 3]), InvalidWorkflowError);
    await assert.rejects(converter!.convert({ nodes: 'nope', links: 7 }), InvalidWorkflowError);
  });

  test('a workflow the frontend cannot load is a BrowserError, and the page stays usable', async () => {
    const broken = { version: 0.4, nodes: [{ id: 1, type: 'abc-def', inputs: [], outputs: [] }], links: [], definitions: { subgraphs: [{ id: 'abc-def', nodes: 5 }] } };
    await assert.rejects(converter!.convert(broken), (error: unknown) =>
      error instanceof BrowserError && error.message.includes('could not load the workflow'));
    assert.equal((await converter!.convert(samplerWorkflow()))['5']?.class_type, 'EmptyLatentImage');
  });

  test('close() removes the profile and later calls fail with a BrowserError', async () => {
    const own = new BrowserConverter({ url: server!.url });
    await own.start();
    assert.ok(ownProfiles().length >= 1);
    await own.close();
    await own.close();
    await assert.rejects(own.convert(samplerWorkflow()), BrowserError);
  });
});
