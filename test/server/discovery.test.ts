/**
 * Finding the ComfyUI a user already has (src/server/discovery.ts), with temporary HOME folders:
 * each source, their order, a config naming a folder that is gone, and the not-found error.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { comfyCliPython, describeLocation, formatSearch, locateComfyUI, readIni } from '../../src/server/discovery.js';
import { ComfyError } from '../../src/errors.js';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh HOME and a working folder, with nothing in either. */
function world(): { home: string; cwd: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(join(tmpdir(), 'discovery-'));
  roots.push(root);
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  mkdirSync(home);
  mkdirSync(cwd);
  // PATH without a `comfy` script: the comfy-cli interpreter is tested on its own below.
  return { home, cwd, env: { HOME: home, PATH: join(root, 'bin') } };
}

function checkout(path: string): string {
  mkdirSync(join(path, 'comfy'), { recursive: true });
  writeFileSync(join(path, 'main.py'), '');
  return path;
}

function config(home: string, values: Record<string, string>): string {
  const dir = join(home, '.config', 'comfy-cli');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'config.ini');
  writeFileSync(file, `[DEFAULT]\n${Object.entries(values).map(([k, v]) => `${k} = ${v}`).join('\n')}\n\n[other]\ndefault_workspace = /not/this/section\n`);
  return file;
}

const locate = (w: ReturnType<typeof world>, extra: { comfyuiPath?: string; python?: string } = {}) =>
  locateComfyUI({ ...extra, env: w.env, cwd: w.cwd, platform: 'linux' });

test('an explicit folder or COMFYUI_PATH is used as given; nothing else is looked at', () => {
  const w = world();
  checkout(join(w.home, 'comfy', 'ComfyUI'));
  const explicit = locate(w, { comfyuiPath: '/given/ComfyUI' });
  assert.equal(explicit.path, '/given/ComfyUI');
  assert.equal(explicit.source, 'option');
  assert.ok(explicit.search.slice(1).every((step) => step.outcome === 'not looked at'));

  const fromEnv = locateComfyUI({ env: { ...w.env, COMFYUI_PATH: '/env/ComfyUI' }, cwd: w.cwd, platform: 'linux' });
  assert.equal(fromEnv.path, '/env/ComfyUI');
  assert.equal(fromEnv.source, 'env');
  assert.match(describeLocation(fromEnv), /^using ComfyUI at \/env\/ComfyUI \(from COMFYUI_PATH\)/);
});

