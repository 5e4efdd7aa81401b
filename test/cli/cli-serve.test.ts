/**
 * `serve`, and the commands that use a running server (`info`, `upload`, `convert --url`) against
 * it; `convert --definitions` offline. All through the built CLI.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  descendants,
  ensureBuilt,
  killAll,
  REAL_COMFY,
  REAL_SKIP,
  ROOT,
  runCliToEnd,
  STANDIN_COMMAND,
  STANDIN_MAIN,
  startCli,
  survivors,
  TINY_PNG,
  realComfyBase,
} from './harness.js';

const FIXTURE_OBJECT_INFO = join(ROOT, 'test', 'fixtures', 'comfyui-0.33.0', 'object_info.json');

/** EmptyImage → SaveImage as the ComfyUI frontend saves it (UI format). */
const UI_WORKFLOW = {
  last_node_id: 2,
  last_link_id: 1,
  nodes: [
    {
      id: 1,
      type: 'EmptyImage',
      pos: [0, 0],
      size: [315, 130],
      flags: {},
      order: 0,
      mode: 0,
      inputs: [],
      outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [1], slot_index: 0 }],
      properties: { 'Node name for S&R': 'EmptyImage' },
      widgets_values: [16, 8, 1, 0],
    },
    {
      id: 2,
      type: 'SaveImage',
      pos: [400, 0],
      size: [315, 270],
      flags: {},
      order: 1,
      mode: 0,
      inputs: [{ name: 'images', type: 'IMAGE', link: 1 }],
      outputs: [],
      properties: { 'Node name for S&R': 'SaveImage' },
      widgets_values: ['cli-convert'],
    },
  ],
  links: [[1, 1, 0, 2, 0, 'IMAGE']],
  groups: [],
  config: {},
  extra: {},
  version: 0.4,
};

const EXPECTED_PROMPT = {
  '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 8, batch_size: 1, color: 0 } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'cli-convert' } },
};

function withoutMeta(prompt: Record<string, Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(prompt).map(([id, node]) => [id, { class_type: node.class_type, inputs: node.inputs }]));
}

let dir = '';
before(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'cli-serve-'));
  await writeFile(join(dir, 'wf.json'), JSON.stringify(UI_WORKFLOW));
  await writeFile(join(dir, 'tiny.png'), TINY_PNG);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('convert --definitions converts offline and prints the API prompt', { skip: existsSync(FIXTURE_OBJECT_INFO) ? false : 'no recorded object_info fixture' }, async () => {
  const run = await runCliToEnd(['convert', 'wf.json', '--definitions', FIXTURE_OBJECT_INFO], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(withoutMeta(JSON.parse(run.stdout)), EXPECTED_PROMPT);
});

test('convert of a workflow with a node type the definitions lack: exit 3', { skip: existsSync(FIXTURE_OBJECT_INFO) ? false : 'no recorded object_info fixture' }, async () => {
  const unknown = structuredClone(UI_WORKFLOW);
  unknown.nodes[0]!.type = 'NoSuchNodeAnywhere';
  await writeFile(join(dir, 'unknown.json'), JSON.stringify(unknown));
  const run = await runCliToEnd(['convert', 'unknown.json', '--definitions', FIXTURE_OBJECT_INFO], { cwd: dir });
  assert.equal(run.code, 3, run.stderr);
  assert.match(run.stderr, /COMFY_UNKNOWN_NODE_TYPE[\s\S]*NoSuchNodeAnywhere/);
});

/** Real ComfyUI's own folders: the tests leave nothing in the user's checkout. */
const realBase = REAL_COMFY ? realComfyBase() : { args: [] as string[], cleanup: () => {} };
after(() => realBase.cleanup());

const targets = [
  {
    name: 'stand-in ComfyUI',
    skip: existsSync(STANDIN_MAIN) ? false : 'test/standin/main.ts is absent: stand-in CLI tests skipped',
    args: [] as string[],
    env: { COMFY_CONNECTOR_COMMAND: STANDIN_COMMAND, COMFYUI_PATH: '', COMFYUI_PYTHON: '' } as NodeJS.ProcessEnv,
    real: false,
  },
  {
    name: 'real ComfyUI',
    skip: REAL_COMFY ? false : REAL_SKIP,
    args: REAL_COMFY ? ['--comfyui', REAL_COMFY.path, '--python', REAL_COMFY.python, ...realBase.args] : [],
    env: { COMFY_CONNECTOR_COMMAND: '' } as NodeJS.ProcessEnv,
    real: true,
  },
];

for (const target of targets) {
  describe(`serve, info, upload, convert --url against the ${target.name}`, { skip: target.skip }, () => {
    test('serve prints its URL; the other commands use it; Ctrl-C stops it with exit 0 and no process left', async () => {
      const serve = startCli(['serve', ...target.args], { cwd: dir, env: target.env });
      let pids: number[] = [];
      try {
        await serve.waitFor(/^http:\/\/\S+\n/m, 'stdout');
        const url = serve.stdout().trim().split('\n')[0]!;
        pids = descendants(serve.child.pid!);

        const info = await runCliToEnd(['info', '--url', url, '--json'], { cwd: dir });
        assert.equal(info.code, 0, info.stderr);
        const data = JSON.parse(info.stdout) as Record<string, unknown>;
        assert.equal(data.url, url);
        assert.equal(data.managed, false);
        assert.ok((data.nodeCount as number) > 0);
        assert.equal(typeof data.models, 'object');
        if (target.real) assert.match(String(data.comfyuiVersion), /^\d+\.\d+\.\d+/);

        const human = await runCliToEnd(['info', '--url', url], { cwd: dir });
        assert.equal(human.code, 0, human.stderr);
        assert.match(human.stdout, /^server +http:\/\//m);
        assert.match(human.stdout, /^nodes +\d+ node classes/m);

        const upload = await runCliToEnd(['upload', 'tiny.png', '--to', 'input', '--subfolder', 'cli-test', '--url', url], { cwd: dir });
        assert.equal(upload.code, 0, upload.stderr);
        assert.match(upload.stdout.trim(), /^cli-test\/tiny.*\.png$/);

        const unsafe = await runCliToEnd(['upload', 'tiny.png', '--to', 'input', '--subfolder', '../escape', '--url', url], { cwd: dir });
        assert.equal(unsafe.code, 7, unsafe.stderr);
        assert.match(unsafe.stderr, /COMFY_UNSAFE_PATH/);

        const convert = await runCliToEnd(['convert', 'wf.json', '--url', url], { cwd: dir });
        assert.equal(convert.code, 0, convert.stderr);
        assert.deepEqual(withoutMeta(JSON.parse(convert.stdout)), EXPECTED_PROMPT);

        serve.child.kill('SIGINT');
        const end = await serve.done;
        assert.equal(end.code, 0, end.stderr);
        assert.deepEqual(await survivors(pids), []);
      } finally {
        serve.child.kill('SIGKILL');
        killAll(pids);
      }
    });
  });
}
