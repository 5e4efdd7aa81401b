/**
 * "Control after generate", as frontend 1.48.7 applies it after each queue (Comfy.WidgetControlMode
 * 'after', the default): every widget with a control combo (seed/noise_seed, inputs declaring
 * control_after_generate, PrimitiveNode values) moves on by its saved mode — fixed, increment,
 * increment-wrap (combos), decrement, randomize — so the next queue is not a cache hit.
 * Mirrors src/scripts/valueControl.ts (computeNextControlledValue) and widgets.ts (applyWidgetControl).
 */
import { NodeDefinitions } from './definitions.js';
import { configureWidgets, type LiveWidget } from './live-node.js';
import type { ApiPrompt, InputSpec, NodeDefinition, ObjectInfo, UiNode, UiNodeInput, UiSubgraphDefinition, UiWorkflow } from './types.js';
import { specType, type WidgetSpec } from './widget-specs.js';

export type ControlMode = 'fixed' | 'increment' | 'increment-wrap' | 'decrement' | 'randomize';

export interface AdvanceOptions {
  /** Replaces Math.random for 'randomize' (tests, reproducible batches). */
  random?: () => number;
}

/** valueControl.ts clamps every numeric range to ±2^50, so a uint64 seed randomizes in [0, 2^50). */
const SAFE_INTEGER_MAX = 1125899906842624;
const SAFE_INTEGER_MIN = -1125899906842624;

/** The numeric options the frontend's INT/FLOAT widget is built with (useIntWidget / useFloatWidget). */
export interface NumberTarget {
  kind: 'INT' | 'FLOAT';
  min: number;
  max: number;
  step: number;
  /** FLOAT only: the rounding the widget's callback applies (undefined: none). */
  round?: number | undefined;
}

type Definitions = NodeDefinitions | ObjectInfo | Record<string, unknown>;

