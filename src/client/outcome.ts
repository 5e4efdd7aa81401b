import { ComfyError, ExecutionError, InterruptedError } from '../errors.js';
import type { HistoryEntry } from './types.js';

/** How a prompt ended, from its WebSocket message or its history entry. */
export type Outcome =
  | { kind: 'success' }
  | { kind: 'error'; error: ExecutionError }
  | { kind: 'interrupted'; nodeId: string | undefined; classType: string | undefined };

const str = (x: unknown): string => (typeof x === 'string' ? x : x === undefined || x === null ? '' : String(x));

export function executionErrorFrom(promptId: string, data: Record<string, unknown>): ExecutionError {
  const traceback = Array.isArray(data['traceback']) ? data['traceback'].map(str) : [];
  return new ExecutionError(
    promptId,
    str(data['node_id']),
    str(data['node_type']),
    str(data['exception_type']),
    str(data['exception_message']),
    traceback,
    data,
  );
}

export function interruptedFrom(data: Record<string, unknown>): Outcome {
  return {
    kind: 'interrupted',
    nodeId: typeof data['node_id'] === 'string' ? data['node_id'] : undefined,
    classType: typeof data['node_type'] === 'string' ? data['node_type'] : undefined,
  };
}

/** Reads the outcome a finished history entry records (its status.messages). */
export function outcomeFromHistory(promptId: string, entry: HistoryEntry): Outcome {
  const status = entry.status;
  // Entries without a status come from very old servers, which only recorded successes.
  if (!status || status.status_str === 'success') return { kind: 'success' };
  const messages = Array.isArray(status.messages) ? status.messages : [];
  for (const [type, data] of messages) {
    if (type === 'execution_error') return { kind: 'error', error: executionErrorFrom(promptId, data ?? {}) };
    if (type === 'execution_interrupted') return interruptedFrom(data ?? {});
  }
  return {
    kind: 'error',
    error: new ExecutionError(promptId, '', '', 'unknown', `history status is "${status.status_str}" without an error message`, [], entry),
  };
}

export function outcomeError(promptId: string, outcome: Outcome): ComfyError | undefined {
  if (outcome.kind === 'error') return outcome.error;
  if (outcome.kind === 'interrupted') return new InterruptedError(promptId, outcome.nodeId, outcome.classType);
  return undefined;
}
