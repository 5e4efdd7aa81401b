/**
 * Legacy group nodes (`workflow>NAME`, older `workflow/NAME`, defined in `extra.groupNodes`), as
 * the frontend loads them (extensions/core/groupNode.ts, 1.48.7 and 1.58.1 rules): each instance
 * is unpacked (GroupNodeHandler.convertToNodes) and the unpacked nodes are packed into a subgraph
 * (LGraph.convertToSubgraph). So:
 *   - the inner nodes get ids `lastNodeId + 1 + position` (Reroutes included; lastNodeId as
 *     configure leaves it, see lastNodeIdAfterLoad) and the new subgraph
 *     instance `lastNodeId + 1 + count`; instances are converted in root-node order, the counter
 *     running on. Prompt keys are `<instance>:<inner>`, e.g. `54:45`.
 *   - reconnectInputs takes the link at the group node's *live* input number inputMap[name]
 *     (GroupNodeConfig.liveInputs) and connects it to the inner input of that name when the types
 *     connect (LGraphNode.connect): an outer link into an inner Reroute (its input is named "") is
 *     lost, and so is what that Reroute fed; reconnectOutputs drops links whose types do not connect.
 *   - the group node's widgets_values fill the group node's widgets (see group-node-config.ts for
 *     their order) and each *mapped* inner widget receives the value of its group widget, defaults
 *     included. When the saved group data predates a widget, that order shifts values into the
 *     wrong widgets (hidream_e1: sampler_name gets the seed); the frontend sends those values and
 *     so do we.
 *   - a muted or bypassed group node loses its mode: the subgraph made from it runs.
 * Not reproduced: PrimitiveNodes inside a group, migrateWidgetsValues on the group node.
 */
import type { NodeDefinitions } from './definitions.js';
import { lastNodeIdAfterLoad } from './graph.js';
import { buildGroupNodeConfig, type GroupDefinition, type GroupNodeConfig, type GroupNodeRules } from './group-node-config.js';
import type { UiLinkArray, UiNode, UiWorkflow } from './types.js';
import { isValidConnection } from './type-match.js';

/**
 * Inner widget values a group node imposes, by widget name: applied after the inner node's own
 * widgets_values (convertToNodes copies them onto the freshly pasted node).
 */
export const groupWidgetValues = new WeakMap<UiNode, Map<string, unknown>>();

function groupName(type: string): string | undefined {
  if (type.startsWith('workflow>')) return type.slice('workflow>'.length);
  if (type.startsWith('workflow/')) return type.slice('workflow/'.length);
  return undefined;
}

function readLinks(raw: unknown): UiLinkArray[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter((l) => l !== null && typeof l === 'object').map((l) => {
    if (Array.isArray(l)) return [...l] as UiLinkArray;
    const o = l as { id: number; origin_id: number; origin_slot: number; target_id: number; target_slot: number; type?: unknown };
    return [o.id, o.origin_id, o.origin_slot, o.target_id, o.target_slot, o.type] as UiLinkArray;
  });
}

/** The group node's widget values, by group widget name, after LGraphNode.configure filled them positionally. */
function groupWidgetValuesByName(config: GroupNodeConfig, saved: unknown[], rules: GroupNodeRules): Map<string, unknown[]> {
  const byName = new Map<string, unknown[]>();
  let next = 0;
  for (const widget of config.widgets) {
    const values = widget.specs.map((spec) => {
      if (spec.takesSlot && next < saved.length) return saved[next++];
      // 1.58's group node holds null in a combo without options and without a saved value, and
      // copies that null into the inner widget (seen in the browser oracle; 1.48.7 has such
      // combos as unmapped slots, so nothing is copied there).
      return spec.defaultValue === undefined && spec.isCombo && rules === '1.58' ? null : spec.defaultValue;
    });
    // findIndex by name: the first widget of that name wins.
    if (!byName.has(widget.name)) byName.set(widget.name, values);
  }
  return byName;
}

