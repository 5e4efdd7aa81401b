// The service end to end over real HTTP: the embedded default (private redis-server with AOF, the
// fleet's in-process worker) on the stand-in, and the same assertions on real ComfyUI when present.
// submit/wait/status/result/outputs, SSE with resume, cancel of a running job, 422 with each node,
// webhooks to a real local receiver that verifies Standard Webhooks signatures, the RunPod and
// Salad shapes with the examples from those projects' docs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { parseSse } from '../../src/service/sse.js';
import { startService, type RunningService } from '../../src/service/start.js';
import { newWebhookSecret, verifyWebhook } from '../../src/service/webhooks/sign.js';
import { redisSkip } from '../helpers/redis.js';
import { serviceTargets, tempRoot } from './targets.js';

const KEY = `svc-test-${'k'.repeat(24)}`;
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
const slowPrompt = (color: number, steps: number, delayMs: number) => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } },
  '2': { class_type: 'ComfyConnectorSlowCounter', inputs: { steps, delay_ms: delayMs, image: ['1', 0] } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'svc' } },
});
const sizedPrompt = (color: number, width: number, height: number) => ({
  '1': { class_type: 'EmptyImage', inputs: { width, height, batch_size: 1, color } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'svc' } },
});
// A request in the shape of RunPod worker-comfyui's test_input.json (see fixtures/README.md).
const RUNPOD_EXAMPLE = JSON.parse(readFileSync(new URL('./fixtures/runpod-test-input.json', import.meta.url), 'utf8')) as { input: { workflow: Record<string, unknown> } };

interface Received { headers: IncomingHttpHeaders; body: string; at: number }

