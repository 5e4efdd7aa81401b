/**
 * A UI workflow read into lookup tables: one scope for the root graph and one per subgraph
 * definition, links normalised from both the 0.4 array form and the object form.
 */
import { InvalidWorkflowError } from '../errors.js';
import type { UiLinkArray, UiLinkObject, UiNode, UiSubgraphDefinition, UiWorkflow } from './types.js';

/** A subgraph's input node and output node ids, as links inside a definition name them. */
export const SUBGRAPH_INPUT_NODE = '-10';
export const SUBGRAPH_OUTPUT_NODE = '-20';

export interface Link {
  id: string;
  originId: string;
  originSlot: number;
  targetId: string;
  targetSlot: number;
}

export interface Scope {
  /** The subgraph definition, absent for the root graph. */
  definition?: UiSubgraphDefinition;
  nodes: Map<string, UiNode>;
  /** Nodes in their saved order. */
  order: UiNode[];
  links: Map<string, Link>;
  /**
   * Saved id → id used in execution ids. Differs only where the frontend renumbers an inner node
   * whose id clashes with a root node or an earlier definition's node (deduplicateSubgraphNodeIds).
   */
  executionId: Map<string, string>;
}

export interface WorkflowGraph {
  root: Scope;
  /** Subgraph definitions by id (the `type` of their instances). */
  subgraphs: Map<string, Scope>;
}

function readLink(raw: UiLinkArray | UiLinkObject | unknown): Link | undefined {
  if (Array.isArray(raw)) {
    const [id, originId, originSlot, targetId, targetSlot] = raw as UiLinkArray;
    if (id == null) return undefined;
    return { id: String(id), originId: String(originId), originSlot: Number(originSlot), targetId: String(targetId), targetSlot: Number(targetSlot) };
  }
  if (typeof raw === 'object' && raw !== null && 'id' in raw) {
    const l = raw as UiLinkObject;
    return { id: String(l.id), originId: String(l.origin_id), originSlot: Number(l.origin_slot), targetId: String(l.target_id), targetSlot: Number(l.target_slot) };
  }
  return undefined;
}

function buildScope(nodes: unknown, links: unknown, where: string, definition?: UiSubgraphDefinition): Scope {
  if (!Array.isArray(nodes)) throw new InvalidWorkflowError(`${where} has no "nodes" array.`);
  const scope: Scope = { nodes: new Map(), order: [], links: new Map(), executionId: new Map() };
  if (definition) scope.definition = definition;
  for (const node of nodes as UiNode[]) {
    if (typeof node !== 'object' || node === null || node.id == null || typeof node.type !== 'string') {
      throw new InvalidWorkflowError(`${where} contains a node without an id or a type: ${JSON.stringify(node)?.slice(0, 120)}`);
    }
    const id = String(node.id);
    if (scope.nodes.has(id)) throw new InvalidWorkflowError(`${where} has two nodes with id ${id}.`, id);
    scope.nodes.set(id, node);
    scope.order.push(node);
    scope.executionId.set(id, id);
  }
  for (const raw of Array.isArray(links) ? links : []) {
    const link = readLink(raw);
    if (link) scope.links.set(link.id, link);
  }
  return scope;
}

function numericId(id: string): number | null {
  const n = Number(id);
  return Number.isInteger(n) && String(n) === id ? n : null;
}

/** Mirrors deduplicateSubgraphNodeIds: root ids are reserved, clashing inner ids renumbered above lastNodeId. */
function deduplicateInnerIds(workflow: UiWorkflow, root: Scope, subgraphs: Scope[]): number {
  const used = new Set<string>(root.nodes.keys());
  const usedNumbers = new Set<number>();
  for (const id of used) {
    const n = numericId(id);
    if (n !== null) usedNumbers.add(n);
  }
  let lastNodeId = Number(workflow.state?.lastNodeId ?? workflow.last_node_id ?? 0) || 0;
  for (const n of usedNumbers) if (n > lastNodeId) lastNodeId = n;
  for (const scope of subgraphs) {
    for (const id of scope.nodes.keys()) {
      if (used.has(id)) {
        do lastNodeId++;
        while (usedNumbers.has(lastNodeId));
        usedNumbers.add(lastNodeId);
        used.add(String(lastNodeId));
        scope.executionId.set(id, String(lastNodeId));
      } else {
        used.add(id);
        const n = numericId(id);
        if (n !== null) {
          usedNumbers.add(n);
          if (n > lastNodeId) lastNodeId = n;
        }
      }
    }
  }
  return lastNodeId;
}

/**
 * The graph's lastNodeId once the frontend has configured the workflow: the saved counter, raised
 * to every root id and every subgraph interior id, clashing interior ids renumbered above it
 * (deduplicateInnerIds). Nodes created after load (legacy group-node conversion) count on from here.
 */
export function lastNodeIdAfterLoad(workflow: UiWorkflow): number {
  const root = buildScope(workflow.nodes, [], 'The workflow');
  const subgraphs: Scope[] = [];
  for (const def of workflow.definitions?.subgraphs ?? []) {
    if (typeof def !== 'object' || def === null || typeof def.id !== 'string') continue;
    subgraphs.push(buildScope(def.nodes, [], `Subgraph "${def.name ?? def.id}"`, def));
  }
  return deduplicateInnerIds(workflow, root, subgraphs);
}

export function readWorkflowGraph(workflow: UiWorkflow): WorkflowGraph {
  const root = buildScope(workflow.nodes, workflow.links, 'The workflow');
  const subgraphs = new Map<string, Scope>();
  for (const def of workflow.definitions?.subgraphs ?? []) {
    if (typeof def !== 'object' || def === null || typeof def.id !== 'string') continue;
    subgraphs.set(def.id, buildScope(def.nodes, def.links, `Subgraph "${def.name ?? def.id}"`, def));
  }
  deduplicateInnerIds(workflow, root, [...subgraphs.values()]);
  return { root, subgraphs };
}
