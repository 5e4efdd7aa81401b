/**
 * Small regression cases found by the live oracle: a corpus workflow with one change (a node
 * bypassed, distinct widget values). Their frontend prompts are recorded by
 * record-regressions.mts into test/fixtures/oracle-1.48.7/regressions/<id>.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { examplesCorpusDir, FRONTEND_NODE_TYPES, templatesDir } from './corpus.js';
import { applyMutations, type Mutation } from './parity-mutations.js';
import { ORACLE_FIXTURE_DIR } from './parity-fixture.js';
import { groupNodeWorkflow, nestedPromotionWorkflow, packMetadataWorkflow } from './family-workflows.js';

export interface RegressionCase {
  id: string;
  /** What the case guards against. */
  about: string;
  /** Where the base workflow comes from, for the skip line when it is absent. */
  source: string;
  available(): boolean;
  workflow(): Record<string, unknown>;
}

type Json = Record<string, any>;

function template(name: string): { path: string | undefined; read: () => Json } {
  const dir = templatesDir();
  const path = dir ? join(dir, `${name}.json`) : undefined;
  return { path, read: () => JSON.parse(readFileSync(path as string, 'utf8')) as Json };
}

function example(name: string): { path: string | undefined; read: () => Json } {
  const dir = examplesCorpusDir();
  const path = dir ? join(dir, 'examples-pairs', `${name}.json`) : undefined;
  return { path, read: () => (JSON.parse(readFileSync(path as string, 'utf8')) as Json).workflow as Json };
}

function withMode(workflow: Json, nodeId: number, mode: number): Json {
  for (const node of workflow.nodes as Json[]) if (node.id === nodeId) node.mode = mode;
  return workflow;
}

function makeCase(id: string, about: string, base: { path: string | undefined; read: () => Json }, change: (w: Json) => Json): RegressionCase {
  return {
    id, about, source: base.path ?? id,
    available: () => base.path !== undefined && existsSync(base.path),
    workflow: () => change(base.read()),
  };
}

let oracleTypes: Set<string> | undefined;
/** parity-properties.test.ts's mutations, replayed on the oracle's definitions. */
function mutated(workflow: Json, mutations: Mutation[]): Json {
  oracleTypes ??= new Set(Object.keys(JSON.parse(readFileSync(join(ORACLE_FIXTURE_DIR, 'object_info.json'), 'utf8')) as Json));
  const types = oracleTypes;
  return applyMutations(workflow, mutations, (type) => types.has(type) && !FRONTEND_NODE_TYPES.has(type)).workflow;
}

/** A generated (family) workflow: always available. */
function generated(id: string, about: string, make: () => Json): RegressionCase {
  return { id, about, source: 'test/workflow/family-workflows.ts', available: () => true, workflow: make };
}

export const REGRESSION_CASES: RegressionCase[] = [
  generated('pack_metadata_and_locale_titles',
    '_meta per frontend version: 1.58 adds cnr_id / aux_id / ver where zNodePackMetadata accepts them and titles unnamed classes from its locale',
    packMetadataWorkflow),
  makeCase('image_hidream_o1__bypass_188',
    'bypassed CLIPTextEncode into a COMFY_MATCHTYPE_V3 switch input: after the load settles the input has its connected type (CONDITIONING), so nothing is forwarded (property-test seed 1263708040)',
    template('image_hidream_o1'), (w) => withMode(w, 188, 4)),
  generated('group_node__combo_slots_and_linked_widgets',
    'legacy group node: combos are input slots of the group in 1.48 (values stay on the inner node), the group\'s live input order decides which outer links survive, links refused by type are dropped',
    () => groupNodeWorkflow({ width: 'linked', seed: 'converted', steps: 'widget', values: 'complete', sourceMode: 0, groupMode: 0, checkpointInside: true, oldType: false })),
  generated('group_node__old_type_short_values',
    'legacy workflow/NAME group node with a short widgets_values and a linked converted seed',
    () => groupNodeWorkflow({ width: 'widget', seed: 'linked', steps: 'converted', values: 'short', sourceMode: 4, groupMode: 0, checkpointInside: false, oldType: true })),
  generated('nested_promotion__legacy_proxy_replaces_link',
    'legacy proxyWidgets on the outer instance name a nested widget fed by a node link: the repair connects a new subgraph input there, so the host value wins over the link',
    () => nestedPromotionWorkflow({ depth: 2, feedLevel: 1, source: 'node', sourceMode: 0, hostValues: true, secondConsumer: true, innerMode: 0, legacyProxy: true })),
  generated('nested_promotion__primitive_at_level_1',
    'a PrimitiveNode one subgraph level down feeds a promoted input of a nested instance: the interior widget keeps its own value',
    () => nestedPromotionWorkflow({ depth: 3, feedLevel: 1, source: 'primitive', sourceMode: 0, hostValues: true, secondConsumer: false, innerMode: 0 })),
  makeCase('basic_datatype_conversion__bypass_14',
    'bypassed ComfyMathExpression with *-typed consumers: the same slot index counts the live inputs (saved inputs, then dropped widget sockets)',
    template('basic_datatype_conversion'), (w) => withMode(w, 14, 4)),
  makeCase('basic_switch_node__bypass_62',
    'bypass into a COMFY_MATCHTYPE_V3 input (ComfySwitchNode.on_true): matched on the live slot type',
    template('basic_switch_node'), (w) => withMode(w, 62, 4)),
  makeCase('hidream_e1__group_node_distinct_values',
    'legacy group node converted to a subgraph at load: which group widget value lands in which inner widget',
    example('hidream__hidream_e1_example'), (w) => {
      for (const node of w.nodes as Json[]) {
        if (node.id === 37) node.widgets_values = ['dpmpp_2m', 11, 'fixed', 'karras', 12, 0.5, 3.5, 1.25];
      }
      return w;
    }),
  makeCase('hidream_e1__group_node_bypassed',
    'a bypassed legacy group node still runs: the subgraph made from it does not keep the mode',
    example('hidream__hidream_e1_example'), (w) => withMode(w, 37, 4)),
  makeCase('stable_cascade_inpaint__group_node_muted',
    'a muted legacy group node still runs: the subgraph made from it does not keep the mode',
    example('stable_cascade__stable_cascade__inpaint_controlnet'), (w) => withMode(w, 68, 2)),
  makeCase('hidream_e1__group_node_after_clashing_subgraph',
    'group-node ids count on from lastNodeId after subgraph interior ids were deduplicated (property-test counterexample)',
    example('hidream__hidream_e1_example'), (w) => mutated(w, [{ kind: 'wrap', pick: 0, clashingId: true }, { kind: 'reroute', pick: 0 }])),
];
