/**
 * Telling the two formats apart: the UI workflow (nodes + links, what "Save" writes) and the
 * API prompt (node id → {class_type, inputs}, what POST /prompt takes).
 */
import { InvalidWorkflowError } from '../errors.js';
import type { ApiPrompt, UiWorkflow } from './types.js';

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** True for a UI workflow: a `nodes` array plus links (0.4), a `state` (1) or a `version`. */
export function isUiWorkflow(x: unknown): x is UiWorkflow {
  return isRecord(x) && Array.isArray(x.nodes) && (Array.isArray(x.links) || isRecord(x.state) || 'version' in x);
}

/** True for an API prompt: a non-empty object whose every value has a string class_type and an inputs object. */
export function isApiPrompt(x: unknown): x is ApiPrompt {
  if (!isRecord(x) || isUiWorkflow(x)) return false;
  const entries = Object.values(x);
  return entries.length > 0 && entries.every((e) => isRecord(e) && typeof e.class_type === 'string' && isRecord(e.inputs));
}

/**
 * Reads JSON text or an already parsed value and returns the workflow or prompt in it
 * (tell them apart with isUiWorkflow / isApiPrompt).
 * Accepts the `{prompt: {...}}` wrapper that POST /prompt bodies and some exports use.
 * Plain JSON.parse on purpose: seeds above 2^53 then round exactly as the frontend's do.
 */
export function parseWorkflowInput(input: string | unknown): UiWorkflow | ApiPrompt {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new InvalidWorkflowError(
        `The input is not valid JSON: ${(error as Error).message}`,
        undefined,
        'Pass the file exported from ComfyUI (Workflow > Export, or Export (API)) unchanged.',
      );
    }
  }
  if (isUiWorkflow(value) || isApiPrompt(value)) return value;
  // The body of POST /prompt, and files that wrap the workflow: {prompt} / {workflow}.
  if (isRecord(value) && isApiPrompt(value.prompt)) return value.prompt;
  if (isRecord(value) && isUiWorkflow(value.workflow)) return value.workflow;
  throw new InvalidWorkflowError(
    'The input is neither a UI workflow (an object with "nodes" and "links") nor an API prompt (node id → {"class_type", "inputs"}).',
  );
}
