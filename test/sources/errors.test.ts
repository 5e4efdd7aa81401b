// The new error classes: stable codes registered in the failure policy, URL (without credentials)
// and a hint in each, and the one JSON form carrying the URL or key as a detail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CacheFullError, HashMismatchError, SourceAccessDeniedError, SourceHttpError, SourceRefusedError, SourceTooLargeError, SourceUnreachableError, StoreAccessDeniedError, StoreError, StoreNotFoundError } from '../../src/errors.js';
import { failurePolicy, serializeError } from '../../src/error-policy.js';
import { redactUrl } from '../../src/sources/redact.js';

test('source, cache and store errors are typed, registered as io, and say what to do', () => {
  const url = redactUrl('https://bob:pw@example.com/m.safetensors?token=abc');
  const errors = [
    new SourceRefusedError(url, 'x'), new SourceHttpError(url, 404), new SourceAccessDeniedError(url, 'HTTP 403'),
    new SourceUnreachableError(url, 'ECONNREFUSED'), new SourceTooLargeError(url, 10), new HashMismatchError(url, 'a'.repeat(64), 'b'.repeat(64)),
    new CacheFullError(url, 10, 5),
  ];
  for (const e of errors) {
    assert.match(e.code, /^COMFY_/);
    assert.equal(failurePolicy(e).class, 'io', e.code);
    assert.ok(e.hint && e.hint.length > 10, e.code);
    assert.doesNotMatch(e.message, /pw|abc/);
    assert.equal(serializeError(e).details?.url, 'https://example.com/m.safetensors?token=***');
  }
  for (const e of [new StoreNotFoundError('runs/a.png', 's3://b'), new StoreAccessDeniedError('runs/a.png', 's3://b', 'AccessDenied'), new StoreError('runs/a.png', 's3://b', 'down')]) {
    assert.equal(failurePolicy(e).class, 'io', e.code);
    assert.equal(failurePolicy(e).exitCode, 7);
    assert.equal(serializeError(e).details?.key, 'runs/a.png');
  }
});
