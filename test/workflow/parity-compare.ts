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
}

export function diffPrompts(native: Prompt, oracle: Prompt): PromptDifference[] {
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
      out.push({ node: id, where: `inputs.${name}`, native: has(ni) ? ni[name] : '(absent)', oracle: has(oi) ? oi[name] : '(absent)' });
    }
  }
  return out;
}

export function formatDifference(d: PromptDifference, width = 100): string {
  return `node ${d.node} ${d.where}: native ${short(d.native, width)} vs oracle ${short(d.oracle, width)}`;
}

function short(value: unknown, width: number): string {
  const text = typeof value === 'string' && value.startsWith('(') ? value : JSON.stringify(value) ?? 'undefined';
  return text.length > width ? `${text.slice(0, width)}…` : text;
}
