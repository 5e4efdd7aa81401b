/**
 * Whatever a saved workflow contains, conversion returns a prompt or throws a ComfyError with a
 * code — never a TypeError from half-read data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ComfyError } from '../../src/errors.js';
import { convertWorkflow, NodeDefinitions, type UiWorkflow } from '../../src/workflow/index.js';
import { DEFS, txt2img } from './wf-builder.js';

const defs = new NodeDefinitions(DEFS);
const types = [...Object.keys(DEFS), 'Reroute', 'PrimitiveNode', 'Note', 'Unknown'];

test('random damage to a workflow gives a prompt or a ComfyError', () => {
  const base = txt2img().build();
  const damage = fc.record({
    node: fc.nat(6),
    widgets: fc.option(fc.array(fc.jsonValue(), { maxLength: 9 }) as fc.Arbitrary<unknown>, { nil: undefined }),
    mode: fc.constantFrom(0, 1, 2, 3, 4, 7),
    type: fc.option(fc.constantFrom(...types), { nil: undefined }),
    link: fc.nat(20),
    originId: fc.integer({ min: -20, max: 12 }),
    originSlot: fc.integer({ min: -1, max: 4 }),
    targetSlot: fc.integer({ min: -1, max: 12 }),
    dropInputs: fc.boolean(),
  });
  fc.assert(fc.property(fc.array(damage, { maxLength: 4 }), (hits) => {
    const wf = structuredClone(base) as UiWorkflow;
    for (const hit of hits) {
      const node = wf.nodes[hit.node % wf.nodes.length]!;
      if (hit.widgets !== undefined) node.widgets_values = hit.widgets as unknown[];
      node.mode = hit.mode;
      if (hit.type) node.type = hit.type;
      if (hit.dropInputs) delete node.inputs;
      const links = wf.links as unknown[][];
      const link = links[hit.link % links.length];
      if (link) {
        link[1] = hit.originId;
        link[2] = hit.originSlot;
        link[4] = hit.targetSlot;
      }
    }
    try {
      const prompt = convertWorkflow(wf, defs, { random: () => 0.3, now: () => new Date(0) });
      for (const entry of Object.values(prompt)) {
        assert.equal(typeof entry.class_type, 'string');
        for (const value of Object.values(entry.inputs)) {
          if (Array.isArray(value)) assert.ok(String(value[0]) in prompt, 'no dangling links');
        }
      }
    } catch (error) {
      assert.ok(error instanceof ComfyError, `not a ComfyError: ${(error as Error).stack}`);
    }
  }), { numRuns: 300, seed: 7 });
});
