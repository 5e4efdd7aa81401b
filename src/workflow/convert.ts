/**
 * Native UI workflow → API prompt conversion, equal to the frontend's graphToPrompt().output
 * (frontend 1.48): load step (widgets from widgets_values), virtual nodes applied, then one
 * entry per executable node with links resolved through Reroutes, bypassed nodes and subgraphs.
 */
import { InvalidWorkflowError, UnknownNodeTypeError } from '../errors.js';
import { NodeDefinitions } from './definitions.js';
import { readWorkflowGraph, SUBGRAPH_INPUT_NODE, type Scope, type WorkflowGraph } from './graph.js';
import { executionOrder } from './execution-order.js';
import { expandGroupNodes, groupWidgetValues } from './group-nodes.js';
import { configureWidgets, mergeInputs, savedInputs, type LiveInput, type LiveNode, type LiveWidget } from './live-node.js';
import { applyTextReplacements, processDynamicPrompt, type ReplacementNode } from './text-transforms.js';
import type { ApiPrompt, ApiPromptNode, ConvertOptions, ObjectInfo, UiNode, UiWorkflow } from './types.js';
import { isValidConnection } from './type-match.js';
import { frontendProfile, packMeta, type FrontendProfile } from './frontend-version.js';
import { migrateProxyWidgets, type HostValueOverrides } from './proxy-widgets.js';

const MODE_NEVER = 2;
const MODE_BYPASS = 4;

/** Frontend-only node types: never sent, only followed (Reroute, Set/Get) or applied (PrimitiveNode). */
const VIRTUAL_TYPES = new Set([
  'Note', 'MarkdownNote', 'Reroute', 'PrimitiveNode', 'SetNode', 'GetNode',
  'Note (rgthree)', 'Label (rgthree)', 'Bookmark (rgthree)', 'Fast Groups Muter (rgthree)',
  'Fast Groups Bypasser (rgthree)', 'Fast Muter (rgthree)', 'Fast Bypasser (rgthree)', 'Reroute (rgthree)',
]);
/** Virtual types that forward input N to output N. */
const PASS_THROUGH_TYPES = new Set(['Reroute', 'Reroute (rgthree)']);

/** One executable instance of a node: a root node, or a subgraph interior node under a host path. */
interface Dto {
  id: string;
  live: LiveNode;
  /** Execution ids of the enclosing subgraph instances, outermost first. */
  path: string[];
  host: Dto | undefined;
}

type Resolved = { originId: string; originSlot: number } | { widgetValue: unknown } | undefined;

function wrapValue(value: unknown, isCurve = false): unknown {
  if (!Array.isArray(value)) return value;
  return isCurve ? { __type__: 'CURVE', __value__: value } : { __value__: value };
}

function packOf(node: UiNode): string | undefined {
  const p = node.properties ?? {};
  const id = typeof p.cnr_id === 'string' ? p.cnr_id : typeof p.aux_id === 'string' ? p.aux_id : undefined;
  if (!id) return undefined;
  return typeof p.ver === 'string' && p.ver ? `${id}@${p.ver}` : id;
}

class Converter {
  private readonly graph: WorkflowGraph;
  private readonly live = new Map<UiNode, LiveNode>();
  private readonly dtos = new Map<string, Dto>();
  private readonly random: () => number;
  private readonly now: () => Date;
  private readonly profile: FrontendProfile;
  private replacementNodes: ReplacementNode[] | undefined;
  /** Promoted input values per subgraph instance, computed once (after PrimitiveNodes applied). */
  private readonly promotedCache = new Map<LiveNode, Map<string, unknown>>();

  constructor(private readonly workflow: UiWorkflow, private readonly defs: NodeDefinitions, options: ConvertOptions, private readonly hostValues: HostValueOverrides = new WeakMap()) {
    this.graph = readWorkflowGraph(workflow);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
    this.profile = frontendProfile(options.frontendVersion);
  }

