// The HTTP contract that needs no ComfyUI: auth, validation, limits, problem+json, idempotency,
// scoping, cancel of a waiting job and its events — over real HTTP against a real Redis.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseSse } from '../../src/service/sse.js';
import { redisSkip } from '../helpers/redis.js';
import { ADMIN_KEY, BOB_KEY, startApi, tinyPrompt, type Api } from './harness.js';

const skip = redisSkip();

describe('service requests', { skip }, () => {
  let api: Api;
  before(async () => {
    api = await startApi();
  });
  after(async () => {
    await api?.stop();
  });

  const problem = async (res: Response, status: number, code: string) => {
    assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${await res.clone().text()}`);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body['status'], status);
    assert.equal(body['code'], code);
    assert.equal(typeof body['title'], 'string');
    assert.equal(typeof body['detail'], 'string');
    return body;
  };

  test('health is open, everything else needs a valid key (401, with WWW-Authenticate)', async () => {
    assert.equal((await api.call('/health', { key: null })).status, 200);
    const none = await api.call('/v1/jobs/x', { key: null });
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    await problem(none, 401, 'COMFY_API_UNAUTHORIZED');
    await problem(await api.call('/v1/jobs/x', { key: 'wrong-key-wrong-key-wrong' }), 401, 'COMFY_API_UNAUTHORIZED');
    await problem(await api.call('/v1/jobs/x', { key: null, headers: { authorization: 'Basic abc' } }), 401, 'COMFY_API_UNAUTHORIZED');
  });

  test('scoped keys cannot reach admin routes (403); the admin key can', async () => {
    await problem(await api.call('/metrics'), 403, 'COMFY_API_FORBIDDEN');
    await problem(await api.call('/dashboard/'), 403, 'COMFY_API_FORBIDDEN');
    const metrics = await api.call('/metrics', { key: ADMIN_KEY });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /comfy_connector_api_requests_total/);
  });

  test('bad JSON is a 400 naming the body; text/plain is 415; unknown routes 404', async () => {
    const bad = await api.call('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"workflow": {' });
    const body = await problem(bad, 400, 'COMFY_API_BAD_REQUEST');
    assert.deepEqual((body['errors'] as Array<{ field: string }>).map((e) => e.field), ['/body']);
    await problem(await api.call('/v1/jobs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }), 415, 'COMFY_API_UNSUPPORTED_MEDIA_TYPE');
    await problem(await api.call('/v1/nothing'), 404, 'COMFY_API_ROUTE_NOT_FOUND');
  });

  test('a malformed field is a 400 that names each field', async () => {
    const res = await api.call('/v1/jobs', { json: { workflow: tinyPrompt(1), priority: -1, inputs: { 'LoadImage.image': '/etc/passwd' }, extra: 1 } });
    const body = await problem(res, 400, 'COMFY_API_BAD_REQUEST');
    const fields = (body['errors'] as Array<{ field: string }>).map((e) => e.field).sort();
    assert.ok(fields.includes('/body/priority'), JSON.stringify(fields));
    assert.ok(fields.some((f) => f.startsWith('/body/inputs/LoadImage.image')), JSON.stringify(fields));
    assert.ok(fields.includes('/body'), 'the unknown key "extra" is named at the body');
  });

  test('a body over the limit is a 413', async () => {
    const big = { workflow: tinyPrompt(1), meta: { pad: 'x'.repeat(300 * 1024) } };
    await problem(await api.call('/v1/jobs', { json: big }), 413, 'COMFY_API_TOO_LARGE');
  });

  test('a workflow that is not one is a 422 with the typed code, and nothing is queued', async () => {
    const before = await api.queue.counts();
    const res = await api.call('/v1/jobs', { json: { workflow: { hello: 'world' } } });
    assert.equal(res.status, 422, await res.clone().text());
    const body = (await res.json()) as { code: string };
    assert.equal(body.code, 'COMFY_INVALID_WORKFLOW');
    assert.deepEqual(await api.queue.counts(), before);
  });

  test('Idempotency-Key: same body → same job; other body → 409; another owner → another job', async () => {
    const headers = { 'idempotency-key': 'order-1234' };
    const first = await api.call('/v1/jobs', { json: { workflow: tinyPrompt(7) }, headers });
    assert.equal(first.status, 202);
    assert.match(first.headers.get('location') ?? '', /^\/v1\/jobs\//);
    const a = (await first.json()) as { id: string };
    const again = await api.call('/v1/jobs', { json: { workflow: tinyPrompt(7) }, headers });
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(((await again.json()) as { id: string }).id, a.id);
    const conflict = await problem(await api.call('/v1/jobs', { json: { workflow: tinyPrompt(8) }, headers }), 409, 'COMFY_API_IDEMPOTENCY_CONFLICT');
    assert.equal(conflict['jobId'], a.id);
    const bobs = (await (await api.call('/v1/jobs', { json: { workflow: tinyPrompt(7) }, headers, key: BOB_KEY })).json()) as { id: string };
    assert.notEqual(bobs.id, a.id);
  });

  test("one key cannot read, follow or cancel another key's job; the admin key can", async () => {
    const { id } = (await (await api.call('/v1/jobs', { json: { workflow: tinyPrompt(11) } })).json()) as { id: string };
    await problem(await api.call(`/v1/jobs/${id}`, { key: BOB_KEY }), 404, 'COMFY_API_JOB_NOT_FOUND');
    await problem(await api.call(`/v1/jobs/${id}/events`, { key: BOB_KEY }), 404, 'COMFY_API_JOB_NOT_FOUND');
    await problem(await api.call(`/v1/jobs/${id}/cancel`, { method: 'POST', key: BOB_KEY }), 404, 'COMFY_API_JOB_NOT_FOUND');
    assert.equal((await api.call(`/v1/jobs/${id}`, { key: ADMIN_KEY })).status, 200);
    await problem(await api.call('/v1/jobs/no-such-job'), 404, 'COMFY_API_JOB_NOT_FOUND');
    await problem(await api.call('/v1/jobs/bad:id'), 404, 'COMFY_API_JOB_NOT_FOUND');
  });

  test('cancel of a waiting job dequeues it; its SSE stream replays queued then cancelled and ends; resume skips', async () => {
    const { id, state } = (await (await api.call('/v1/jobs', { json: { workflow: tinyPrompt(21) } })).json()) as { id: string; state: string };
    assert.equal(state, 'waiting');
    const cancel = await api.call(`/v1/jobs/${id}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 202);
    assert.equal(((await cancel.json()) as { state: string }).state, 'cancelled');
    await problem(await api.call(`/v1/jobs/${id}/cancel`, { method: 'POST' }), 409, 'COMFY_API_JOB_FINISHED');

    const stream = await api.call(`/v1/jobs/${id}/events`);
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events: Array<{ id?: string; event?: string }> = [];
    for await (const e of parseSse(stream.body!)) events.push(e);
    assert.deepEqual(events.map((e) => e.event), ['queued', 'cancelled']);
    assert.deepEqual(events.map((e) => Number(e.id)), [1, 2]);

    const resumed = await api.call(`/v1/jobs/${id}/events`, { headers: { 'last-event-id': '1' } });
    const rest: Array<{ event?: string }> = [];
    for await (const e of parseSse(resumed.body!)) rest.push(e);
    assert.deepEqual(rest.map((e) => e.event), ['cancelled']);
  });

  test('wait on a job nobody runs answers 202 after the wait, with the job URL', async () => {
    const t0 = Date.now();
    const res = await api.call('/v1/jobs?wait=1', { json: { workflow: tinyPrompt(31) } });
    assert.equal(res.status, 202);
    assert.ok(Date.now() - t0 >= 900, 'it waited');
    const view = (await res.json()) as { id: string; links: { self: string } };
    assert.equal(res.headers.get('location'), view.links.self);
  });

  test('a deadline that passes while the job waits fails it with the typed timeout (504)', async () => {
    const deadline = new Date(Date.now() + 1000).toISOString();
    const res = await api.call('/v1/jobs?wait=20', { json: { workflow: tinyPrompt(51), deadline } });
    const body = await problem(res, 504, 'COMFY_DEADLINE_EXCEEDED');
    assert.ok(body['jobId']);
    const status = (await (await api.call(`/v1/jobs/${String(body['jobId'])}`)).json()) as { state: string };
    assert.equal(status.state, 'failed');
  });

  test('readiness is 503 without a live worker; webhook URLs are checked before queueing', async () => {
    await problem(await api.call('/ready', { key: null }), 503, 'COMFY_API_NOT_READY');
    const res = await api.call('/v1/jobs', { json: { workflow: tinyPrompt(41), webhook: { url: 'ftp://example.com/x' } } });
    await problem(res, 400, 'COMFY_API_BAD_REQUEST');
  });

  test('the OpenAPI 3.1 document lists the routes and their schemas', async () => {
    const res = await api.call('/docs/json', { key: null });
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events', '/v1/jobs/{id}/cancel', '/ready', '/run', '/runsync', '/prompt']) {
      assert.ok(doc.paths[p], `${p} is documented`);
    }
    assert.ok(doc.paths['/v1/jobs']!['post']!.requestBody, 'the submit body schema is there');
  });
});
