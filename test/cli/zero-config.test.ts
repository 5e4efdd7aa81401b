/**
 * Zero-config start, end to end with the built CLI: no --comfyui, no COMFYUI_PATH, a HOME where
 * comfy-cli's config names a workspace. The workspace's venv/bin/python is a small script that
 * starts the stand-in in place of main.py, so the whole path (discovery, venv Python, boot, run)
 * is real except ComfyUI itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, runCliToEnd, savePrompt, STANDIN_MAIN } from './harness.js';

let root = '';
let home = '';
let work = '';
let workspace = '';
let base = '';
let env: NodeJS.ProcessEnv = {};

before(async () => {
  ensureBuilt();
  root = await mkdtemp(join(tmpdir(), 'cli-zero-config-'));
  home = join(root, 'home');
  work = join(root, 'work');
  base = join(root, 'base');
  workspace = join(home, 'my-comfy', 'ComfyUI');
  await mkdir(join(workspace, 'comfy'), { recursive: true });
  await mkdir(join(workspace, 'venv', 'bin'), { recursive: true });
  await mkdir(join(home, '.config', 'comfy-cli'), { recursive: true });
  await mkdir(work);
  await mkdir(join(base, 'custom_nodes'), { recursive: true });
  await writeFile(join(workspace, 'main.py'), '# stands for ComfyUI\'s main.py\n');
  // "python main.py ARGS" → the stand-in with ARGS.
  const python = join(workspace, 'venv', 'bin', 'python');
  await writeFile(python, `#!/bin/sh\nshift\nexec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(import.meta.resolve('tsx'))} ${JSON.stringify(STANDIN_MAIN)} "$@"\n`);
  await chmod(python, 0o755);
  await writeFile(join(home, '.config', 'comfy-cli', 'config.ini'), `[DEFAULT]\ndefault_workspace = ${join(home, 'gone')}\nrecent_workspace = ${workspace}\nenable_tracking = False\n`);
  await writeFile(join(work, 'wf.json'), JSON.stringify(savePrompt('zero-config')));
  env = { HOME: home, COMFYUI_PATH: '', COMFYUI_PYTHON: '', COMFY_CONNECTOR_COMMAND: '' };
});
after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test('run without --comfyui uses the workspace comfy-cli recorded, and says so', async () => {
  const run = await runCliToEnd(['run', 'wf.json', '--no-progress', '--out', 'renders', `--arg=--base-directory=${base}`], { cwd: work, env });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(
    run.stderr.includes(`using ComfyUI at ${workspace} (from comfy-cli's config (recent_workspace in ${join(home, '.config', 'comfy-cli', 'config.ini')})), Python ${join(workspace, 'venv', 'bin', 'python')} (the venv inside the ComfyUI folder)`),
    run.stderr,
  );
  const saved = await readdir(join(work, 'renders'));
  assert.equal(saved.length, 1);
  assert.match(saved[0]!, /^zero-config.*\.png$/);
});

test('info shows the whole search: the folder that is gone (skipped), the one used, the rest not looked at', async () => {
  const info = await runCliToEnd(['info', `--arg=--base-directory=${base}`], { cwd: work, env });
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, new RegExp(`^folder +${workspace} \\(from comfy-cli's config`, 'm'));
  assert.match(info.stdout, /1\. the comfyuiPath option \(CLI: --comfyui\): not given/);
  assert.match(info.stdout, /2\. COMFYUI_PATH: not given/);
  assert.ok(info.stdout.includes(`3. comfy-cli's config (default_workspace in ${join(home, '.config', 'comfy-cli', 'config.ini')}): ${join(home, 'gone')}: no such folder (skipped)`), info.stdout);
  assert.ok(info.stdout.includes(`: ${workspace}: used`), info.stdout);
  assert.match(info.stdout, /7\. \.\/ComfyUI in the current folder: .*not looked at/);

  const json = await runCliToEnd(['info', '--json', `--arg=--base-directory=${base}`], { cwd: work, env });
  assert.equal(json.code, 0, json.stderr);
  const data = JSON.parse(json.stdout) as { comfyui?: { path: string; source: string; search: unknown[] } };
  assert.equal(data.comfyui?.path, workspace);
  assert.equal(data.comfyui?.source, 'comfy-cli-recent');
  assert.equal(data.comfyui?.search.length, 7);
});

test('nothing anywhere: exit 6, COMFY_NOT_FOUND with every place and how to install', async () => {
  const empty = join(root, 'empty-home');
  await mkdir(empty, { recursive: true });
  const run = await runCliToEnd(['run', 'wf.json'], { cwd: work, env: { ...env, HOME: empty } });
  assert.equal(run.code, 6, run.stderr);
  assert.match(run.stderr, /COMFY_NOT_FOUND/);
  for (const place of [join(empty, '.config', 'comfy-cli', 'config.ini'), join(empty, 'comfy', 'ComfyUI'), join(empty, 'ComfyUI'), join(work, 'ComfyUI')]) {
    assert.ok(run.stderr.includes(place), place);
  }
  assert.match(run.stderr, /pip install comfy-cli/);
  assert.equal(existsSync(join(work, 'outputs')), false);
});