  run(): ApiPrompt {
    for (const scope of [this.graph.root, ...this.graph.subgraphs.values()]) {
      for (const node of scope.order) this.live.set(node, this.configure(node, scope));
    }
    for (const live of this.live.values()) if (live.node.type === 'PrimitiveNode') this.applyPrimitive(live);
    const rootOrder = executionOrder(this.graph.root, (node) => (this.live.get(node) as LiveNode).inputs.filter((i) => i.link !== null).length);
    for (const node of rootOrder) this.addDto(node, this.graph.root, [], undefined, new Set());
    const output: ApiPrompt = {};
    for (const dto of this.dtos.values()) {
      const { live } = dto;
      if (live.kind === 'virtual' || live.kind === 'subgraph' || live.mode === MODE_NEVER || live.mode === MODE_BYPASS) continue;
      if (live.kind === 'unknown' || !live.info) {
        throw new UnknownNodeTypeError(dto.id, live.node.type, packOf(live.node));
      }
      output[dto.id] = this.serialise(dto);
    }
    // Links to nodes that are not in the prompt (muted, missing) are dropped, not replaced by widget values.
    for (const entry of Object.values(output)) {
      for (const [key, value] of Object.entries(entry.inputs)) {
        if (Array.isArray(value) && value.length === 2 && !Object.prototype.hasOwnProperty.call(output, String(value[0]))) delete entry.inputs[key];
      }
    }
    assertAcyclic(output);
    return output;
  }

  // ------------------------------------------------------------------ load step

  private configure(node: UiNode, scope: Scope): LiveNode {
    const id = String(node.id);
    const mode = typeof node.mode === 'number' ? node.mode : 0;
    const saved = Array.isArray(node.inputs) ? node.inputs : [];
    const savedOutputTypes = (Array.isArray(node.outputs) ? node.outputs : []).map((o) => (o?.type == null ? '*' : String(o.type)));
    const info = VIRTUAL_TYPES.has(node.type) && !this.defs.has(node.type) ? undefined : this.defs.classInfo(node.type);
    const base = { node, scope, id, mode, widgets: [] as LiveWidget[] };
    if (info) {
      const declared = info.declaredInputs;
      const widgets = configureWidgets(info, node);
      const imposed = groupWidgetValues.get(node);
      if (imposed) for (const widget of widgets) if (imposed.has(widget.spec.name)) widget.value = imposed.get(widget.spec.name);
      return {
        ...base, kind: 'backend', info,
        widgets,
        inputs: mergeInputs(declared, saved, true),
        outputTypes: info.outputs.length ? info.outputs : savedOutputTypes,
        title: typeof node.title === 'string' ? node.title : this.profile.title(info.name, info.serverDisplayName),
      };
    }
    const subgraph = this.graph.subgraphs.get(node.type);
    if (subgraph) {
      const declared = (subgraph.definition?.inputs ?? []).map((i) => ({ name: String(i.name), type: String(i.type ?? '*'), widgetName: undefined }));
      const outputs = (subgraph.definition?.outputs ?? []).map((o) => String(o.type ?? '*'));
      return {
        ...base, kind: 'subgraph', info: undefined, inputs: mergeInputs(declared, saved), outputTypes: outputs,
        title: typeof node.title === 'string' ? node.title : String(subgraph.definition?.name ?? node.type),
      };
    }
    return {
      ...base, kind: VIRTUAL_TYPES.has(node.type) ? 'virtual' : 'unknown', info: undefined,
      inputs: savedInputs(saved), outputTypes: savedOutputTypes,
      title: typeof node.title === 'string' ? node.title : node.type,
    };
  }