test('comfy-cli config: default_workspace, then recent_workspace', () => {
  const w = world();
  const recent = checkout(join(w.home, 'recent'));
  const chosen = checkout(join(w.home, 'chosen'));
  config(w.home, { recent_workspace: recent, default_workspace: chosen });
  const both = locate(w);
  assert.equal(both.path, chosen);
  assert.equal(both.source, 'comfy-cli-default');
  assert.match(describeLocation(both), /\(from comfy-cli's config \(default_workspace in .*config\.ini\)\)/);

  config(w.home, { recent_workspace: recent });
  const onlyRecent = locate(w);
  assert.equal(onlyRecent.path, recent);
  assert.equal(onlyRecent.source, 'comfy-cli-recent');
});

test("comfy-cli's default workspace (today's, then the older one), then ./ComfyUI", () => {
  const w = world();
  const here = checkout(join(w.cwd, 'ComfyUI'));
  assert.equal(locate(w).path, here);
  assert.equal(locate(w).source, 'cwd');

  const legacy = checkout(join(w.home, 'ComfyUI'));
  assert.equal(locate(w).path, legacy, '~/ComfyUI comes before ./ComfyUI');
  assert.equal(locate(w).source, 'legacy-workspace');

  const current = checkout(join(w.home, 'comfy', 'ComfyUI'));
  const found = locate(w);
  assert.equal(found.path, current, '~/comfy/ComfyUI comes before ~/ComfyUI');
  assert.match(describeLocation(found), /\(from comfy-cli's default workspace\)/);
  // The config comes before all of them.
  const configured = checkout(join(w.home, 'configured'));
  config(w.home, { default_workspace: configured });
  assert.equal(locate(w).path, configured);
});

test('macOS and Windows: the config and workspace folders of those systems', () => {
  const w = world();
  const mac = checkout(join(w.home, 'Documents', 'comfy', 'ComfyUI'));
  assert.equal(locateComfyUI({ env: w.env, cwd: w.cwd, platform: 'darwin' }).path, mac);
  const macConfig = join(w.home, 'Library', 'Application Support', 'comfy-cli');
  mkdirSync(macConfig, { recursive: true });
  const elsewhere = checkout(join(w.home, 'mac-configured'));
  writeFileSync(join(macConfig, 'config.ini'), `[DEFAULT]\ndefault_workspace = ${elsewhere}\n`);
  assert.equal(locateComfyUI({ env: w.env, cwd: w.cwd, platform: 'darwin' }).path, elsewhere);

  const local = join(w.home, 'LocalAppData');
  mkdirSync(join(local, 'comfy-cli'), { recursive: true });
  const win = checkout(join(w.home, 'win-configured'));
  writeFileSync(join(local, 'comfy-cli', 'config.ini'), `[DEFAULT]\r\nrecent_workspace = ${win}\r\n`);
  assert.equal(locateComfyUI({ env: { USERPROFILE: w.home, LOCALAPPDATA: local, PATH: '' }, cwd: w.cwd, platform: 'win32' }).path, win);
});

test('a config naming a folder that is gone, or one that is not ComfyUI, is skipped and said so', () => {
  const w = world();
  const gone = join(w.home, 'deleted-workspace');
  const notComfy = join(w.home, 'just-a-folder');
  mkdirSync(notComfy);
  config(w.home, { default_workspace: gone, recent_workspace: notComfy });
  const here = checkout(join(w.cwd, 'ComfyUI'));
  const found = locate(w);
  assert.equal(found.path, here);
  const lines = formatSearch(found.search).join('\n');
  assert.match(lines, new RegExp(`default_workspace .*: ${gone}: no such folder \\(skipped\\)`));
  assert.match(lines, new RegExp(`recent_workspace .*: ${notComfy}: no main.py in it \\(skipped\\)`));
  assert.deepEqual(found.search.map((s) => s.outcome), ['not given', 'not given', 'missing', 'not ComfyUI', 'missing', 'missing', 'used']);
});

test('nothing found: COMFY_NOT_FOUND lists every place looked at and how to install or point at one', () => {
  const w = world();
  const file = config(w.home, { default_workspace: join(w.home, 'gone') });
  const error = (() => {
    try {
      locate(w);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(error instanceof ComfyError);
  assert.equal(error.code, 'COMFY_NOT_FOUND');
  for (const place of [file, join(w.home, 'gone'), join(w.home, 'comfy', 'ComfyUI'), join(w.home, 'ComfyUI'), join(w.cwd, 'ComfyUI'), 'COMFYUI_PATH', '--comfyui']) {
    assert.ok(error.message.includes(place), `the message names ${place}:\n${error.message}`);
  }
  assert.match(error.message, /pip install comfy-cli/);
  assert.match(error.message, /comfy install/);
});

test('Python: COMFYUI_PYTHON, a venv inside, the interpreter comfy-cli runs with, then python3', () => {
  const w = world();
  const workspace = checkout(join(w.home, 'comfy', 'ComfyUI'));
  const bin = w.env.PATH as string;
  mkdirSync(bin, { recursive: true });
  assert.equal(locate(w).python, 'python3');

  // comfy-cli installed with pip into an environment of its own: its `comfy` script names that Python.
  const cliEnv = join(w.home, 'cli-env', 'bin');
  mkdirSync(cliEnv, { recursive: true });
  writeFileSync(join(cliEnv, 'python3.12'), '');
  chmodSync(join(cliEnv, 'python3.12'), 0o755);
  writeFileSync(join(bin, 'comfy'), `#!${join(cliEnv, 'python3.12')}\nimport comfy_cli\n`);
  chmodSync(join(bin, 'comfy'), 0o755);
  assert.equal(comfyCliPython(w.env), join(cliEnv, 'python3.12'));
  const viaCli = locate(w);
  assert.equal(viaCli.python, join(cliEnv, 'python3.12'));
  assert.equal(viaCli.pythonLabel, 'the Python comfy-cli runs with');
  // Only for a comfy-cli workspace: a ./ComfyUI of the user's own is not comfy-cli's.
  rmSync(workspace, { recursive: true });
  checkout(join(w.cwd, 'ComfyUI'));
  assert.equal(locate(w).python, 'python3');

  const venv = join(w.cwd, 'ComfyUI', '.venv', 'bin');
  mkdirSync(venv, { recursive: true });
  writeFileSync(join(venv, 'python'), '');
  assert.equal(locate(w).python, join(venv, 'python'));
  assert.equal(locateComfyUI({ env: { ...w.env, COMFYUI_PYTHON: '/env/python' }, cwd: w.cwd, platform: 'linux' }).python, '/env/python');
  assert.equal(locate(w, { python: '/flag/python' }).python, '/flag/python');
});

test('readIni reads configparser output: [DEFAULT] only, case-insensitive keys, %% escapes', () => {
  const w = world();
  const file = join(w.home, 'c.ini');
  writeFileSync(file, '# comment\n[DEFAULT]\nDefault_Workspace = /a/100%%/b\nrecent_workspace: /r\n[x]\ndefault_workspace = /no\n');
  const values = readIni(file);
  assert.equal(values?.get('default_workspace'), '/a/100%/b');
  assert.equal(values?.get('recent_workspace'), '/r');
  assert.equal(readIni(join(w.home, 'absent.ini')), undefined);
});
