/**
 * What frontend 1.48.7's GroupNodeConfig (extensions/core/groupNode.ts) derives from one
 * `extra.groupNodes[NAME]` entry: which group-node input slot feeds which inner input, which inner
 * output each group output is, and the group node's widgets in creation order with the inner
 * widget each one is copied into. Its quirks are kept on purpose (the prompt must equal the
 * frontend's): inner inputs saved as widget sockets ("converted widgets") are appended after every
 * other input and widget of the group, linksTo is indexed by the position among non-widget inputs,
 * and `name in seenInputs` also sees Object.prototype names.
 */
import type { NodeDefinitions } from './definitions.js';
import type { InputSpec, UiNode } from './types.js';
import { isWidgetType, widgetsForInput, type WidgetSpec } from './widget-specs.js';

/** [originIndex | null, originSlot, targetIndex, targetSlot, linkId?, type]; null origin = outside the group. */
export type GroupLink = [number | null, number | null, number | null, number | null, unknown?, unknown?];

export interface GroupDefinition {
  nodes: UiNode[];
  links?: GroupLink[];
  external?: Array<[unknown, unknown, unknown]>;
  config?: Record<string, { input?: Record<string, { name?: string; visible?: boolean }>; output?: Record<string, { name?: string; visible?: boolean }> }>;
}

/** One widget of the group node: its name there, and the inner widget it is copied into. */
export interface GroupWidget {
  name: string;
  innerIndex: number;
  innerName: string;
  /** The widgets this input creates on the group node (value widget, then its linked control widgets). */
  specs: WidgetSpec[];
  /**
   * Whether convertToNodes copies its value into the inner widget (oldToNewWidgetMap). A combo
   * input whose V1 spec is an option list is not a "valid spec" to processWidgetInputs, so it is
   * added as an input slot; the group node still draws a widget for it, which takes a
   * widgets_values slot, but its value goes nowhere.
   */
  mapped: boolean;
}

export interface GroupNodeConfig {
  /** Per inner node position: inner input name → group-node input slot (oldToNewInputMap). */
  inputMap: Array<Map<string, number>>;
  /** Group-node output slot → inner node position and output slot (newToOldOutputMap). */
  outputMap: Array<{ innerIndex: number; slot: number }>;
  /** The group node's widgets in creation order (its widgets_values order). */
  widgets: GroupWidget[];
  /**
   * The group node's live input names in slot order (addInputs: sockets first, then the inputs
   * that have a widget, each in the group definition's order). reconnectInputs reads the link
   * at `node.inputs[inputMap slot]`, so an inputMap slot number indexes this list, not the saved
   * inputs and not the group's own numbering: where the two disagree, links land elsewhere.
   */
  liveInputs: string[];
}

interface NodeDef {
  /** `{...required, ...optional}` in that key order. */
  inputs: Array<[string, InputSpec]>;
  outputs: string[];
}

function isSpec(value: unknown): value is InputSpec {
  return Array.isArray(value) && value.length >= 1;
}

function specOptions(spec: InputSpec): Record<string, unknown> {
  const options = spec[1];
  return typeof options === 'object' && options !== null && !Array.isArray(options) ? (options as Record<string, unknown>) : {};
}

/**
 * Which frontend's GroupNodeConfig to follow. 1.58 fixed three of 1.48.7's quirks: a V1 combo
 * (an option list) is a widget, a forceInput spec is a socket, and internal links are looked up by
 * the inner input's saved slot (by name) instead of its position among the group's slots.
 */
export type GroupNodeRules = '1.48' | '1.58';