  /** PrimitiveNode.applyToGraph: its value goes into the widget of each direct link target. */
  private applyPrimitive(primitive: LiveNode): void {
    const values = primitive.node.widgets_values;
    if (!Array.isArray(values) || values.length === 0) return;
    const links = primitive.node.outputs?.[0]?.links;
    if (!Array.isArray(links) || links.length === 0) return;
    let value = values[0];
    if (value && primitive.node.properties?.['Run widget replace on values'] && typeof value === 'string') {
      value = applyTextReplacements(value, this.replacementTargets(), this.now);
    }
    for (const linkId of links) {
      const link = primitive.scope.links.get(String(linkId));
      if (!link) continue;
      const targetNode = primitive.scope.nodes.get(link.targetId);
      const target = targetNode && this.live.get(targetNode);
      if (!target) continue;
      const input = target.inputs.find((i) => i.link === link.id) ?? target.inputs[link.targetSlot];
      const widgetName = input?.widgetName;
      if (!widgetName) continue; // a Reroute or a forceInput target: the frontend drops the value too
      const widget = target.widgets.find((w) => w.spec.name === widgetName);
      if (widget) widget.value = value;
    }
  }

  /** Every node of the workflow (root, then subgraph interiors) as %Node.widget% replacement sees it. */
  private replacementTargets(): ReplacementNode[] {
    if (this.replacementNodes) return this.replacementNodes;
    this.replacementNodes = [...this.live.values()].map((live) => {
      const saved = live.node.properties?.['Node name for S&R'];
      // Comfy.SaveImageExtraOutput gives every backend node but the save nodes a default S&R name.
      const searchName = typeof saved === 'string' ? saved : live.kind === 'backend' && !live.info?.replacesFilename ? live.node.type : undefined;
      return {
        searchName,
        title: live.title,
        widgetValue: (name: string) => {
          const widget = live.widgets.find((w) => w.spec.name === name);
          return widget ? { found: true, value: widget.value } : { found: false, value: undefined };
        },
      };
    });
    return this.replacementNodes;
  }

  // ------------------------------------------------------------------ execution ids

  private addDto(node: UiNode, scope: Scope, path: string[], host: Dto | undefined, hosts: Set<string>): void {
    const live = this.live.get(node) as LiveNode;
    const ownId = scope.executionId.get(String(node.id)) ?? String(node.id);
    const id = [...path, ownId].join(':');
    const dto: Dto = { id, live, path, host };
    this.dtos.set(id, dto);
    if (live.kind !== 'subgraph') return;
    // A muted or bypassed subgraph instance at the root contributes no interior (#8494); nested ones still do.
    if (path.length === 0 && (live.mode === MODE_NEVER || live.mode === MODE_BYPASS)) return;
    const inner = this.graph.subgraphs.get(node.type) as Scope;
    if (hosts.has(node.type)) throw new InvalidWorkflowError(`subgraph "${inner.definition?.name ?? node.type}" contains itself.`, id);
    const nested = new Set(hosts).add(node.type);
    for (const child of inner.order) this.addDto(child, inner, [...path, ownId], dto, nested);
  }

  private dtoOf(scopeNodeId: string, from: Dto): Dto | undefined {
    const ownId = from.live.scope.executionId.get(scopeNodeId) ?? scopeNodeId;
    return this.dtos.get([...from.path, ownId].join(':'));
  }

  // ------------------------------------------------------------------ prompt walk

  private serialise(dto: Dto): ApiPromptNode {
    const { live } = dto;
    const inputs: Record<string, unknown> = {};
    for (const widget of live.widgets) {
      if (!widget.spec.sent || !widget.spec.name) continue;
      inputs[widget.spec.name] = wrapValue(this.serialiseWidget(live, widget), widget.spec.isCurve);
    }
    for (let slot = 0; slot < live.inputs.length; slot++) {
      const resolved = this.resolveInput(dto, slot, new Set());
      if (!resolved) continue;
      const name = (live.inputs[slot] as LiveInput).name;
      inputs[name] = 'widgetValue' in resolved ? wrapValue(resolved.widgetValue) : [resolved.originId, resolved.originSlot];
    }
    const meta = this.profile.packMeta ? { title: live.title, ...packMeta(live.node.properties) } : { title: live.title };
    return { inputs, class_type: live.node.type, _meta: meta };
  }

