// execution.validate_prompt / validate_inputs, transcribed: same error types, messages, details,
// extra_info and the same quirks (upstream victims carry no errors; node_errors only on nodes with
// reasons; dependent_outputs accumulates across outputs; inputs are converted in place).
import type { Catalogue, NodeInfo } from './object-info.js';
import type { Paths } from './paths.js';
import { hasImpl, implFor } from './nodes/index.js';
import { pyFloatStr, pyRepr, pyStr, pyTypeName } from './pyrepr.js';
import { log } from './log.js';

export interface ValidationError { type: string; message: string; details: string; extra_info: Record<string, unknown> }
export interface NodeErrors { [nodeId: string]: { errors: ValidationError[]; dependent_outputs: string[]; class_type: string } }
type Prompt = Record<string, { class_type?: string; inputs?: Record<string, unknown>; _meta?: { title?: string } }>;
type Validated = Map<string, [boolean, ValidationError[], string]>;

/** A Python exception raised while validating: its type name and str(). */
class PyException extends Error {
  constructor(readonly pyType: string, message: string) { super(message); }
}
const FAKE_TB = (fn: string) => [`  File "execution.py", line 0, in ${fn}\n`];

function getNode(prompt: Prompt, id: unknown): Prompt[string] {
  if (typeof id === 'object' && id !== null) throw new PyException('TypeError', `unhashable type: '${pyTypeName(id)}'`);
  const key = typeof id === 'string' ? id : undefined;
  if (key === undefined || !Object.hasOwn(prompt, key)) throw new PyException('KeyError', pyRepr(id));
  return prompt[key]!;
}

function inputInfo(def: NodeInfo, name: string): { type: unknown; category: string; extra: Record<string, unknown> } | undefined {
  for (const category of ['required', 'optional', 'hidden']) {
    const spec = def.input[category]?.[name];
    if (spec) return { type: spec[0], category, extra: (spec[1] as Record<string, unknown> | undefined) ?? {} };
  }
  return undefined;
}

function typesCompatible(received: unknown, wanted: unknown): boolean {
  if (received === wanted) return true;
  if (received === '*' || wanted === '*' || received === 'COMFY_MATCHTYPE_V3' || wanted === 'COMFY_MATCHTYPE_V3') return true;
  if (Array.isArray(received) && wanted === 'COMBO') return true;
  if (typeof received !== 'string' || typeof wanted !== 'string') return false;
  const a = received.split(','), b = wanted.split(',');
  return a.some((t) => b.includes(t));
}

