// The CLI takes URLs for `upload` and `run --input` (run from source with tsx; the built CLI is the
// same code). COMFY_CONNECTOR_ALLOW_PRIVATE_URLS=1 lets it fetch from the tests' loopback origin.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tinyPng } from '../connector/harness.js';
import { startOrigin } from '../helpers/http-origin.js';
import { REPO_ROOT, startStandin } from '../helpers/targets.js';

const run = promisify(execFile);
const CLI = [ '--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')];

test('upload URL and run --input KEY=URL against a running ComfyUI (stand-in)', { timeout: 180_000 }, async (t) => {
  const server = await startStandin();
  t.after(() => server.stop());
  const origin = await startOrigin();
  t.after(() => origin.stop());
  const out = mkdtempSync(join(tmpdir(), 'cli-url-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const env = { ...process.env, COMFY_CONNECTOR_ALLOW_PRIVATE_URLS: '1', NO_COLOR: '1' };
  const url = origin.add('from-cli.png', { body: tinyPng(6, 4), type: 'image/png' });

  const up = await run(process.execPath, [...CLI, 'upload', url, '--to', 'input', '--url', server.url], { cwd: REPO_ROOT, env });
  assert.equal(up.stdout.trim(), 'from-cli.png');
  assert.ok(existsSync(join(server.dirs.input, 'from-cli.png')));

  const prompt = join(out, 'prompt.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(prompt, JSON.stringify({
    '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'cli-url' } },
  }));
  const ran = await run(process.execPath, [...CLI, 'run', prompt, '--input', `LoadImage.image=${url}`, '--url', server.url, '--out', join(out, 'outputs'), '--no-progress'], { cwd: REPO_ROOT, env });
  assert.ok(readdirSync(join(out, 'outputs')).some((n) => n.startsWith('cli-url')), ran.stdout + ran.stderr);

  // Without the switch a loopback URL is refused with exit code 7 (io) and the URL named.
  const refused = await run(process.execPath, [...CLI, 'upload', url, '--to', 'input', '--url', server.url], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } }).then(() => undefined, (e: { code: number; stderr: string }) => e);
  assert.equal(refused?.code, 7);
  assert.match(refused!.stderr, /127\.0\.0\.1/);
  assert.match(refused!.stderr, /COMFY_SOURCE_REFUSED|private/);
});

test('--allow-private-urls instead of the variable; run --store DIR writes the outputs there and lists them', { timeout: 180_000 }, async (t) => {
  const server = await startStandin();
  t.after(() => server.stop());
  const origin = await startOrigin();
  t.after(() => origin.stop());
  const out = mkdtempSync(join(tmpdir(), 'cli-store-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.COMFY_CONNECTOR_ALLOW_PRIVATE_URLS;
  const url = origin.add('flagged.png', { body: tinyPng(5, 3), type: 'image/png' });

  const up = await run(process.execPath, [...CLI, 'upload', url, '--to', 'input', '--allow-private-urls', '--url', server.url], { cwd: REPO_ROOT, env });
  assert.equal(up.stdout.trim(), 'flagged.png');

  const { writeFileSync } = await import('node:fs');
  const prompt = join(out, 'prompt.json');
  writeFileSync(prompt, JSON.stringify({
    '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'cli-store' } },
  }));
  const store = join(out, 'store');
  const outputs = join(out, 'outputs');
  const ran = await run(process.execPath, [...CLI, 'run', prompt, '--input', `LoadImage.image=${url}`, '--allow-private-urls', '--store', store, '--out', outputs, '--url', server.url, '--no-progress'], { cwd: REPO_ROOT, env });
  const runs = readdirSync(join(store, 'runs'));
  assert.equal(runs.length, 1, 'one run folder: runs/<promptId>');
  const node = readdirSync(join(store, 'runs', runs[0]!));
  const files = readdirSync(join(store, 'runs', runs[0]!, node[0]!), { recursive: true }).map(String).filter((n) => n.endsWith('.png'));
  assert.ok(files.some((n) => n.includes('cli-store')), `stored: ${files.join(', ')}`);
  assert.match(ran.stdout + ran.stderr, new RegExp(`runs/${runs[0]}/`), 'the stored keys are listed');
  assert.equal(existsSync(outputs), false, 'with --store nothing is saved to --out');

  const bad = await run(process.execPath, [...CLI, 'run', prompt, '--store', 'ftp://host/x', '--url', server.url], { cwd: REPO_ROOT, env }).then(() => undefined, (e: { code: number; stderr: string }) => e);
  assert.equal(bad?.code, 2, 'a bad --store is a usage error, before any run');
  assert.match(bad!.stderr, /--store/);
});
