import { ValidationError, type NodeValidationIssue } from '../errors.js';

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): string => (typeof x === 'string' ? x : x === undefined || x === null ? '' : String(x));

/**
 * Every node issue of a `node_errors` object (the 400 body of POST /prompt, or the partial
 * node_errors of a 200), one entry per failing input.
 */
export function nodeIssues(nodeErrors: unknown): NodeValidationIssue[] {
  if (!isObject(nodeErrors)) return [];
  const issues: NodeValidationIssue[] = [];
  for (const [nodeId, entry] of Object.entries(nodeErrors)) {
    if (!isObject(entry)) continue;
    const classType = typeof entry['class_type'] === 'string' ? entry['class_type'] : undefined;
    const errors = Array.isArray(entry['errors']) ? entry['errors'] : [];
    for (const e of errors) {
      if (!isObject(e)) continue;
      const extra = isObject(e['extra_info']) ? e['extra_info'] : {};
      issues.push({
        nodeId,
        classType,
        type: str(e['type']),
        message: str(e['message']),
        details: str(e['details']),
        inputName: typeof extra['input_name'] === 'string' ? extra['input_name'] : undefined,
        receivedValue: extra['received_value'],
      });
    }
  }
  return issues;
}

/** Turns the 400 body of POST /prompt into a ValidationError that names every failing input. */
export function validationErrorFromBody(body: unknown, rawText: string): ValidationError {
  if (!isObject(body)) return new ValidationError('invalid_prompt', rawText.slice(0, 500) || 'HTTP 400 without a body', [], rawText);
  const error = isObject(body['error']) ? body['error'] : { message: str(body['error']) };
  const issues = nodeIssues(body['node_errors']);
  const extra = isObject(error['extra_info']) ? error['extra_info'] : {};
  // missing_node_type and friends name their node only in extra_info, with empty node_errors.
  if (issues.length === 0 && typeof extra['node_id'] === 'string') {
    issues.push({
      nodeId: extra['node_id'],
      classType: typeof extra['class_type'] === 'string' ? extra['class_type'] : undefined,
      type: str(error['type']),
      message: str(error['message']),
      details: str(error['details']),
      inputName: undefined,
      receivedValue: undefined,
    });
  }
  return new ValidationError(str(error['type']) || 'invalid_prompt', str(error['message']), issues, body);
}
