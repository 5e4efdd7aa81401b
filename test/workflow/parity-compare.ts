/**
 * Compares two API prompts (native vs oracle) and describes every difference in one short line:
 * node id, what differs (presence, class_type, title, an input), native value vs oracle value.
 */
import { isDeepStrictEqual } from 'node:util';

type Prompt = Record<string, unknown>;
interface Entry {
  inputs?: Record<string, unknown>;
  class_type?: unknown;
  _meta?: unknown;
}

export interface PromptDifference {
  node: string;
  /** `node`, `class_type`, `_meta`, or `inputs.<name>`. */
  where: string;
  native: unknown;
  oracle: unknown;
  /** An input whose value only a live browser can make (see RUNTIME_WIDGET_TYPES): known, not a failure. */
  runtimeOnly?: true;
}

/**
 * Widget types whose value the frontend makes while serialising, from live browser state, and that
 * no converter without a browser can reproduce: LOAD_3D renders the 3D scene and uploads
 * screenshots to the server's temp folder (load3dSerialize), returning their server-side names
 * (numbered `name (1).png` when the same name was uploaded before, so they even depend on what
 * ran earlier on that server); WEBCAM and PAINTER upload a canvas; AUDIO_RECORD a recording.
 */
export const RUNTIME_WIDGET_TYPES = new Set(['LOAD_3D', 'WEBCAM', 'PAINTER', 'AUDIO_RECORD']);

/** `Class.input` for every input of a runtime-only widget type in these definitions. */
export function runtimeOnlyInputs(definitions: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const [name, definition] of Object.entries(definitions)) {
    const input = (definition as { input?: Record<string, Record<string, unknown[]> | undefined> }).input ?? {};
    for (const section of [input.required, input.optional]) {
      for (const [inputName, spec] of Object.entries(section ?? {})) {
        if (typeof spec[0] === 'string' && RUNTIME_WIDGET_TYPES.has(spec[0])) out.add(`${name}.${inputName}`);
      }
    }
  }
  return out;
}

/** Differences that count: everything except runtime-only inputs. */
export function realDifferences(differences: PromptDifference[]): PromptDifference[] {
  return differences.filter((d) => !d.runtimeOnly);
}

export function diffPrompts(native: Prompt, oracle: Prompt, runtimeOnly: Set<string> = new Set()): PromptDifference[] {
  const out: PromptDifference[] = [];
  const ids = [...new Set([...Object.keys(oracle), ...Object.keys(native)])];
  for (const id of ids) {
    const n = native[id] as Entry | undefined;
    const o = oracle[id] as Entry | undefined;
    if (!n || !o) {
      out.push({ node: id, where: 'node', native: n ? n.class_type : '(absent)', oracle: o ? o.class_type : '(absent)' });
      continue;
    }
    if (n.class_type !== o.class_type) out.push({ node: id, where: 'class_type', native: n.class_type, oracle: o.class_type });
    if (!isDeepStrictEqual(n._meta, o._meta)) out.push({ node: id, where: '_meta', native: n._meta, oracle: o._meta });
    const ni = n.inputs ?? {};
    const oi = o.inputs ?? {};
    for (const name of [...new Set([...Object.keys(oi), ...Object.keys(ni)])]) {
      const has = (x: Record<string, unknown>) => Object.prototype.hasOwnProperty.call(x, name);
      if (has(ni) && has(oi) && isDeepStrictEqual(ni[name], oi[name])) continue;
      const difference: PromptDifference = { node: id, where: `inputs.${name}`, native: has(ni) ? ni[name] : '(absent)', oracle: has(oi) ? oi[name] : '(absent)' };
      if (has(ni) && has(oi) && runtimeOnly.has(`${String(o.class_type)}.${name}`)) difference.runtimeOnly = true;
      out.push(difference);
    }
  }
  return out;
}

export function formatDifference(d: PromptDifference, width = 100): string {
  return `node ${d.node} ${d.where}: native ${short(d.native, width)} vs oracle ${short(d.oracle, width)}${d.runtimeOnly ? ' (runtime-only, not compared)' : ''}`;
}

function short(value: unknown, width: number): string {
  const text = typeof value === 'string' && value.startsWith('(') ? value : JSON.stringify(value) ?? 'undefined';
  return text.length > width ? `${text.slice(0, width)}…` : text;
}
