/**
 * ComfyClient against the stand-in ComfyUI (test/standin), whose fault injection
 * (POST /__standin/faults) provides what real ComfyUI cannot: dead workers, cut sockets, crashes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CancelledError, ConnectionLostError, RunTimeoutError, ValidationError, WorkerStalledError } from '../../src/errors.js';
import { ComfyClient, type PromptGraph, type RunEvent } from '../../src/client/index.js';
import { startStandin, type StartedTarget } from '../helpers/targets.js';
import { waitForEvent } from './wait-for-event.js';

const saveImage = (color: number): PromptGraph => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: `c${color}` } },
});

const slow = (steps: number, delayMs: number): PromptGraph => ({
  '1': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: delayMs } },
});

async function setFaults(url: string, faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/__standin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
  assert.equal(res.status, 200);
}

describe('ComfyClient against the stand-in', { timeout: 120_000 }, () => {
  let target: StartedTarget;
  let client: ComfyClient;

  before(async () => {
    target = await startStandin();
    client = new ComfyClient({ url: target.url, pollIntervalMs: 100, quietMs: 300, stallTimeoutMs: 1000 });
  });

  after(async () => {
    client?.close();
    await target?.stop();
  });

  test('100 runs queued at once resolve with 100 distinct, correct results', async () => {
    const colors = Array.from({ length: 100 }, (_, i) => i * 1000 + 1);
    const results = await Promise.all(colors.map((c) => client.run(saveImage(c))));
    assert.equal(new Set(results.map((r) => r.promptId)).size, 100);
    assert.equal(new Set(results.map((r) => r.outputs[0]?.filename)).size, 100);
    results.forEach((r, i) => {
      assert.equal(r.history.prompt[1], r.promptId);
      assert.equal(r.history.prompt[2]['1']?.inputs['color'], colors[i]);
      assert.match(r.outputs[0]?.filename ?? '', new RegExp(`^c${colors[i]}_`));
    });
    const [first] = await results[0]!.files();
    assert.deepEqual(first?.data.subarray(0, 4), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  });

  test('sockets cut after a few messages: runs still resolve through reconnect and polling', async () => {
    await setFaults(target.url, { dropSocketsAfterMessages: 4, slowMs: 30 });
    try {
      const results = await Promise.all([1, 2, 3].map((c) => client.run(saveImage(c + 7))));
      for (const r of results) assert.equal(r.history.status?.status_str, 'success');
    } finally {
      await setFaults(target.url, {});
    }
  });

  test('a stalled worker rejects with WorkerStalledError', async () => {
    await setFaults(target.url, { stallWorker: true });
    try {
      const error = await client.run(saveImage(99)).catch((e: unknown) => e);
      assert.ok(error instanceof WorkerStalledError, String(error));
    } finally {
      await setFaults(target.url, {});
      await client.clearQueue();
    }
  });

  test('cancel while queued behind a running prompt removes it from the queue', async () => {
    const aEvents: RunEvent[] = [];
    const a = new AbortController();
    const runA = client.run(slow(100, 50), { signal: a.signal, onEvent: (e) => aEvents.push(e) }).catch((e: unknown) => e);
    await waitForEvent(aEvents, 'started');
    const b = new AbortController();
    const bEvents: RunEvent[] = [];
    const runB = client.run(saveImage(5), { signal: b.signal, onEvent: (e) => bEvents.push(e) }).catch((e: unknown) => e);
    await waitForEvent(bEvents, 'queued');
    b.abort();
    const bError = await runB;
    assert.ok(bError instanceof CancelledError && bError.stage === 'queued', String(bError));
    a.abort();
    const aError = await runA;
    assert.ok(aError instanceof CancelledError && aError.stage === 'running', String(aError));
    const queue = await client.queue();
    assert.equal(queue.queue_pending.length + queue.queue_running.length, 0);
  });
});

// These ran against test/client/fake-comfy.ts, a look-alike no contract checked; the stand-in is.
describe('ComfyClient against the stand-in: queueing, validation, abort, headers', { timeout: 120_000 }, () => {
  let target: StartedTarget;
  let client: ComfyClient;

  before(async () => {
    target = await startStandin();
    client = new ComfyClient({ url: target.url, pollIntervalMs: 100, quietMs: 300 });
  });

  after(async () => {
    client?.close();
    await target?.stop();
  });

  test('queued events count the prompts ahead', async () => {
    await setFaults(target.url, { stallWorker: true });
    const positions: number[] = [];
    const runs = [1, 2, 3].map((c) => client.run(saveImage(c + 200), { onEvent: (e) => { if (e.type === 'queued') positions.push(e.position); } }));
    try {
      while (positions.length < 3) await new Promise((r) => setTimeout(r, 10));
      // Submitted one after another onto a stalled queue: 0, 1 and 2 prompts ahead.
      assert.deepEqual([...positions].sort(), [0, 1, 2]);
    } finally {
      await setFaults(target.url, {});
    }
    for (const r of await Promise.all(runs)) assert.equal(r.history.status?.status_str, 'success');
  });

  test('queuePosition: false: no queued event (no GET /queue on the run\'s path); the other events come', async () => {
    const types: string[] = [];
    const result = await client.run(saveImage(207), { queuePosition: false, onEvent: (e) => types.push(e.type) });
    assert.equal(result.history.status?.status_str, 'success');
    assert.ok(!types.includes('queued'), types.join(', '));
    assert.ok(types.includes('executing') && types.includes('success'), types.join(', '));
  });

  test('a timeout while queued deletes the prompt and rejects with RunTimeoutError', async () => {
    await setFaults(target.url, { stallWorker: true });
    try {
      const error = await client.run(saveImage(300), { timeout: 300 }).catch((e: unknown) => e);
      assert.ok(error instanceof RunTimeoutError, String(error));
      const queue = await client.queue();
      assert.deepEqual(queue.queue_pending.map((item) => item[1]), [], 'the timed-out prompt was deleted from the queue');
    } finally {
      await setFaults(target.url, {});
    }
  });

  test('validation errors from a 400 reject before anything runs, naming the input', async () => {
    const events: RunEvent[] = [];
    const bad: PromptGraph = { ...saveImage(1), '1': { class_type: 'EmptyImage', inputs: { width: 0, height: 8, batch_size: 1, color: 0 } } };
    const error = await client.run(bad, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    assert.ok(error instanceof ValidationError, String(error));
    assert.equal(error.issues[0]?.nodeId, '1');
    assert.equal(error.issues[0]?.inputName, 'width');
    assert.deepEqual(events.map((e) => e.type), ['error']);
  });

  test('an already aborted signal rejects without posting', async () => {
    const before = Object.keys(await (await fetch(`${target.url}/history`)).json()).length;
    const error = await client.run(saveImage(400), { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    assert.ok(error instanceof CancelledError && error.stage === 'before-queue', String(error));
    assert.equal((await client.queue()).queue_pending.length, 0);
    assert.equal(Object.keys(await (await fetch(`${target.url}/history`)).json()).length, before, 'nothing was queued');
  });

  test('headers go on every HTTP call and on the socket; view() returns the saved bytes', async () => {
    const seen: string[] = [];
    const upstream = new URL(target.url);
    // A forwarding proxy that records the Authorization header of every request and upgrade.
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['authorization'] ?? '-'}`);
      const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      });
      req.pipe(forward);
    });
    proxy.on('upgrade', (req, socket) => {
      seen.push(`UPGRADE ${req.url} ${req.headers['authorization'] ?? '-'}`);
      socket.destroy();
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const address = proxy.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const viaProxy = new ComfyClient({ url: `http://127.0.0.1:${port}`, headers: { Authorization: 'Bearer t0k' }, pollIntervalMs: 50, quietMs: 50, connectTimeoutMs: 500 });
    try {
      const result = await viaProxy.run(saveImage(500));
      const filename = result.outputs[0]?.filename ?? '';
      const bytes = await viaProxy.view({ filename });
      assert.deepEqual(bytes, readFileSync(join(target.dirs.output, filename)), 'the bytes of the saved file');
      assert.ok(seen.some((s) => s.startsWith('UPGRADE /ws?clientId=') && s.endsWith('Bearer t0k')), seen.join('\n'));
      assert.ok(seen.some((s) => s.startsWith('POST /prompt')));
      assert.ok(seen.some((s) => s.startsWith('GET /view')));
      assert.ok(seen.every((s) => s.endsWith('Bearer t0k')), seen.join('\n'));
    } finally {
      viaProxy.close();
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});

describe('ComfyClient when the server goes away', { timeout: 120_000 }, () => {
  test('a run waiting in the queue rejects with ConnectionLostError once the server is gone', async () => {
    const target = await startStandin({ env: { COMFY_STANDIN_FAULTS: JSON.stringify({ stallWorker: true }) } });
    const client = new ComfyClient({ url: target.url, pollIntervalMs: 50, quietMs: 100, connectionGraceMs: 300, stallTimeoutMs: 60_000 });
    try {
      const events: RunEvent[] = [];
      const run = client.run(saveImage(6), { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
      await waitForEvent(events, 'queued');
      await target.stop();
      const error = await run;
      assert.ok(error instanceof ConnectionLostError, String(error));
    } finally {
      client.close();
      await target.stop();
    }
  });
});

describe('ComfyClient when the stand-in crashes mid-run', { timeout: 120_000 }, () => {
  test('the run rejects with ConnectionLostError once the server stays unreachable', async () => {
    const target = await startStandin();
    const client = new ComfyClient({ url: target.url, pollIntervalMs: 100, connectionGraceMs: 500 });
    try {
      await setFaults(target.url, { crashOnNode: 'SaveImage', crashSignal: 'SIGKILL' });
      const error = await client.run(saveImage(3)).catch((e: unknown) => e);
      assert.ok(error instanceof ConnectionLostError, String(error));
    } finally {
      client.close();
      await target.stop();
    }
  });
});
