/**
 * Every shipped workflow template (comfyui-workflow-templates, many with subgraphs) and every
 * ComfyUI_examples workflow converts without error. Workflows using node types the recorded
 * definitions lack are skipped and counted.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { convertWorkflow, NodeDefinitions, type UiWorkflow } from '../../src/workflow/index.js';
import { EXPECTED_USABLE_WORKFLOWS, findDefinitionsFile, IN_CI, loadCorpus, templatesDir } from './corpus.js';

const definitionsFile = findDefinitionsFile();
const skip = !definitionsFile ? 'no recorded object_info' : !templatesDir() ? 'comfyui-workflow-templates not installed' : false;

describe('templates and example workflows', { skip: IN_CI ? false : skip }, () => {
  test('all convert to a well-formed prompt', (t) => {
    assert.equal(skip, false, `CI installs the templates (scripts/setup-oracle.sh): ${skip}`);
    const defs = NodeDefinitions.fromFile(definitionsFile as string);
    const corpus = loadCorpus(defs.objectInfo);
    const failures: string[] = [];
    let subgraphEntries = 0;
    for (const entry of corpus.usable) {
      try {
        const prompt = convertWorkflow(entry.workflow as UiWorkflow, defs);
        const ids = Object.keys(prompt);
        if (ids.some((id) => id.includes(':'))) subgraphEntries++;
        for (const [id, node] of Object.entries(prompt)) {
          if (!defs.has(node.class_type)) failures.push(`${entry.name} ${id}: class ${node.class_type} not in definitions`);
          for (const [name, value] of Object.entries(node.inputs)) {
            if (Array.isArray(value) && !(String(value[0]) in prompt)) failures.push(`${entry.name} ${id}.${name}: dangling link`);
            if (value === undefined) failures.push(`${entry.name} ${id}.${name}: undefined`);
          }
        }
      } catch (error) {
        failures.push(`${entry.name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    t.diagnostic(`${corpus.usable.length} converted (${subgraphEntries} with subgraph or group-node interiors), ${corpus.skipped.length} skipped for missing node types`);
    for (const s of corpus.skipped) t.diagnostic(`skipped ${s.name}: ${s.missingTypes.join(', ')}`);
    assert.deepEqual(failures, []);
    assert.ok(corpus.usable.length > 400, `only ${corpus.usable.length} workflows found`);
    if (IN_CI) assert.equal(corpus.usable.length, EXPECTED_USABLE_WORKFLOWS, `CI's corpus is incomplete: ${corpus.absent.join('; ')}`);
  });
});
