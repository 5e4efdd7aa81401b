/**
 * A job spec, checked on the producer side before anything is queued: the same typed errors as
 * runWorkflow (InvalidWorkflowError, OverrideError) plus the fleet's own for ids and inputs.
 * Inputs are values (URLs, data: URLs, base64): a job payload may come from the network, so a
 * string is never read as a local path here. The only local reads are the producer's own
 * (`ComfyQueue.submit(path)`, Buffers), turned into values before they leave this process.
 */
import { applyOverrides, isApiPrompt, parseWorkflowInput, type ApiPrompt } from '../workflow/index.js';
import { BadJobInputError, BadJobIdError } from './errors.js';
import { canonicalRequirements, checkJobId } from './names.js';
import { checkOutputFormat } from './output-format.js';
import type { JobInput, JobSpec } from './types.js';

/** Inline inputs travel through Redis inside the job: their total is bounded (use URLs beyond). */
export const INLINE_INPUT_LIMIT_BYTES = 8 * 1024 * 1024;

/** What submit takes besides the workflow: runWorkflow's options plus the queue's own. */
export interface SubmitOptions extends Omit<JobSpec, 'workflow' | 'inputs'> {
  /** Values only; a Buffer (read by this producer) is sent as base64. */
  inputs?: Record<string, JobInput | Buffer>;
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;

function inputSize(value: JobInput): number {
  if (typeof value === 'string') return value.length;
  return value.base64.length;
}

function checkInput(key: string, value: unknown): JobInput {
  if (!key.includes('.')) throw new BadJobInputError(key, 'an input key must be "<node id or title>.<input>"');
  if (typeof value === 'string') {
    if (/^(https?|s3):\/\//i.test(value)) return value;
    if (/^data:[^,]*;base64,/i.test(value)) return value;
    throw new BadJobInputError(key, `${JSON.stringify(value.slice(0, 60))} is not an http(s)/s3 URL nor a data: URL (a job never reads a local path)`);
  }
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const v = value as Record<string, unknown>;
    if (typeof v['base64'] === 'string' && typeof v['filename'] === 'string' && BASE64.test(v['base64'])) {
      if (!/^[^/\\\0]{1,200}$/.test(v['filename']) || v['filename'] === '.' || v['filename'] === '..') {
        throw new BadJobInputError(key, 'filename must be a plain file name (no folders)');
      }
      return { base64: v['base64'], filename: v['filename'] };
    }
  }
  throw new BadJobInputError(key, 'expected an http(s) URL, a data: URL or { base64, filename }');
}

/** Checks and normalises a spec; throws the typed error runWorkflow would throw for the same input. */
export function normalizeSpec(spec: JobSpec): JobSpec {
  if (!spec || typeof spec !== 'object') throw new BadJobInputError('workflow', 'the job is not an object');
  const workflow = parseWorkflowInput(spec.workflow) as unknown as Record<string, unknown>;
  const out: JobSpec = { workflow };
  if (spec.overrides !== undefined) {
    if (!spec.overrides || typeof spec.overrides !== 'object' || Array.isArray(spec.overrides)) {
      throw new BadJobInputError('overrides', 'overrides must be an object of "<node>.<input>": value');
    }
    // A prompt can be checked here; a UI workflow's overrides need the server's node definitions.
    if (isApiPrompt(workflow)) applyOverrides(workflow as ApiPrompt, spec.overrides);
    out.overrides = spec.overrides;
  }
  if (spec.inputs !== undefined) {
    const inputs: Record<string, JobInput> = {};
    let total = 0;
    for (const [key, value] of Object.entries(spec.inputs)) {
      inputs[key] = checkInput(key, value);
      total += inputSize(inputs[key]);
    }
    if (total > INLINE_INPUT_LIMIT_BYTES) {
      throw new BadJobInputError(Object.keys(inputs).join(', '), `inline inputs total ${total} bytes, over the ${INLINE_INPUT_LIMIT_BYTES}-byte limit: give large inputs as URLs`);
    }
    if (isApiPrompt(workflow)) applyOverrides(workflow as ApiPrompt, Object.fromEntries(Object.keys(inputs).map((k) => [k, ''])));
    out.inputs = inputs;
  }
  const positive = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new BadJobInputError(name, 'must be a positive number');
    return v;
  };
  if (spec.timeoutMs !== undefined) out.timeoutMs = positive('timeoutMs', spec.timeoutMs);
  if (spec.deadline !== undefined) out.deadline = positive('deadline', spec.deadline);
  if (spec.priority !== undefined) {
    if (!Number.isInteger(spec.priority) || Math.abs(spec.priority) > 1_000_000) throw new BadJobInputError('priority', 'must be an integer between -1000000 and 1000000');
    out.priority = spec.priority;
  }
  if (spec.idempotencyKey !== undefined) {
    if (typeof spec.idempotencyKey !== 'string') throw new BadJobIdError(String(spec.idempotencyKey), 'it must be a string');
    out.idempotencyKey = checkJobId(spec.idempotencyKey);
  }
  const requires = canonicalRequirements(spec.requires);
  if (requires) {
    for (const m of requires.models ?? []) {
      if (typeof m.folder !== 'string' || typeof m.name !== 'string' || !m.folder || !m.name) throw new BadJobInputError('requires.models', 'each model is { folder, name }');
    }
    out.requires = requires;
  }
  if (spec.meta !== undefined) {
    for (const [k, v] of Object.entries(spec.meta)) if (typeof v !== 'string') throw new BadJobInputError(`meta.${k}`, 'meta values are strings');
    out.meta = spec.meta;
  }
  if (spec.previews !== undefined) {
    if (typeof spec.previews !== 'boolean') throw new BadJobInputError('previews', 'must be true or false');
    if (spec.previews) out.previews = true;
  }
  if (spec.outputFormat !== undefined) {
    try {
      out.outputFormat = checkOutputFormat(spec.outputFormat);
    } catch (error) {
      throw new BadJobInputError('outputFormat', (error as Error).message);
    }
  }
  return out;
}

/** A spec from a workflow and submit options; Buffers become base64 values. */
export function specFrom(workflow: Record<string, unknown>, options: SubmitOptions = {}): JobSpec {
  const { inputs, ...rest } = options;
  const spec: JobSpec = { workflow, ...rest };
  if (inputs) {
    spec.inputs = Object.fromEntries(
      Object.entries(inputs).map(([key, v]) => [key, Buffer.isBuffer(v) ? { base64: v.toString('base64'), filename: 'input.png' } : v]),
    );
  }
  return spec;
}

/** True when the object is a JobSpec (has a workflow object) rather than a bare workflow or prompt. */
export function isJobSpec(x: unknown): x is JobSpec {
  if (!x || typeof x !== 'object') return false;
  const w = (x as Record<string, unknown>)['workflow'];
  // A UI export may wrap the workflow as {workflow: {...nodes}} too; a JobSpec's own keys tell.
  return !!w && typeof w === 'object' && !Array.isArray((x as Record<string, unknown>)['nodes']) && !('class_type' in (w as object));
}
