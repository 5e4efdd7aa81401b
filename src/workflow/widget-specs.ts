/**
 * Which widgets the frontend builds for one node class, in the order it builds them — the order
 * `widgets_values` is read in. Mirrors litegraphService.addInputs plus the core extensions that
 * add widgets (Comfy.UploadImage, Comfy.UploadAudio, Comfy.AudioWidget) of frontend 1.48.
 */
import type { InputSpec, NodeDefinition } from './types.js';

/** One widget of a node, as the frontend creates it. */
export interface WidgetSpec {
  name: string;
  /** value: a real input; control/filter: control_after_generate companions; upload: the upload button. */
  role: 'value' | 'control' | 'filter' | 'upload';
  /** Takes a position in widgets_values (widget.serialize !== false). */
  takesSlot: boolean;
  /** Sent in the prompt (widget.options.serialize !== false). */
  sent: boolean;
  defaultValue: unknown;
  /** The definition asks for `{a|b}` expansion and comment stripping (CLIPTextEncode.text). */
  dynamicPrompts: boolean;
  isCombo: boolean;
  comboOptions?: unknown[];
  /** COMFY_DYNAMICCOMBO_V3: option key → the widgets that follow the combo when it is selected. */
  dynamicOptions?: Map<string, WidgetSpec[]>;
  /** CURVE values are wrapped as {__type__: 'CURVE', __value__} instead of {__value__}. */
  isCurve: boolean;
}

/** One input socket of a node (every non-hidden input has one since frontend 1.16). */
export interface SocketSpec {
  name: string;
  type: string;
  hasWidget: boolean;
  forceInput: boolean;
}

/** Types the core frontend draws as widgets; every other type is a socket only. */
const WIDGET_TYPES = new Set([
  'INT', 'FLOAT', 'BOOLEAN', 'STRING', 'MARKDOWN', 'COMBO', 'IMAGEUPLOAD', 'COLOR', 'IMAGECOMPARE',
  'BOUNDING_BOX', 'CHART', 'GALLERIA', 'PAINTER', 'COMPOSITOR', 'TEXTAREA', 'CURVE', 'RANGE',
  'BOUNDING_BOXES', 'COLORS', 'COMFY_DYNAMICCOMBO_V3',
  // core extensions (getCustomWidgets)
  'AUDIOUPLOAD', 'AUDIO_RECORD', 'AUDIO_UI', 'WEBCAM', 'PREVIEW_3D', 'LOAD_3D', 'LOAD_3D_ADVANCED',
]);

/** useWidgetStore().inputIsWidget: does a V1 spec whose first element is this type draw a widget? */
export function isWidgetType(type: string): boolean {
  return WIDGET_TYPES.has(type);
}

/** Classes Comfy.AudioWidget gives an `audioUI` player: no widgets_values slot, never sent. */
const AUDIO_UI_CLASSES = new Set(['LoadAudio', 'SaveAudio', 'PreviewAudio', 'SaveAudioMP3', 'SaveAudioOpus', 'SaveAudioAdvanced']);

type Options = Record<string, unknown>;

function specOptions(spec: InputSpec): Options {
  const options = spec[1];
  return typeof options === 'object' && options !== null && !Array.isArray(options) ? (options as Options) : {};
}

/** The widget type of a spec: a list (legacy V1 combo) or "COMBO" is a combo. */
export function specType(spec: InputSpec): string {
  const head = spec[0];
  if (Array.isArray(head)) return 'COMBO';
  return typeof head === 'string' ? head : String(head);
}

function comboOptionsOf(spec: InputSpec): unknown[] {
  if (Array.isArray(spec[0])) return spec[0];
  const options = specOptions(spec).options;
  return Array.isArray(options) ? options : [];
}

function isMediaUploadCombo(spec: InputSpec): boolean {
  const o = specOptions(spec);
  return (o.image_upload === true || o.video_upload === true || o.animated_image_upload === true) && specType(spec) === 'COMBO';
}

