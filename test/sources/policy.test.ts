import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guardedLookup, isInternalAddress, checkUrl, InternalAddressError } from '../../src/sources/policy.js';
import { redactUrl } from '../../src/sources/redact.js';
import { credentialFor, authHeaders } from '../../src/sources/credentials.js';

test('internal addresses: loopback, private, link-local, CGNAT, mapped, unspecified; public ones pass', () => {
  for (const a of ['127.0.0.1', '127.5.5.5', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1']) {
    assert.equal(isInternalAddress(a), true, a);
  }
  for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isInternalAddress(a), false, a);
});

test('the resolved address is checked (a name that resolves to loopback is refused)', async () => {
  const lookup = guardedLookup(false);
  const err = await new Promise<unknown>((resolve) => lookup('localhost', {}, (e) => resolve(e)));
  assert.ok(err instanceof InternalAddressError);
  const ok = await new Promise<unknown>((resolve) => guardedLookup(true)('localhost', {}, (e, address) => resolve(e ?? address)));
  assert.match(String(ok), /^(127\.0\.0\.1|::1)$/);
});

test('a redirect hop is checked with the same policy, naming where it came from', () => {
  assert.throws(() => checkUrl(new URL('http://192.168.0.10/x'), false, 'https://example.com/a'), { code: 'COMFY_SOURCE_REFUSED', message: /redirected from https:\/\/example\.com\/a/ });
  assert.throws(() => checkUrl(new URL('file:///etc/passwd'), true, 'https://example.com/a'), { code: 'COMFY_SOURCE_REFUSED', message: /redirected to "file:"/ });
  checkUrl(new URL('http://192.168.0.10/x'), true);
  checkUrl(new URL('https://example.com/x'), false);
});

test('redactUrl strips user:password and secret-looking query values', () => {
  assert.equal(redactUrl('https://bob:pw@example.com/a?x=1&X-Amz-Signature=abc&api_key=k'), 'https://example.com/a?x=1&X-Amz-Signature=***&api_key=***');
  assert.equal(redactUrl('nonsense'), '(an unparsable URL)');
});

test('credentials: options by host:port or host, environment, HF_TOKEN, URL userinfo', () => {
  const u = new URL('https://models.example.com:8443/a');
  assert.deepEqual(credentialFor(u, { 'models.example.com:8443': { bearer: 'a' } }, {}), { bearer: 'a' });
  assert.deepEqual(credentialFor(u, { 'models.example.com': { bearer: 'b' } }, {}), { bearer: 'b' });
  assert.deepEqual(credentialFor(u, undefined, { COMFY_CONNECTOR_AUTH_MODELS_EXAMPLE_COM: 'X-Api-Key: k1' }), { header: { name: 'X-Api-Key', value: 'k1' } });
  assert.deepEqual(credentialFor(new URL('https://huggingface.co/x'), undefined, { HF_TOKEN: 'hf_1' }), { bearer: 'hf_1' });
  assert.equal(credentialFor(new URL('https://other.com/x'), undefined, { HF_TOKEN: 'hf_1' }), undefined);
  assert.deepEqual(authHeaders({ basic: { username: 'u', password: 'p' } }), { authorization: 'Basic dTpw' });
  assert.deepEqual(authHeaders(credentialFor(u, undefined, { COMFY_CONNECTOR_AUTH_MODELS_EXAMPLE_COM: 'Basic dTpw' })), { authorization: 'Basic dTpw' });
});
