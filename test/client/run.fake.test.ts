/** ComfyClient against the in-process fake (test/client/fake-comfy.ts): faults and many runs. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionLostError, RunTimeoutError, ValidationError, WorkerStalledError } from '../../src/errors.js';
import { ComfyClient, type PromptGraph, type RunEvent } from '../../src/client/index.js';
import { startFakeComfy, type FakeComfy, type FakeFaults } from './fake-comfy.js';

const prompt = (tag: number): PromptGraph => ({
  '1': { class_type: 'EmptyImage', inputs: { color: tag } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: `p${tag}` } },
});

async function withFake(faults: FakeFaults, options: Partial<ConstructorParameters<typeof ComfyClient>[0]>, fn: (fake: FakeComfy, client: ComfyClient) => Promise<void>) {
  const fake = await startFakeComfy(faults);
  const client = new ComfyClient({ url: fake.url, pollIntervalMs: 100, quietMs: 300, ...options });
  try {
    await fn(fake, client);
  } finally {
    client.close();
    await fake.close();
  }
}

describe('ComfyClient against the fake server', { timeout: 60_000 }, () => {
  test('100 runs queued at once resolve with 100 distinct, correct results', () =>
    withFake({}, {}, async (_fake, client) => {
      const tags = Array.from({ length: 100 }, (_, i) => i);
      const results = await Promise.all(tags.map((t) => client.run(prompt(t))));
      assert.equal(new Set(results.map((r) => r.promptId)).size, 100);
      results.forEach((r, i) => {
        assert.equal(r.history.prompt[1], r.promptId);
        assert.equal(r.history.prompt[2]['1']?.inputs['color'], tags[i]);
        assert.equal(r.outputs[0]?.filename, `${r.promptId}.png`);
      });
    }));

  test('queued events count the pending prompts ahead', () =>
    withFake({ slowMs: 50 }, {}, async (_fake, client) => {
      const positions: number[] = [];
      await Promise.all(
        [0, 1, 2].map((t) =>
          client.run(prompt(t), { onEvent: (e) => e.type === 'queued' && positions.push(e.position) }),
        ),
      );
      assert.equal(positions.length, 3);
      assert.ok(positions.every((p) => p >= 0 && p <= 2));
    }));

  test('sockets cut mid-run: the client reconnects with the same clientId and every run resolves', () =>
    withFake({ slowMs: 20, dropSocketsAfterMessages: 5 }, {}, async (fake, client) => {
      const results = await Promise.all([0, 1, 2, 3].map((t) => client.run(prompt(t))));
      assert.equal(results.length, 4);
      // run() waits for the socket, so this one goes out on the reconnected socket.
      results.push(await client.run(prompt(4)));
      assert.ok(fake.connections.length >= 2, 'reconnected');
      assert.ok(fake.connections.every((c) => c === client.clientId));
      results.forEach((r) => assert.equal(r.history.status?.status_str, 'success'));
    }));

  test('a dead worker (prompt pending, nothing running) rejects with WorkerStalledError', () =>
    withFake({ stallWorker: true }, { stallTimeoutMs: 500 }, async (_fake, client) => {
      const error = await client.run(prompt(1)).catch((e: unknown) => e);
      assert.ok(error instanceof WorkerStalledError, String(error));
      assert.equal(error.code, 'COMFY_WORKER_STALLED');
    }));

  test('a timeout while queued deletes the prompt and rejects with RunTimeoutError', () =>
    withFake({ stallWorker: true }, {}, async (_fake, client) => {
      const error = await client.run(prompt(1), { timeout: 300 }).catch((e: unknown) => e);
      assert.ok(error instanceof RunTimeoutError, String(error));
      const queue = await client.queue();
      assert.equal(queue.queue_pending.length, 0);
    }));

  test('validation errors from a 400 reject before anything runs', () =>
    withFake({}, {}, async (_fake, client) => {
      const events: RunEvent[] = [];
      const error = await client.run({ '1': { class_type: 'Invalid', inputs: {} } }, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
      assert.ok(error instanceof ValidationError);
      assert.equal(error.issues[0]?.inputName, 'x');
      assert.deepEqual(events.map((e) => e.type), ['error']);
    }));

  test('an already aborted signal rejects without posting', () =>
    withFake({}, {}, async (_fake, client) => {
      const error = await client.run(prompt(1), { signal: AbortSignal.abort() }).catch((e: unknown) => e);
      assert.equal((error as { code?: string }).code, 'COMFY_CANCELLED');
      assert.equal((await client.queue()).queue_pending.length, 0);
    }));

  test('a server that goes away rejects waiting runs with ConnectionLostError', async () => {
    const fake = await startFakeComfy({ stallWorker: true });
    const client = new ComfyClient({ url: fake.url, pollIntervalMs: 50, quietMs: 100, connectionGraceMs: 300, stallTimeoutMs: 60_000 });
    try {
      const events: RunEvent[] = [];
      const run = client.run(prompt(1), { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
      while (!events.some((e) => e.type === 'queued')) await new Promise((r) => setTimeout(r, 10));
      await fake.close();
      const error = await run;
      assert.ok(error instanceof ConnectionLostError, String(error));
    } finally {
      client.close();
    }
  });

  test('headers go on every HTTP call and on the socket', async () => {
    const seen: string[] = [];
    const fake = await startFakeComfy();
    const { createServer, request } = await import('node:http');
    // A forwarding proxy that records the Authorization header of every request and upgrade.
    const target = new URL(fake.url);
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['authorization'] ?? '-'}`);
      const forward = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
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
    const client = new ComfyClient({ url: `http://127.0.0.1:${port}`, headers: { Authorization: 'Bearer t0k' }, pollIntervalMs: 50, quietMs: 50, connectTimeoutMs: 500 });
    try {
      const result = await client.run(prompt(3));
      const bytes = await client.view({ filename: result.outputs[0]?.filename ?? '' });
      assert.ok(bytes.length > 8);
      assert.ok(seen.some((s) => s.startsWith('UPGRADE /ws?clientId=') && s.endsWith('Bearer t0k')), seen.join('\n'));
      assert.ok(seen.some((s) => s.startsWith('POST /prompt')));
      assert.ok(seen.every((s) => s.endsWith('Bearer t0k')), seen.join('\n'));
    } finally {
      client.close();
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
      await fake.close();
    }
  });
});
