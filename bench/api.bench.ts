/**
 * `npm run bench -- api`: what the HTTP service costs, side by side in one run on one stand-in
 * (real ComfyUI adds the same constant to every contestant; it only shrinks the ratios).
 *
 *   round trip  a sync job (EmptyImage 8x8 → PreviewImage, a new colour each call): direct
 *               runWorkflow on the server, the fleet's ComfyQueue submit → result (in-process worker
 *               attached to the same server), and POST /v1/jobs?wait=30 through the service (the
 *               embedded default: private redis-server with AOF, fsync everysec; the HTTP client
 *               runs on a thread of its own and times each request itself). Rounds rotate the
 *               order so drift in load hits every contestant alike.
 *   fsync       the same HTTP round trip on the default service and on one whose Redis fsyncs
 *               every write (--redis-fsync always), interleaved.
 *   submissions POST /v1/jobs (no wait) with 16 in flight, against ComfyQueue.submit with 16 in flight.
 *   SSE delay   per progress step of a ComfyConnectorSlowCounter job: SSE arrival at the client
 *               minus the arrival of the WebSocket message it came from at the worker's client
 *               (one process, one clock).
 * Run directly: node --import tsx bench/api.bench.ts   (BENCH_ROUNDS=50, BENCH_SUBMITS=400).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { ComfyConnector } from '../src/connector.js';
import { parseSse } from '../src/service/sse.js';
import { startService } from '../src/service/start.js';
import { startStandin } from '../test/helpers/targets.js';

interface Stats { median: number; p90: number; mean: number; n: number }

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { median: at(0.5), p90: at(0.9), mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1), n: sorted.length };
}

const KEY = `bench-${'b'.repeat(24)}`;
const prompt = (color: number) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: color % 0xffffff } },
  '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
});

async function concurrently(total: number, inFlight: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total) await fn(next++);
  }));
  return total / ((performance.now() - t0) / 1000);
}

// The HTTP client runs on a thread of its own, as a real client would in another process: on the
// service's event loop it would bill its own work to the service.
const CLIENT = `
const { parentPort, workerData: d } = require('node:worker_threads');
(async () => {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: d.inFlight }, async () => {
    while (next < d.total) {
      const i = next++;
      const workflow = { '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: (d.color + i) % 0xffffff } }, '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } } };
      const r = await fetch(d.url + '/v1/jobs', { method: 'POST', headers: d.headers, body: JSON.stringify({ workflow }) });
      if (r.status !== 202) throw new Error('service answered ' + r.status);
      await r.arrayBuffer();
    }
  }));
  parentPort.postMessage((performance.now() - t0) / 1000);
})().catch((e) => parentPort.postMessage(String(e)));
`;

// One request at a time from a thread of its own (node:http with a kept-alive connection, as a
// long-lived client would hold; \`fetch\` adds its own ~0.7 ms per request on Node 20, shown apart);
// it answers with the milliseconds it measured.
const SYNC_CLIENT = `
const { parentPort, workerData: headers } = require('node:worker_threads');
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function viaHttp(url, body) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function viaFetch(url, body) {
  const t0 = performance.now();
  const r = await fetch(url, { method: 'POST', headers, body });
  const text = await r.text();
  return { ms: performance.now() - t0, status: r.status, text };
}
parentPort.on('message', async ({ url, body, client }) => {
  try {
    const r = await (client === 'fetch' ? viaFetch : viaHttp)(url, body);
    parentPort.postMessage(r.status === 200 ? r.ms : 'service answered ' + r.status + ': ' + r.text);
  } catch (e) {
    parentPort.postMessage(String(e));
  }
});
`;

class SyncClient {
  readonly #worker: Worker;
  #pending: { resolve: (v: unknown) => void; reject: (e: unknown) => void } | undefined;
  constructor(headers: Record<string, string>) {
    this.#worker = new Worker(SYNC_CLIENT, { eval: true, workerData: headers });
    this.#worker.on('message', (m) => this.#pending?.resolve(m));
    this.#worker.on('error', (e) => this.#pending?.reject(e));
  }
  async post(url: string, body: string, client: 'http' | 'fetch' = 'http'): Promise<number> {
    const out = await new Promise<unknown>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#worker.postMessage({ url, body, client });
    });
    if (typeof out !== 'number') throw new Error(`HTTP client: ${String(out)}`);
    return out;
  }
  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}

async function httpClientSeconds(url: string, headers: Record<string, string>, total: number, inFlight: number, color: number): Promise<number> {
  const worker = new Worker(CLIENT, { eval: true, workerData: { url, headers, total, inFlight, color } });
  try {
    const out = await new Promise<unknown>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    if (typeof out !== 'number') throw new Error(`HTTP client: ${String(out)}`);
    return out;
  } finally {
    await worker.terminate();
  }
}

export async function benchApi(options: { rounds?: number; submits?: number } = {}): Promise<void> {
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 30);
  const submits = options.submits ?? Number(process.env.BENCH_SUBMITS ?? 300);
  const standin = await startStandin();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const direct = await ComfyConnector.connect(standin.url);
  const svc = await startService({ port: 0, dataDir, servers: [{ url: standin.url }], apiKeys: [{ name: 'bench', key: KEY, admin: true }] });
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  const syncClient = new SyncClient(headers);
  try {
    let color = Date.now() % 100_000;
    const contestants: Array<{ name: string; run: () => Promise<void | number> }> = [
      { name: 'direct runWorkflow', run: async () => void (await direct.runWorkflow(prompt(color++))) },
      {
        name: 'ComfyQueue submit+result',
        run: async () => {
          const handle = await svc.queue.submit(prompt(color++));
          await handle.result();
        },
      },
      {
        // Timed by the client, on its own thread: the service's event loop does only the service's work.
        name: 'HTTP POST ?wait=30',
        run: async () => syncClient.post(`${svc.url}/v1/jobs?wait=30`, JSON.stringify({ workflow: prompt(color++) })),
      },
      {
        name: '  the same, client fetch()',
        run: async () => syncClient.post(`${svc.url}/v1/jobs?wait=30`, JSON.stringify({ workflow: prompt(color++) }), 'fetch'),
      },
    ];
    const samples = new Map(contestants.map((c) => [c.name, [] as number[]]));
    for (const c of contestants) for (let w = 0; w < 3; w++) await c.run(); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < contestants.length; k++) {
        const c = contestants[(r + k) % contestants.length]!;
        const t0 = performance.now();
        const clientMs = await c.run();
        samples.get(c.name)!.push(typeof clientMs === 'number' ? clientMs : performance.now() - t0);
      }
    }
    const base = stats(samples.get('direct runWorkflow')!).median;
    const queueMedian = stats(samples.get('ComfyQueue submit+result')!).median;
    console.log(`\nround trip of a sync job on the stand-in (${rounds} rounds, interleaved)`);
    console.log(`${'contestant'.padEnd(28)}${'median ms'.padStart(10)}${'p90 ms'.padStart(10)}${'mean ms'.padStart(10)}${'added vs direct'.padStart(17)}`);
    for (const c of contestants) {
      const s = stats(samples.get(c.name)!);
      console.log(`${c.name.padEnd(28)}${s.median.toFixed(1).padStart(10)}${s.p90.toFixed(1).padStart(10)}${s.mean.toFixed(1).padStart(10)}${(s.median - base).toFixed(1).padStart(17)}`);
    }
    const http = stats(samples.get('HTTP POST ?wait=30')!).median;
    console.log(`HTTP layer alone (service − ComfyQueue): ${(http - queueMedian).toFixed(1)} ms median; goal: service − direct ≤ 10 ms`);

    // What the stronger durability costs: the same round trip on a second service whose Redis
    // fsyncs every write, interleaved with the default one.
    const alwaysDir = mkdtempSync(join(tmpdir(), 'bench-api-always-'));
    const always = await startService({ port: 0, dataDir: alwaysDir, servers: [{ url: standin.url }], apiKeys: [{ name: 'bench', key: KEY, admin: true }], fsync: 'always' });
    try {
      const pair = [
        { name: 'everysec (default)', url: svc.url, samples: [] as number[] },
        { name: 'always', url: always.url, samples: [] as number[] },
      ];
      for (const p of pair) for (let w = 0; w < 3; w++) await syncClient.post(`${p.url}/v1/jobs?wait=30`, JSON.stringify({ workflow: prompt(color++) }));
      for (let r = 0; r < rounds; r++) {
        for (let k = 0; k < pair.length; k++) {
          const p = pair[(r + k) % pair.length]!;
          p.samples.push(await syncClient.post(`${p.url}/v1/jobs?wait=30`, JSON.stringify({ workflow: prompt(color++) })));
        }
      }
      console.log(`\nHTTP POST ?wait=30 by the private Redis' appendfsync (${rounds} rounds, interleaved)`);
      for (const p of pair) {
        const st = stats(p.samples);
        console.log(`${p.name.padEnd(28)}${st.median.toFixed(1).padStart(10)}${st.p90.toFixed(1).padStart(10)}${st.mean.toFixed(1).padStart(10)}${(st.median - base).toFixed(1).padStart(17)}`);
      }
    } finally {
      await always.close({ drainMs: 0 });
      rmSync(alwaysDir, { recursive: true, force: true });
    }

    // SSE delay against the WebSocket message each progress event came from.
    const wsAt = new Map<number, number>();
    for (const slot of svc.worker!.slots) {
      const client = slot.connector.client as unknown as { onMessage: (m: { type: string; data: { value?: number } }) => void };
      const original = client.onMessage.bind(client);
      client.onMessage = (m) => {
        if (m.type === 'progress' && typeof m.data.value === 'number') wsAt.set(m.data.value, performance.now());
        original(m);
      };
    }
    const delays: number[] = [];
    for (let j = 0; j < 3; j++) {
      wsAt.clear();
      const slow = { ...prompt(color++), '3': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps: 30, delay_ms: 30, image: ['1', 0] } } };
      const res = await fetch(`${svc.url}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify({ workflow: slow }) });
      const { id } = (await res.json()) as { id: string };
      const stream = await fetch(`${svc.url}/v1/jobs/${id}/events`, { headers });
      for await (const e of parseSse(stream.body!)) {
        if (e.event !== 'progress') continue;
        const now = performance.now();
        const ev = JSON.parse(e.data) as { node: string; value: number };
        if (ev.node !== '3') continue;
        const ws = wsAt.get(ev.value);
        if (ws !== undefined) delays.push(now - ws);
      }
    }
    const d = stats(delays);
    console.log(`\nSSE progress event vs the WebSocket message it came from (3 jobs × 30 steps)`);
    console.log(`median ${d.median.toFixed(2)} ms, p90 ${d.p90.toFixed(2)} ms, mean ${d.mean.toFixed(2)} ms, n ${d.n}`);

    // Submissions per second, 16 in flight, on a service with no worker (nothing competes for the
    // CPU), alternating blocks of 50 between the producer and HTTP so load drift hits both.
    const gwDir = mkdtempSync(join(tmpdir(), 'bench-api-gw-'));
    const gw = await startService({ port: 0, dataDir: gwDir, servers: [], apiKeys: [{ name: 'bench', key: KEY, admin: true }] });
    try {
      let qTime = 0;
      let hTime = 0;
      for (let done = 0; done < submits; done += 50) {
        qTime += 50 / (await concurrently(50, 16, async () => void (await gw.queue.submit(prompt(color++)))));
        hTime += (await httpClientSeconds(gw.url, headers, 50, 16, (color += 50)));
      }
      const n = Math.ceil(submits / 50) * 50;
      console.log(`\nsubmissions per second (${n} each, 16 in flight, HTTP client on its own thread, private Redis with AOF fsync everysec)`);
      console.log(`${'ComfyQueue.submit'.padEnd(28)}${(n / qTime).toFixed(0).padStart(10)} /s`);
      console.log(`${'HTTP POST /v1/jobs'.padEnd(28)}${(n / hTime).toFixed(0).padStart(10)} /s  (${((qTime / hTime) * 100).toFixed(0)}% of the producer)`);
    } finally {
      await gw.close({ drainMs: 0 });
      rmSync(gwDir, { recursive: true, force: true });
    }
  } finally {
    await syncClient.close();
    await svc.close({ drainMs: 0 });
    await direct.killApi();
    await standin.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchApi();
