#!/usr/bin/env node
// Node 20's --test does not expand globs, so collect the test files here and hand them over.
// Extra arguments filter by substring: `node scripts/run-tests.mjs workflow` runs test/workflow/**.
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { closingLines, summariseTap } from './tap-summary.mjs';
import { guardCheckout } from './checkout-guard.mjs';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function collect(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    if (name === 'fixtures' || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...collect(path));
    else if (name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found;
}

const files = collect(join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched', filters);
  process.exit(1);
}
mkdirSync(join(root, '.cache'), { recursive: true });
const tap = join(root, '.cache', `test-results-${process.pid}.tap`);
const checkout = guardCheckout(process.env.COMFYUI_PATH);
// Caches the code under test keeps for users (ComfyUI's database templates, a browser's disk cache)
// go to a folder of this run, not to the user's ~/.cache.
const xdgCache = join(root, '.cache', `xdg-cache-${process.pid}`);
mkdirSync(xdgCache, { recursive: true });
const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx', '--test', '--test-concurrency=2',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, XDG_CACHE_HOME: xdgCache } },
);
rmSync(xdgCache, { recursive: true, force: true });
// One plain closing line that any CI reader understands, taken from the TAP output: every skip
// (whole suites included, which node's own count leaves out) is listed with its reason first.
const summary = summariseTap(readFileSync(tap, 'utf8'));
rmSync(tap, { force: true });
for (const line of closingLines(summary)) console.log(line);
const leftovers = checkout.check();
for (const line of leftovers) console.error(line);
process.exit(leftovers.length ? 1 : (result.status ?? 1));