function pyInt(v: unknown): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new PyException('ValueError', Number.isNaN(v) ? 'cannot convert float NaN to integer' : 'cannot convert float infinity to integer');
    return Math.trunc(v);
  }
  if (typeof v === 'string') {
    const t = v.trim().replace(/_/g, '');
    if (/^[-+]?\d+$/.test(t)) return Number(t);
    throw new PyException('ValueError', `invalid literal for int() with base 10: ${pyRepr(v)}`);
  }
  throw new PyException('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(v)}'`);
}

function pyFloat(v: unknown): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t !== '' && !Number.isNaN(Number(t))) return Number(t);
    if (['inf', '+inf', 'infinity'].includes(t)) return Infinity;
    if (t === '-inf' || t === '-infinity') return -Infinity;
    if (t === 'nan') return NaN;
    throw new PyException('ValueError', `could not convert string to float: ${pyRepr(v)}`);
  }
  throw new PyException('TypeError', `float() argument must be a string or a real number, not '${pyTypeName(v)}'`);
}

function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

class Validator {
  constructor(private readonly prompt: Prompt, private readonly catalogue: Catalogue, private readonly paths: Paths) {}
  readonly validated: Validated = new Map();

  validateInputs(uniqueId: string, visiting: string[] = []): [boolean, ValidationError[], string] {
    const done = this.validated.get(uniqueId);
    if (done) return done;
    const prompt = this.prompt;
    if (visiting.includes(uniqueId)) {
      const path = [...visiting.slice(visiting.indexOf(uniqueId)), uniqueId];
      const cycleNodes = [...new Set(path)];
      const details = path.map((id) => `${id} (${prompt[id]!.class_type})`).join(' -> ');
      for (const id of cycleNodes) {
        this.validated.set(id, [false, [{ type: 'dependency_cycle', message: 'Dependency cycle detected', details, extra_info: { node_id: id, cycle_nodes: cycleNodes } }], id]);
      }
      return this.validated.get(uniqueId)!;
    }
    const node = getNode(prompt, uniqueId);
    if (!node.inputs || typeof node.inputs !== 'object') throw new PyException('KeyError', "'inputs'");
    const inputs = node.inputs;
    const classType = node.class_type!;
    const def = this.catalogue.get(classType);
    const custom = hasImpl(classType) ? implFor(classType, 0).validate : undefined;
    const customInputs = custom?.inputs ?? [];
    const errors: ValidationError[] = [];
    let valid = true;
    const names = [...Object.keys(def.input.required ?? {}), ...Object.keys(def.input.optional ?? {})];
    for (const x of [...new Set(names)]) {
      const info = inputInfo(def, x)!;
      const config = [info.type, info.extra];
      if (!Object.hasOwn(inputs, x)) {
        if (info.category === 'required') errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: x, extra_info: { input_name: x } });
        continue;
      }
      let val = inputs[x];
      if (Array.isArray(val)) {
        if (val.length !== 2) {
          errors.push({ type: 'bad_linked_input', message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]', details: x, extra_info: { input_name: x, input_config: config, received_value: val } });
          continue;
        }
        const oId = val[0];
        const oNode = getNode(prompt, oId);
        const returns = this.catalogue.get(oNode.class_type!).output;
        const slot = val[1];
        if (typeof slot !== 'number' || !Number.isInteger(slot)) throw new PyException('TypeError', `tuple indices must be integers or slices, not ${pyTypeName(slot)}`);
        const receivedType = returns[slot < 0 ? returns.length + slot : slot];
        if (receivedType === undefined) throw new PyException('IndexError', 'tuple index out of range');
        if (!typesCompatible(receivedType, info.type)) {
          errors.push({
            type: 'return_type_mismatch', message: 'Return type mismatch between linked nodes',
            details: `${x}, received_type(${pyStr(receivedType)}) mismatch input_type(${pyStr(info.type)})`,
            extra_info: { input_name: x, input_config: config, received_type: receivedType, linked_node: val },
          });
          continue;
        }
        try {
          visiting.push(uniqueId);
          let r;
          try { r = this.validateInputs(oId as string, visiting); } finally { visiting.pop(); }
          if (r[0] === false) { valid = false; continue; }
        } catch (ex) {
          const e = ex instanceof PyException ? ex : new PyException('Exception', String(ex));
          valid = false;
          this.validated.set(oId as string, [false, [{
            type: 'exception_during_inner_validation', message: 'Exception when validating inner node', details: e.message,
            extra_info: { input_name: x, input_config: config, exception_message: e.message, exception_type: e.pyType, traceback: FAKE_TB('validate_inputs'), linked_node: val },
          }], oId as string]);
          continue;
        }
      } else {
        let isFloat = false;
        try {
          if (val && typeof val === 'object' && '__value__' in val) { val = (val as { __value__: unknown }).__value__; inputs[x] = val; }
          if (info.type === 'INT') { val = pyInt(val); inputs[x] = val; }
          if (info.type === 'FLOAT') { val = pyFloat(val); inputs[x] = val; isFloat = true; }
          if (info.type === 'STRING') { val = pyStr(val); inputs[x] = val; }
          if (info.type === 'BOOLEAN') { val = pyTruthy(val); inputs[x] = val; }
        } catch (ex) {
          const e = ex as PyException;
          errors.push({
            type: 'invalid_input_type', message: `Failed to convert an input value to a ${pyStr(info.type)} value`,
            details: `${x}, ${pyStr(val)}, ${e.message}`,
            extra_info: { input_name: x, input_config: config, received_value: val, exception_message: e.message },
          });
          continue;
        }
        if (!customInputs.includes(x)) {
          const fmt = (n: unknown) => (isFloat && typeof n === 'number' ? pyFloatStr(n) : pyStr(n));
          const min = info.extra.min, max = info.extra.max;
          if (min !== undefined && (val as number) < (min as number)) {
            errors.push({ type: 'value_smaller_than_min', message: `Value ${fmt(val)} smaller than min of ${fmt(min)}`, details: x, extra_info: { input_name: x, input_config: config, received_value: val } });
            continue;
          }
          if (max !== undefined && (val as number) > (max as number)) {
            errors.push({ type: 'value_bigger_than_max', message: `Value ${fmt(val)} bigger than max of ${fmt(max)}`, details: x, extra_info: { input_name: x, input_config: config, received_value: val } });
            continue;
          }
          if (Array.isArray(info.type) || info.type === 'COMBO') {
            const options = (Array.isArray(info.type) ? info.type : (info.extra.options as unknown[] | undefined) ?? []) as unknown[];
            const multi = info.extra.multiselect === true;
            const invalid = multi && Array.isArray(val) ? val.filter((v) => !options.includes(v)) : options.includes(val) ? [] : [val];
            if (invalid.length > 0) {
              const big = options.length > 20;
              errors.push({
                type: 'value_not_in_list', message: 'Value not in list',
                details: `${x}: ${invalid.map(pyRepr).join(', ')} not in ${big ? `(list of length ${options.length})` : pyRepr(options)}`,
                extra_info: { input_name: x, input_config: big ? null : config, received_value: val },
              });
              continue;
            }
          }
        }
      }
    }
    if (custom) {
      const r = custom.check(inputs, this.paths);
      if (r !== true) {
        for (const x of custom.inputs) errors.push({ type: 'custom_validation_failed', message: 'Custom validation failed for node', details: `${x} - ${r}`, extra_info: { input_name: x } });
      }
    }
    const prev = this.validated.get(uniqueId) ?? [true, [], uniqueId];
    const ret: [boolean, ValidationError[], string] = [prev[0] && valid && errors.length === 0, [...prev[1], ...errors.filter((e) => !prev[1].includes(e))], uniqueId];
    this.validated.set(uniqueId, ret);
    return ret;
  }
}

export type ValidationResult =
  | { ok: true; outputs: string[]; nodeErrors: NodeErrors }
  | { ok: false; error: ValidationError; nodeErrors: NodeErrors };

export function validatePrompt(prompt: Prompt, catalogue: Catalogue, paths: Paths, partialTargets?: unknown[]): ValidationResult {
  const outputs: string[] = [];
  for (const [x, node] of Object.entries(prompt)) {
    if (!node || typeof node !== 'object' || !('class_type' in node)) {
      const title = (node as Prompt[string] | null)?._meta?.title ?? null;
      return { ok: false, nodeErrors: {}, error: { type: 'missing_node_type', message: `Node '${title ?? `ID #${x}`}' has no class_type. The workflow may be corrupted or a custom node is missing.`, details: `Node ID '#${x}'`, extra_info: { node_id: x, class_type: null, node_title: title } } };
    }
    const classType = node.class_type as string;
    if (typeof classType !== 'string' || !catalogue.has(classType)) {
      const title = node._meta?.title ?? classType;
      return { ok: false, nodeErrors: {}, error: { type: 'missing_node_type', message: `Node '${pyStr(title)}' not found. The custom node may not be installed.`, details: `Node ID '#${x}'`, extra_info: { node_id: x, class_type: classType, node_title: title } } };
    }
    if (catalogue.get(classType).output_node === true && (partialTargets === undefined || partialTargets === null || partialTargets.includes(x))) outputs.push(x);
  }
  if (outputs.length === 0) return { ok: false, nodeErrors: {}, error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} } };

  const v = new Validator(prompt, catalogue, paths);
  const good: string[] = [];
  const failed: Array<[string, ValidationError[]]> = [];
  const nodeErrors: NodeErrors = {};
  for (const o of outputs) {
    let valid = false;
    let reasons: ValidationError[] = [];
    try {
      [valid, reasons] = v.validateInputs(o);
    } catch (ex) {
      const e = ex instanceof PyException ? ex : new PyException('Exception', String(ex));
      reasons = [{ type: 'exception_during_validation', message: 'Exception when validating node', details: e.message, extra_info: { exception_type: e.pyType, traceback: FAKE_TB('validate_prompt') } }];
      v.validated.set(o, [false, reasons, o]);
    }
    if (valid) { good.push(o); continue; }
    log.error(`Failed to validate prompt for output ${o}:`);
    if (reasons.length > 0) {
      log.error('* (prompt):');
      for (const r of reasons) log.error(`  - ${r.message}: ${r.details}`);
    }
    failed.push([o, reasons]);
    for (const [nodeId, [ok, rs]] of v.validated) {
      if (ok || rs.length === 0) continue;
      if (!nodeErrors[nodeId]) {
        const classType = prompt[nodeId]!.class_type!;
        nodeErrors[nodeId] = { errors: rs, dependent_outputs: [], class_type: classType };
        log.error(`* ${classType} ${nodeId}:`);
        for (const r of rs) log.error(`  - ${r.message}: ${r.details}`);
      }
      nodeErrors[nodeId]!.dependent_outputs.push(o);
    }
    log.error('Output will be ignored');
  }
  if (good.length === 0) {
    const details = failed.flatMap(([, rs]) => rs.map((r) => `${r.message}: ${r.details}`)).join('\n');
    return { ok: false, nodeErrors, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} } };
  }
  return { ok: true, outputs: good, nodeErrors };
}
