/**
 * RepeatInputs, the per-run inputs of `run --repeat` / `--vary-seed`, with a stub connector (only
 * client.objectInfo is used) and an injected random.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHED_REPEAT_WARNING, RepeatInputs, type RepeatPlan } from '../../src/cli/commands/repeat-inputs.js';
import type { ComfyConnector } from '../../src/cli/facade-types.js';

const OBJECT_INFO = {
  KSampler: { input: { required: { seed: ['INT', { default: 0, min: 0, max: 1000, control_after_generate: true }], steps: ['INT', { default: 20 }] } }, output: ['LATENT'], name: 'KSampler' },
};
let objectInfoCalls = 0;
const connector = { client: { objectInfo: async () => { objectInfoCalls++; return OBJECT_INFO; } } } as unknown as ComfyConnector;

const dirPromise = mkdtemp(join(tmpdir(), 'repeat-inputs-'));
after(async () => rm(await dirPromise, { recursive: true, force: true }));

async function file(name: string, content: unknown): Promise<string> {
  const path = join(await dirPromise, name);
  await writeFile(path, JSON.stringify(content));
  return path;
}

function plan(repeat: number, varySeed: boolean, warnings: string[]): RepeatPlan {
  return { repeat, varySeed, warn: (text) => warnings.push(text), random: () => 0.5 };
}

const UI = { version: 0.4, links: [], nodes: [{ id: 3, type: 'KSampler', inputs: [], outputs: [], widgets_values: [7, 'increment', 20] }] };
const API = { '3': { class_type: 'KSampler', inputs: { seed: 7, steps: 20 } } };

test('a single plain run passes the path through and fetches nothing', async () => {
  const path = await file('single.json', API);
  const runs = new RepeatInputs(connector, plan(1, false, [])).forFile(path);
  assert.equal(await runs.next(), path);
});

test('a UI workflow: run 1 sends the saved seed, each later run the seed advanced once more', async () => {
  const path = await file('ui.json', UI);
  const warnings: string[] = [];
  const before = objectInfoCalls;
  const runs = new RepeatInputs(connector, plan(3, false, warnings)).forFile(path);
  const seeds: unknown[] = [];
  for (let i = 0; i < 3; i++) seeds.push(((await runs.next()) as typeof UI).nodes[0]?.widgets_values[0]);
  assert.deepEqual(seeds, [7, 8, 9]);
  assert.deepEqual(warnings, [], 'UI workflows carry their own modes: no warning');
  assert.equal(objectInfoCalls - before, 1, 'definitions fetched once per batch');
});

test('an API prompt: warned once per batch without --vary-seed; random bounded seeds with it', async () => {
  const a = await file('a.json', API);
  const b = await file('b.json', API);
  const warnings: string[] = [];
  const repeats = new RepeatInputs(connector, plan(2, false, warnings));
  for (const path of [a, b]) {
    const runs = repeats.forFile(path);
    assert.deepEqual(await runs.next(), API);
    assert.deepEqual(await runs.next(), API);
  }
  assert.deepEqual(warnings, [CACHED_REPEAT_WARNING]);

  const varied = new RepeatInputs(connector, plan(2, true, warnings)).forFile(a);
  const first = (await varied.next()) as typeof API;
  assert.equal(first['3'].inputs.seed, 500, 'randomize within the definition [0, 1000]');
  assert.equal(first['3'].inputs.steps, 20);
  assert.equal(warnings.length, 1, 'no warning with --vary-seed');
});

test('an unreadable file fails each of its runs with the parse error', async () => {
  const path = await file('bad.json', 'not a workflow');
  const runs = new RepeatInputs(connector, plan(2, false, [])).forFile(path);
  await assert.rejects(runs.next(), { code: 'COMFY_INVALID_WORKFLOW' });
  await assert.rejects(runs.next(), { code: 'COMFY_INVALID_WORKFLOW' });
});
