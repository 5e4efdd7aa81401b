/**
 * ComfyClient against a real ComfyUI (COMFYUI_PATH / COMFYUI_PYTHON), with the test node pack
 * (ComfyConnectorSlowCounter, ComfyConnectorRaise). One server for the whole file; the last test kills it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  CancelledError,
  ConnectionLostError,
  ExecutionError,
  InterruptedError,
  RunTimeoutError,
  ValidationError,
} from '../../src/errors.js';
import { ComfyClient, type PromptGraph, type RunEvent } from '../../src/client/index.js';
import { realSkip, startRealComfy, type RealComfy } from './real-comfy.js';
import { waitForEvent } from './wait-for-event.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const saveImage = (color: number, prefix = 'client-test'): PromptGraph => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 32, height: 32, batch_size: 1, color } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
});

const slow = (steps: number, delayMs: number, sendPreview = false): PromptGraph => ({
  '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: delayMs, send_preview: sendPreview } },
});

describe('ComfyClient against real ComfyUI', { skip: realSkip, timeout: 300_000 }, () => {
  let comfy: RealComfy;
  let client: ComfyClient;

  before(async () => {
    comfy = await startRealComfy();
    client = new ComfyClient({ url: comfy.url, pollIntervalMs: 200 });
  });

  after(async () => {
    client?.close();
    await comfy?.stop();
  });

  test('HTTP helpers answer typed values', async () => {
    const stats = await client.systemStats();
    assert.equal((stats['system'] as Record<string, unknown>)['comfyui_version'], '0.33.0');
    const info = await client.objectInfo('ComfyConnectorSlowCounter');
    assert.ok(info['ComfyConnectorSlowCounter'], 'the test node pack is loaded');
    assert.ok((await client.models()).includes('checkpoints'));
    assert.deepEqual(await client.history('00000000-0000-4000-8000-000000000000'), {});
    const features = await client.features();
    assert.equal(features['supports_preview_metadata'], true);
  });

  test('a run saves an image; files() returns PNG bytes and save() writes them by base name', async () => {
    const events: RunEvent[] = [];
    const result = await client.run(saveImage(0x102030), { onEvent: (e) => events.push(e) });
    assert.equal(result.outputs.length, 1);
    const [out] = result.outputs;
    assert.equal(out?.kind, 'image');
    assert.equal(out?.node, '2');
    assert.equal(out?.type, 'output');
    assert.equal(result.history.status?.status_str, 'success');
    const files = await result.files();
    assert.deepEqual(files[0]?.data.subarray(0, 8), PNG_MAGIC);
    const dir = await mkdtemp(join(tmpdir(), 'cc-client-save-'));
    try {
      const paths = await result.save(dir);
      assert.equal(paths.length, 1);
      assert.equal(basename(paths[0] ?? ''), out?.filename);
      assert.deepEqual((await readFile(paths[0] ?? '')).subarray(0, 8), PNG_MAGIC);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 3), ['queued', 'started', 'cached']);
    assert.equal(types.at(-1), 'success');
    assert.ok(events.some((e) => e.type === 'executing' && e.node === '2' && e.classType === 'SaveImage'));
    assert.ok(events.some((e) => e.type === 'executed' && e.node === '2'));
  });

  test('a cached re-run reports the cached nodes and resolves with the same outputs', async () => {
    const prompt = saveImage(0x405060, 'client-cached');
    const first = await client.run(prompt);
    const events: RunEvent[] = [];
    const second = await client.run(prompt, { onEvent: (e) => events.push(e) });
    const cached = events.find((e) => e.type === 'cached');
    assert.ok(cached && cached.type === 'cached');
    assert.deepEqual([...cached.nodes].sort(), ['1', '2']);
    assert.ok(!events.some((e) => e.type === 'executing'), 'nothing ran again');
    assert.deepEqual(second.outputs.map((o) => o.filename), first.outputs.map((o) => o.filename));
  });

  test('tiled VAE nodes report progress per node and an overall fraction in [0,1]', async () => {
    const prompt: PromptGraph = {
      '1': { class_type: 'EmptyImage', inputs: { width: 256, height: 256, batch_size: 1, color: 0x808080 } },
      '2': { class_type: 'VAELoader', inputs: { vae_name: 'pixel_space' } },
      '3': { class_type: 'VAEEncodeTiled', inputs: { pixels: ['1', 0], vae: ['2', 0], tile_size: 64, overlap: 0, temporal_size: 64, temporal_overlap: 8 } },
      '4': { class_type: 'VAEDecodeTiled', inputs: { samples: ['3', 0], vae: ['2', 0], tile_size: 64, overlap: 0, temporal_size: 64, temporal_overlap: 8 } },
      '5': { class_type: 'PreviewImage', inputs: { images: ['4', 0] } },
    };
    const events: RunEvent[] = [];
    const result = await client.run(prompt, { onEvent: (e) => events.push(e) });
    const progress = events.filter((e): e is Extract<RunEvent, { type: 'progress' }> => e.type === 'progress');
    assert.ok(progress.length > 0, 'progress events arrived');
    const nodes = new Set(progress.map((p) => p.node));
    assert.ok(nodes.has('3') || nodes.has('4'), `progress for a tiled node, got ${[...nodes].join(',')}`);
    for (const p of progress) {
      assert.ok(p.overall >= 0 && p.overall <= 1);
      assert.ok(p.value <= p.max);
    }
    for (let i = 1; i < progress.length; i++) assert.ok((progress[i]?.overall ?? 0) >= (progress[i - 1]?.overall ?? 0), 'overall never goes back');
    assert.equal(result.outputs[0]?.type, 'temp');
  });

  test('previews arrive as image events routed to our node with preview_method auto', async () => {
    const events: RunEvent[] = [];
    await client.run(slow(4, 20, true), { extraData: { preview_method: 'auto' }, onEvent: (e) => events.push(e) });
    const previews = events.filter((e): e is Extract<RunEvent, { type: 'preview' }> => e.type === 'preview');
    assert.ok(previews.length >= 1);
    assert.equal(previews[0]?.mime, 'image/jpeg');
    assert.equal(previews[0]?.node, '1');
    assert.deepEqual(previews[0]?.data.subarray(0, 2), Buffer.from([0xff, 0xd8]));
  });

  test('a node that raises rejects with ExecutionError naming node, class, exception and traceback', async () => {
    const prompt: PromptGraph = { '7': { class_type: 'ComfyConnectorRaise', inputs: { message: 'boom from test' } } };
    const events: RunEvent[] = [];
    const error = await client.run(prompt, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    assert.ok(error instanceof ExecutionError, String(error));
    assert.equal(error.code, 'COMFY_EXECUTION');
    assert.equal(error.nodeId, '7');
    assert.equal(error.classType, 'ComfyConnectorRaise');
    assert.equal(error.exceptionType, 'RuntimeError');
    assert.match(error.exceptionMessage, /boom from test/);
    assert.ok(error.traceback.length > 0);
    assert.equal(events.at(-1)?.type, 'error');
  });

  test('a rejected prompt gives ValidationError with every node issue', async () => {
    const prompt: PromptGraph = {
      '1': { class_type: 'EmptyImage', inputs: { width: 999999, height: 32, batch_size: 1, color: 0 } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
    };
    const error = await client.run(prompt).catch((e: unknown) => e);
    assert.ok(error instanceof ValidationError, String(error));
    assert.equal(error.errorType, 'prompt_outputs_failed_validation');
    const issue = error.issues.find((i) => i.inputName === 'width');
    assert.ok(issue, JSON.stringify(error.issues));
    assert.equal(issue.nodeId, '1');
    assert.equal(issue.classType, 'EmptyImage');
    assert.equal(issue.type, 'value_bigger_than_max');
    assert.equal(issue.receivedValue, 999999);

    const missing = await client.run({ '1': { class_type: 'NoSuchNodeType', inputs: {} } }).catch((e: unknown) => e);
    assert.ok(missing instanceof ValidationError);
    assert.equal(missing.errorType, 'missing_node_type');
    assert.equal(missing.issues[0]?.classType, 'NoSuchNodeType');
  });

  test('a 200 with partial node_errors runs the valid outputs and surfaces the errors', async () => {
    const prompt: PromptGraph = {
      ...saveImage(0x112233, 'client-partial'),
      '3': { class_type: 'EmptyImage', inputs: { width: 999999, height: 32, batch_size: 1, color: 0 } },
      '4': { class_type: 'PreviewImage', inputs: { images: ['3', 0] } },
    };
    const events: RunEvent[] = [];
    const result = await client.run(prompt, { onEvent: (e) => events.push(e) });
    assert.ok(result.nodeErrors['3'], JSON.stringify(result.nodeErrors));
    assert.deepEqual(result.outputs.map((o) => o.node), ['2']);
    const queued = events.find((e) => e.type === 'queued');
    assert.ok(queued?.type === 'queued' && queued.nodeErrors?.['3']);
  });

  test('a run whose socket drops mid-run still resolves', async () => {
    const events: RunEvent[] = [];
    const pending = client.run(slow(15, 100), { onEvent: (e) => events.push(e) });
    await waitForEvent(events, 'started');
    (client as unknown as { socket: { recycle(): void } }).socket.recycle();
    const dropped = events.length;
    const result = await pending;
    assert.equal(result.history.status?.status_str, 'success');
    assert.deepEqual(result.history.outputs['1'], { count: [15] });
    // The new socket (same clientId) is registered, not unregistered by the old one's cleanup:
    // progress keeps arriving after the reconnect.
    assert.ok(events.slice(dropped).some((e) => e.type === 'progress' && e.value >= 12), 'progress after the reconnect');
  });

  test('many runs at once each resolve with their own result', async () => {
    const colors = Array.from({ length: 30 }, (_, i) => 0x010101 * (i + 1));
    const results = await Promise.all(colors.map((c) => client.run(saveImage(c, `client-many-${c}`))));
    const ids = new Set(results.map((r) => r.promptId));
    assert.equal(ids.size, colors.length);
    results.forEach((r, i) => {
      const graph = r.history.prompt[2];
      assert.equal(graph['1']?.inputs['color'], colors[i]);
      assert.match(r.outputs[0]?.filename ?? '', new RegExp(`^client-many-${colors[i]}_`));
    });
  });

  test('cancel while queued deletes the prompt; cancel while running interrupts it', async () => {
    const aEvents: RunEvent[] = [];
    const aController = new AbortController();
    const a = client.run(slow(100, 100), { signal: aController.signal, onEvent: (e) => aEvents.push(e) });
    const aRejected = a.catch((e: unknown) => e);
    await waitForEvent(aEvents, 'started');
    const bEvents: RunEvent[] = [];
    const bController = new AbortController();
    const b = client.run(slow(3, 10), { signal: bController.signal, onEvent: (e) => bEvents.push(e) }).catch((e: unknown) => e);
    await waitForEvent(bEvents, 'queued');
    const bQueued = bEvents.find((e) => e.type === 'queued');
    assert.ok(bQueued?.type === 'queued' && bQueued.position === 0);
    bController.abort();
    const bError = await b;
    assert.ok(bError instanceof CancelledError, String(bError));
    assert.equal(bError.stage, 'queued');
    const queue = await client.queue();
    assert.ok(!queue.queue_pending.some((i) => i[1] === bError.promptId), 'B is gone from the queue');

    aController.abort();
    const aError = await aRejected;
    assert.ok(aError instanceof CancelledError, String(aError));
    assert.equal(aError.stage, 'running');
    const entry = await client.historyEntry(aError.promptId ?? '');
    assert.equal(entry?.status?.status_str, 'error');
    assert.ok(entry?.status?.messages.some(([t]) => t === 'execution_interrupted'));
  });

  test('someone else interrupting our prompt rejects with InterruptedError', async () => {
    const events: RunEvent[] = [];
    const run = client.run(slow(100, 100), { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    await waitForEvent(events, 'executing');
    await client.interrupt();
    const error = await run;
    assert.ok(error instanceof InterruptedError, String(error));
    assert.equal(error.nodeId, '1');
  });

  test('a timeout cancels the prompt on the server and rejects with RunTimeoutError', async () => {
    const error = await client.run(slow(100, 100), { timeout: 1500 }).catch((e: unknown) => e);
    assert.ok(error instanceof RunTimeoutError, String(error));
    assert.equal(error.timeoutMs, 1500);
    assert.ok(error.promptId, 'the timeout names its prompt');
    // Our prompt is gone; the previous test's interrupted prompt may still be leaving the queue.
    const queue = await client.queue();
    const ours = [...queue.queue_running, ...queue.queue_pending].filter((item) => item[1] === error.promptId);
    assert.deepEqual(ours, []);
  });

  test('failAll rejects every waiting run at once', async () => {
    const events: RunEvent[] = [];
    const runs = [client.run(slow(100, 100), { onEvent: (e) => events.push(e) }), client.run(slow(100, 100))].map((p) =>
      p.catch((e: unknown) => e),
    );
    await waitForEvent(events, 'started');
    const crash = new Error('server crashed');
    client.failAll(crash);
    const outcome = await Promise.race([Promise.all(runs), new Promise((r) => setTimeout(() => r('still waiting'), 1000))]);
    assert.deepEqual(outcome, [crash, crash]);
    assert.equal(client.activeRuns, 0);
    // Leave the server idle for the next test.
    await client.clearQueue();
    await client.interrupt();
  });

  test('the server killed mid-run rejects with ConnectionLostError after the grace period', async () => {
    const fragile = new ComfyClient({ url: comfy.url, connectionGraceMs: 500, pollIntervalMs: 100 });
    try {
      const events: RunEvent[] = [];
      const run = fragile.run(slow(200, 100), { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
      await waitForEvent(events, 'executing');
      comfy.kill();
      const error = await run;
      assert.ok(error instanceof ConnectionLostError, String(error));
      const refused = await fragile.run(saveImage(0)).catch((e: unknown) => e);
      assert.ok(refused instanceof ConnectionLostError, String(refused));
    } finally {
      fragile.close();
    }
  });
});
