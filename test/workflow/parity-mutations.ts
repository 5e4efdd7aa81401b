/**
 * Mutations of real workflows for the parity property test: each returns a new workflow (the input
 * is never changed) and is driven by plain numbers so fast-check can generate and shrink them.
 * They only touch the root graph and need schema 0.4 array links there.
 */
import { randomUUID } from 'node:crypto';

type Json = Record<string, unknown>;
type LinkArray = [number, number, number, number, number, unknown];
interface Node extends Json {
  id: number;
  type: string;
  mode?: number;
  inputs?: Array<{ name: string; type?: unknown; link?: number | null; widget?: unknown; [k: string]: unknown }>;
  outputs?: Array<{ name?: string; type?: unknown; links?: number[] | null; [k: string]: unknown }>;
}

export type Mutation =
  | { kind: 'mode'; pick: number; mode: 0 | 2 | 4 }
  | { kind: 'reroute'; pick: number }
  | { kind: 'wrap'; pick: number; clashingId: boolean };

/** Whether the mutations below can work on this workflow (root links as arrays, numeric ids). */
export function isMutable(workflow: Json): boolean {
  return Array.isArray(workflow.nodes) && Array.isArray(workflow.links)
    && (workflow.links as unknown[]).every((l) => Array.isArray(l))
    && (workflow.nodes as Json[]).every((n) => typeof n.id === 'number');
}

export function applyMutations(workflow: Json, mutations: Mutation[], isRealNode: (type: string) => boolean): { workflow: Json; applied: string[] } {
  const copy = structuredClone(workflow);
  const applied: string[] = [];
  for (const mutation of mutations) {
    const done = mutation.kind === 'mode' ? setMode(copy, mutation)
      : mutation.kind === 'reroute' ? insertReroute(copy, mutation.pick)
      : wrapInSubgraph(copy, mutation, isRealNode);
    if (done) applied.push(done);
  }
  return { workflow: copy, applied };
}

function nodesOf(workflow: Json): Node[] {
  return workflow.nodes as Node[];
}
function linksOf(workflow: Json): LinkArray[] {
  return workflow.links as LinkArray[];
}
function nextNodeId(workflow: Json): number {
  const id = Math.max(Number(workflow.last_node_id) || 0, ...nodesOf(workflow).map((n) => n.id)) + 1;
  workflow.last_node_id = id;
  return id;
}
function nextLinkId(workflow: Json): number {
  const id = Math.max(Number(workflow.last_link_id) || 0, ...linksOf(workflow).map((l) => l[0])) + 1;
  workflow.last_link_id = id;
  return id;
}

/** Mute (2), bypass (4) or re-enable (0) one node. */
function setMode(workflow: Json, m: { pick: number; mode: 0 | 2 | 4 }): string | undefined {
  const nodes = nodesOf(workflow);
  if (!nodes.length) return undefined;
  const node = nodes[m.pick % nodes.length]!;
  node.mode = m.mode;
  return `node ${node.id} (${node.type}) mode ${m.mode}`;
}

/** Puts a legacy Reroute node in the middle of one link. */
function insertReroute(workflow: Json, pick: number): string | undefined {
  const links = linksOf(workflow);
  if (!links.length) return undefined;
  const link = links[pick % links.length]!;
  const [linkId, originId, , targetId, targetSlot, type] = link;
  const target = nodesOf(workflow).find((n) => n.id === targetId);
  const input = target?.inputs?.find((i) => i.link === linkId);
  if (!target || !input) return undefined;
  const rerouteId = nextNodeId(workflow);
  const outLinkId = nextLinkId(workflow);
  link[3] = rerouteId;
  link[4] = 0;
  input.link = outLinkId;
  links.push([outLinkId, rerouteId, 0, targetId, targetSlot, type]);
  nodesOf(workflow).push({
    id: rerouteId, type: 'Reroute', pos: [0, 0], size: [75, 26], flags: {}, order: 0, mode: 0,
    inputs: [{ name: '', type: '*', link: linkId }],
    outputs: [{ name: '', type, links: [outLinkId], slot_index: 0 }],
    properties: { showOutputText: false, horizontal: false },
  });
  return `reroute ${rerouteId} on link ${linkId} (${originId} -> ${targetId}.${input.name})`;
}

