import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { Session } from '../../src/cli/session.js';

/** Runs the CLI in this process with collected output: for paths that never reach a server. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env,
    cwd,
    session: new Session(),
  });
  return { code, stdout, stderr };
}

test('--help lists the commands and the exit codes, on stdout, with exit code 0', async () => {
  const { code, stdout } = await cli(['--help']);
  assert.equal(code, 0);
  for (const word of ['run', 'convert', 'upload', 'info', 'serve', 'Exit codes:', '130']) assert.ok(stdout.includes(word), word);
});

test('usage errors exit 2 before any server starts', async () => {
  const unknown = await cli(['run', '--bogus', 'x.json']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--bogus'/);

  assert.equal((await cli(['run'])).code, 2, 'missing files argument');
  assert.equal((await cli(['frobnicate'])).code, 2, 'unknown command');

  const missing = await cli(['run', 'does-not-exist.json', '--comfyui', '/nowhere']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /COMFY_FILE_UNREADABLE[\s\S]*workflow file "does-not-exist\.json" does not exist/);
});

test('a malformed --set is a usage error; no ComfyUI anywhere is COMFY_NOT_FOUND naming the fix', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cli-program-'));
  try {
    await writeFile(join(dir, 'wf.json'), JSON.stringify({ '1': { class_type: 'EmptyImage', inputs: { width: 8 } } }));
    const badSet = await cli(['run', 'wf.json', '--set', 'seed42', '--comfyui', '/nowhere'], {}, dir);
    assert.equal(badSet.code, 2);
    assert.match(badSet.stderr, /--set "seed42" is not KEY=VALUE/);
    // An empty HOME and working folder: comfy-cli's places and ./ComfyUI hold nothing.
    const noServer = await cli(['run', 'wf.json'], { HOME: dir, PATH: '' }, dir);
    assert.equal(noServer.code, 6);
    assert.match(noServer.stderr, /COMFY_NOT_FOUND[\s\S]*comfy-cli's config[\s\S]*--comfyui DIR/);
    const badRepeat = await cli(['run', 'wf.json', '--repeat', '0', '--comfyui', '/nowhere'], {}, dir);
    assert.equal(badRepeat.code, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('upload needs --to; serve refuses --url', async () => {
  const upload = await cli(['upload', 'a.png']);
  assert.equal(upload.code, 2);
  assert.match(upload.stderr, /--to/);
  const serve = await cli(['serve', '--url', 'http://127.0.0.1:1']);
  assert.equal(serve.code, 2);
});

test('info lists model folders with files, then names the empty ones', async () => {
  const { formatInfo } = await import('../../src/cli/commands/info.js');
  const text = formatInfo({
    url: 'http://127.0.0.1:8188',
    managed: false,
    comfyuiVersion: '0.33.0',
    pythonVersion: '3.11.2 (main) [GCC]',
    pytorchVersion: '2.11.0',
    os: 'posix',
    devices: [{ name: 'cpu', type: 'cpu', vramTotal: 2 ** 31, vramFree: 2 ** 30 }],
    nodeCount: 849,
    models: { loras: 2, checkpoints: 1, vae: 0, upscale_models: 0 },
  });
  assert.match(text, /^server +http:\/\/127\.0\.0\.1:8188 \(remote\)$/m);
  assert.match(text, /^python +3\.11\.2$/m);
  assert.match(text, /^devices +cpu \(cpu, 1\.0 GiB free of 2\.0 GiB\)$/m);
  assert.match(text, /^models +checkpoints {2}1\n +loras {8}2\n +empty: upscale_models, vae$/m);
});

test('--version prints the package version', async () => {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const { code, stdout } = await cli(['--version']);
  assert.equal(code, 0);
  assert.equal(stdout.trim(), pkg.version);
});

test('with --json a usage error is also one JSON error line on stdout', async () => {
  const { code, stdout } = await cli(['run', 'missing.json', '--json', '--comfyui', '/nowhere']);
  assert.equal(code, 2);
  const record = JSON.parse(stdout.trim()) as Record<string, unknown>;
  assert.equal(record.type, 'error');
  assert.equal(record.code, 'COMFY_FILE_UNREADABLE');
  assert.equal(record.exitCode, 2);
});
