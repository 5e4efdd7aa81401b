/**
 * The load step: what a node looks like after the frontend configured it from the saved JSON —
 * its widgets with their values, and its inputs matched by name to the definition.
 */
import type { ClassInfo } from './definitions.js';
import type { Scope } from './graph.js';
import type { UiNode, UiNodeInput } from './types.js';
import type { WidgetSpec } from './widget-specs.js';

export interface LiveWidget {
  spec: WidgetSpec;
  value: unknown;
}

export interface LiveInput {
  name: string;
  type: string;
  link: string | null;
  /** The widget this input feeds (a PrimitiveNode writes there). */
  widgetName: string | undefined;
}

export type NodeKind = 'backend' | 'subgraph' | 'virtual' | 'unknown';

export interface LiveNode {
  node: UiNode;
  scope: Scope;
  id: string;
  kind: NodeKind;
  info: ClassInfo | undefined;
  widgets: LiveWidget[];
  inputs: LiveInput[];
  outputTypes: string[];
  title: string;
  mode: number;
}

function linkOf(input: UiNodeInput | undefined): string | null {
  return input?.link == null ? null : String(input.link);
}

function typeOf(value: unknown): string {
  return value == null ? '*' : String(value);
}

/**
 * The live inputs, each declared input picked by name from the saved ones (link, and the saved
 * type: the live slot type, which dynamic types such as COMFY_MATCHTYPE_V3 resolve to).
 * `liveOrder` gives LGraphNode.configure's order, which bypass slot indexes count in: the saved
 * inputs as saved, then the declared inputs that were not saved (widget sockets dropped on save
 * first). Without it (subgraph instances, whose promoted values follow definition order), or when
 * nothing was saved, definition inputs come first, then saved extras.
 */
export function mergeInputs(
  declared: ReadonlyArray<{ name: string; type: string; widgetName: string | undefined }>,
  saved: readonly UiNodeInput[],
  liveOrder = false,
): LiveInput[] {
  const byName = new Map<string, UiNodeInput>();
  for (const input of saved) if (input && typeof input.name === 'string' && !byName.has(input.name)) byName.set(input.name, input);
  const known = new Map<string, LiveInput>();
  const fromDefinition: LiveInput[] = declared.map((d) => {
    const savedInput = byName.get(d.name);
    const type = liveOrder && savedInput?.type != null && savedInput.type !== '' ? String(savedInput.type) : d.type;
    const live = { name: d.name, type, link: linkOf(savedInput), widgetName: d.widgetName };
    known.set(d.name, live);
    return live;
  });
  const extras: LiveInput[] = [];
  const ordered: LiveInput[] = [];
  const placed = new Set<LiveInput>();
  for (const input of saved) {
    if (!input || typeof input.name !== 'string') continue;
    const declaredInput = known.get(input.name);
    if (declaredInput) {
      if (!placed.has(declaredInput)) {
        placed.add(declaredInput);
        ordered.push(declaredInput);
      }
      continue;
    }
    const extra = { name: input.name, type: typeOf(input.type), link: linkOf(input), widgetName: input.widget?.name };
    extras.push(extra);
    ordered.push(extra);
  }
  if (!liveOrder || ordered.length === 0) return [...fromDefinition, ...extras];
  const missing = fromDefinition.filter((i) => !placed.has(i));
  return [...ordered, ...missing.filter((i) => i.widgetName), ...missing.filter((i) => !i.widgetName)];
}

/** Saved inputs as they are (virtual and unknown nodes have no definition to match against). */
export function savedInputs(saved: readonly UiNodeInput[]): LiveInput[] {
  return saved.filter((i) => i && typeof i === 'object').map((i) => ({
    name: String(i.name ?? ''), type: typeOf(i.type), link: linkOf(i), widgetName: i.widget?.name,
  }));
}

/** migrateWidgetsValues: drop legacy forceInput slots when the count says the file predates 1.16. */
function migrateValues(info: ClassInfo, values: unknown[]): unknown[] {
  const flags = info.legacySlotIsForceInput;
  if (flags.length !== values.length || !flags.some(Boolean)) return values;
  return values.filter((_, i) => !flags[i]);
}