/**
 * Replaces one real node by a subgraph instance holding it: each linked input and each used output
 * becomes a subgraph slot; widget values stay on the inner node (nothing promoted). With clashingId
 * the inner node keeps its root id, which the frontend renumbers (deduplicateSubgraphNodeIds).
 */
function wrapInSubgraph(workflow: Json, m: { pick: number; clashingId: boolean }, isRealNode: (type: string) => boolean): string | undefined {
  const nodes = nodesOf(workflow);
  const links = linksOf(workflow);
  const candidates = nodes.filter((n) => isRealNode(n.type) && !(n.inputs ?? []).some((i) => {
    // A PrimitiveNode feeding it would have to feed a subgraph input: out of scope here.
    const origin = links.find((l) => l[0] === i.link)?.[1];
    return nodes.find((x) => x.id === origin)?.type === 'PrimitiveNode';
  }));
  if (!candidates.length) return undefined;
  const node = candidates[m.pick % candidates.length]!;
  const innerId = m.clashingId ? node.id : nextNodeId(workflow);
  const inner: Node = structuredClone(node);
  inner.id = innerId;
  const sgInputs: Json[] = [];
  const sgOutputs: Json[] = [];
  const sgLinks: Json[] = [];
  let innerLinkId = 0;
  const instanceInputs: NonNullable<Node['inputs']> = [];
  for (const [slot, input] of (inner.inputs ?? []).entries()) {
    if (input.link === null || input.link === undefined) continue;
    const rootLink = links.find((l) => l[0] === input.link);
    if (!rootLink) continue;
    const id = ++innerLinkId;
    sgLinks.push({ id, origin_id: -10, origin_slot: sgInputs.length, target_id: innerId, target_slot: slot, type: input.type });
    rootLink[4] = sgInputs.length;
    instanceInputs.push({ name: input.name, type: input.type, link: input.link });
    sgInputs.push({ id: randomUUID(), name: input.name, type: input.type, linkIds: [id], pos: [0, 0] });
    input.link = id;
  }
  const instanceOutputs: NonNullable<Node['outputs']> = [];
  for (const [slot, output] of (inner.outputs ?? []).entries()) {
    const used = output.links ?? [];
    if (!used.length) {
      output.links = [];
      continue;
    }
    const id = ++innerLinkId;
    sgLinks.push({ id, origin_id: innerId, origin_slot: slot, target_id: -20, target_slot: sgOutputs.length, type: output.type });
    for (const l of links) if (used.includes(l[0])) l[2] = sgOutputs.length;
    instanceOutputs.push({ name: output.name ?? String(output.type), type: output.type, links: [...used] });
    sgOutputs.push({ id: randomUUID(), name: output.name ?? String(output.type), type: output.type, linkIds: [id], pos: [0, 0] });
    output.links = [id];
  }
  const subgraphId = randomUUID();
  const definitions = (workflow.definitions ??= {}) as { subgraphs?: Json[] };
  (definitions.subgraphs ??= []).push({
    id: subgraphId, version: 1,
    state: { lastGroupId: 0, lastNodeId: innerId, lastLinkId: innerLinkId, lastRerouteId: 0 },
    revision: 0, config: {}, name: `wrapped ${node.type}`,
    inputNode: { id: -10, bounding: [-300, 0, 120, 60] }, outputNode: { id: -20, bounding: [600, 0, 120, 60] },
    inputs: sgInputs, outputs: sgOutputs, widgets: [], nodes: [inner], groups: [], links: sgLinks, extra: {},
  });
  const index = nodes.indexOf(node);
  nodes[index] = {
    id: node.id, type: subgraphId, pos: node.pos ?? [0, 0], size: [200, 100], flags: {}, order: node.order ?? 0,
    mode: node.mode ?? 0, inputs: instanceInputs, outputs: instanceOutputs,
    properties: {}, widgets_values: [],
    ...(typeof node.title === 'string' ? { title: node.title } : {}),
  };
  return `node ${node.id} (${node.type}) wrapped in a subgraph (inner id ${innerId})`;
}