/** A webhook receiver on loopback that answers `failFirst` deliveries with 500, then 204. */
async function receiver(failFirst = 0): Promise<{ url: string; received: Received[]; next(n?: number): Promise<Received[]>; close(): Promise<void> }> {
  const received: Received[] = [];
  let fails = failFirst;
  const waiters: Array<() => void> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body, at: Date.now() });
      waiters.splice(0).forEach((w) => w());
      res.statusCode = fails-- > 0 ? 500 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    async next(n = 1) {
      const deadline = Date.now() + 30_000;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${received.length} of ${n} webhook deliveries arrived`);
        await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 500); });
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

for (const target of serviceTargets()) {
  const skip = redisSkip() ?? target.skip;
  describe(`service jobs on ${target.name}`, { skip, timeout: 600_000 }, () => {
    let svc: RunningService;
    let root: string;
    const secret = newWebhookSecret();
    const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
      const { json, ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set('authorization', `Bearer ${KEY}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${svc.url}${path}`, { ...rest, headers, ...(json !== undefined ? { method: 'POST', body: JSON.stringify(json) } : {}) });
    };
    let n = 1000;
    const color = () => (n += 17) * 97 + (Date.now() % 1000);

    before(async () => {
      root = tempRoot(target.name);
      svc = await startService({
        port: 0,
        dataDir: root,
        servers: [target.server(root)],
        apiKeys: [{ name: 'tester', key: KEY, admin: true }],
        webhookSecret: secret,
        allowPrivateWebhooks: true,
        webhookBackoffMs: 300,
        limits: { waitSeconds: 120 },
      });
    });
    after(async () => {
      await svc?.close({ drainMs: 5000 });
      if (root) rmSync(root, { recursive: true, force: true });
    });

    test('ready once the worker advertises a warm server; models and node classes listed', async () => {
      const deadline = Date.now() + 30_000;
      let res = await fetch(`${svc.url}/ready`);
      while (res.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        res = await fetch(`${svc.url}/ready`);
      }
      assert.equal(res.status, 200, await res.text());
      const classes = (await (await call('/v1/node-classes')).json()) as { nodeClasses: string[] };
      assert.ok(classes.nodeClasses.includes('SaveImage'));
      assert.ok(classes.nodeClasses.includes('ComfyConnectorSlowCounter'));
      assert.equal((await call('/v1/models')).status, 200);
    });

    test('submit with wait answers 200 with typed outputs; the bytes are served; inline on request', async () => {
      const res = await call('/v1/jobs?wait=60', { json: { workflow: slowPrompt(color(), 2, 1), outputs: { inline: true } } });
      assert.equal(res.status, 200, await res.clone().text());
      const job = (await res.json()) as { id: string; state: string; outputs: Array<{ kind: string; mime: string; size: number; sha256: string; url: string; base64?: string }> };
      assert.equal(job.state, 'completed');
      const image = job.outputs.find((o) => o.kind === 'image');
      assert.ok(image, JSON.stringify(job.outputs));
      assert.equal(image.mime, 'image/png');
      assert.match(image.sha256, /^[0-9a-f]{64}$/);
      const bytes = Buffer.from(await (await call(image.url)).arrayBuffer());
      assert.equal(bytes.length, image.size);
      assert.deepEqual(bytes.subarray(0, 4), PNG_MAGIC);
      assert.equal(image.base64, bytes.toString('base64'));
      const status = (await (await call(`/v1/jobs/${job.id}`)).json()) as { state: string; finishedAt: string };
      assert.equal(status.state, 'completed');
      assert.ok(Date.parse(status.finishedAt) > 0);
    });

    test('SSE: queued, started, node, progress, completed with increasing ids; Last-Event-ID resumes', async () => {
      const { id } = (await (await call('/v1/jobs', { json: { workflow: slowPrompt(color(), 3, 20) } })).json()) as { id: string };
      const events: Array<{ id?: string; event?: string }> = [];
      for await (const e of parseSse((await call(`/v1/jobs/${id}/events`)).body!)) events.push(e);
      const types = events.map((e) => e.event);
      assert.equal(types[0], 'queued');
      assert.ok(types.includes('started'), types.join());
      assert.ok(types.includes('progress'), types.join());
      assert.equal(types.at(-1), 'completed');
      const ids = events.map((e) => Number(e.id));
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      const from = ids[2]!;
      const rest: Array<{ id?: string }> = [];
      for await (const e of parseSse((await call(`/v1/jobs/${id}/events`, { headers: { 'last-event-id': String(from) } })).body!)) rest.push(e);
      assert.deepEqual(rest.map((e) => Number(e.id)), ids.filter((i) => i > from));
    });

    test('previews: published only for a job that asked (?previews=true), shown over SSE only with ?previews=true', async () => {
      const wf = slowPrompt(color(), 2, 20) as Record<string, { inputs: Record<string, unknown> }>;
      wf['2']!.inputs['send_preview'] = true;
      const { id } = (await (await call('/v1/jobs?previews=true', { json: { workflow: wf } })).json()) as { id: string };
      const withPreviews: Array<{ event?: string; data: string }> = [];
      for await (const e of parseSse((await call(`/v1/jobs/${id}/events?previews=true`)).body!)) withPreviews.push(e);
      const preview = withPreviews.find((e) => e.event === 'preview');
      assert.ok(preview, withPreviews.map((e) => e.event).join());
      const p = JSON.parse(preview.data) as { mime: string; base64: string };
      assert.match(p.mime, /^image\//);
      assert.ok(Buffer.from(p.base64, 'base64').length > 0);
      const without: string[] = [];
      for await (const e of parseSse((await call(`/v1/jobs/${id}/events`)).body!)) without.push(e.event ?? '');
      assert.ok(!without.includes('preview'), without.join());
      assert.equal(without.at(-1), 'completed');
      // The same workflow without asking: no preview reaches the event log at all.
      const wf2 = slowPrompt(color(), 2, 20) as Record<string, { inputs: Record<string, unknown> }>;
      wf2['2']!.inputs['send_preview'] = true;
      const quiet = (await (await call('/v1/jobs', { json: { workflow: wf2 } })).json()) as { id: string };
      const all: string[] = [];
      for await (const e of parseSse((await call(`/v1/jobs/${quiet.id}/events?previews=true`)).body!)) all.push(e.event ?? '');
      assert.ok(all.includes('progress') && !all.includes('preview'), all.join());
      assert.equal(all.at(-1), 'completed');
    });

    test('cancel of a running job interrupts it on ComfyUI', async () => {
      const { id } = (await (await call('/v1/jobs', { json: { workflow: slowPrompt(color(), 400, 50) } })).json()) as { id: string };
      const stream = await call(`/v1/jobs/${id}/events`);
      const seen: string[] = [];
      for await (const e of parseSse(stream.body!)) {
        seen.push(e.event ?? '');
        if (e.event === 'progress') {
          const res = await call(`/v1/jobs/${id}/cancel`, { method: 'POST' });
          assert.equal(res.status, 202);
        }
      }
      assert.equal(seen.at(-1), 'cancelled', seen.join());
      const status = (await (await call(`/v1/jobs/${id}`)).json()) as { state: string };
      assert.equal(status.state, 'cancelled');
    });

    test('a prompt ComfyUI refuses answers 422 naming each node, input and value', async () => {
      const bad = { '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 1, extra: 1 } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'svc' } } };
      (bad['1'].inputs as Record<string, unknown>).width = -4;
      const res = await call('/v1/jobs?wait=60', { json: { workflow: bad } });
      assert.equal(res.status, 422, await res.clone().text());
      assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
      const p = (await res.json()) as { code: string; jobId: string; issues: Array<{ nodeId: string; inputName: string; receivedValue: unknown }> };
      assert.equal(p.code, 'COMFY_VALIDATION');
      assert.ok(p.jobId);
      const issue = p.issues.find((i) => i.inputName === 'width');
      assert.ok(issue, JSON.stringify(p.issues));
      assert.equal(issue.nodeId, '1');
      assert.equal(issue.receivedValue, -4);
    });

    test('webhook: signed per Standard Webhooks, retried after failures with the same id, verified by the receiver', async () => {
      const hook = await receiver(2);
      try {
        const res = await call('/v1/jobs', { json: { workflow: slowPrompt(color(), 1, 1), webhook: { url: hook.url } } });
        assert.equal(res.status, 202);
        const { id } = (await res.json()) as { id: string };
        const got = await hook.next(3);
        assert.equal(got.length, 3, 'two failures, then the delivery');
        for (const r of got) assert.ok(verifyWebhook(secret, r.headers, r.body), 'signature verifies');
        assert.equal(new Set(got.map((r) => r.headers['webhook-id'])).size, 1, 'one stable id across retries');
        assert.match(String(got[0]!.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]+=*$/);
        assert.ok(!verifyWebhook(newWebhookSecret(), got[2]!.headers, got[2]!.body), 'another secret does not verify');
        const payload = JSON.parse(got[2]!.body) as { type: string; data: { id: string; state: string; outputs: unknown[] } };
        assert.equal(payload.type, 'job.completed');
        assert.equal(payload.data.id, id);
        assert.equal(payload.data.outputs.length, 1);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(hook.received.length, 3, 'nothing more after a 2xx');
      } finally {
        await hook.close();
      }
    });

    test('a webhook receiver that never answers 2xx does not affect the job or the service', async () => {
      const hook = await receiver(1000);
      try {
        const res = await call('/v1/jobs?wait=60', { json: { workflow: slowPrompt(color(), 1, 1), webhook: { url: hook.url } } });
        assert.equal(res.status, 200);
        await hook.next(2);
        assert.equal((await fetch(`${svc.url}/health`)).status, 200);
        assert.equal((await call('/v1/jobs?wait=60', { json: { workflow: slowPrompt(color(), 1, 1) } })).status, 200);
      } finally {
        await hook.close();
      }
    });

    test("RunPod: /runsync with {input:{workflow, images}} as in worker-comfyui's docs", async () => {
      // An image as the docs show it (a data URI), fed to LoadImage by its name.
      const first = (await (await call('/v1/jobs?wait=60', { json: { workflow: slowPrompt(color(), 1, 1) } })).json()) as { outputs: Array<{ url: string }> };
      const png = Buffer.from(await (await call(first.outputs[0]!.url)).arrayBuffer());
      const body = {
        input: {
          workflow: {
            '1': { class_type: 'LoadImage', inputs: { image: 'input_image.png' } },
            '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
            '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'runpod' } },
          },
          images: [{ name: 'input_image.png', image: `data:image/png;base64,${png.toString('base64')}` }],
        },
      };
      const res = await call('/runsync', { json: body });
      assert.equal(res.status, 200, await res.clone().text());
      const out = (await res.json()) as { id: string; status: string; output: { images: Array<{ filename: string; type: string; data: string }> } };
      assert.equal(out.status, 'COMPLETED');
      assert.equal(out.output.images.length, 1);
      assert.equal(out.output.images[0]!.type, 'base64');
      assert.deepEqual(Buffer.from(out.output.images[0]!.data, 'base64').subarray(0, 4), PNG_MAGIC);
      const status = (await (await call(`/status/${out.id}`)).json()) as { status: string };
      assert.equal(status.status, 'COMPLETED');

      // /run then /status; and their own test_input.json (a Flux checkpoint this server lacks) fails
      // with the detail of what was refused, instead of a generic error.
      const queued = (await (await call('/run', { json: RUNPOD_EXAMPLE })).json()) as { id: string; status: string };
      assert.equal(queued.status, 'IN_QUEUE');
      let polled: { status: string; error?: string; output?: { details?: { issues?: Array<{ inputName: string }> } } } = { status: '' };
      for (let i = 0; i < 300 && !['COMPLETED', 'FAILED'].includes(polled.status); i++) {
        polled = (await (await call(`/status/${queued.id}`)).json()) as typeof polled;
        if (polled.status !== 'FAILED') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(polled.status, 'FAILED');
      assert.ok(polled.output?.details?.issues?.some((i) => i.inputName === 'ckpt_name'), JSON.stringify(polled));
    });

    test("Salad: POST /prompt as in comfyui-api's README (sync, and webhook_v2 with 202)", async () => {
      const id = '123e4567-e89b-12d3-a456-4266141740' + String(color() % 100).padStart(2, '0');
      const res = await call('/prompt', { json: { id, prompt: slowPrompt(color(), 1, 1) } });
      assert.equal(res.status, 200, await res.clone().text());
      const out = (await res.json()) as { id: string; images: string[]; filenames: string[]; stats: { comfy_execution: { total: { duration: number } } } };
      assert.equal(out.id, id);
      assert.equal(out.images.length, 1);
      assert.deepEqual(Buffer.from(out.images[0]!, 'base64').subarray(0, 4), PNG_MAGIC);
      assert.match(out.filenames[0]!, /\.png$/);
      assert.ok(out.stats.comfy_execution.total.duration >= 0);

      const hook = await receiver(0);
      try {
        const accepted = await call('/prompt', { json: { prompt: slowPrompt(color(), 1, 1), webhook_v2: hook.url } });
        assert.equal(accepted.status, 202);
        const a = (await accepted.json()) as { id: string; status: string };
        assert.equal(a.status, 'ok');
        const [delivery] = await hook.next(1);
        assert.ok(verifyWebhook(secret, delivery!.headers, delivery!.body));
        const payload = JSON.parse(delivery!.body) as { type: string; id: string; images: string[] };
        assert.equal(payload.type, 'prompt.complete');
        assert.equal(payload.id, a.id);
        assert.equal(payload.images.length, 1);
      } finally {
        await hook.close();
      }
      const conv = await call('/prompt', { json: { prompt: sizedPrompt(color(), 24, 16), convert_output: { format: 'webp', options: { quality: 90 } } } });
      assert.equal(conv.status, 200, await conv.clone().text());
      const converted = (await conv.json()) as { images: string[]; filenames: string[] };
      const webp = Buffer.from(converted.images[0]!, 'base64');
      assert.equal(webp.subarray(0, 4).toString('latin1'), 'RIFF');
      assert.equal(webp.subarray(8, 12).toString('latin1'), 'WEBP');
      assert.match(converted.filenames[0]!, /\.webp$/);
      const meta = await sharp(webp).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 24, 16]);
    });

    test('outputs.format: image outputs converted once in the worker (webp, jpeg), with MIME type, name, size and sha256 of the converted bytes', async () => {
      const cases = [
        { format: 'webp', mime: 'image/webp', ext: /\.webp$/, magic: (b: Buffer) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP' },
        { format: 'jpeg', mime: 'image/jpeg', ext: /\.jpg$/, magic: (b: Buffer) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
      ] as const;
      for (const c of cases) {
        const res = await call('/v1/jobs?wait=60', { json: { workflow: sizedPrompt(color(), 24, 16), outputs: { inline: true, format: c.format, quality: 85 } } });
        assert.equal(res.status, 200, await res.clone().text());
        const job = (await res.json()) as { outputs: Array<{ kind: string; filename: string; mime: string; size: number; sha256: string; url: string; base64?: string }> };
        const image = job.outputs.find((o) => o.kind === 'image');
        assert.ok(image, JSON.stringify(job.outputs));
        assert.equal(image.mime, c.mime);
        assert.match(image.filename, c.ext);
        const served = await call(image.url);
        assert.equal(served.headers.get('content-type'), c.mime);
        const bytes = Buffer.from(await served.arrayBuffer());
        assert.ok(c.magic(bytes), `${c.format}: ${bytes.subarray(0, 12).toString('hex')}`);
        assert.equal(bytes.length, image.size);
        assert.equal(createHash('sha256').update(bytes).digest('hex'), image.sha256);
        assert.equal(image.base64, bytes.toString('base64'));
        const meta = await sharp(bytes).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], [c.format, 24, 16]);
      }
      const bad = await call('/v1/jobs', { json: { workflow: sizedPrompt(color(), 24, 16), outputs: { format: 'gif' } } });
      assert.equal(bad.status, 400);
      const problem = (await bad.json()) as { errors: Array<{ field: string }> };
      assert.ok(problem.errors.some((e) => e.field === '/body/outputs/format'), JSON.stringify(problem));
      const badSalad = await call('/prompt', { json: { prompt: sizedPrompt(color(), 24, 16), convert_output: { format: 'tiff' } } });
      assert.equal(badSalad.status, 400);
      const saladProblem = (await badSalad.json()) as { errors: Array<{ field: string }> };
      assert.ok(saladProblem.errors.some((e) => e.field === '/body/convert_output/format'), JSON.stringify(saladProblem));
    });

    test('multipart: a file part feeds LoadImage', async () => {
      const first = (await (await call('/v1/jobs?wait=60', { json: { workflow: slowPrompt(color(), 1, 1) } })).json()) as { outputs: Array<{ url: string }> };
      const png = Buffer.from(await (await call(first.outputs[0]!.url)).arrayBuffer());
      const form = new FormData();
      form.set('job', JSON.stringify({ workflow: { '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } }, '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'mp' } } } }));
      form.set('1.image', new Blob([png], { type: 'image/png' }), 'cat.png');
      const res = await call('/v1/jobs?wait=60', { method: 'POST', body: form });
      assert.equal(res.status, 200, await res.clone().text());
      const job = (await res.json()) as { outputs: Array<{ kind: string; url: string }> };
      const bytes = Buffer.from(await (await call(job.outputs[0]!.url)).arrayBuffer());
      assert.deepEqual(bytes.subarray(0, 4), PNG_MAGIC);
    });
  });
}
