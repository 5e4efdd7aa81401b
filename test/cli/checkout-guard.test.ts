// scripts/checkout-guard.mjs: the test runner's check that a run left the ComfyUI checkout as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without types
import { guardCheckout } from '../../scripts/checkout-guard.mjs';

test('a file added to or removed from the checkout is reported; Python caches are not', (t) => {
  const checkout = mkdtempSync(join(tmpdir(), 'guard-checkout-'));
  t.after(() => rmSync(checkout, { recursive: true, force: true }));
  mkdirSync(join(checkout, 'input'));
  mkdirSync(join(checkout, 'output'));
  writeFileSync(join(checkout, 'main.py'), '');
  writeFileSync(join(checkout, 'output', '_output_images_will_be_put_here'), '');

  const untouched = guardCheckout(checkout) as { check(): string[] };
  mkdirSync(join(checkout, '__pycache__'));
  writeFileSync(join(checkout, '__pycache__', 'main.cpython-311.pyc'), '');
  assert.deepEqual(untouched.check(), []);

  const guard = guardCheckout(checkout) as { check(): string[] };
  mkdirSync(join(checkout, 'input', 'cli-test'));
  writeFileSync(join(checkout, 'input', 'cli-test', 'tiny.png'), '');
  writeFileSync(join(checkout, 'output', 'cli-ok_00001_.png'), '');
  rmSync(join(checkout, 'output', '_output_images_will_be_put_here'));
  const report = guard.check().join('\n');
  assert.match(report, /changed the ComfyUI checkout/);
  assert.match(report, /added {3}input\/cli-test\/tiny\.png/);
  assert.match(report, /added {3}output\/cli-ok_00001_\.png/);
  assert.match(report, /removed output\/_output_images_will_be_put_here/);
});

test('without COMFYUI_PATH there is nothing to guard', () => {
  assert.deepEqual((guardCheckout(undefined) as { check(): string[] }).check(), []);
});
