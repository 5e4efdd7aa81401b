/**
 * Control after generate: the UI workflow moves on after each queue as frontend 1.48.7 moves it
 * (valueControl.ts): modes, bounds, steps, combo filters, linked widgets, subgraphs, PrimitiveNodes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { examplesCorpusDir } from './corpus.js';
import {
  advanceControlWidgets,
  convertWorkflow,
  NodeDefinitions,
  nextComboValue,
  nextNumberValue,
  randomizeSeeds,
  workflowForIteration,
  type ApiPrompt,
  type ObjectInfo,
  type UiNode,
  type UiWorkflow,
} from '../../src/workflow/index.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const OBJECT_INFO = join(ROOT, 'test', 'fixtures', 'comfyui-0.33.0', 'object_info.json');
const CORPUS = join(examplesCorpusDir() ?? join(ROOT, '..', 'shared', 'corpus'), 'examples-pairs', 'lcm__lcm_basic_example.json');
const defs = NodeDefinitions.fromFile(OBJECT_INFO);
const TWO_50 = 1125899906842624;
const fixed = (r: number) => () => r;

function ksampler(id: number, values: unknown[], extra: Partial<UiNode> = {}): UiNode {
  return { id, type: 'KSampler', mode: 0, inputs: [], outputs: [], widgets_values: values, ...extra };
}
function workflow(nodes: UiNode[], more: Partial<UiWorkflow> = {}): UiWorkflow {
  return { nodes, links: [], version: 0.4, ...more };
}
const seedOf = (wf: UiWorkflow, index = 0) => (wf.nodes[index]?.widgets_values as unknown[])[0];

describe('advanceControlWidgets on KSampler seeds (0.33 object_info)', () => {
  test('increment / decrement move by the step; fixed leaves the workflow as it is', () => {
    const wf = workflow([ksampler(1, [41, 'increment', 20, 8, 'euler', 'normal', 1]), ksampler(2, [41, 'decrement', 20, 8, 'euler', 'normal', 1]),
      ksampler(3, [41, 'fixed', 20, 8, 'euler', 'normal', 1])]);
    const next = advanceControlWidgets(wf, defs);
    assert.deepEqual(next.nodes.map((n) => n.widgets_values), [
      [42, 'increment', 20, 8, 'euler', 'normal', 1],
      [40, 'decrement', 20, 8, 'euler', 'normal', 1],
      [41, 'fixed', 20, 8, 'euler', 'normal', 1],
    ]);
    assert.equal(seedOf(wf), 41, 'the input workflow is not mutated');
  });

  test('bounds: decrement stops at min 0, increment at the 2^50 cap of the uint64 range', () => {
    const wf = workflow([ksampler(1, [0, 'decrement', 20, 8, 'euler', 'normal', 1]), ksampler(2, [TWO_50, 'increment', 20, 8, 'euler', 'normal', 1])]);
    const next = advanceControlWidgets(wf, defs);
    assert.equal(seedOf(next, 0), 0);
    assert.equal(seedOf(next, 1), TWO_50);
  });

  test('randomize draws floor(r * range) * step + min within [min, 2^50)', () => {
    const wf = workflow([ksampler(1, [5, 'randomize', 20, 8, 'euler', 'normal', 1])]);
    assert.equal(seedOf(advanceControlWidgets(wf, defs, { random: fixed(0.5) })), TWO_50 / 2);
    assert.equal(seedOf(advanceControlWidgets(wf, defs, { random: fixed(0) })), 0);
    const high = seedOf(advanceControlWidgets(wf, defs, { random: fixed(0.9999999999) })) as number;
    assert.ok(high < TWO_50 && high > TWO_50 * 0.99, String(high));
  });

  test('a seed fed by a link is not controlled (applyWidgetControl returns early)', () => {
    const node = ksampler(1, [7, 'increment', 20, 8, 'euler', 'normal', 1], {
      inputs: [{ name: 'seed', type: 'INT', widget: { name: 'seed' }, link: 9 }],
    });
    assert.equal(seedOf(advanceControlWidgets(workflow([node]), defs)), 7);
  });

  test('a short widgets_values uses the default mode (randomize for KSampler) and fills the defaults it skips', () => {
    const next = advanceControlWidgets(workflow([ksampler(1, [3])]), defs, { random: fixed(0.25) });
    assert.equal(seedOf(next), TWO_50 / 4);
    assert.deepEqual((next.nodes[0]?.widgets_values as unknown[]).length, 1, 'nothing beyond the seed slot is needed');
  });

  test('workflowForIteration: 0 is the saved workflow, n is n advances', () => {
    const wf = workflow([ksampler(1, [10, 'increment', 20, 8, 'euler', 'normal', 1])]);
    assert.equal(seedOf(workflowForIteration(wf, defs, 0)), 10);
    assert.equal(seedOf(workflowForIteration(wf, defs, 3)), 13);
  });

  test('PrimitiveInt (control_after_generate: "fixed") is left alone by default and incremented when set so', () => {
    const prim = (values: unknown[]): UiNode => ({ id: 1, type: 'PrimitiveInt', inputs: [], outputs: [], widgets_values: values });
    assert.deepEqual(advanceControlWidgets(workflow([prim([5, 'fixed'])]), defs).nodes[0]?.widgets_values, [5, 'fixed']);
    assert.deepEqual(advanceControlWidgets(workflow([prim([5, 'increment'])]), defs).nodes[0]?.widgets_values, [6, 'increment']);
    assert.deepEqual(advanceControlWidgets(workflow([prim([5])]), defs).nodes[0]?.widgets_values, [5], 'default mode is fixed');
  });
});

describe('promoted subgraph inputs (applyPromotedWidgetControl)', () => {
  const interior = (): UiNode => ksampler(5, [3, 'increment', 20, 8, 'euler', 'normal', 1], {
    inputs: [{ name: 'seed', type: 'INT', widget: { name: 'seed' }, link: 1 }],
  });
  const sub = () => ({
    id: 'sg-seed', name: 'Sampler', nodes: [interior()], links: [{ id: 1, origin_id: -10, origin_slot: 0, target_id: 5, target_slot: 0, type: 'INT' }],
    inputs: [{ name: 'seed', type: 'INT', linkIds: [1] }], outputs: [],
  });
  const host = (link: number | null, values: unknown[] = [41]): UiNode => ({ id: 1, type: 'sg-seed', inputs: [{ name: 'seed', type: 'INT', widget: { name: 'seed' }, link }], outputs: [], widgets_values: values });

  test('the host value moves by the interior mode; the interior widget (fed by the boundary) stays', () => {
    const next = advanceControlWidgets(workflow([host(null)], { definitions: { subgraphs: [sub()] } }), defs);
    assert.deepEqual(next.nodes[0]?.widgets_values, [42]);
    assert.equal((next.definitions?.subgraphs?.[0]?.nodes[0]?.widgets_values as unknown[])[0], 3);
    assert.equal(convertWorkflow(next, defs)['1:5']?.inputs.seed, 42, 'the next prompt carries the host value');
  });

  test('a host without a saved value starts from the interior value; a linked host input is left alone', () => {
    assert.deepEqual(advanceControlWidgets(workflow([host(null, [])], { definitions: { subgraphs: [sub()] } }), defs).nodes[0]?.widgets_values, [4]);
    assert.deepEqual(advanceControlWidgets(workflow([host(7)], { definitions: { subgraphs: [sub()] } }), defs).nodes[0]?.widgets_values, [41]);
  });
});

describe('advanceControlWidgets on a corpus workflow', { skip: existsSync(CORPUS) || process.env.CI === 'true' ? false : `${CORPUS} is absent` }, () => {
  test('lcm basic example: the KSampler seed (randomize) changes, the prompt differs only in that seed', () => {
    assert.ok(existsSync(CORPUS), `${CORPUS} is absent (CI has the corpus beside the checkout)`);
    const wf = (JSON.parse(readFileSync(CORPUS, 'utf8')) as { workflow: UiWorkflow }).workflow;
    const before = convertWorkflow(wf, defs);
    const next = advanceControlWidgets(wf, defs, { random: fixed(0.125) });
    const after = convertWorkflow(next, defs);
    assert.equal(before['3']?.inputs.seed, 167055194337639);
    assert.equal(after['3']?.inputs.seed, TWO_50 / 8);
    const strip = (p: ApiPrompt) => JSON.stringify({ ...p, 3: { ...p['3'], inputs: { ...p['3']?.inputs, seed: 0 } } });
    assert.equal(strip(after), strip(before), 'nothing else changes');
    // Set to 'fixed', the same workflow stays put.
    const pinned = structuredClone(wf);
    const sampler = pinned.nodes.find((n) => n.type === 'KSampler') as UiNode;
    (sampler.widgets_values as unknown[])[1] = 'fixed';
    assert.deepEqual(advanceControlWidgets(pinned, defs), pinned);
  });
});

const SYNTHETIC: ObjectInfo = {
  Stepper: {
    input: {
      required: {
        amount: ['INT', { default: 10, min: 10, max: 20, step: 5, control_after_generate: true }],
        strength: ['FLOAT', { default: 0.5, min: 0, max: 1, step: 0.1, control_after_generate: 'increment' }],
        pick: [['a', 'b', 'c', 'bb'], { control_after_generate: true }],
        other: ['INT', { default: 3 }],
      },
    },
    input_order: { required: ['amount', 'strength', 'pick', 'other'] },
    output: ['INT'],
    name: 'Stepper',
  },
  Sink: { input: { required: { n: ['INT', { default: 0, min: -5, max: 5 }], seed: ['INT', { default: 0, min: 0, max: 100 }] } }, output: [], name: 'Sink' },
};

describe('synthetic definitions: steps, floats, combos, subgraphs, PrimitiveNode', () => {
  // Layout: amount, control, strength, control, pick, control, filter, other.
  const stepper = (values: unknown[]): UiNode => ({ id: 1, type: 'Stepper', inputs: [], outputs: [], widgets_values: values });

  test('INT with step 5 and bounds [10, 20]: increment clamps, randomize uses (max-min)/step buckets', () => {
    const at = (v: number, mode: string, r = 0) =>
      (advanceControlWidgets(workflow([stepper([v, mode, 0.5, 'fixed', 'a', 'fixed', '', 3])]), SYNTHETIC, { random: fixed(r) }).nodes[0]?.widgets_values as unknown[])[0];
    assert.equal(at(15, 'increment'), 20);
    assert.equal(at(20, 'increment'), 20);
    assert.equal(at(10, 'decrement'), 10);
    assert.equal(at(10, 'randomize', 0.99), 15, 'floor(0.99 * 2) * 5 + 10: the frontend never draws max itself');
  });

  test('FLOAT increment rounds to the step precision', () => {
    const next = advanceControlWidgets(workflow([stepper([10, 'fixed', 0.7, 'increment', 'a', 'fixed', '', 3])]), SYNTHETIC);
    assert.equal((next.nodes[0]?.widgets_values as unknown[])[2], 0.8);
    const capped = advanceControlWidgets(workflow([stepper([10, 'fixed', 1, 'increment', 'a', 'fixed', '', 3])]), SYNTHETIC);
    assert.equal((capped.nodes[0]?.widgets_values as unknown[])[2], 1);
  });

  test('combo: increment clamps at the end, increment-wrap wraps, decrement clamps at 0, filters narrow the list', () => {
    const pick = (value: string, mode: string, filter = '', r = 0) =>
      (advanceControlWidgets(workflow([stepper([10, 'fixed', 0.5, 'fixed', value, mode, filter, 3])]), SYNTHETIC, { random: fixed(r) }).nodes[0]?.widgets_values as unknown[])[4];
    assert.equal(pick('a', 'increment'), 'b');
    assert.equal(pick('bb', 'increment'), 'bb');
    assert.equal(pick('bb', 'increment-wrap'), 'a');
    assert.equal(pick('a', 'decrement'), 'a');
    assert.equal(pick('a', 'randomize', '', 0.6), 'c');
    assert.equal(pick('b', 'increment', 'B'), 'bb', 'substring filter, case-insensitive: [b, bb]');
    assert.equal(pick('a', 'randomize', '/^b/', 0.9), 'bb', 'regex filter: [b, bb]');
    assert.equal(pick('a', 'increment', 'zzz'), 'a', 'a filter that matches nothing leaves the value');
  });

  test('pure helpers agree with the frontend formulas', () => {
    assert.equal(nextNumberValue(3, 'fixed', { kind: 'INT', min: 0, max: 10, step: 1 }), undefined);
    assert.equal(nextNumberValue('3', 'increment', { kind: 'INT', min: 0, max: 10, step: 1 }), undefined, 'non-numbers stay');
    assert.equal(nextNumberValue(9, 'increment', { kind: 'INT', min: 0, max: 2048, step: 1 }), 10);
    assert.equal(nextComboValue('x', 'increment', ['a', 'b']), 'a', 'a value not in the list: index -1 + 1');
  });

  test('subgraph interiors advance once per instance (collectAllNodes visits each instance)', () => {
    const inner: UiNode = { id: 5, type: 'Stepper', inputs: [], outputs: [], widgets_values: [10, 'increment', 0.5, 'fixed', 'a', 'fixed', '', 3] };
    const sub = { id: 'sg-1', name: 'Sub', nodes: [inner], links: [], inputs: [], outputs: [] };
    const one = workflow([{ id: 1, type: 'sg-1', inputs: [], outputs: [] }], { definitions: { subgraphs: [sub] } });
    const two = workflow([{ id: 1, type: 'sg-1', inputs: [], outputs: [] }, { id: 2, type: 'sg-1', inputs: [], outputs: [] }], { definitions: { subgraphs: [sub] } });
    const valueIn = (wf: UiWorkflow) => (wf.definitions?.subgraphs?.[0]?.nodes[0]?.widgets_values as unknown[])[0];
    assert.equal(valueIn(advanceControlWidgets(one, SYNTHETIC)), 15);
    assert.equal(valueIn(advanceControlWidgets(two, SYNTHETIC)), 20);
    const unused = workflow([], { definitions: { subgraphs: [sub] } });
    assert.equal(valueIn(advanceControlWidgets(unused, SYNTHETIC)), 10, 'a definition with no instance is not visited');
  });

  test('a PrimitiveNode advances its own value by the bounds of the input it feeds; the target stays', () => {
    const primitive = (mode: unknown, value = 4): UiNode => ({
      id: 1, type: 'PrimitiveNode', inputs: [], outputs: [{ name: 'INT', type: 'INT', links: [1], widget: { name: 'n' } }],
      widgets_values: [value, mode],
    });
    const sink: UiNode = { id: 2, type: 'Sink', inputs: [{ name: 'n', type: 'INT', widget: { name: 'n' }, link: 1 }], outputs: [], widgets_values: [4, 0, 'fixed'] };
    const wf = (mode: unknown, value?: number) => workflow([primitive(mode, value), structuredClone(sink)], { links: [[1, 1, 0, 2, 0, 'INT']] });
    const inc = advanceControlWidgets(wf('increment'), SYNTHETIC);
    assert.deepEqual(inc.nodes[0]?.widgets_values, [5, 'increment']);
    assert.deepEqual(inc.nodes[1]?.widgets_values, [4, 0, 'fixed']);
    assert.deepEqual(advanceControlWidgets(wf('increment', 5), SYNTHETIC).nodes[0]?.widgets_values, [5, 'increment'], 'max 5 of the target');
    assert.deepEqual(advanceControlWidgets(wf(''), SYNTHETIC).nodes[0]?.widgets_values, [4, ''], 'no mode saved: fixed');
    assert.equal(convertWorkflow(inc, SYNTHETIC)['2']?.inputs.n, 5, 'the next prompt carries the new value');
  });
});

describe('dynamic combo children (COMFY_DYNAMICCOMBO_V3)', () => {
  const DYN: ObjectInfo = {
    Dyn: {
      input: { required: { model: ['COMFY_DYNAMICCOMBO_V3', { options: [
        { key: 'plain', inputs: { required: { strength: ['FLOAT', { default: 1 }] } } },
        { key: 'seeded', inputs: { required: { seed: ['INT', { default: 2, min: 1, max: 2000, control_after_generate: true }] } } },
      ] }] } },
      output: [], name: 'Dyn',
    },
  };
  test('a child seed is controlled with the bounds its option declares', () => {
    const node: UiNode = { id: 1, type: 'Dyn', inputs: [], outputs: [], widgets_values: ['seeded', 649, 'randomize'] };
    assert.deepEqual(advanceControlWidgets(workflow([node]), DYN, { random: fixed(0.5) }).nodes[0]?.widgets_values, ['seeded', 1000, 'randomize']);
  });
});

describe('randomizeSeeds (API prompts, --vary-seed)', () => {
  const prompt: ApiPrompt = {
    '1': { class_type: 'KSampler', inputs: { seed: 5, steps: 20 } },
    '2': { class_type: 'Sink', inputs: { seed: 5, n: 1 } },
    '3': { class_type: 'Unknown', inputs: { noise_seed: 5 } },
    '4': { class_type: 'KSampler', inputs: { seed: ['9', 0] } },
  };
  test('literal seeds get randomize values within their class bounds; linked seeds stay', () => {
    const out = randomizeSeeds(prompt, { ...defs.objectInfo, Sink: SYNTHETIC.Sink } as ObjectInfo, { random: fixed(0.5) });
    assert.equal(out['1']?.inputs.seed, TWO_50 / 2);
    assert.equal(out['1']?.inputs.steps, 20);
    assert.equal(out['2']?.inputs.seed, 50, 'Sink.seed is [0, 100]');
    assert.equal(out['3']?.inputs.noise_seed, 2 ** 31 - 1, 'unknown class: [0, 0xffffffff]');
    assert.deepEqual(out['4']?.inputs.seed, ['9', 0]);
    assert.equal(prompt['1']?.inputs.seed, 5, 'the input prompt is not mutated');
  });
});
