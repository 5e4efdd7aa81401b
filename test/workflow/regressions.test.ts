/**
 * Regression cases found by the live oracle or by the family generators, without a browser: the
 * native prompt (told the frontend version) against each real frontend's prompt recorded by
 * record-regressions.mts into test/fixtures/oracle-<version>/regressions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflow, type UiWorkflow } from '../../src/workflow/index.js';
import { FRONTEND_VERSIONS, parityConvertOptions } from './corpus.js';
import { diffPrompts, formatDifference, realDifferences, runtimeOnlyInputs } from './parity-compare.js';
import { ORACLE_FIXTURE_DIR, oracleFixtureDir } from './parity-fixture.js';
import { REGRESSION_CASES } from './regressions.js';

const definitions = JSON.parse(readFileSync(join(ORACLE_FIXTURE_DIR, 'object_info.json'), 'utf8')) as Record<string, unknown>;
const IN_CI = process.env.CI === 'true';

for (const version of FRONTEND_VERSIONS) {
  const dir = join(oracleFixtureDir(version), 'regressions');
  describe(`oracle regressions: native equals the recorded frontend ${version} prompt`, () => {
    for (const c of REGRESSION_CASES) {
      const expectedPath = join(dir, `${c.id}.json`);
      const skip = !c.available() ? `${c.source} absent: regression ${c.id} skipped`
        : !existsSync(expectedPath) ? `${expectedPath} not recorded (node --import tsx test/workflow/record-regressions.mts)` : false;
      test(`${c.id}: ${c.about}`, { skip: IN_CI ? false : skip }, () => {
        assert.equal(skip, false, `CI has the corpus, the templates and the recordings: ${skip}`);
        const expected = JSON.parse(readFileSync(expectedPath, 'utf8')) as Record<string, unknown>;
        const native = convertWorkflow(c.workflow() as UiWorkflow, definitions, { ...parityConvertOptions(), frontendVersion: version });
        const differences = realDifferences(diffPrompts(native, expected, runtimeOnlyInputs(definitions)));
        assert.deepEqual(differences.map((d) => formatDifference(d)), []);
      });
    }
  });
}

describe('the recorded expectations hold what the cases are about', () => {
  const read = (version: string, id: string) => {
    const path = join(oracleFixtureDir(version), 'regressions', `${id}.json`);
    return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as Record<string, { inputs: Record<string, unknown>; _meta: Record<string, unknown> }> : undefined;
  };
  test('1.48.7', { skip: !IN_CI && !read('1.48.7', 'basic_switch_node__bypass_62') && 'not recorded' }, () => {
    const r = (id: string) => read('1.48.7', id) ?? assert.fail(`${id} not recorded`);
    // The bypassed LoRA loader forwards its model into the switch's match-type input.
    assert.deepEqual(r('basic_switch_node__bypass_62')['61']?.inputs.on_true, ['60', 0]);
    // Settled match-type input typed CONDITIONING: the bypassed CLIPTextEncode forwards nothing.
    assert.equal(r('image_hidream_o1__bypass_188')['153']?.inputs.on_false, undefined);
    // Legacy group node ids: last_node_id 44, 9 inner nodes → 45…53 inside instance 54.
    assert.deepEqual(r('hidream_e1__group_node_distinct_values')['8']?.inputs.samples, ['54:53', 0]);
    // Bypassing or muting the group node changes nothing in 1.48.7.
    assert.equal(r('hidream_e1__group_node_bypassed')['54:53']?.inputs.latent_image?.toString(), '54:51,2');
    assert.ok(r('stable_cascade_inpaint__group_node_muted')['83:82']);
    assert.deepEqual(r('hidream_e1__group_node_after_clashing_subgraph')['8']?.inputs.samples, ['56:55', 0]);
    // 1.48 group nodes: combos are slots, so the inner sampler keeps its own sampler_name.
    const group = r('group_node__combo_slots_and_linked_widgets');
    const sampler = Object.values(group).find((n) => 'sampler_name' in n.inputs);
    assert.equal(sampler?.inputs.sampler_name, 'euler');
    // The legacy proxyWidgets repair wins over the node link inside the subgraph.
    assert.equal(Object.values(r('nested_promotion__legacy_proxy_replaces_link')).find((n) => 'width' in n.inputs)?.inputs.width, 4000);
  });
  test('1.58.1', { skip: !IN_CI && !read('1.58.1', 'basic_switch_node__bypass_62') && 'not recorded' }, () => {
    const r = (id: string) => read('1.58.1', id) ?? assert.fail(`${id} not recorded`);
    // 1.58 group nodes: combos are widgets, each value on its own widget.
    const sampler = Object.values(r('group_node__combo_slots_and_linked_widgets')).find((n) => 'sampler_name' in n.inputs);
    assert.equal(sampler?.inputs.sampler_name, 'dpmpp_2m');
    // _meta carries the pack identity of the node's properties where it has one.
    assert.ok(Object.values(r('image_hidream_o1__bypass_188')).some((n) => n._meta.cnr_id === 'comfy-core' && typeof n._meta.ver === 'string'));
  });
});
