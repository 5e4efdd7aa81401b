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

export const REGRESSION_CASES: RegressionCase[] = [
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
