/**
 * Legacy promoted widgets (`properties.proxyWidgets` on a subgraph instance, files of Sept 2025 –
 * May 2026) as the frontend repairs them at load (flushProxyWidgetMigration in
 * core/graph/subgraph/migration/proxyWidgetMigration.ts, run at the end of LGraph.configure for
 * every SubgraphNode of each graph: definitions first, then the root). Per entry
 * `[innerNodeId, widgetName]`, with the host value `widgets_values[entry index]`:
 *   - alreadyLinked: a subgraph input already feeds that widget → the host value goes to it;
 *   - createSubgraphInput: otherwise, when the inner node has that widget (a backend widget, or a
 *     nested instance's promoted input), a new subgraph input (nextUniqueName of the widget name)
 *     is connected to the widget's input slot. Connecting replaces whatever link fed that slot
 *     before, a link from a node or a primitive included: from now on the widget takes the host's
 *     value. The definition changes for every instance of it.
 *   - a PrimitiveNode source (primitiveBypass) or a missing node/widget (quarantine) is left alone.
 * Returns the repaired workflow (a copy when anything changed) and the host values to apply.
 */
import type { NodeDefinitions } from './definitions.js';
import type { UiLinkObject, UiNode, UiSubgraphDefinition, UiWorkflow } from './types.js';

export type HostValueOverrides = WeakMap<UiNode, Map<string, unknown>>;

function proxyEntries(node: UiNode): Array<[string, string]> {
  const raw = node.properties?.proxyWidgets;
  if (!Array.isArray(raw)) return [];
  return raw.filter((e): e is [unknown, unknown] => Array.isArray(e) && e.length >= 2).map(([id, w]) => [String(id), String(w)]);
}

function nextUniqueName(name: string, existing: string[]): string {
  let i = 1;
  let candidate = name;
  while (existing.includes(candidate)) candidate = `${name}_${i++}`;
  return candidate;
}

function linkObject(raw: unknown): UiLinkObject | undefined {
  if (Array.isArray(raw)) {
    const [id, origin_id, origin_slot, target_id, target_slot, type] = raw as [number, number, number, number, number, unknown];
    return { id, origin_id, origin_slot, target_id, target_slot, type };
  }
  return raw && typeof raw === 'object' && 'id' in raw ? (raw as UiLinkObject) : undefined;
}

export function migrateProxyWidgets(workflow: UiWorkflow, defs: NodeDefinitions): { workflow: UiWorkflow; overrides: HostValueOverrides } {
  const overrides: HostValueOverrides = new WeakMap();
  const subgraphs = workflow.definitions?.subgraphs;
  if (!Array.isArray(subgraphs) || subgraphs.length === 0) return { workflow, overrides };
  const hosts = (nodes: unknown) => (Array.isArray(nodes) ? (nodes as UiNode[]) : []).filter((n) => proxyEntries(n).length > 0);
  if (hosts(workflow.nodes).length === 0 && !subgraphs.some((d) => hosts(d?.nodes).length > 0)) return { workflow, overrides };

  const copy = structuredClone(workflow);
  const byId = new Map<string, UiSubgraphDefinition>();
  for (const def of copy.definitions?.subgraphs ?? []) if (def && typeof def.id === 'string') byId.set(def.id, def);

  const flush = (host: UiNode): void => {
    const definition = byId.get(host.type);
    if (!definition || !Array.isArray(definition.nodes)) return;
    const values = Array.isArray(host.widgets_values) ? host.widgets_values : [];
    const links = (definition.links ??= []) as unknown[];
    const inputs = (definition.inputs ??= []);
    const set = (name: string, index: number) => {
      if (index >= values.length || values[index] === undefined) return;
      const map = overrides.get(host) ?? new Map<string, unknown>();
      overrides.set(host, map);
      map.set(name, values[index]);
    };
    proxyEntries(host).forEach(([sourceId, widgetName], index) => {
      const source = definition.nodes.find((n) => String(n.id) === sourceId);
      // alreadyLinked: a subgraph input whose link ends at that widget's slot.
      for (const input of inputs) {
        for (const linkId of input.linkIds ?? []) {
          const link = links.map(linkObject).find((l) => l && String(l.id) === String(linkId));
          const target = link && definition.nodes.find((n) => String(n.id) === String(link.target_id));
          const slot = target?.inputs?.[Number(link?.target_slot)];
          if (target && String(target.id) === sourceId && slot && (slot.widget?.name ?? slot.name) === widgetName) {
            set(input.name, index);
            return;
          }
        }
      }
      if (!source || source.type === 'PrimitiveNode') return;
      const nested = byId.get(source.type);
      let type: unknown;
      if (nested) {
        const promoted = nested.inputs?.find((i) => i.name === widgetName);
        if (!promoted) return;
        type = promoted.type;
      } else {
        const info = defs.classInfo(source.type);
        // getSlotFromWidget: a widget without an input socket (control_after_generate, upload) is quarantined.
        if (!info?.widgets.some((w) => w.name === widgetName) || !info.socketByName.has(widgetName)) return;
        type = info.socketByName.get(widgetName)?.type;
      }
      source.inputs ??= [];
      let slot = source.inputs.findIndex((i) => i?.widget?.name === widgetName || i?.name === widgetName);
      if (slot === -1) {
        source.inputs.push({ name: widgetName, type: String(type ?? '*'), widget: { name: widgetName }, link: null });
        slot = source.inputs.length - 1;
      }
      const socket = source.inputs[slot]!;
      const slotType = String(socket.type ?? type ?? '*');
      // Connecting replaces the link that fed the slot.
      const old = socket.link;
      if (old != null) {
        const at = links.findIndex((l) => String(linkObject(l)?.id) === String(old));
        const removed = at === -1 ? undefined : linkObject(links[at]);
        if (at !== -1) links.splice(at, 1);
        if (removed) {
          const origin = definition.nodes.find((n) => String(n.id) === String(removed.origin_id));
          const out = origin?.outputs?.[Number(removed.origin_slot)];
          if (out?.links) out.links = out.links.filter((id) => String(id) !== String(old));
          for (const input of inputs) if (input.linkIds) input.linkIds = input.linkIds.filter((id) => String(id) !== String(old));
        }
      }
      const newId = Math.max(0, ...links.map((l) => Number(linkObject(l)?.id) || 0), Number((definition.state as { lastLinkId?: number } | undefined)?.lastLinkId) || 0) + 1;
      const name = nextUniqueName(widgetName, inputs.map((i) => i.name));
      inputs.push({ id: `proxy-${host.id}-${index}`, name, type: slotType, linkIds: [newId] });
      links.push({ id: newId, origin_id: -10, origin_slot: inputs.length - 1, target_id: source.id, target_slot: slot, type: slotType });
      socket.link = newId;
      set(name, index);
    });
  };
  for (const def of copy.definitions?.subgraphs ?? []) for (const node of hosts(def?.nodes)) flush(node);
  for (const node of hosts(copy.nodes)) flush(node);
  return { workflow: copy, overrides };
}