/** Inputs in the frontend's order: input_order.required, .optional, then any others in definition order. */
export function orderedInputs(def: NodeDefinition, extraRequired: Array<[string, InputSpec]> = []): Array<[string, InputSpec, boolean]> {
  const required: Record<string, InputSpec> = { ...(def.input?.required ?? {}) };
  for (const [name, spec] of extraRequired) required[name] = spec;
  const optional = def.input?.optional ?? {};
  const all = new Map<string, [InputSpec, boolean]>();
  for (const [name, spec] of Object.entries(required)) all.set(name, [spec, false]);
  for (const [name, spec] of Object.entries(optional)) if (!all.has(name)) all.set(name, [spec, true]);
  const order = def.input_order;
  if (!order) return [...all].map(([name, [spec, opt]]) => [name, spec, opt]);
  const out: Array<[string, InputSpec, boolean]> = [];
  const seen = new Set<string>();
  for (const name of [...(order.required ?? []), ...(order.optional ?? [])]) {
    const entry = all.get(name);
    if (!entry || seen.has(name)) continue;
    seen.add(name);
    out.push([name, entry[0], entry[1]]);
  }
  for (const [name, [spec, opt]] of all) if (!seen.has(name)) out.push([name, spec, opt]);
  return out;
}

/** Classes whose LOAD_3D widget is called viewport_state instead of image (Comfy.Load3D). */
const VIEWPORT_STATE_CLASSES = new Set(['Preview3DAdvanced', 'Save3DAdvanced', 'PreviewGaussianSplat', 'PreviewPointCloud', 'SaveGaussianSplat', 'SavePointCloud']);

/** What a widget constructor can see of the node it is building. */
export interface WidgetContext {
  className: string;
  /** Names of the widgets built so far. */
  earlier: readonly string[];
}

function button(name: string, value: string): WidgetSpec {
  // Buttons added without {serialize: false} take a slot and are sent, as the frontend does.
  return { name, role: 'value', takesSlot: true, sent: true, defaultValue: value, dynamicPrompts: false, isCombo: false, isCurve: false };
}

