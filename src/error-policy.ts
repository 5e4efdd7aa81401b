import { ComfyError } from './errors.js';

/**
 * One classification of every error code, used by the CLI (exit code), the queue (retry or not)
 * and the service (HTTP status). Add a code here when you add one to errors.ts; the table is the
 * single place that decides how each failure is treated downstream.
 */
export type FailureClass =
  /** The caller's command or request is malformed (CLI usage, bad request field). */
  | 'usage'
  /** The job itself is wrong (bad workflow, bad override, validation): never retried. */
  | 'invalid'
  /** The workflow ran and a node failed or was interrupted: not retried (same input, same failure). */
  | 'execution'
  | 'timeout'
  /** The server died, stalled or could not be reached: retried on another or restarted server. */
  | 'server'
  /** A file, path, URL or store failed. */
  | 'io'
  | 'cancelled'
  | 'unexpected';

export interface FailurePolicy {
  class: FailureClass;
  /** May a queue run this job again, elsewhere? */
  retryable: boolean;
  /** The CLI's exit code (see EXIT_CODES_HELP in cli/exit-codes.ts). */
  exitCode: number;
  /** The HTTP status a service answers with when this error is the request's own fault or state. */
  httpStatus: number;
}

const POLICY: Record<FailureClass, FailurePolicy> = {
  usage: { class: 'usage', retryable: false, exitCode: 2, httpStatus: 400 },
  invalid: { class: 'invalid', retryable: false, exitCode: 3, httpStatus: 422 },
  execution: { class: 'execution', retryable: false, exitCode: 4, httpStatus: 500 },
  timeout: { class: 'timeout', retryable: false, exitCode: 5, httpStatus: 504 },
  server: { class: 'server', retryable: true, exitCode: 6, httpStatus: 503 },
  io: { class: 'io', retryable: false, exitCode: 7, httpStatus: 400 },
  cancelled: { class: 'cancelled', retryable: false, exitCode: 130, httpStatus: 409 },
  unexpected: { class: 'unexpected', retryable: false, exitCode: 1, httpStatus: 500 },
};

const CLASS_BY_CODE: Record<string, FailureClass> = {
  COMFY_CLI_USAGE: 'usage',
  // A file the caller named is missing: the command or call is wrong, like a malformed flag.
  COMFY_FILE_UNREADABLE: 'usage',
  COMFY_VALIDATION: 'invalid',
  COMFY_BAD_OVERRIDE: 'invalid',
  COMFY_INVALID_WORKFLOW: 'invalid',
  COMFY_UNKNOWN_NODE_TYPE: 'invalid',
  COMFY_EXECUTION: 'execution',
  COMFY_INTERRUPTED: 'execution',
  COMFY_TIMEOUT: 'timeout',
  COMFY_NOT_FOUND: 'server',
  COMFY_PYTHON_UNUSABLE: 'server',
  COMFY_BAD_ARGUMENTS: 'server',
  COMFY_PORT_IN_USE: 'server',
  COMFY_SERVER_CRASHED: 'server',
  COMFY_CONNECTION_LOST: 'server',
  // ComfyUI's prompt thread that stopped draining its queue is a dead server in all but name.
  COMFY_WORKER_STALLED: 'server',
  COMFY_CLOSED: 'server',
  COMFY_HTTP: 'server',
  COMFY_UPLOAD: 'io',
  COMFY_UNSAFE_PATH: 'io',
  COMFY_UNKNOWN_FOLDER: 'io',
  COMFY_REMOTE_UNSUPPORTED: 'io',
  COMFY_SOURCE_REFUSED: 'io',
  COMFY_SOURCE_HTTP: 'io',
  COMFY_SOURCE_DENIED: 'io',
  COMFY_SOURCE_UNREACHABLE: 'io',
  COMFY_SOURCE_TOO_LARGE: 'io',
  COMFY_HASH_MISMATCH: 'io',
  COMFY_CACHE_FULL: 'io',
  COMFY_STORE_NOT_FOUND: 'io',
  COMFY_STORE_DENIED: 'io',
  COMFY_STORE: 'io',
  COMFY_CANCELLED: 'cancelled',
};