  private serialiseWidget(live: LiveNode, widget: LiveWidget): unknown {
    const { value } = widget;
    if (typeof value !== 'string') return value;
    if (widget.spec.dynamicPrompts) return processDynamicPrompt(value, this.random);
    if (live.info?.replacesFilename && widget.spec.name === 'filename_prefix') {
      return applyTextReplacements(value, this.replacementTargets(), this.now);
    }
    return value;
  }

  private resolveInput(dto: Dto, slot: number, seen: Set<string>): Resolved {
    const key = `${dto.id}[I]${slot}`;
    if (seen.has(key)) throw new InvalidWorkflowError(`its links form a loop (input ${slot}) through Reroutes, bypassed nodes or subgraphs.`, dto.id);
    seen.add(key);
    const input = dto.live.inputs[slot];
    if (!input || input.link === null) return undefined;
    const scope = dto.live.scope;
    const link = scope.links.get(input.link);
    // A link id with no link: the frontend's workflow validation drops such links on load.
    if (!link) return undefined;
    if (dto.host && link.originId === SUBGRAPH_INPUT_NODE) return this.resolveSubgraphInput(scope, dto.host, link.originSlot, seen);
    const origin = this.dtoOf(link.originId, dto);
    if (!origin) {
      if (!scope.nodes.has(link.originId)) {
        throw new InvalidWorkflowError(`input "${input.name}" is linked (link ${link.id}) to node ${link.originId}, which does not exist.`, dto.id,
          'Reconnect that input in ComfyUI and export the workflow again.');
      }
      return undefined;
    }
    return this.resolveOutput(origin, link.originSlot, input.type, seen);
  }

  /** A link from a subgraph's input node: follow the host's outer link, else use its promoted value. */
  private resolveSubgraphInput(inner: Scope, host: Dto, definitionSlot: number, seen: Set<string>): Resolved {
    const definitionInput = inner.definition?.inputs?.[definitionSlot];
    // Match by name: saved host inputs can be compressed, so slot indexes go stale (frontend #10257).
    const hostSlot = definitionInput ? host.live.inputs.findIndex((i) => i.name === definitionInput.name) : definitionSlot;
    const hostInput = host.live.inputs[hostSlot];
    if (!hostInput) return undefined;
    if (hostInput.link !== null && host.live.scope.links.has(hostInput.link)) return this.resolveInput(host, hostSlot, seen);
    const promoted = this.promotedValue(host.live, hostInput.name);
    return promoted.found ? { widgetValue: promoted.value } : undefined;
  }

  /**
   * The value an unlinked promoted input carries (SubgraphNode._applyPromotedWidgetValues): the
   * host's widgets_values holds one entry per promoted input, in input order; without one, the
   * promoted interior widget's current value. Every inner target of that input receives it, also
   * sockets without a widget. Not promoted (no widget behind it): undefined.
   */
  private promotedValue(host: LiveNode, inputName: string): { found: boolean; value?: unknown } {
    let values = this.promotedCache.get(host);
    if (!values) {
      values = new Map();
      this.promotedCache.set(host, values);
      const inner = this.graph.subgraphs.get(host.node.type);
      const saved = Array.isArray(host.node.widgets_values) ? host.node.widgets_values : [];
      let index = 0;
      for (const input of inner ? host.inputs : []) {
        const source = this.promotedSource(inner as Scope, input.name, proxyWidgetsOf(host.node), new Set());
        if (!source) continue;
        values.set(input.name, index < saved.length && saved[index] !== undefined ? saved[index] : source.value);
        index++;
      }
      // Legacy proxyWidgets repaired at load set their host values last (proxy-widgets.ts).
      for (const [name, value] of this.hostValues.get(host.node) ?? []) if (values.has(name)) values.set(name, value);
    }
    return values.has(inputName) ? { found: true, value: values.get(inputName) } : { found: false };
  }

