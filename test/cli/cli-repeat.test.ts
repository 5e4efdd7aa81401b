/**
 * `run --repeat`: a UI workflow moves on between runs by its saved control_after_generate modes (as
 * the frontend does after each queue), so repeats are new results, not cache hits; an API prompt is
 * repeated as is, with a warning, unless --vary-seed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, jsonLines, REAL_COMFY, REAL_SKIP, realComfyBase, runCliToEnd, savePrompt, STANDIN_COMMAND, STANDIN_MAIN, TEST_NODES_YAML } from './harness.js';

/** Real ComfyUI's own folders: the tests leave nothing in the user's checkout. */
const realBase = REAL_COMFY ? realComfyBase() : { args: [] as string[], cleanup: () => {} };
after(() => realBase.cleanup());

const targets = [
  {
    name: 'stand-in ComfyUI',
    skip: existsSync(STANDIN_MAIN) ? false : 'test/standin/main.ts is absent: stand-in CLI tests skipped',
    args: ['--extra-model-paths', TEST_NODES_YAML],
    env: { COMFY_CONNECTOR_COMMAND: STANDIN_COMMAND, COMFYUI_PATH: '', COMFYUI_PYTHON: '' },
  },
  {
    name: 'real ComfyUI',
    skip: REAL_COMFY ? false : REAL_SKIP,
    args: REAL_COMFY ? ['--comfyui', REAL_COMFY.path, '--python', REAL_COMFY.python, ...realBase.args] : [],
    env: { COMFY_CONNECTOR_COMMAND: '' },
  },
];

/** PrimitiveInt (value 1000, mode increment) → EmptyImage.color → SaveImage: each run a new colour. */
function incrementingWorkflow(mode: string): Record<string, unknown> {
  return {
    version: 0.4,
    last_node_id: 3,
    last_link_id: 2,
    nodes: [
      { id: 1, type: 'PrimitiveInt', mode: 0, inputs: [], outputs: [{ name: 'INT', type: 'INT', links: [1] }], widgets_values: [1000, mode] },
      {
        id: 2, type: 'EmptyImage', mode: 0,
        inputs: [{ name: 'color', type: 'INT', widget: { name: 'color' }, link: 1 }],
        outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [2] }],
        widgets_values: [8, 8, 1, 0],
      },
      { id: 3, type: 'SaveImage', mode: 0, inputs: [{ name: 'images', type: 'IMAGE', link: 2 }], outputs: [], widgets_values: [`repeat-${mode}`] },
    ],
    links: [[1, 1, 0, 2, 3, 'INT'], [2, 2, 0, 3, 0, 'IMAGE']],
  };
}

/** The files each run saved, in run order. */
function savedPerRun(stdout: string): string[][] {
  return jsonLines(stdout).filter((r) => r.type === 'result').map((r) => r.saved as string[]);
}

let dir = '';
before(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'cli-repeat-'));
  await writeFile(join(dir, 'increment.json'), JSON.stringify(incrementingWorkflow('increment')));
  await writeFile(join(dir, 'fixed.json'), JSON.stringify(incrementingWorkflow('fixed')));
  await writeFile(join(dir, 'api.json'), JSON.stringify(savePrompt('repeat-api')));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const target of targets) {
  describe(`run --repeat against the ${target.name}`, { skip: target.skip }, () => {
    test('a UI workflow with an incrementing control gives a new output per run; fixed and an API prompt repeat the first', async () => {
      const out = join(dir, `out-${target.name.split(' ')[0]}`);
      const run = await runCliToEnd(['run', 'increment.json', 'fixed.json', 'api.json', '--repeat', '2', '--json', '--out', out, ...target.args], { cwd: dir, env: target.env });
      assert.equal(run.code, 0, `stderr:\n${run.stderr}`);
      const runs = savedPerRun(run.stdout);
      assert.equal(runs.length, 6, run.stdout);
      const bytes = (i: number) => {
        const files = runs[i] as string[];
        assert.equal(files.length, 1, `run ${i} saved one image`);
        return readFileSync(files[0] as string);
      };
      assert.notDeepEqual(bytes(0), bytes(1), 'increment: run 2 used value 1001, a different colour');
      assert.deepEqual(bytes(2), bytes(3), 'fixed: the same image twice');
      assert.deepEqual(bytes(4), bytes(5), 'API prompt without --vary-seed: the same image twice');
      const warnings = run.stderr.split('\n').filter((line) => line.includes('--vary-seed'));
      assert.equal(warnings.length, 1, `one cache warning for the API prompt:\n${run.stderr}`);
    });
  });
}