/** Codes that are not a fixed list: every start failure means the server never served. */
function classByPrefix(code: string): FailureClass | undefined {
  if (code.startsWith('COMFY_START_')) return 'server';
  return undefined;
}

/**
 * Register the class of codes defined outside errors.ts (queue, stores, service), so every table
 * stays exhaustive without this file importing those rooms.
 */
export function registerFailureClass(code: string, cls: FailureClass): void {
  CLASS_BY_CODE[code] = cls;
}

/** Every code with a class (the table above and registerFailureClass), e.g. to check the docs list them. */
export function classifiedCodes(): Array<[code: string, cls: FailureClass]> {
  return Object.entries(CLASS_BY_CODE);
}

/** The stable code of an error, also for errors from another copy of the library or from JSON. */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof ComfyError) return error.code;
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string' && error.code.startsWith('COMFY_')) {
    return error.code;
  }
  return undefined;
}

export function failurePolicy(error: unknown): FailurePolicy {
  const code = errorCode(error);
  if (code === undefined) return POLICY.unexpected;
  return POLICY[CLASS_BY_CODE[code] ?? classByPrefix(code) ?? 'unexpected'];
}

/** The serialised form of an error: what goes into Redis, SSE, HTTP bodies and `--json` lines. */
export interface ErrorJson {
  code: string | null;
  /** The short message for callers: no server log lines (those are in `logTail`, for operators). */
  message: string;
  hint?: string;
  class: FailureClass;
  retryable: boolean;
  promptId?: string;
  nodeId?: string;
  classType?: string;
  /** Validation issues, execution exception details, … as the typed error carries them. */
  details?: Record<string, unknown>;
  logTail?: string[];
}

const DETAIL_FIELDS = ['issues', 'exceptionType', 'exceptionMessage', 'traceback', 'inputName', 'key', 'url', 'path', 'folder', 'file', 'jobId', 'missing', 'exitCode', 'signal', 'timeoutMs'] as const;

export function serializeError(error: unknown): ErrorJson {
  const policy = failurePolicy(error);
  const e = (error && typeof error === 'object' ? error : {}) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof e[k] === 'string' ? (e[k] as string) : undefined);
  const details: Record<string, unknown> = {};
  for (const field of DETAIL_FIELDS) if (e[field] !== undefined && field !== 'exitCode') details[field] = e[field];
  if (typeof e['exitCode'] === 'number' || e['exitCode'] === null) details['exitCode'] = e['exitCode'];
  const logTail = Array.isArray(e['logTail']) ? (e['logTail'] as string[]) : undefined;
  const full = error instanceof Error ? error.message : String(error);
  const hint = str('hint');
  const shortMessage = shortMessageOf(full, hint);
  const out: ErrorJson = { code: errorCode(error) ?? null, message: shortMessage, class: policy.class, retryable: policy.retryable };
  if (hint) out.hint = hint;
  for (const k of ['promptId', 'nodeId', 'classType'] as const) {
    const v = str(k);
    if (v !== undefined) out[k] = v;
  }
  if (Object.keys(details).length) out.details = details;
  if (logTail?.length) out.logTail = logTail;
  return out;
}

/** The message without the hint and without embedded log lines. */
function shortMessageOf(message: string, hint: string | undefined): string {
  let m = hint && message.endsWith(`\n${hint}`) ? message.slice(0, -hint.length - 1) : message;
  const logAt = m.indexOf('\nLast log lines:');
  if (logAt >= 0) m = m.slice(0, logAt);
  return m;
}

/** An ErrorJson back into a ComfyError, so a producer can throw what a worker's run threw. */
export function errorFromJson(json: ErrorJson): ComfyError {
  const err = new ComfyError(json.code ?? 'COMFY_UNEXPECTED', json.message, json.hint ? { hint: json.hint } : {});
  Object.assign(err, { retryable: json.retryable, class: json.class });
  for (const k of ['promptId', 'nodeId', 'classType'] as const) if (json[k] !== undefined) Object.assign(err, { [k]: json[k] });
  if (json.details) Object.assign(err, json.details);
  if (json.logTail) Object.assign(err, { logTail: json.logTail });
  return err;
}