  /** The interior widget a subgraph input is promoted from, with its value; undefined when none. */
  private promotedSource(inner: Scope, inputName: string, proxyWidgets: Array<[string, string]>, seen: Set<string>): { found: true; value: unknown } | undefined {
    const key = `${inner.definition?.id}:${inputName}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const definitionInput = inner.definition?.inputs?.find((i) => i.name === inputName);
    const candidates: Array<{ node: LiveNode; widget: string }> = [];
    for (const linkId of definitionInput?.linkIds ?? []) {
      const link = inner.links.get(String(linkId));
      const targetNode = link && inner.nodes.get(link.targetId);
      const target = targetNode && this.live.get(targetNode);
      if (!link || !target) continue;
      const input = target.inputs.find((i) => i.link === link.id) ?? target.inputs[link.targetSlot];
      if (!input) continue;
      if (target.kind === 'backend' && input.widgetName) candidates.push({ node: target, widget: input.widgetName });
      else if (target.kind === 'subgraph') {
        const nested = this.promotedValue(target, input.name);
        if (nested.found) return { found: true, value: nested.value };
      }
    }
    if (!candidates.length) return undefined;
    // A legacy proxyWidgets entry names the interior widget; otherwise the first connected one.
    const chosen = candidates.find((c) => proxyWidgets.some(([id, w]) => id === c.node.id && w === c.widget)) ?? candidates[0];
    const widget = chosen?.node.widgets.find((w) => w.spec.name === chosen.widget);
    return widget ? { found: true, value: widget.value } : undefined;
  }

  private resolveOutput(dto: Dto, slot: number, type: string, seen: Set<string>): Resolved {
    const key = `${dto.id}[O]${slot}`;
    if (seen.has(key)) throw new InvalidWorkflowError(`its links form a loop (output ${slot}) through Reroutes, bypassed nodes or subgraphs.`, dto.id);
    seen.add(key);
    const { live } = dto;
    if (live.mode === MODE_NEVER) return undefined;
    if (live.mode === MODE_BYPASS) {
      const bypassSlot = bypassInputSlot(live, slot, type);
      return bypassSlot === -1 ? undefined : this.resolveInput(dto, bypassSlot, seen);
    }
    if (live.kind === 'subgraph') return this.resolveSubgraphOutput(dto, slot, type, seen);
    if (live.kind === 'virtual') {
      if (PASS_THROUGH_TYPES.has(live.node.type)) return this.resolveVirtualPassThrough(dto, slot, type, seen);
      if (live.node.type === 'GetNode') return this.resolveGetNode(dto, type, seen);
      return undefined;
    }
    return { originId: dto.id, originSlot: slot };
  }

  private resolveVirtualPassThrough(dto: Dto, slot: number, type: string, seen: Set<string>): Resolved {
    const input = dto.live.inputs[slot];
    if (!input || input.link === null) return undefined;
    const link = dto.live.scope.links.get(input.link);
    if (!link) return undefined;
    if (dto.host && link.originId === SUBGRAPH_INPUT_NODE) return this.resolveSubgraphInput(dto.live.scope, dto.host, link.originSlot, seen);
    const origin = this.dtoOf(link.originId, dto);
    return origin ? this.resolveOutput(origin, link.originSlot, type, seen) : undefined;
  }

  /** KJNodes Get/Set: a GetNode reads what the SetNode with the same name receives. */
  private resolveGetNode(dto: Dto, type: string, seen: Set<string>): Resolved {
    const name = Array.isArray(dto.live.node.widgets_values) ? dto.live.node.widgets_values[0] : undefined;
    for (const candidate of this.dtos.values()) {
      if (candidate.live.node.type !== 'SetNode') continue;
      const values = candidate.live.node.widgets_values;
      if (!Array.isArray(values) || values[0] !== name) continue;
      return this.resolveVirtualPassThrough(candidate, 0, type, seen);
    }
    return undefined;
  }

  private resolveSubgraphOutput(dto: Dto, slot: number, type: string, seen: Set<string>): Resolved {
    const inner = this.graph.subgraphs.get(dto.live.node.type) as Scope;
    const output = inner.definition?.outputs?.[slot];
    const linkId = output?.linkIds?.[0];
    const link = linkId == null ? undefined : inner.links.get(String(linkId));
    if (!link) return undefined;
    const ownId = dto.id;
    // An input wired straight to an output: the host's own input.
    if (link.originId === SUBGRAPH_INPUT_NODE) return this.resolveSubgraphInput(inner, dto, link.originSlot, seen);
    const innerOwn = inner.executionId.get(link.originId) ?? link.originId;
    const origin = this.dtos.get(`${ownId}:${innerOwn}`);
    return origin ? this.resolveOutput(origin, link.originSlot, type, seen) : undefined;
  }
}

/** properties.proxyWidgets of a subgraph instance (Sept 2025 – May 2026 files): [innerNodeId, widgetName] pairs. */
function proxyWidgetsOf(node: UiNode): Array<[string, string]> {
  const raw = node.properties?.proxyWidgets;
  if (!Array.isArray(raw)) return [];
  return raw.filter((e): e is [unknown, unknown] => Array.isArray(e) && e.length >= 2).map(([id, w]) => [String(id), String(w)]);
}

/** ExecutableNodeDTO._getBypassSlotIndex: which input a bypassed node forwards to output `slot`. */
export function bypassInputSlot(live: Pick<LiveNode, 'inputs' | 'outputTypes'>, slot: number, type: string): number {
  const { inputs } = live;
  if (inputs.length === 0) return -1;
  if (type === '*' || type === '') return inputs.length > slot ? slot : 0;
  const same = inputs[slot];
  const outputType = live.outputTypes[slot] ?? '*';
  if (same && isValidConnection(same.type, outputType) && isValidConnection(same.type, type)) return slot;
  const exact = inputs.findIndex((i) => i.type === type);
  if (exact !== -1) return exact;
  return inputs.findIndex((i) => isValidConnection(i.type, outputType) && isValidConnection(i.type, type));
}

/** The server rejects prompts whose links loop; say which node instead. */
function assertAcyclic(prompt: ApiPrompt): void {
  const state = new Map<string, 1 | 2>();
  const visit = (id: string): void => {
    const mark = state.get(id);
    if (mark === 2) return;
    if (mark === 1) throw new InvalidWorkflowError('its links form a cycle (a node feeds, directly or through others, its own input).', id,
      'Break the loop in ComfyUI: ComfyUI cannot execute cyclic graphs.');
    state.set(id, 1);
    for (const value of Object.values(prompt[id]?.inputs ?? {})) {
      if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string') visit(value[0]);
    }
    state.set(id, 2);
  };
  // Iterative entry points keep the recursion depth to one path.
  for (const id of Object.keys(prompt)) visit(id);
}

/**
 * Converts a UI workflow to the API prompt ComfyUI's frontend would send for it.
 * `definitions` is the server's /object_info (raw or wrapped); `random` and `now` make dynamic
 * prompts and `%date:…%` reproducible.
 */
export function convertWorkflow(workflow: UiWorkflow, definitions: NodeDefinitions | ObjectInfo | Record<string, unknown>, options: ConvertOptions = {}): ApiPrompt {
  if (typeof workflow !== 'object' || workflow === null || !Array.isArray((workflow as { nodes?: unknown }).nodes)) {
    throw new InvalidWorkflowError('This is not a UI workflow: it has no "nodes" array.', undefined,
      'Pass the workflow as ComfyUI saves it (Workflow > Save or Export); an API prompt needs no conversion.');
  }
  const defs = NodeDefinitions.from(definitions);
  const expanded = expandGroupNodes(workflow, defs, frontendProfile(options.frontendVersion).groupNodes);
  const repaired = migrateProxyWidgets(expanded, defs);
  return new Converter(repaired.workflow, defs, options, repaired.overrides).run();
}
