import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colorEnabled, palette, stripAnsi } from '../../src/cli/color.js';

test('NO_COLOR wins, FORCE_COLOR forces, otherwise colour only on a terminal', () => {
  assert.equal(colorEnabled({ isTTY: true }, {}), true);
  assert.equal(colorEnabled({ isTTY: false }, {}), false);
  assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count');
  assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(colorEnabled({ isTTY: true }, { FORCE_COLOR: '0' }), false);
  assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' }), false);
});

test('a disabled palette returns text untouched; an enabled one wraps and strips back', () => {
  assert.equal(palette(false).red('x'), 'x');
  const red = palette(true).red('x');
  assert.notEqual(red, 'x');
  assert.equal(stripAnsi(red), 'x');
  assert.equal(stripAnsi('\x1b[32m[INFO]\x1b[0m ready'), '[INFO] ready');
});
