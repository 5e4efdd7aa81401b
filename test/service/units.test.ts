// Pure parts of the service: Standard Webhooks signatures (the spec's published test vector), API
// key parsing and constant-time checks, SSE framing and resume points, problem documents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Authenticator, parseApiKeys } from '../../src/service/auth.js';
import { frameEvent, parseSse, resumePoint } from '../../src/service/sse.js';
import { toProblem } from '../../src/service/problem.js';
import { signWebhook, verifyWebhook, webhookHeaders } from '../../src/service/webhooks/sign.js';
import { isInternalAddress } from '../../src/sources/policy.js';
import { ValidationError } from '../../src/errors.js';

test('webhook signatures match the Standard Webhooks test vector and verify', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = '{"test": 2432232314}';
  assert.equal(signWebhook(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  const headers = webhookHeaders(secret, 'msg_1', body);
  assert.ok(verifyWebhook(secret, headers, body));
  assert.ok(!verifyWebhook(secret, headers, `${body} `), 'a changed body fails');
  assert.ok(!verifyWebhook(secret, headers, body, { now: Date.now() + 3600_000 }), 'an old timestamp fails');
});

test('API keys: forms, owner scoping, refusals', () => {
  const keys = parseApiKeys(['ops:aaaaaaaaaaaaaaaaaaaa:admin', 'app:bbbbbbbbbbbbbbbbbbbb,cccccccccccccccccccc']);
  assert.deepEqual(keys.map((k) => [k.name, k.admin]), [['ops', true], ['app', false], ['default', true]]);
  assert.throws(() => parseApiKeys(['short']), /16 characters/);
  assert.throws(() => parseApiKeys(['a:b:c:d']), /NAME:KEY/);
  const auth = new Authenticator(keys);
  assert.deepEqual(auth.authenticate('Bearer bbbbbbbbbbbbbbbbbbbb'), { name: 'app', admin: false });
  assert.throws(() => auth.authenticate('Bearer bbbbbbbbbbbbbbbbbbbX'), (e: { code?: string }) => e.code === 'COMFY_API_UNAUTHORIZED');
  assert.throws(() => auth.requireAdmin({ name: 'app', admin: false }, 'x'), (e: { code?: string }) => e.code === 'COMFY_API_FORBIDDEN');
  assert.equal(new Authenticator('disabled').authenticate(undefined).admin, true);
});

test('SSE frames parse back; Last-Event-ID wins over ?after', async () => {
  const frames = frameEvent({ seq: 3, at: 1, jobId: 'j', type: 'progress', node: '2', value: 1, max: 2, overall: 0.5 }) + ': keep-alive\n\n';
  async function* chunks() { yield new TextEncoder().encode(frames.slice(0, 10)); yield new TextEncoder().encode(frames.slice(10)); }
  const got = [];
  for await (const e of parseSse(chunks())) got.push(e);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.id, '3');
  assert.equal(got[0]!.event, 'progress');
  assert.equal((JSON.parse(got[0]!.data) as { overall: number }).overall, 0.5);
  assert.equal(resumePoint('7', 2), 7);
  assert.equal(resumePoint(undefined, 2), 2);
  assert.equal(resumePoint('x', undefined), 0);
});

test('a ComfyUI validation error becomes a 422 problem naming node, input and value; no log lines', () => {
  const err = new ValidationError('prompt_outputs_failed_validation', 'Prompt outputs failed validation', [
    { nodeId: '3', classType: 'KSampler', type: 'value_smaller_than_min', message: 'Value -1 smaller than min of 1', details: 'steps', inputName: 'steps', receivedValue: -1 },
  ], {});
  const p = toProblem(err, '/v1/jobs');
  assert.equal(p.status, 422);
  assert.equal(p.code, 'COMFY_VALIDATION');
  assert.deepEqual((p.issues as Array<{ nodeId: string; inputName: string; receivedValue: unknown }>).map((i) => [i.nodeId, i.inputName, i.receivedValue]), [['3', 'steps', -1]]);
  const crash = toProblem(Object.assign(new Error('boom\nLast log lines:\n  secret'), {}), '/x');
  assert.equal(crash.status, 500);
  assert.doesNotMatch(JSON.stringify(crash), /secret|boom/);
});

test('private and loopback addresses are recognised for the webhook guard', () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '192.168.0.1', '172.20.0.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:127.0.0.1']) assert.ok(isInternalAddress(a), a);
  for (const a of ['8.8.8.8', '2606:4700::1111']) assert.ok(!isInternalAddress(a), a);
});