export function buildGroupNodeConfig(group: GroupDefinition, defs: NodeDefinitions, rules: GroupNodeRules = '1.48'): GroupNodeConfig {
  const nodes = group.nodes;
  const linksFrom = new Map<number, Map<number, GroupLink[]>>();
  const linksTo = new Map<number, Map<number, GroupLink>>();
  for (const link of group.links ?? []) {
    if (!Array.isArray(link)) continue;
    const [source, sourceSlot, target, targetSlot] = link;
    if (source == null || sourceSlot == null || target == null || targetSlot == null) continue;
    const from = linksFrom.get(Number(source)) ?? new Map<number, GroupLink[]>();
    linksFrom.set(Number(source), from);
    from.set(Number(sourceSlot), [...(from.get(Number(sourceSlot)) ?? []), link]);
    const to = linksTo.get(Number(target)) ?? new Map<number, GroupLink>();
    linksTo.set(Number(target), to);
    to.set(Number(targetSlot), link);
  }
  // external[i][0] is usually a serialised node object: Number() of it is NaN and matches nothing, as in the frontend.
  const externalFrom = new Map<number, Map<number, unknown>>();
  for (const ext of group.external ?? []) {
    if (!Array.isArray(ext) || ext[2] == null) continue;
    const index = Number(ext[0]);
    const slots = externalFrom.get(index) ?? new Map<number, unknown>();
    externalFrom.set(index, slots);
    slots.set(Number(ext[1]), ext[2]);
  }

  const nodeDefOf = (node: UiNode, index: number): NodeDef | undefined => {
    const raw = defs.definition(node.type);
    if (raw) {
      const inputs = new Map<string, InputSpec>();
      for (const [name, spec] of Object.entries(raw.input?.required ?? {})) if (isSpec(spec)) inputs.set(name, spec);
      for (const [name, spec] of Object.entries(raw.input?.optional ?? {})) if (isSpec(spec)) inputs.set(name, spec);
      return { inputs: [...inputs], outputs: (raw.output ?? []).map((t) => (Array.isArray(t) ? 'COMBO' : String(t))) };
    }
    if (node.type !== 'Reroute') return undefined; // PrimitiveNode and other virtual nodes: not reproduced
    const from = linksFrom.get(index);
    const to = linksTo.get(index);
    if (to && from && !externalFrom.get(index)?.get(0)) return undefined; // used internally only
    let type = '*';
    if (from) {
      for (const link of from.get(0) ?? []) {
        const input = nodes[Number(link[2])]?.inputs?.[Number(link[3])];
        if (input?.type && type === '*') type = String(input.type);
      }
    } else if (to) {
      const link = to.get(0);
      const output = link ? nodes[Number(link[0])]?.outputs?.[Number(link[1])] : undefined;
      if (output && typeof output === 'object' && 'type' in output) type = String(output.type ?? '*');
    } else {
      const pipe = (group.links ?? []).find((l) => l[2] === index);
      if (pipe?.[5] != null) type = String(pipe[5]);
      if (type === '*') {
        const t = externalFrom.get(index)?.get(0);
        if (t) type = String(t);
      }
    }
    return { inputs: [[type, [type, { forceInput: true }]]], outputs: [type] };
  };

  const seen: Record<string, number> = {};
  const inputConfig = (node: UiNode, index: number, inputName: string): { name: string; visible: boolean } => {
    const custom = group.config?.[String(index)]?.input?.[inputName];
    let name = custom?.name ?? node.inputs?.find((i) => i?.name === inputName)?.label ?? inputName;
    let key = name;
    if ((node.type === 'PrimitiveNode' && node.title) || name in seen) {
      const prefix = `${node.title ?? node.type} `;
      key = name = `${prefix}${inputName}`;
      if (name in seen) name = `${prefix}${seen[name]} ${inputName}`;
    }
    seen[key] = (Object.prototype.hasOwnProperty.call(seen, key) ? (seen[key] as number) : 1) + 1;
    return { name, visible: custom?.visible !== false };
  };
  /** One entry of the group's nodeDef.input.required, in insertion order. */
  interface RequiredEntry { name: string; widget: GroupWidget | undefined }
  const required: RequiredEntry[] = [];
  const requiredEntry = (node: UiNode, index: number, inputName: string, spec: InputSpec, mapped: boolean, name: string): void => {
    const options = { ...specOptions(spec) };
    // getInputConfig gives every seed a control_after_generate widget of its own.
    if (inputName === 'seed' || inputName === 'noise_seed') options.control_after_generate = true;
    const specs = widgetsForInput(inputName, [spec[0], options] as InputSpec, { className: node.type, earlier: [] });
    const widget = specs.length ? { name, innerIndex: index, innerName: inputName, specs, mapped } : undefined;
    const existing = required.find((e) => e.name === name);
    // A key assigned again keeps its first position (a plain object), with the new value.
    if (existing) existing.widget = widget;
    else required.push({ name, widget });
  };

  const inputMap: Array<Map<string, number>> = nodes.map(() => new Map());
  const outputMap: GroupNodeConfig['outputMap'] = [];
  const deferred: Array<() => void> = [];
  let inputCount = 0;

  nodes.forEach((node, index) => {
    const def = nodeDefOf(node, index);
    if (!def) return;
    if (def.inputs.length) {
      const slots: string[] = [];
      const converted = new Map<number, string>();
      // processWidgetInputs: a "valid spec" (string type) of a widget type is a widget.
      for (const [inputName, spec] of def.inputs) {
        const isWidget = rules === '1.48'
          ? typeof spec[0] === 'string' && isWidgetType(spec[0])
          : (Array.isArray(spec[0]) || (typeof spec[0] === 'string' && isWidgetType(spec[0]))) && specOptions(spec).forceInput !== true;
        if (isWidget) {
          const convertedIndex = (node.inputs ?? []).findIndex((i) => i?.name === inputName && i.widget?.name === inputName);
          if (convertedIndex > -1) converted.set(convertedIndex, inputName);
          else requiredEntry(node, index, inputName, spec, true, inputConfig(node, index, inputName).name);
        } else {
          slots.push(inputName);
        }
      }
      // processInputSlots: linksTo is indexed by the saved target slot, compared with the position among slots.
      const to = linksTo.get(index);
      slots.forEach((inputName, i) => {
        const saved = rules === '1.48' ? -1 : (node.inputs ?? []).findIndex((input) => input?.name === inputName);
        if (to?.get(saved >= 0 ? saved : i)) return;
        const { name, visible } = inputConfig(node, index, inputName);
        if (!visible) return;
        requiredEntry(node, index, inputName, def.inputs.find(([n]) => n === inputName)?.[1] as InputSpec, false, name);
        (inputMap[index] as Map<string, number>).set(inputName, inputCount++);
      });
      deferred.push(() => {
        // processConvertedWidgets, after every node: [...keys()].sort() sorts numbers as strings.
        const keys = rules === '1.48' ? [...converted.keys()].sort() : [...converted.keys()].sort((a, b) => a - b);
        keys.forEach((key, i) => {
          const inputName = converted.get(key) as string;
          if (to?.get(rules === '1.48' ? slots.length + i : key)) return;
          const spec = def.inputs.find(([n]) => n === inputName)?.[1] as InputSpec;
          requiredEntry(node, index, inputName, spec, true, inputConfig(node, index, inputName).name);
          (inputMap[index] as Map<string, number>).set(inputName, inputCount++);
        });
      });
    }
    def.outputs.forEach((_, slot) => {
      const linked = linksFrom.get(index)?.get(slot) && !externalFrom.get(index)?.get(slot);
      const visible = group.config?.[String(index)]?.output?.[String(slot)]?.visible ?? !linked;
      if (visible) outputMap.push({ innerIndex: index, slot });
    });
  });
  for (const run of deferred) run();
  const widgets = required.flatMap((e) => (e.widget ? [e.widget] : []));
  const liveInputs = [...required.filter((e) => !e.widget).map((e) => e.name), ...widgets.map((w) => w.name)];
  return { inputMap, outputMap, widgets, liveInputs };
}
