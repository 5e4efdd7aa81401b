/**
 * ComfyClient against the stand-in ComfyUI (test/standin), whose fault injection
 * (POST /__standin/faults) provides what real ComfyUI cannot: dead workers, cut sockets, crashes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, ConnectionLostError, WorkerStalledError } from '../../src/errors.js';
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
