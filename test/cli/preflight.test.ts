/**
 * `run` checks everything that needs no server before it boots one: files read and are workflows
 * or prompts, every --set/--input key names a node, --input and --extra-model-paths files exist.
 * The "server" here records that it was started and exits, so a test sees whether a boot happened.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { Session } from '../../src/cli/session.js';

let dir = '';
let marker = '';
let env: NodeJS.ProcessEnv = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-preflight-'));
  marker = join(dir, 'booted');
  env = { COMFY_CONNECTOR_COMMAND: JSON.stringify([process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); process.exit(3)`, '--']) };
  await writeFile(join(dir, 'prompt.json'), JSON.stringify({
    '1': { class_type: 'LoadImage', inputs: { image: 'x.png' } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'p' }, _meta: { title: 'Save' } },
  }));
  await writeFile(join(dir, 'ui.json'), JSON.stringify({
    nodes: [
      { id: 4, type: 'CheckpointLoaderSimple', widgets_values: ['model.safetensors'] },
      { id: 9, type: 'SaveImage', title: 'Final save', widgets_values: ['ComfyUI'] },
    ],
    links: [],
    version: 0.4,
  }));
  await writeFile(join(dir, 'broken.json'), '{"nodes": [');
  await writeFile(join(dir, 'tiny.png'), 'not really a png');
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  await rm(marker, { force: true });
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env,
    cwd: dir,
    session: new Session(),
  });
  return { code, stdout, stderr, booted: existsSync(marker) };
}

test('a --set key that names no node of an API prompt: exit 3, COMFY_BAD_OVERRIDE, no boot', async () => {
  const run = await cli(['run', 'prompt.json', '--set', 'Nope.x=1', '--no-progress']);
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /COMFY_BAD_OVERRIDE[\s\S]*prompt\.json: Cannot apply "Nope\.x": no node has the id, title or type "Nope"/);
  assert.equal(run.booted, false, 'no server was started');
  // An input the node lacks is known from the prompt alone, too.
  const input = await cli(['run', 'prompt.json', '--set', 'Save.nope=1']);
  assert.equal(input.code, 3, input.stderr);
  assert.match(input.stderr, /node 2 \(SaveImage\) has no input "nope"/);
  assert.equal(input.booted, false);
});

test('a --set or --input key that names no node of a UI workflow: exit 3, no boot', async () => {
  const set = await cli(['run', 'ui.json', '--set', 'Nope.x=1']);
  assert.equal(set.code, 3, set.stderr);
  assert.match(set.stderr, /COMFY_BAD_OVERRIDE[\s\S]*ui\.json: .*"Nope"/);
  assert.equal(set.booted, false);
  const input = await cli(['run', 'ui.json', '--input', 'Missing.image=./tiny.png']);
  assert.equal(input.code, 3, input.stderr);
  assert.equal(input.booted, false);
});

test('keys that may be right go on to the boot: id, title, type, and a display title only the server knows', async () => {
  for (const key of ['4.ckpt_name=a', 'Final save.filename_prefix=b', 'SaveImage.filename_prefix=c', 'Load Checkpoint.ckpt_name=d']) {
    const run = await cli(['run', 'ui.json', '--set', key]);
    assert.equal(run.booted, true, `${key}: ${run.stderr}`);
    assert.equal(run.code, 6, run.stderr); // the recording "server" exits at once
  }
  const prompt = await cli(['run', 'prompt.json', '--set', 'Save.filename_prefix=x', '--input', '1.image=./tiny.png']);
  assert.equal(prompt.booted, true, prompt.stderr);
});

test('a file that is not JSON, or neither workflow nor prompt: exit 3, COMFY_INVALID_WORKFLOW, no boot', async () => {
  const broken = await cli(['run', 'broken.json']);
  assert.equal(broken.code, 3, broken.stderr);
  assert.match(broken.stderr, /COMFY_INVALID_WORKFLOW[\s\S]*broken\.json: The input is not valid JSON/);
  assert.equal(broken.booted, false);
  await writeFile(join(dir, 'other.json'), '{"hello": "world"}');
  const other = await cli(['run', 'other.json']);
  assert.equal(other.code, 3, other.stderr);
  assert.equal(other.booted, false);
});

test('missing files: COMFY_FILE_UNREADABLE naming the file and its role, exit 2, no boot', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['run', 'nope.json'], /workflow file "nope\.json" does not exist/],
    [['run', 'prompt.json', '--input', '1.image=./nope.png'], /--input file "\.\/nope\.png" does not exist/],
    [['run', 'prompt.json', '--extra-model-paths', 'nope.yaml'], /--extra-model-paths file "nope\.yaml" does not exist/],
    [['upload', 'nope.png', '--to', 'input'], /upload source file "nope\.png" does not exist/],
    [['convert', 'ui.json', '--definitions', 'nope-object-info.json'], /--definitions file ".*nope-object-info\.json" does not exist/],
    [['info', '--extra-model-paths', 'nope.yaml'], /--extra-model-paths file "nope\.yaml" does not exist/],
  ];
  for (const [args, message] of cases) {
    const run = await cli(args);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /COMFY_FILE_UNREADABLE/);
    assert.match(run.stderr, message);
    assert.match(run.stderr, /Check the path/);
    assert.equal(run.booted, false, args.join(' '));
  }
});