function optionsOf(spec: InputSpec | undefined): Record<string, unknown> {
  const o = spec?.[1];
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** The widget options of a numeric input spec, with the frontend's defaults (min 0, max 2048). */
export function numberTarget(spec: InputSpec): NumberTarget | undefined {
  const type = specType(spec);
  if (type !== 'INT' && type !== 'FLOAT') return undefined;
  const o = optionsOf(spec);
  const step = num(o.step, type === 'INT' ? 1 : 0.5);
  const target: NumberTarget = { kind: type, min: num(o.min, 0), max: num(o.max, 2048), step };
  if (type === 'FLOAT') {
    // useFloatWidget: round = spec.round, else 10^-precision when the step implies decimals.
    const precision = Math.max(0, -Math.floor(Math.log10(step)));
    target.round = typeof o.round === 'number' && o.round ? o.round : precision ? Math.pow(10, -precision) : undefined;
  }
  return target;
}

/** computeNextNumberValue, then the widget callback's rounding. undefined: leave the value. */
export function nextNumberValue(value: unknown, mode: string, target: NumberTarget, random: () => number = Math.random): number | undefined {
  if (typeof value !== 'number' || mode === 'fixed') return undefined;
  const max = Math.min(SAFE_INTEGER_MAX, target.max);
  const min = Math.max(SAFE_INTEGER_MIN, target.min);
  const step = target.step;
  let next = value;
  switch (mode) {
    case 'increment':
    case 'increment-wrap':
      next += step;
      break;
    case 'decrement':
      next -= step;
      break;
    case 'randomize':
      next = Math.floor(random() * ((max - min) / step)) * step + min;
      break;
    default:
      return undefined;
  }
  next = Math.min(Math.max(next, min), max);
  if (target.kind === 'INT') {
    // useIntWidget's onValueChange: round to the nearest step, offset by min.
    const s = step || 1;
    if (s === 1) return Math.round(next);
    const offset = target.min % s;
    return Math.round((next - offset) / s) * s + offset;
  }
  if (target.round) {
    const precision = Math.max(0, -Math.floor(Math.log10(target.round)));
    return Math.min(Math.max(Number((Math.round(next / target.round) * target.round).toFixed(precision)), target.min), target.max);
  }
  return next;
}

/** computeNextComboValue: filter (substring or /regex/), step or pick, clamp to the list. */
export function nextComboValue(value: unknown, mode: string, options: readonly unknown[], filter = '', random: () => number = Math.random): string | undefined {
  if (mode === 'fixed') return undefined;
  const all = options.filter((v): v is string => typeof v === 'string');
  let check: ((item: string) => boolean) | undefined;
  if (filter) {
    if (filter.startsWith('/') && filter.endsWith('/')) {
      try {
        const regex = new RegExp(filter.slice(1, -1));
        check = (item) => regex.test(item);
      } catch {
        // The frontend logs the bad pattern and falls back to a substring match.
      }
    }
    if (!check) {
      const lower = filter.toLocaleLowerCase();
      check = (item) => item.toLocaleLowerCase().includes(lower);
    }
  }
  const values = check ? all.filter(check) : all;
  if (!values.length) return undefined;
  let index = values.indexOf(value as string);
  switch (mode) {
    case 'increment':
      index += 1;
      break;
    case 'increment-wrap':
      index += 1;
      if (index >= values.length) index = 0;
      break;
    case 'decrement':
      index -= 1;
      break;
    case 'randomize':
      index = Math.floor(random() * values.length);
      break;
    default:
      return undefined;
  }
  return values[Math.max(0, Math.min(values.length - 1, index))];
}

/** The input spec of `name` in a definition (required, then optional). */
function inputSpecOf(def: NodeDefinition | undefined, name: string): InputSpec | undefined {
  const direct = def?.input?.required?.[name] ?? def?.input?.optional?.[name];
  if (direct || !name.includes('.')) return direct;
  // A COMFY_DYNAMICCOMBO_V3 child `combo.child`: the first option that declares it.
  const dot = name.indexOf('.');
  const options = optionsOf(inputSpecOf(def, name.slice(0, dot))).options;
  for (const choice of Array.isArray(options) ? (options as Array<{ inputs?: NodeDefinition['input'] }>) : []) {
    const spec = inputSpecOf({ input: choice.inputs ?? {} }, name.slice(dot + 1));
    if (spec) return spec;
  }
  return undefined;
}

/** True when the node's input for `widgetName` has a link: applyWidgetControl then leaves it alone. */
function widgetIsLinked(node: UiNode, widgetName: string): boolean {
  return (node.inputs ?? []).some((i) => i && (i.widget?.name === widgetName || (i.widget && i.name === widgetName)) && i.link != null);
}

/** The next value of one widget, or undefined to keep it. */
function nextFor(spec: InputSpec | undefined, value: unknown, mode: string, filter: string, comboOptions: readonly unknown[] | undefined, random: () => number): unknown {
  if (comboOptions) return nextComboValue(value, mode, comboOptions, filter, random);
  const target = spec && numberTarget(spec);
  return target ? nextNumberValue(value, mode, target, random) : undefined;
}

/** migrateWidgetsValues (as live-node.ts does): the saved array as the widgets read it. */
function migrated(flags: readonly boolean[], values: unknown[]): unknown[] {
  if (flags.length !== values.length || !flags.some(Boolean)) return values;
  return values.filter((_, i) => !flags[i]);
}

/** The control mode and combo filter saved after the value widget at `index` (undefined mode: no control). */
function controlOf(live: readonly LiveWidget[], index: number): { mode: unknown; filter: string } {
  let mode: unknown;
  let filter = '';
  for (let k = index + 1; k < live.length && (live[k] as LiveWidget).spec.role !== 'value'; k++) {
    const companion = live[k] as LiveWidget;
    if (companion.spec.role === 'control' && companion.spec.isCombo && mode === undefined) mode = companion.value;
    else if (companion.spec.role === 'filter' && typeof companion.value === 'string') filter = companion.value;
  }
  return { mode, filter };
}

/** Whether any widget (dynamic combo children included) has a control combo: most classes have none. */
function hasControl(widgets: readonly WidgetSpec[]): boolean {
  return widgets.some((w) => (w.role === 'control' && w.isCombo) || [...(w.dynamicOptions?.values() ?? [])].some(hasControl));
}

class Advancer {
  private readonly subgraphs = new Map<string, UiSubgraphDefinition>();

  constructor(workflow: UiWorkflow, private readonly defs: NodeDefinitions, private readonly random: () => number) {
    for (const def of workflow.definitions?.subgraphs ?? []) if (def && typeof def.id === 'string') this.subgraphs.set(def.id, def);
  }

  /** forEach over collectAllNodes: a subgraph instance's interior first (once per instance), then the node. */
  walk(nodes: readonly UiNode[], links: unknown, inside: ReadonlySet<string>): void {
    for (const node of nodes) {
      if (!node || typeof node !== 'object') continue;
      const sub = this.subgraphs.get(node.type);
      if (sub && !inside.has(sub.id)) {
        this.walk(Array.isArray(sub.nodes) ? sub.nodes : [], sub.links, new Set(inside).add(sub.id));
        this.advancePromoted(node, sub);
      } else if (node.type === 'PrimitiveNode' && !this.defs.has('PrimitiveNode')) this.advancePrimitive(node, nodes, links);
      else this.advanceBackend(node);
    }
  }

  /**
   * applyPromotedWidgetControl: a subgraph input promoted from a controlled interior widget keeps its
   * value on the host (widgets_values: one entry per promoted input, in the definition's input
   * order, as convert.ts reads them); the interior widget, fed by the boundary link, is skipped.
   * Nested subgraph promotions are left alone.
   */
  private advancePromoted(host: UiNode, sub: UiSubgraphDefinition): void {
    const saved = Array.isArray(host.widgets_values) ? [...host.widgets_values] : [];
    const proxies = Array.isArray(host.properties?.proxyWidgets)
      ? (host.properties.proxyWidgets as unknown[]).filter((e): e is unknown[] => Array.isArray(e)).map((e) => [String(e[0]), String(e[1])])
      : [];
    // One entry per promoted input; a nested promotion takes its place in the order but is not controlled here.
    const promoted: Array<{ hostInput: string; node: UiNode; live: LiveWidget[]; index: number } | 'nested'> = [];
    for (const input of Array.isArray(sub.inputs) ? sub.inputs : []) {
      const candidates: Array<{ node: UiNode; widget: string }> = [];
      let nested = false;
      for (const { target, input: targetInput } of this.boundaryTargets(sub, input.linkIds)) {
        if (this.subgraphs.has(target.type)) {
          if (targetInput && this.isPromoted(this.subgraphs.get(target.type) as UiSubgraphDefinition, targetInput.name, new Set([sub.id]))) nested = true;
        } else if (targetInput?.widget?.name && this.defs.classInfo(target.type)) candidates.push({ node: target, widget: targetInput.widget.name });
      }
      // convert.ts takes a nested promotion before the interior widgets of the same input.
      if (nested) {
        promoted.push('nested');
        continue;
      }
      const chosen = candidates.find((c) => proxies.some(([id, w]) => id === String(c.node.id) && w === c.widget)) ?? candidates[0];
      if (!chosen) continue;
      const info = this.defs.classInfo(chosen.node.type) as NonNullable<ReturnType<NodeDefinitions['classInfo']>>;
      const live = configureWidgets(info, chosen.node);
      const index = live.findIndex((w) => w.spec.name === chosen.widget);
      if (index < 0) return;
      promoted.push({ hostInput: String(input.name), node: chosen.node, live, index });
    }
    let changed = false;
    promoted.forEach((p, slot) => {
      if (p === 'nested') return;
      if ((host.inputs ?? []).some((i) => i && i.name === p.hostInput && i.link != null)) return;
      const { mode, filter } = controlOf(p.live, p.index);
      if (typeof mode !== 'string') return;
      const widget = p.live[p.index] as LiveWidget;
      const current = slot < saved.length && saved[slot] !== undefined ? saved[slot] : widget.value;
      const value = nextFor(inputSpecOf(this.defs.definition(p.node.type), widget.spec.name), current, mode, filter,
        widget.spec.isCombo ? widget.spec.comboOptions ?? [] : undefined, this.random);
      if (value === undefined) return;
      // Earlier promoted entries missing from a short array take their interior values, as convert reads them.
      if (promoted.slice(saved.length, slot).includes('nested')) return; // an earlier nested value is not known here
      for (let k = saved.length; k < slot; k++) {
        const earlier = promoted[k];
        if (earlier && earlier !== 'nested') saved[k] = (earlier.live[earlier.index] as LiveWidget).value;
      }
      saved[slot] = value;
      changed = true;
    });
    if (changed) host.widgets_values = saved;
  }

  /** The interior nodes (and their inputs) a subgraph input's boundary links feed. */
  private boundaryTargets(sub: UiSubgraphDefinition, linkIds: ReadonlyArray<number | string> | undefined): Array<{ target: UiNode; input: UiNodeInput | undefined }> {
    const out: Array<{ target: UiNode; input: UiNodeInput | undefined }> = [];
    for (const linkId of linkIds ?? []) {
      const raw = (Array.isArray(sub.links) ? sub.links : []).find((l) => String(Array.isArray(l) ? l[0] : l?.id) === String(linkId));
      if (!raw) continue;
      const [targetId, targetSlot] = Array.isArray(raw) ? [raw[3], raw[4]] : [raw.target_id, raw.target_slot];
      const target = sub.nodes.find((n) => String(n?.id) === String(targetId));
      if (!target) continue;
      out.push({ target, input: (target.inputs ?? []).find((i) => i && String(i.link) === String(linkId)) ?? target.inputs?.[Number(targetSlot)] });
    }
    return out;
  }

  /** Whether a subgraph input has a widget behind it (directly or through nested subgraphs). */
  private isPromoted(sub: UiSubgraphDefinition, inputName: string, seen: Set<string>): boolean {
    if (seen.has(sub.id)) return false;
    seen.add(sub.id);
    const input = (Array.isArray(sub.inputs) ? sub.inputs : []).find((i) => i.name === inputName);
    return this.boundaryTargets(sub, input?.linkIds).some(({ target, input: targetInput }) => {
      const nested = this.subgraphs.get(target.type);
      if (nested) return targetInput ? this.isPromoted(nested, targetInput.name, seen) : false;
      return Boolean(targetInput?.widget?.name && this.defs.classInfo(target.type));
    });
  }

  private advanceBackend(node: UiNode): void {
    const info = this.defs.classInfo(node.type);
    if (!info || !Array.isArray(node.widgets_values) || info.name === 'CustomCombo') return;
    if (!hasControl(info.widgets)) return;
    const values = migrated(info.legacySlotIsForceInput, node.widgets_values);
    const live = configureWidgets(info, { ...node, widgets_values: values });
    // Slot index of each live widget in widgets_values (positional over the widgets that take one).
    const slots: number[] = [];
    let next = 0;
    for (const w of live) slots.push(w.spec.takesSlot ? next++ : -1);
    const def = this.defs.definition(node.type);
    let changed = false;
    for (let i = 0; i < live.length; i++) {
      const target = live[i] as LiveWidget;
      if (target.spec.role !== 'value') continue;
      const { mode, filter } = controlOf(live, i);
      if (typeof mode !== 'string' || widgetIsLinked(node, target.spec.name)) continue;
      const value = nextFor(inputSpecOf(def, target.spec.name), target.value, mode, filter,
        target.spec.isCombo ? target.spec.comboOptions ?? [] : undefined, this.random);
      const slot = slots[i] as number;
      if (value === undefined || slot < 0) continue;
      // A short widgets_values leaves later widgets at their defaults; fill them in to write this slot.
      for (let s = values.length, j = 0; j < live.length && s <= slot; j++) {
        if ((slots[j] as number) === s) values[s++] = (live[j] as LiveWidget).value;
      }
      values[slot] = value;
      target.value = value;
      changed = true;
    }
    if (changed) node.widgets_values = values;
  }

  /**
   * A frontend PrimitiveNode: widgets_values is [value, mode, filter?]; the options come from the
   * input it feeds (the first link target), as the primitive copies that input's spec.
   */
  private advancePrimitive(node: UiNode, siblings: readonly UiNode[], links: unknown): void {
    const values = node.widgets_values;
    if (!Array.isArray(values) || values.length < 2) return;
    const mode = values[1] || 'fixed';
    if (typeof mode !== 'string') return;
    const spec = this.primitiveTargetSpec(node, siblings, links);
    if (!spec) return;
    const comboOptions = specType(spec) === 'COMBO' ? (Array.isArray(spec[0]) ? spec[0] : (optionsOf(spec).options as unknown[] | undefined) ?? []) : undefined;
    const filter = typeof values[2] === 'string' ? values[2] : '';
    const value = nextFor(spec, values[0], mode, filter, comboOptions, this.random);
    if (value !== undefined) node.widgets_values = [value, ...values.slice(1)];
  }

  private primitiveTargetSpec(node: UiNode, siblings: readonly UiNode[], links: unknown): InputSpec | undefined {
    const linkId = node.outputs?.[0]?.links?.[0];
    if (linkId == null) return undefined;
    let targetId: string | undefined;
    let targetSlot = -1;
    for (const raw of Array.isArray(links) ? links : []) {
      const l = raw as unknown[] | Record<string, unknown>;
      const id = Array.isArray(l) ? l[0] : l?.id;
      if (String(id) !== String(linkId)) continue;
      targetId = String(Array.isArray(l) ? l[3] : l.target_id);
      targetSlot = Number(Array.isArray(l) ? l[4] : l.target_slot);
      break;
    }
    const target = siblings.find((n) => String(n?.id) === targetId);
    if (!target) return undefined;
    const input = (target.inputs ?? []).find((i) => i && String(i.link) === String(linkId)) ?? target.inputs?.[targetSlot];
    const name = input?.widget?.name;
    return name ? inputSpecOf(this.defs.definition(target.type), name) : undefined;
  }
}

/**
 * A new UI workflow whose control widgets moved on once, as the frontend leaves the graph after a
 * queue: run N of a batch uses the workflow advanced N-1 times (the first queue sends the saved values).
 */
export function advanceControlWidgets(workflow: UiWorkflow, definitions: Definitions, options: AdvanceOptions = {}): UiWorkflow {
  const copy = structuredClone(workflow);
  const defs = NodeDefinitions.from(definitions);
  new Advancer(copy, defs, options.random ?? Math.random).walk(Array.isArray(copy.nodes) ? copy.nodes : [], copy.links, new Set());
  return copy;
}

/** The workflow as the frontend's queue number `iteration` (0-based) sends it. */
export function workflowForIteration(workflow: UiWorkflow, definitions: Definitions, iteration: number, options: AdvanceOptions = {}): UiWorkflow {
  const defs = NodeDefinitions.from(definitions);
  let current = workflow;
  for (let i = 0; i < iteration; i++) current = advanceControlWidgets(current, defs, options);
  return current;
}

const SEED_INPUTS = new Set(['seed', 'noise_seed']);

/**
 * For API prompts, which store no modes: every literal `seed`/`noise_seed` input gets a random
 * value within its definition's bounds (randomize as the frontend does it; [0, 2^32) when the class
 * is unknown). Linked seeds are left alone.
 */
export function randomizeSeeds(prompt: ApiPrompt, definitions: Definitions | undefined, options: AdvanceOptions = {}): ApiPrompt {
  const random = options.random ?? Math.random;
  const defs = definitions ? NodeDefinitions.from(definitions) : undefined;
  const copy = structuredClone(prompt);
  for (const entry of Object.values(copy)) {
    for (const [name, value] of Object.entries(entry.inputs ?? {})) {
      if (!SEED_INPUTS.has(name) || typeof value !== 'number') continue;
      const spec = inputSpecOf(defs?.definition(entry.class_type), name);
      const target = (spec && numberTarget(spec)) ?? { kind: 'INT' as const, min: 0, max: 0xffffffff, step: 1 };
      const next = nextNumberValue(value, 'randomize', target, random);
      if (next !== undefined) entry.inputs[name] = next;
    }
  }
  return copy;
}