/** The widgets one input creates: the value widget and its control companions. */
export function widgetsForInput(name: string, spec: InputSpec, context: WidgetContext = { className: '', earlier: [] }): WidgetSpec[] {
  const options = specOptions(spec);
  const declared = typeof options.widgetType === 'string' ? options.widgetType : specType(spec);
  if (!WIDGET_TYPES.has(declared) || options.forceInput) return [];
  const base = { dynamicPrompts: options.dynamicPrompts === true, isCombo: false, isCurve: declared === 'CURVE' };
  const control = options.control_after_generate;
  const controlDefault = typeof control === 'string' ? control : undefined;
  const controlWidget = (fallback: string): WidgetSpec => ({
    name: 'control_after_generate', role: 'control', takesSlot: true, sent: false,
    defaultValue: controlDefault ?? fallback, dynamicPrompts: false, isCombo: true, isCurve: false,
  });

  switch (declared) {
    case 'INT': {
      const value: WidgetSpec = { ...base, name, role: 'value', takesSlot: true, sent: true, defaultValue: options.default ?? 0 };
      // An explicit false turns the control off; absent, seed/noise_seed still get one.
      const hasControl = control !== undefined ? Boolean(control) : name === 'seed' || name === 'noise_seed';
      return hasControl ? [value, controlWidget('randomize')] : [value];
    }
    case 'FLOAT': {
      const value: WidgetSpec = { ...base, name, role: 'value', takesSlot: true, sent: true, defaultValue: options.default ?? 0 };
      return control ? [value, controlWidget('fixed')] : [value];
    }
    case 'BOOLEAN':
      return [{ ...base, name, role: 'value', takesSlot: true, sent: true, defaultValue: options.default ?? false }];
    case 'STRING':
    case 'TEXTAREA':
    case 'MARKDOWN':
      return [{ ...base, name, role: 'value', takesSlot: true, sent: true, defaultValue: options.default ?? '' }];
    case 'COMBO': {
      const comboOptions = comboOptionsOf(spec);
      const value: WidgetSpec = {
        ...base, name, role: 'value', takesSlot: true, sent: true, isCombo: true, comboOptions,
        defaultValue: options.default || (comboOptions.length ? comboOptions[0] : undefined),
      };
      const companions: WidgetSpec[] = [];
      const remote = options.remote as { refresh_button?: unknown } | undefined;
      if (remote && typeof remote === 'object') {
        // useRemoteWidget: an "Auto-refresh" toggle (not sent) and, when asked for, a refresh button.
        if (!value.defaultValue) value.defaultValue = 'Loading...';
        companions.push({ name: 'Auto-refresh after generation', role: 'control', takesSlot: true, sent: false, defaultValue: false, dynamicPrompts: false, isCombo: false, isCurve: false });
        if (remote.refresh_button) companions.push(button('refresh', 'refresh'));
      }
      if (!control) return [value, ...companions];
      // A combo with control_after_generate gets the control combo and a filter-list string.
      return [value, ...companions, controlWidget('randomize'), {
        name: 'control_filter_list', role: 'filter', takesSlot: true, sent: false, defaultValue: '',
        dynamicPrompts: false, isCombo: false, isCurve: false,
      }];
    }
    case 'COMFY_DYNAMICCOMBO_V3': {
      const choices = Array.isArray(options.options) ? (options.options as Array<{ key?: unknown; inputs?: NodeDefinition['input'] }>) : [];
      const dynamicOptions = new Map<string, WidgetSpec[]>();
      for (const choice of choices) {
        const key = String(choice.key);
        const sub: WidgetSpec[] = [];
        for (const section of [choice.inputs?.required ?? {}, choice.inputs?.optional ?? {}]) {
          for (const [child, childSpec] of Object.entries(section)) sub.push(...widgetsForInput(`${name}.${child}`, childSpec, context));
        }
        dynamicOptions.set(key, sub);
      }
      const keys = [...dynamicOptions.keys()];
      return [{
        ...base, name, role: 'value', takesSlot: true, sent: true, isCombo: true, comboOptions: keys,
        // dynamicComboWidget builds its combo from the keys alone, so a declared default is ignored.
        defaultValue: keys[0], dynamicOptions,
      }];
    }
    case 'IMAGEUPLOAD':
      return [{ ...base, name, role: 'upload', takesSlot: true, sent: false, defaultValue: 'image' }];
    case 'AUDIOUPLOAD':
      return [{ ...base, name, role: 'upload', takesSlot: true, sent: false, defaultValue: '' }];
    case 'AUDIO_UI':
      return [];
    case 'IMAGECOMPARE':
      // widget.serialize = false: no widgets_values slot, yet sent (always the empty pair).
      return [{ ...base, name, role: 'value', takesSlot: false, sent: true, defaultValue: ['', ''] }];
    case 'BOUNDING_BOX': {
      // The box, then x/y/width/height number widgets that take slots but are not sent.
      const box = (options.default ?? { x: 0, y: 0, width: 512, height: 512 }) as Record<string, unknown>;
      const parts = ['x', 'y', 'width', 'height'].map((part): WidgetSpec => ({
        name: part, role: 'control', takesSlot: true, sent: false, defaultValue: box[part], dynamicPrompts: false, isCombo: false, isCurve: false,
      }));
      return [{ ...base, name, role: 'value', takesSlot: true, sent: true, defaultValue: { ...box } }, ...parts];
    }
    case 'PREVIEW_3D':
      return [{ ...base, name, role: 'value', takesSlot: true, sent: true, defaultValue: '' }];
    case 'LOAD_3D': {
      // Comfy.Load3D: three buttons when the node has a model_file combo, then the viewer widget,
      // whose value is made at queue time (a canvas upload); the saved value is what we can send.
      const buttons = context.earlier.includes('model_file')
        ? [button('upload 3d model', 'upload3dmodel'), button('upload extra resources', 'uploadExtraResources'), button('clear', 'clear')]
        : [];
      const viewer = VIEWPORT_STATE_CLASSES.has(context.className) ? 'viewport_state' : 'image';
      return [...buttons, { ...base, name: viewer, role: 'value', takesSlot: true, sent: true, defaultValue: '' }];
    }
    default:
      return [{ ...base, name, role: 'value', takesSlot: true, sent: true, defaultValue: options.default ?? null }];
  }
}

/** Inputs the core extensions add to a definition before the node type is registered. */
export function extensionInputs(className: string, def: NodeDefinition): Array<[string, InputSpec]> {
  const required = def.input?.required ?? {};
  const extra: Array<[string, InputSpec]> = [];
  const media = Object.entries(required).find(([, spec]) => isMediaUploadCombo(spec));
  if (media) extra.push(['upload', ['IMAGEUPLOAD', { ...specOptions(media[1]), imageInputName: media[0] }]]);
  const audio = required.audio;
  if (audio && specOptions(audio).audio_upload === true) extra.push(['upload', ['AUDIOUPLOAD', {}]]);
  if (AUDIO_UI_CLASSES.has(className)) extra.push(['audioUI', ['AUDIO_UI', {}]]);
  // Comfy.Preview3D and Comfy.SaveGLB add a 3D viewer widget called image.
  if (className === 'Preview3D' || className === 'SaveGLB') extra.push(['image', ['PREVIEW_3D', {}]]);
  return extra;
}
