/**
 * Node definitions (/object_info) with, per class, the widget layout the frontend would build.
 * The layout is computed once per class and reused, so converting a workflow costs no spec parsing.
 */
import { readFileSync } from 'node:fs';
import { InvalidWorkflowError } from '../errors.js';
import { FRONTEND_LOCALE_TITLES } from './frontend-titles.js';
import type { NodeDefinition, ObjectInfo } from './types.js';
import { extensionInputs, orderedInputs, specType, widgetsForInput, type SocketSpec, type WidgetSpec } from './widget-specs.js';

/** Save nodes whose filename_prefix gets `%date:…%` / `%Node.widget%` replacement (Comfy.SaveImageExtraOutput). */
export const FILENAME_REPLACE_CLASSES = new Set([
  'SaveImage', 'SaveImageAdvanced', 'SaveSVGNode', 'SaveVideo', 'SaveAnimatedWEBP', 'SaveWEBM', 'SaveAudio',
  'SaveAudioMP3', 'SaveAudioOpus', 'SaveAudioAdvanced', 'SaveGLB', 'Save3DAdvanced', 'SaveGaussianSplat',
  'SavePointCloud', 'SaveAnimatedPNG', 'CLIPSave', 'VAESave', 'ModelSave', 'LoraSave', 'SaveLatent',
]);

/** Everything conversion needs to know about one node class. */
export interface ClassInfo {
  name: string;
  /** The default node title: the frontend locale's name where it has one, else display_name, else the class name. */
  displayName: string;
  /** The server's display_name, "" when it has none (frontend-version.ts titles from it). */
  serverDisplayName: string;
  /** Widgets in creation order (the order of widgets_values). */
  widgets: WidgetSpec[];
  /** Input sockets in definition order. */
  sockets: SocketSpec[];
  socketByName: Map<string, SocketSpec>;
  /** The sockets as the live node's inputs start out (name, type, the widget each feeds). */
  declaredInputs: Array<{ name: string; type: string; widgetName: string | undefined }>;
  /** Output types, for the bypass rule. */
  outputs: string[];
  /**
   * For workflows saved before frontend 1.16: one flag per legacy widgets_values slot, true where a
   * forceInput input took a slot (migrateWidgetsValues drops those when the count matches).
   */
  legacySlotIsForceInput: boolean[];
  /** filename_prefix gets text replacement at serialisation time. */
  replacesFilename: boolean;
}

export type DefinitionsLoader = () => Promise<ObjectInfo | Record<string, unknown>>;

function buildClassInfo(name: string, def: NodeDefinition): ClassInfo {
  const extras = extensionInputs(name, def);
  const inputs = orderedInputs(def, extras);
  const widgets: WidgetSpec[] = [];
  const sockets: SocketSpec[] = [];
  for (const [inputName, spec] of inputs) {
    const created = widgetsForInput(inputName, spec, { className: name, earlier: widgets.map((w) => w.name) });
    widgets.push(...created);
    if (inputName === 'upload' || inputName === 'audioUI') continue;
    const options = (typeof spec[1] === 'object' && spec[1] !== null ? spec[1] : {}) as Record<string, unknown>;
    sockets.push({ name: inputName, type: specType(spec), hasWidget: created.length > 0, forceInput: options.forceInput === true });
  }
  // migrateWidgetsValues reads the definition's inputs in declaration order (required, then optional).
  const widgetNames = new Set(widgets.map((w) => w.name));
  const declared: Array<[string, unknown]> = [
    ...Object.entries(def.input?.required ?? {}),
    ...extras,
    ...Object.entries(def.input?.optional ?? {}),
  ];
  const legacySlotIsForceInput: boolean[] = [];
  const seen = new Set<string>();
  for (const [inputName, spec] of declared) {
    if (seen.has(inputName)) continue;
    seen.add(inputName);
    const options = (Array.isArray(spec) && typeof spec[1] === 'object' && spec[1] !== null ? spec[1] : {}) as Record<string, unknown>;
    if (!widgetNames.has(inputName) && !options.forceInput) continue;
    legacySlotIsForceInput.push(Boolean(options.forceInput));
    if (options.control_after_generate) legacySlotIsForceInput.push(false);
  }
  const outputs = (def.output ?? []).map((t) => (Array.isArray(t) ? 'COMBO' : String(t)));
  return {
    name,
    displayName: FRONTEND_LOCALE_TITLES.get(name) ?? (typeof def.display_name === 'string' && def.display_name ? def.display_name : name),
    serverDisplayName: typeof def.display_name === 'string' ? def.display_name : '',
    widgets,
    sockets,
    socketByName: new Map(sockets.map((s) => [s.name, s])),
    declaredInputs: sockets.map((s) => ({ name: s.name, type: s.type, widgetName: s.hasWidget ? s.name : undefined })),
    outputs,
    legacySlotIsForceInput,
    replacesFilename: FILENAME_REPLACE_CLASSES.has(name),
  };
}

