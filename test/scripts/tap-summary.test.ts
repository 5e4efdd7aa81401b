// The runner's closing line (scripts/tap-summary.mjs) on real TAP from node:test: a skipped
// describe() counts (node's own `# skipped` leaves it out), every skip is listed with its reason,
// and a cancelled test counts as failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closingLines, summariseTap } from '../../scripts/tap-summary.mjs';

const SAMPLE = `
import { describe, test, before } from 'node:test';
describe('whole suite', { skip: 'no chromium here' }, () => { test('a', () => {}); test('b', () => {}); });
describe('outer', () => {
  describe('inner', { skip: true }, () => { test('c', () => {}); });
  test('d', () => {});
  test('e # hash', { skip: 'reason e' }, () => {});
  test('f', (t) => { t.skip('skipped at run time'); });
});
describe('broken hook', () => { before(() => { throw new Error('boom'); }); test('g', () => {}); });
`;

function realTap(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tap-summary-'));
  try {
    const file = join(dir, 'sample.test.mjs');
    writeFileSync(file, source);
    // Without NODE_TEST_CONTEXT the child reports as a top-level run, not to this test runner.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    return spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env }).stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('skipped suites are counted and every skip is listed with its reason', () => {
  const tap = realTap(SAMPLE);
  assert.match(tap, /^# skipped 2$/m, 'node itself counts only the two skipped tests');
  const s = summariseTap(tap);
  assert.equal(s.skippedSuites, 2);
  assert.equal(s.skippedTests, 2);
  assert.equal(s.skipped, 4);
  assert.equal(s.passed, 1);
  assert.deepEqual(s.skips.map((x) => [x.kind, x.name, x.reason]), [
    ['suite', 'whole suite', 'no chromium here'],
    ['suite', 'outer › inner', '(no reason given)'],
    ['test', 'outer › e # hash', 'reason e'],
    ['test', 'outer › f', 'skipped at run time'],
  ]);
  const lines = closingLines(s);
  assert.equal(lines.at(-1), '1 passed, 1 failed, 4 skipped');
  assert.ok(lines.includes('  no chromium here') && lines.includes('    - suite whole suite'), lines.join('\n'));
});

test('a test cancelled by a failing hook counts as failed', () => {
  const s = summariseTap(realTap(SAMPLE));
  assert.equal(s.cancelled, 1);
  assert.equal(s.failed, 1);
});