/** Returns the workflow unchanged when it has no group-node instances, else a copy with them unpacked. */
export function expandGroupNodes(workflow: UiWorkflow, defs: NodeDefinitions, rules: GroupNodeRules = '1.48'): UiWorkflow {
  const groups = (workflow.extra as { groupNodes?: Record<string, GroupDefinition> } | undefined)?.groupNodes;
  if (!groups || typeof groups !== 'object') return workflow;
  const groupOf = (node: UiNode): GroupDefinition | undefined => {
    const name = groupName(node.type);
    const group = name !== undefined && Object.prototype.hasOwnProperty.call(groups, name) ? groups[name] : undefined;
    return group && Array.isArray(group.nodes) ? group : undefined;
  };
  if (!workflow.nodes.some((n) => groupOf(n))) return workflow;

  const linkById = new Map<string, UiLinkArray>(readLinks(workflow.links).map((l) => [String(l[0]), l]));
  const nodeById = new Map(workflow.nodes.map((n) => [String(n.id), n]));
  /** The type of the output a link starts at (the origin's saved output, else the link's own type). */
  const originOutputType = (link: UiLinkArray): unknown => {
    const output = nodeById.get(String(link[1]))?.outputs?.[Number(link[2])];
    return output?.type ?? link[5] ?? '*';
  };
  /** The type of the input a link ends at: the definition's socket type by name, else the saved one. */
  const targetInputType = (link: UiLinkArray): unknown => {
    const node = nodeById.get(String(link[3]));
    const input = node?.inputs?.[Number(link[4])];
    if (!node || !input) return link[5] ?? '*';
    return defs.classInfo(node.type)?.socketByName.get(input.name)?.type ?? input.type ?? '*';
  };
  let lastNodeId = lastNodeIdAfterLoad(workflow);
  const configs = new Map<GroupDefinition, GroupNodeConfig>();
  /** Links made here whose origin is a root node: that node's outputs do not list them. */
  const addedOutputLinks = new Map<string, string[]>();
  const nodes: UiNode[] = [];

  for (const instance of workflow.nodes) {
    const group = groupOf(instance);
    if (!group) {
      nodes.push(instance);
      continue;
    }
    let config = configs.get(group);
    if (!config) configs.set(group, (config = buildGroupNodeConfig(group, defs, rules)));
    const innerNumbers = group.nodes.map(() => ++lastNodeId);
    const instanceId = ++lastNodeId;
    const inner: UiNode[] = group.nodes.map((n, position) => {
      const copy: UiNode = {
        ...n,
        id: `${instanceId}:${innerNumbers[position]}`,
        inputs: (n.inputs ?? []).map((i) => ({ ...i, link: null })),
        outputs: (n.outputs ?? []).map((o) => ({ ...o, links: [] as Array<number | string> })),
      };
      delete copy.index;
      // The instance's mode is not carried over: convertToNodes pastes the saved inner nodes (their
      // own modes) and convertToSubgraph makes a new, active instance, so a muted or bypassed group
      // node runs in 1.48.7.
      return copy;
    });
    let counter = 0;
    const connect = (originId: string | number, originSlot: number, target: UiNode, targetSlot: number, type: unknown): string => {
      const id = `${instanceId}:link${counter++}`;
      linkById.set(id, [id, originId, originSlot, String(target.id), targetSlot, type]);
      const input = target.inputs?.[targetSlot];
      if (input) input.link = id;
      return id;
    };

    // Links between pasted nodes (deserialiseAndCreate).
    for (const link of group.links ?? []) {
      if (!Array.isArray(link)) continue;
      const [o, os, t, ts, , type] = link;
      if (o == null || t == null || os == null || ts == null) continue;
      const origin = inner[Number(o)];
      const target = inner[Number(t)];
      if (!origin || !target || !target.inputs?.[Number(ts)]) continue;
      const id = connect(String(origin.id), Number(os), target, Number(ts), type);
      origin.outputs?.[Number(os)]?.links?.push(id);
    }

    // reconnectInputs: the link at the group node's *live* input number `groupSlot` (saved inputs
    // are matched to live ones by name), to the inner input found by name, if the types connect.
    config.inputMap.forEach((map, position) => {
      const target = inner[position] as UiNode;
      for (const [inputName, groupSlot] of map) {
        const liveName = config.liveInputs[groupSlot];
        const linkId = liveName === undefined ? undefined : instance.inputs?.find((i) => i?.name === liveName)?.link;
        const outer = linkId == null ? undefined : linkById.get(String(linkId));
        if (!outer) continue;
        let slot = (target.inputs ?? []).findIndex((i) => i?.name === inputName);
        const socket = defs.classInfo(target.type)?.socketByName.get(inputName);
        if (slot === -1) {
          // Every socket of a backend node exists live, saved or not; a Reroute's input is named "".
          if (!socket) continue;
          target.inputs = [...(target.inputs ?? []), { name: inputName, type: socket.type, link: null }];
          slot = target.inputs.length - 1;
        }
        // LGraphNode.connect refuses an output whose type cannot connect to the input.
        const targetType = socket?.type ?? target.inputs?.[slot]?.type ?? '*';
        if (!isValidConnection(originOutputType(outer), targetType)) continue;
        const id = connect(outer[1], Number(outer[2]), target, slot, outer[5]);
        const key = `${outer[1]}:${outer[2]}`;
        addedOutputLinks.set(key, [...(addedOutputLinks.get(key) ?? []), id]);
      }
    });

    // reconnectOutputs: the instance's outgoing links start at the inner node now.
    (instance.outputs ?? []).forEach((output, k) => {
      const origin = config.outputMap[k];
      if (!origin) return;
      const ids = [...(output.links ?? []).map(String), ...(addedOutputLinks.get(`${instance.id}:${k}`) ?? [])];
      for (const id of ids) {
        const link = linkById.get(id);
        if (!link) continue;
        const node = inner[origin.innerIndex] as UiNode;
        // newNode.connect refuses a type that cannot connect; the group node's own link then goes
        // with it (rootGraph.remove), so the target is left unlinked.
        const outputType = defs.classInfo(node.type)?.outputs[origin.slot] ?? node.outputs?.[origin.slot]?.type ?? '*';
        if (!isValidConnection(outputType, targetInputType(link))) {
          linkById.delete(id);
          continue;
        }
        link[1] = String(node.id);
        link[2] = origin.slot;
        node.outputs?.[origin.slot]?.links?.push(id);
        const key = `${node.id}:${origin.slot}`;
        addedOutputLinks.set(key, [...(addedOutputLinks.get(key) ?? []), id]);
      }
    });

    // Widget values: group widget → inner widget of the same (old) name; control widgets follow theirs.
    const values = groupWidgetValuesByName(config, Array.isArray(instance.widgets_values) ? instance.widgets_values : [], rules);
    for (const widget of config.widgets) {
      const target = inner[widget.innerIndex] as UiNode;
      const outer = values.get(widget.name) ?? [];
      const imposed = groupWidgetValues.get(target) ?? new Map<string, unknown>();
      groupWidgetValues.set(target, imposed);
      if (!widget.mapped) continue;
      widget.specs.forEach((spec, i) => {
        if (i < outer.length) imposed.set(i === 0 ? widget.innerName : spec.name, outer[i]);
      });
    }
    nodes.push(...inner);
    for (const node of inner) nodeById.set(String(node.id), node);
  }
  return { ...workflow, nodes, links: [...linkById.values()] };
}