/**
 * The node classes one ComfyUI offers. Built from an /object_info answer (a live server or a file
 * for offline use); `refresh()` reloads it when a loader was given (after custom nodes or models change).
 */
export class NodeDefinitions {
  private info: ObjectInfo;
  private classes = new Map<string, ClassInfo>();
  private readonly loader: DefinitionsLoader | undefined;

  /** Takes /object_info as a server returns it (client.objectInfo() gives Record<string, unknown>). */
  constructor(objectInfo: ObjectInfo | Record<string, unknown>, loader?: DefinitionsLoader) {
    this.info = objectInfo as ObjectInfo;
    this.loader = loader;
  }

  /** Fetches the definitions once through `loader` and keeps it for refresh(). */
  static async load(loader: DefinitionsLoader): Promise<NodeDefinitions> {
    return new NodeDefinitions(await loader(), loader);
  }

  /** Reads a saved /object_info JSON file (offline conversion). */
  static fromFile(path: string): NodeDefinitions {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new InvalidWorkflowError(`Cannot read node definitions from ${path}: ${(error as Error).message}`, undefined,
        'Save the answer of GET /object_info of your ComfyUI to that file.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidWorkflowError(`${path} is not an /object_info answer (expected an object of node classes).`, undefined,
        'Save the answer of GET /object_info of your ComfyUI to that file.');
    }
    return new NodeDefinitions(parsed as ObjectInfo);
  }

  /** Accepts either a NodeDefinitions or a raw /object_info object. */
  static from(x: NodeDefinitions | ObjectInfo | Record<string, unknown>): NodeDefinitions {
    return x instanceof NodeDefinitions ? x : new NodeDefinitions(x);
  }

  get objectInfo(): ObjectInfo {
    return this.info;
  }

  get size(): number {
    return Object.keys(this.info).length;
  }

  has(classType: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.info, classType);
  }

  definition(classType: string): NodeDefinition | undefined {
    return this.has(classType) ? this.info[classType] : undefined;
  }

  /** The widget layout of a class, computed on first use; undefined for unknown classes. */
  classInfo(classType: string): ClassInfo | undefined {
    let info = this.classes.get(classType);
    if (info) return info;
    const def = this.definition(classType);
    if (!def) return undefined;
    info = buildClassInfo(classType, def);
    this.classes.set(classType, info);
    return info;
  }

  /** Computes every class layout now, so the first conversion is as fast as the rest. */
  precompute(): this {
    for (const name of Object.keys(this.info)) this.classInfo(name);
    return this;
  }

  /** Reloads from the loader and drops the computed layouts. Without a loader this keeps the data. */
  async refresh(): Promise<void> {
    if (!this.loader) return;
    this.info = (await this.loader()) as ObjectInfo;
    this.classes.clear();
  }

  /** Replaces the definitions in place (for callers that fetched /object_info themselves). */
  replace(objectInfo: ObjectInfo | Record<string, unknown>): void {
    this.info = objectInfo as ObjectInfo;
    this.classes.clear();
  }
}

/**
 * One NodeDefinitions per server (keyed by its URL), fetched on first use. Concurrent first calls
 * share one fetch; a failed fetch is not cached.
 */
export class DefinitionsCache {
  private readonly entries = new Map<string, Promise<NodeDefinitions>>();

  get(key: string, loader: DefinitionsLoader): Promise<NodeDefinitions> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = NodeDefinitions.load(loader);
      this.entries.set(key, entry);
      entry.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    }
    return entry;
  }

  /** Refetches one server's definitions (after uploads, model or custom-node changes). */
  async refresh(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (entry) await (await entry).refresh();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
