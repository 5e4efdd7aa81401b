/**
 * Regression cases found by the live oracle, without a browser: the native prompt against the real
 * frontend 1.48.7's prompt recorded by record-regressions.mts (test/fixtures/oracle-1.48.7/regressions).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflow, type UiWorkflow } from '../../src/workflow/index.js';
import { parityConvertOptions } from './corpus.js';
import { diffPrompts, formatDifference, realDifferences, runtimeOnlyInputs } from './parity-compare.js';
import { ORACLE_FIXTURE_DIR } from './parity-fixture.js';
import { REGRESSION_CASES } from './regressions.js';

const definitions = JSON.parse(readFileSync(join(ORACLE_FIXTURE_DIR, 'object_info.json'), 'utf8')) as Record<string, unknown>;

describe('oracle regressions: native equals the recorded frontend prompt', () => {
  for (const c of REGRESSION_CASES) {
    const expectedPath = join(ORACLE_FIXTURE_DIR, 'regressions', `${c.id}.json`);
    const skip = !c.available() ? `${c.source} absent: regression ${c.id} skipped`
      : !existsSync(expectedPath) ? `${expectedPath} not recorded (node --import tsx test/workflow/record-regressions.mts)` : false;
    test(`${c.id}: ${c.about}`, { skip }, () => {
      const expected = JSON.parse(readFileSync(expectedPath, 'utf8')) as Record<string, unknown>;
      const native = convertWorkflow(c.workflow() as UiWorkflow, definitions, parityConvertOptions());
      const differences = realDifferences(diffPrompts(native, expected, runtimeOnlyInputs(definitions)));
      assert.deepEqual(differences.map((d) => formatDifference(d)), []);
    });
  }

  test('the recorded expectations hold what the cases are about', { skip: !existsSync(join(ORACLE_FIXTURE_DIR, 'regressions', 'basic_switch_node__bypass_62.json')) && 'not recorded' }, () => {
    const read = (id: string) => JSON.parse(readFileSync(join(ORACLE_FIXTURE_DIR, 'regressions', `${id}.json`), 'utf8')) as Record<string, { inputs: Record<string, unknown> }>;
    // The bypassed LoRA loader forwards its model into the switch's match-type input.
    assert.deepEqual(read('basic_switch_node__bypass_62')['61']?.inputs.on_true, ['60', 0]);
    // Legacy group node ids: last_node_id 44, 9 inner nodes → 45…53 inside instance 54.
    assert.deepEqual(read('hidream_e1__group_node_distinct_values')['8']?.inputs.samples, ['54:53', 0]);
    // Bypassing or muting the group node changes nothing in 1.48.7.
    assert.equal(read('hidream_e1__group_node_bypassed')['54:53']?.inputs.latent_image?.toString(), '54:51,2');
    assert.ok(read('stable_cascade_inpaint__group_node_muted')['83:82']);
    // With a wrapped node whose clashing inner id was renumbered to 46 first, the group counts on from there.
    assert.deepEqual(read('hidream_e1__group_node_after_clashing_subgraph')['8']?.inputs.samples, ['56:55', 0]);
  });
});
