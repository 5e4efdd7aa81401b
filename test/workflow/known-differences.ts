/**
 * Known differences between the native converter and the real frontend 1.48.7: places where the
 * frontend's prompt is wrong because of a frontend bug, and the native converter deliberately
 * does not copy it. The parity suites (parity-fixture.test.ts, parity.test.ts) report a difference
 * listed here as "known difference" instead of failing — only when native and frontend values are
 * exactly the ones recorded here, so any other change still fails.
 *
 * Only entries whose cause is a documented frontend bug belong here (see docs/workflow-conversion.md,
 * "Known differences from the frontend"); a difference the native converter could reproduce is a
 * native bug and must be fixed instead.
 */
import type { PromptDifference } from './parity-compare.js';

export interface KnownDifference {
  /** Corpus workflow id, e.g. `templates/templates_graphic_design_recomposer`. */
  workflow: string;
  /** Prompt node id (execution id). */
  node: string;
  /** Input name. */
  input: string;
  /** What the frontend sends, and what native sends instead. */
  frontend: unknown;
  native: unknown;
  /** The frontend bug behind it, as documented in docs/workflow-conversion.md. */
  cause: string;
  /** The frontend versions that have the bug. */
  versions: readonly string[];
}

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    workflow: 'templates/templates_graphic_design_recomposer',
    node: '143:157',
    input: 'model.aspect_ratio',
    frontend: 'gemini-3-pro-image-preview',
    native: '16:9',
    cause:
      'Frontend bug (legacy proxyWidgets repair): subgraph instance 143 carries legacy properties.proxyWidgets ' +
      '[["135","choice"],["156","value"],["142","value"]] naming a CustomCombo and two PrimitiveNodes. While ' +
      'repairing these into promoted widgets at load, 1.48.7 puts a model id ("gemini-3-pro-image-preview") where ' +
      'PrimitiveNode 142 "aspect_ratio" (saved value "16:9") feeds GeminiNanoBanana2V2.model.aspect_ratio. That is not ' +
      'one of the aspect-ratio options, so the server rejects the prompt; native sends the value the user set.',
    versions: ['1.48.7'],
  },
];

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The known difference this one is, if any. */
export function knownDifferenceFor(workflow: string, d: PromptDifference, version = '1.48.7'): KnownDifference | undefined {
  return KNOWN_DIFFERENCES.find((k) => k.versions.includes(version) && k.workflow === workflow && k.node === d.node && `inputs.${k.input}` === d.where
    && sameValue(k.frontend, d.oracle) && sameValue(k.native, d.native));
}

/** Splits real differences (runtime-only ones already removed) into known and unexplained. */
export function splitKnownDifferences(workflow: string, differences: PromptDifference[], version = '1.48.7'): { known: PromptDifference[]; unexplained: PromptDifference[] } {
  const known: PromptDifference[] = [];
  const unexplained: PromptDifference[] = [];
  for (const d of differences) (knownDifferenceFor(workflow, d, version) ? known : unexplained).push(d);
  return { known, unexplained };
}
