/**
 * Comparing our prompt with a prompt recorded by an older frontend (the ComfyUI_examples pairs),
 * after the normalisation the corpus README prescribes.
 */
import { normaliseRecordedPrompt } from './corpus.js';

export interface PairDifference {
  node: string;
  what: string;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Differences between ours and the recorded prompt; `_meta` only compared when the recording has it. */
export function comparePrompts(ours: Record<string, { inputs: Record<string, unknown>; class_type: string; _meta?: { title: string } }>, recorded: Record<string, unknown>): PairDifference[] {
  const expected = normaliseRecordedPrompt(recorded) as Record<string, { inputs: Record<string, unknown>; class_type: string; _meta?: { title: string } }>;
  const out: PairDifference[] = [];
  for (const id of new Set([...Object.keys(ours), ...Object.keys(expected)])) {
    const a = ours[id];
    const b = expected[id];
    if (!a) { out.push({ node: id, what: `missing in ours (${b?.class_type})` }); continue; }
    if (!b) { out.push({ node: id, what: `extra in ours (${a.class_type})` }); continue; }
    if (a.class_type !== b.class_type) out.push({ node: id, what: `class ${a.class_type} vs ${b.class_type}` });
    if (b._meta && a._meta?.title !== b._meta.title) out.push({ node: id, what: `title ${JSON.stringify(a._meta?.title)} vs ${JSON.stringify(b._meta.title)}` });
    for (const key of new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)])) {
      if (!(key in b.inputs)) out.push({ node: id, what: `input ${key} only in ours (${JSON.stringify(a.inputs[key])?.slice(0, 60)})` });
      else if (!(key in a.inputs)) out.push({ node: id, what: `input ${key} missing in ours (${JSON.stringify(b.inputs[key])?.slice(0, 60)})` });
      else if (!sameValue(a.inputs[key], b.inputs[key])) out.push({ node: id, what: `input ${key}: ${JSON.stringify(a.inputs[key])?.slice(0, 60)} vs ${JSON.stringify(b.inputs[key])?.slice(0, 60)}` });
    }
  }
  return out;
}
