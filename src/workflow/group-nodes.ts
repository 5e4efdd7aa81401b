/**
 * Legacy group nodes (`workflow>NAME`, older `workflow/NAME`, defined in `extra.groupNodes`),
 * supported as a best effort: each instance is replaced by its inner nodes, keyed
 * `<group node id>:<index>` as frontends up to ≈1.45 did (ExecutableGroupNodeDTO); the 2025
 * ComfyUI_examples prompts confirm that scheme. Not reproduced on purpose:
 *   - early-2024 frontends gave the interiors fresh numeric ids;
 *   - frontend 1.48 converts group nodes to subgraphs when loading (ids
 *     `<last_node_id + n + 1>:<last_node_id + 1 + index>`), and in doing so shifts widget values by
 *     the seed-control slot and drops outer links (seen on hidream_e1: sampler_name = a seed), so its
 *     prompt is not a useful target.
 */
import type { NodeDefinitions } from './definitions.js';
import type { UiLinkArray, UiNode, UiNodeInput, UiWorkflow } from './types.js';

interface GroupDefinition {
  nodes: Array<UiNode & { index?: number }>;
  /** [originIndex | null, originSlot, targetIndex, targetSlot, linkId?, type]; null origin = outside the group. */
  links: Array<[number | null, number, number, number, unknown?, unknown?]>;
  external?: Array<[unknown, number, unknown]>;
}

function groupName(type: string): string | undefined {
  if (type.startsWith('workflow>')) return type.slice('workflow>'.length);
  if (type.startsWith('workflow/')) return type.slice('workflow/'.length);
  return undefined;
}

function readLinks(raw: unknown): UiLinkArray[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((l) => {
    if (Array.isArray(l)) return l as UiLinkArray;
    const o = l as { id: number; origin_id: number; origin_slot: number; target_id: number; target_slot: number; type?: unknown };
    return [o.id, o.origin_id, o.origin_slot, o.target_id, o.target_slot, o.type] as UiLinkArray;
  });
}

/** Widget slots an inner node consumes from the group node's widgets_values. */
function slotCount(node: UiNode, defs: NodeDefinitions): number {
  const info = defs.classInfo(node.type);
  if (info) return info.widgets.filter((w) => w.takesSlot).length;
  return Array.isArray(node.widgets_values) ? node.widgets_values.length : 0;
}

/** Returns the workflow unchanged when it has no group-node instances, else a copy with them expanded. */
export function expandGroupNodes(workflow: UiWorkflow, defs: NodeDefinitions): UiWorkflow {
  const groups = (workflow.extra as { groupNodes?: Record<string, GroupDefinition> } | undefined)?.groupNodes;
  if (!groups || typeof groups !== 'object') return workflow;
  if (!workflow.nodes.some((n) => { const g = groupName(n.type); return g !== undefined && g in groups; })) return workflow;

  const links = readLinks(workflow.links);
  const nodes: UiNode[] = [];
  const linkById = new Map<string, UiLinkArray>(links.map((l) => [String(l[0]), [...l] as UiLinkArray]));

  for (const instance of workflow.nodes) {
    const name = groupName(instance.type);
    const group = name !== undefined ? groups[name] : undefined;
    if (!group || !Array.isArray(group.nodes)) {
      nodes.push(instance);
      continue;
    }
    const gid = String(instance.id);
    const innerId = (index: number) => `${gid}:${index}`;
    const inner = group.nodes.map((n, position) => {
      const index = typeof n.index === 'number' ? n.index : position;
      const copy: UiNode = {
        ...n,
        id: innerId(index),
        inputs: (n.inputs ?? []).map((i) => ({ ...i, link: null })),
        outputs: (n.outputs ?? []).map((o) => ({ ...o, links: [] as Array<number | string> })),
      };
      // A muted or bypassed group node mutes or bypasses everything inside it.
      if (instance.mode === 2 || instance.mode === 4) copy.mode = instance.mode;
      return { index, node: copy };
    });
    const byIndex = new Map(inner.map((e) => [e.index, e.node]));

    // Inner links.
    const internallyFed = new Set<string>();
    const internallyUsed = new Set<string>();
    let counter = 0;
    for (const [originIndex, originSlot, targetIndex, targetSlot, , type] of group.links ?? []) {
      if (originIndex === null || originIndex === undefined) continue;
      const origin = byIndex.get(originIndex);
      const target = byIndex.get(targetIndex);
      if (!origin || !target) continue;
      const id = `${gid}:link${counter++}`;
      linkById.set(id, [id, origin.id, originSlot, target.id, targetSlot, type]);
      const input = target.inputs?.[targetSlot];
      if (input) input.link = id;
      origin.outputs?.[originSlot]?.links?.push(id);
      internallyFed.add(`${targetIndex}:${targetSlot}`);
      internallyUsed.add(`${originIndex}:${originSlot}`);
    }

    // Group inputs: every inner socket not fed from inside, in node order then slot order.
    const groupInputs: Array<{ node: UiNode; slot: number }> = [];
    for (const { index, node } of inner) {
      (node.inputs ?? []).forEach((input: UiNodeInput, slot) => {
        if (input.widget && !(group.links ?? []).some((l) => l[0] === null && l[2] === index && l[3] === slot)) return;
        if (!internallyFed.has(`${index}:${slot}`)) groupInputs.push({ node, slot });
      });
    }
    // Group outputs: inner outputs not used inside, or listed as external, in node order then slot order.
    const external = new Set((group.external ?? []).map((e) => `${typeof e[0] === 'object' && e[0] ? (e[0] as { index?: number }).index : e[0]}:${e[1]}`));
    const groupOutputs: Array<{ node: UiNode; slot: number }> = [];
    for (const { index, node } of inner) {
      (node.outputs ?? []).forEach((_, slot) => {
        if (!internallyUsed.has(`${index}:${slot}`) || external.has(`${index}:${slot}`)) groupOutputs.push({ node, slot });
      });
    }

    // Outer links into and out of the instance, re-pointed at the inner nodes.
    (instance.inputs ?? []).forEach((input, k) => {
      const target = groupInputs[k];
      if (input.link == null || !target) return;
      const link = linkById.get(String(input.link));
      if (!link) return;
      link[3] = target.node.id;
      link[4] = target.slot;
      const slot = target.node.inputs?.[target.slot];
      if (slot) slot.link = input.link;
    });
    (instance.outputs ?? []).forEach((output, k) => {
      const origin = groupOutputs[k];
      if (!origin) return;
      for (const id of output.links ?? []) {
        const link = linkById.get(String(id));
        if (!link) continue;
        link[1] = origin.node.id;
        link[2] = origin.slot;
        origin.node.outputs?.[origin.slot]?.links?.push(id);
      }
    });

    // The instance's widgets_values feed the inner widgets in node order.
    const values = Array.isArray(instance.widgets_values) ? instance.widgets_values : [];
    let next = 0;
    for (const { node } of inner) {
      const count = slotCount(node, defs);
      if (count === 0) continue;
      const own = Array.isArray(node.widgets_values) ? [...node.widgets_values] : [];
      for (let i = 0; i < count && next < values.length; i++) own[i] = values[next++];
      node.widgets_values = own;
    }
    nodes.push(...inner.map((e) => e.node));
  }
  return { ...workflow, nodes, links: [...linkById.values()] };
}