function createWidget(spec: WidgetSpec): LiveWidget {
  return { spec, value: spec.defaultValue };
}

/** Puts a dynamic combo's sub-widgets for `choice` right after it, replacing the previous choice's. */
function expandDynamic(widgets: LiveWidget[], index: number, choice: unknown): void {
  const combo = widgets[index] as LiveWidget;
  const prefix = `${combo.spec.name}.`;
  for (let i = widgets.length - 1; i >= 0; i--) if ((widgets[i] as LiveWidget).spec.name.startsWith(prefix)) widgets.splice(i, 1);
  const at = widgets.indexOf(combo);
  const sub = combo.spec.dynamicOptions?.get(String(choice)) ?? [];
  widgets.splice(at + 1, 0, ...sub.map(createWidget));
}

function setValue(widgets: LiveWidget[], index: number, value: unknown): void {
  const widget = widgets[index] as LiveWidget;
  widget.value = value;
  if (widget.spec.dynamicOptions) expandDynamic(widgets, index, value);
}

function plainWidget(name: string, value: unknown, sent = true): LiveWidget {
  return { spec: { name, role: 'value', takesSlot: true, sent, defaultValue: value, dynamicPrompts: false, isCombo: false, isCurve: false }, value };
}

/**
 * Comfy.CustomWidgets' CustomCombo: after the choice combo, a computed `index` widget, then string
 * widgets option1, option2, … of which one more appears each time the last one gets a value.
 */
function configureCustomCombo(info: ClassInfo, node: UiNode): LiveWidget[] {
  const choice: LiveWidget = { spec: info.widgets[0] as WidgetSpec, value: (info.widgets[0] as WidgetSpec).defaultValue };
  const options: LiveWidget[] = [plainWidget('option1', '')];
  const saved = Array.isArray(node.widgets_values) ? node.widgets_values : [];
  if (saved.length > 0) choice.value = saved[0];
  for (let i = 2, k = 0; i < saved.length && k < options.length; i++, k++) {
    (options[k] as LiveWidget).value = saved[i];
    if (k === options.length - 1 && saved[i]) options.push(plainWidget(`option${options.length + 1}`, ''));
  }
  const index = plainWidget('index', options.findIndex((o) => o.value === choice.value));
  return [choice, index, ...options];
}

/** Builds the widgets of a backend node and assigns widgets_values the way LGraphNode.configure does. */
export function configureWidgets(info: ClassInfo, node: UiNode): LiveWidget[] {
  if (info.name === 'CustomCombo' && info.widgets.length === 1) return configureCustomCombo(info, node);
  const widgets: LiveWidget[] = [];
  for (const spec of info.widgets) {
    widgets.push(createWidget(spec));
    if (spec.dynamicOptions) expandDynamic(widgets, widgets.length - 1, spec.defaultValue);
  }
  const saved = node.widgets_values;
  if (Array.isArray(saved)) {
    const values = migrateValues(info, saved);
    // Positional, skipping widgets that take no slot; extra values are ignored, missing ones keep defaults.
    let next = 0;
    for (let i = 0; i < widgets.length; i++) {
      if (!(widgets[i] as LiveWidget).spec.takesSlot) continue;
      if (next >= values.length) break;
      setValue(widgets, i, values[next++]);
    }
  } else if (saved && typeof saved === 'object') {
    // Packs such as VideoHelperSuite save {widgetName: value}; match by name, ignore preview keys.
    for (let i = 0; i < widgets.length; i++) {
      const name = (widgets[i] as LiveWidget).spec.name;
      if (Object.prototype.hasOwnProperty.call(saved, name)) setValue(widgets, i, (saved as Record<string, unknown>)[name]);
    }
  }
  for (const widget of widgets) {
    // loadGraphData's fix-ups after configure.
    if ((info.name === 'KSampler' || info.name === 'KSamplerAdvanced') && widget.spec.name === 'sampler_name'
      && typeof widget.value === 'string' && widget.value.startsWith('sample_')) widget.value = widget.value.slice(7);
    if (widget.spec.isCombo && widget.value == null && widget.spec.comboOptions?.length) widget.value = widget.spec.comboOptions[0];
  }
  return widgets;
}
