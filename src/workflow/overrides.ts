/**
 * Setting prompt inputs by a readable key: "<node id | _meta.title | class_type>.<input>",
 * e.g. "KSampler.seed", "6.text", "My v1.5 loader.ckpt_name" (split on the last dot).
 */
import { OverrideError } from '../errors.js';
import type { ApiPrompt } from './types.js';

export interface ApplyOverridesOptions {
  /** Allow inputs the node does not have yet (default false: an unknown input is an error). */
  allowNewInputs?: boolean;
}

/** Which node a key's node part names: an id, else a unique title, else a unique class_type. */
export function findOverrideTarget(prompt: ApiPrompt, key: string, nodeRef: string): string {
  if (Object.prototype.hasOwnProperty.call(prompt, nodeRef)) return nodeRef;
  const byTitle = Object.keys(prompt).filter((id) => prompt[id]?._meta?.title === nodeRef);
  if (byTitle.length === 1) return byTitle[0] as string;
  if (byTitle.length > 1) throw new OverrideError(key, `${byTitle.length} nodes are titled "${nodeRef}" (ids ${byTitle.join(', ')}); use a node id or give the node a unique title.`);
  const byClass = Object.keys(prompt).filter((id) => prompt[id]?.class_type === nodeRef);
  if (byClass.length === 1) return byClass[0] as string;
  if (byClass.length > 1) throw new OverrideError(key, `${byClass.length} nodes are of type "${nodeRef}" (ids ${byClass.join(', ')}); use a node id or a unique title.`);
  throw new OverrideError(key, `no node has the id, title or type "${nodeRef}".`);
}

/**
 * Splits "<node>.<input>". Node titles and input names may both contain dots (dynamic-combo inputs
 * are called "resize_type.width"), so every dot is tried from the last one: the first split whose
 * node resolves and has that input wins; otherwise the last-dot split reports what is wrong.
 */
function splitKey(prompt: ApiPrompt, key: string): { id: string; input: string } {
  const dots: number[] = [];
  for (let i = key.lastIndexOf('.'); i > 0; i = key.lastIndexOf('.', i - 1)) dots.push(i);
  if (dots.length === 0 || dots[0] === key.length - 1) throw new OverrideError(key, 'expected "<node>.<input>".');
  for (const dot of dots) {
    const nodeRef = key.slice(0, dot);
    const input = key.slice(dot + 1);
    let id: string;
    try {
      id = findOverrideTarget(prompt, key, nodeRef);
    } catch {
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(prompt[id]?.inputs ?? {}, input)) return { id, input };
  }
  const dot = dots[0] as number;
  return { id: findOverrideTarget(prompt, key, key.slice(0, dot)), input: key.slice(dot + 1) };
}

/** Returns a new prompt with the overrides applied; the input prompt is left untouched. */
export function applyOverrides(prompt: ApiPrompt, overrides: Record<string, unknown>, options: ApplyOverridesOptions = {}): ApiPrompt {
  const out: ApiPrompt = structuredClone(prompt);
  for (const [key, value] of Object.entries(overrides)) {
    const { id, input } = splitKey(out, key);
    const node = out[id];
    if (!node) throw new OverrideError(key, `node ${id} is missing.`);
    if (!options.allowNewInputs && !Object.prototype.hasOwnProperty.call(node.inputs, input)) {
      const known = Object.keys(node.inputs);
      throw new OverrideError(key, `node ${id} (${node.class_type}) has no input "${input}"${known.length ? `; it has ${known.join(', ')}` : ''}.`);
    }
    // Arrays mean links in the API format; plain list values travel wrapped, as the frontend sends them.
    node.inputs[input] = Array.isArray(value) && !(value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number') ? { __value__: value } : value;
  }
  return out;
}
