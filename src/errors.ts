/**
 * Every error comfy-connector throws is a ComfyError with a stable `code`.
 * Match on `code`, not on the class or the message: messages may improve, codes stay.
 * Each message says what failed and what to do about it; `hint` holds the "what to do" part alone.
 */
export interface ComfyErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class ComfyError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: ComfyErrorOptions = {}) {
    super(options.hint ? `${message}\n${options.hint}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** What a dying ComfyUI process leaves behind for diagnosis. */
export interface ProcessExitInfo {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines ComfyUI printed (stdout and stderr interleaved), oldest first. */
  logTail: string[];
}

function tailText(logTail: string[]): string {
  return logTail.length ? `\nLast log lines:\n  ${logTail.slice(-15).join('\n  ')}` : '';
}

function exitText(info: ProcessExitInfo): string {
  return info.signal ? `was killed by ${info.signal}` : `exited with code ${info.exitCode}`;
}

// ---------------------------------------------------------------- server lifecycle

/** The ComfyUI folder is missing or has no main.py. */
export class ComfyNotFoundError extends ComfyError {
  constructor(
    readonly path: string | undefined,
    detail: string,
    hint = 'Pass comfyuiPath (CLI: --comfyui DIR) or set COMFYUI_PATH to a ComfyUI checkout that contains main.py.',
  ) {
    super('COMFY_NOT_FOUND', `ComfyUI was not found${path ? ` at ${path}` : ''}: ${detail}`, { hint });
  }
}

/** The Python interpreter cannot run ComfyUI (missing, or torch does not import). */
export class PythonNotUsableError extends ComfyError {
  constructor(readonly python: string, detail: string) {
    super('COMFY_PYTHON_UNUSABLE', `The Python interpreter ${python} cannot run ComfyUI: ${detail}`, {
      hint: 'Pass python (CLI: --python) or set COMFYUI_PYTHON to the interpreter of the environment where ComfyUI\'s requirements (torch first) are installed.',
    });
  }
}

/** ComfyUI exited before it was ready. */
export class ServerStartError extends ComfyError implements ProcessExitInfo {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly logTail: string[];
  constructor(info: ProcessExitInfo, hint = 'Read the log lines above; run the same command by hand to see the whole output.') {
    super('COMFY_START_FAILED', `ComfyUI ${exitText(info)} before it was ready.${tailText(info.logTail)}`, { hint });
    this.exitCode = info.exitCode;
    this.signal = info.signal;
    this.logTail = info.logTail;
  }
}

/** ComfyUI rejected its command line (exit code 2). */
export class BadArgumentsError extends ComfyError {
  constructor(readonly args: string[], readonly logTail: string[]) {
    super('COMFY_BAD_ARGUMENTS', `ComfyUI rejected its command line (exit code 2): ${args.join(' ')}${tailText(logTail)}`, {
      hint: 'Remove or fix the flag the log names in extraArgs (CLI: --arg); `python main.py --help` lists the flags this ComfyUI knows.',
    });
  }
}

/** The port the user fixed is taken (our own choice of port is retried instead). */
export class PortInUseError extends ComfyError {
  constructor(readonly port: number, readonly host: string) {
    super('COMFY_PORT_IN_USE', `Port ${port} on ${host} is already in use.`, {
      hint: 'Leave port unset so comfy-connector picks a free one, or stop whatever listens there.',
    });
  }
}

/** ComfyUI did not become ready in time. */
export class StartTimeoutError extends ComfyError {
  constructor(readonly timeoutMs: number, readonly logTail: string[]) {
    super('COMFY_START_TIMEOUT', `ComfyUI was not ready after ${Math.round(timeoutMs / 1000)} s; it was stopped.${tailText(logTail)}`, {
      hint: 'Raise startTimeout (CLI: --start-timeout) if the log shows it was still loading (custom nodes can take minutes), otherwise fix what the log shows.',
    });
  }
}

/** The managed ComfyUI died while it was serving. */
export class ServerCrashedError extends ComfyError implements ProcessExitInfo {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly logTail: string[];
  constructor(info: ProcessExitInfo) {
    super('COMFY_SERVER_CRASHED', `ComfyUI ${exitText(info)} while it was serving.${tailText(info.logTail)}`, {
      hint: 'Check the log lines for the cause (often out of memory); enable restart: "on-crash" to bring a new server up for the next call.',
    });
    this.exitCode = info.exitCode;
    this.signal = info.signal;
    this.logTail = info.logTail;
  }
}

/** The process lives but its prompt worker stopped draining the queue. */
export class WorkerStalledError extends ComfyError {
  constructor(readonly stalledMs: number) {
    super('COMFY_WORKER_STALLED', `ComfyUI accepts prompts but has not executed any for ${Math.round(stalledMs / 1000)} s: its worker thread has probably died.`, {
      hint: 'Restart the server (killApi() then create()); the log shows the exception that killed the worker.',
    });
  }
}

/** The connector was closed with killApi(). */
export class ConnectorClosedError extends ComfyError {
  constructor(what = 'This connector') {
    super('COMFY_CLOSED', `${what} was closed with killApi().`, {
      hint: 'Call ComfyConnector.create() (or connect()) again for a new one.',
    });
  }
}

// ---------------------------------------------------------------- protocol and runs

/** An HTTP call to ComfyUI answered with an unexpected status. */
export class HttpError extends ComfyError {
  constructor(readonly method: string, readonly url: string, readonly status: number, readonly body: string, hint?: string) {
    super('COMFY_HTTP', `${method} ${url} answered ${status}${body ? `: ${body.slice(0, 500)}` : ''}`, {
      hint: hint ?? 'Check that the URL points to a ComfyUI server and that it is healthy (GET /system_stats).',
    });
  }
}

/** ComfyUI could not be reached, or the connection dropped and did not come back. */
export class ConnectionLostError extends ComfyError {
  constructor(readonly url: string, detail: string, cause?: unknown) {
    super('COMFY_CONNECTION_LOST', `Lost the connection to ComfyUI at ${url}: ${detail}`, {
      hint: 'Check that the server is running and reachable; a managed server that died reports COMFY_SERVER_CRASHED instead.',
      cause,
    });
  }
}

/** One validation failure of one node input, as ComfyUI reports it. */
export interface NodeValidationIssue {
  nodeId: string;
  classType: string | undefined;
  type: string;
  message: string;
  details: string;
  inputName: string | undefined;
  receivedValue: unknown;
}

/** ComfyUI rejected the prompt (HTTP 400), or some outputs failed validation. */
export class ValidationError extends ComfyError {
  constructor(
    readonly errorType: string,
    readonly serverMessage: string,
    readonly issues: NodeValidationIssue[],
    readonly body: unknown,
  ) {
    const lines = issues.map(
      (i) => `  node ${i.nodeId}${i.classType ? ` (${i.classType})` : ''}${i.inputName ? ` input "${i.inputName}"` : ''}: ${i.message}${i.details ? ` - ${i.details}` : ''}${i.receivedValue !== undefined ? ` (got ${JSON.stringify(i.receivedValue)})` : ''}`,
    );
    super('COMFY_VALIDATION', `ComfyUI rejected the prompt (${errorType}): ${serverMessage}${lines.length ? `\n${lines.join('\n')}` : ''}`, {
      hint: 'Fix the named inputs (a value outside the allowed range or list, a missing link, a node type the server lacks) and run again.',
    });
  }
}

/** A node raised while the prompt executed. */
export class ExecutionError extends ComfyError {
  constructor(
    readonly promptId: string,
    readonly nodeId: string,
    readonly classType: string,
    readonly exceptionType: string,
    readonly exceptionMessage: string,
    readonly traceback: string[],
    readonly data: unknown,
  ) {
    super('COMFY_EXECUTION', `Node ${nodeId} (${classType}) failed: ${exceptionType}: ${exceptionMessage.trim()}`, {
      hint: 'Check that node\'s inputs and the models it loads; the traceback property has the Python stack.',
    });
  }
}

/** The prompt was interrupted by someone else (not by our own cancel). */
export class InterruptedError extends ComfyError {
  constructor(readonly promptId: string, readonly nodeId: string | undefined, readonly classType: string | undefined) {
    super('COMFY_INTERRUPTED', `Prompt ${promptId} was interrupted${nodeId ? ` at node ${nodeId}${classType ? ` (${classType})` : ''}` : ''}.`, {
      hint: 'Another client or the UI pressed cancel; run it again if that was not intended.',
    });
  }
}

/** Our own cancellation (AbortSignal, CLI Ctrl-C) took effect. */
export class CancelledError extends ComfyError {
  constructor(readonly promptId: string | undefined, readonly stage: 'before-queue' | 'queued' | 'running', cause?: unknown) {
    super('COMFY_CANCELLED', `The run${promptId ? ` of prompt ${promptId}` : ''} was cancelled while ${stage === 'before-queue' ? 'being submitted' : stage}.`, { cause });
  }
}

/** The run did not finish within its timeout; it was cancelled on the server. */
export class RunTimeoutError extends ComfyError {
  constructor(readonly promptId: string | undefined, readonly timeoutMs: number) {
    super('COMFY_TIMEOUT', `The run${promptId ? ` of prompt ${promptId}` : ''} did not finish within ${timeoutMs} ms and was cancelled.`, {
      hint: 'Raise timeout if the workflow is legitimately slow.',
    });
  }
}

// ---------------------------------------------------------------- workflows

/** The input is not a usable workflow or prompt; names the node where known. */
export class InvalidWorkflowError extends ComfyError {
  constructor(message: string, readonly nodeId?: string, hint?: string) {
    super('COMFY_INVALID_WORKFLOW', nodeId !== undefined ? `Node ${nodeId}: ${message}` : message, {
      hint: hint ?? 'Export the workflow again from ComfyUI (Workflow > Export, or Export (API) for a prompt).',
    });
  }
}

/** The workflow uses a node type the server does not have. */
export class UnknownNodeTypeError extends ComfyError {
  constructor(readonly nodeId: string, readonly classType: string, readonly pack?: string) {
    super('COMFY_UNKNOWN_NODE_TYPE', `Node ${nodeId} is of type "${classType}", which this ComfyUI does not have.`, {
      hint: pack
        ? `Install the custom node pack that provides it (${pack}) and restart ComfyUI.`
        : 'Install the custom node pack that provides it and restart ComfyUI (ComfyUI-Manager can find it by node type).',
    });
  }
}

/** An override or inline input names a node or input that does not exist. */
export class OverrideError extends ComfyError {
  constructor(readonly key: string, detail: string) {
    super('COMFY_BAD_OVERRIDE', `Cannot apply "${key}": ${detail}`, {
      hint: 'Use "<node id or title>.<input name>", e.g. "KSampler.seed" or "6.text"; titles must be unique.',
    });
  }
}

/** The browser conversion path failed. */
export class BrowserError extends ComfyError {
  constructor(detail: string, cause?: unknown) {
    super('COMFY_BROWSER', `Browser conversion failed: ${detail}`, {
      hint: 'Install Debian\'s chromium (apt-get install -y chromium) or pass browserPath; the native converter needs no browser.',
      cause,
    });
  }
}

// ---------------------------------------------------------------- assets

/** A name or subfolder would escape its folder. Nothing was written. */
export class UnsafePathError extends ComfyError {
  constructor(readonly value: string, reason: string) {
    super('COMFY_UNSAFE_PATH', `Refused the path ${JSON.stringify(value)}: ${reason}. Nothing was written.`, {
      hint: 'Use a plain file name and a relative subfolder without "..", absolute paths, backslashes or NUL bytes.',
    });
  }
}

/** An upload failed. */
export class UploadError extends ComfyError {
  constructor(readonly item: string, detail: string, cause?: unknown) {
    super('COMFY_UPLOAD', `Upload of ${item} failed: ${detail}`, { cause });
  }
}

/** The destination folder key is unknown to this server. */
export class UnknownFolderError extends ComfyError {
  constructor(readonly folder: string, readonly known: string[]) {
    super('COMFY_UNKNOWN_FOLDER', `"${folder}" is not a model folder of this ComfyUI.`, {
      hint: `Use one of: ${known.join(', ')}.`,
    });
  }
}

/** The operation needs the server's filesystem, which a remote connection does not have. */
export class RemoteUnsupportedError extends ComfyError {
  constructor(what: string) {
    super('COMFY_REMOTE_UNSUPPORTED', `${what} is not possible on a remote ComfyUI (connect()): this connector does not manage its filesystem.`, {
      hint: 'Images and masks can be uploaded to input, temp or output; put model files on that server by other means, or use create() for a managed server.',
    });
  }
}

/** A local file the caller named (workflow, input, upload source, definitions, extra_model_paths) cannot be read. */
export class FileNotReadableError extends ComfyError {
  constructor(readonly file: string, readonly role: string, detail: string, cause?: unknown) {
    super('COMFY_FILE_UNREADABLE', `The ${role} file ${JSON.stringify(file)} ${detail}.`, {
      hint: 'Check the path (relative paths are read from the current folder) and that this user may read the file.',
      cause,
    });
  }

  /** The typed form of a failed read (ENOENT, EACCES, EISDIR, ...) of `file`. */
  static from(file: string, role: string, error: unknown): FileNotReadableError {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const detail =
      code === 'ENOENT' ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)'
      : code === 'EISDIR' ? 'is a folder, not a file'
      : `cannot be read: ${(error as Error | undefined)?.message ?? String(error)}`;
    return new FileNotReadableError(file, role, detail, error);
  }
}

// ---------------------------------------------------------------- sources (URLs), model cache, output stores
// `url` is always shown without credentials (user:password@, query tokens are kept: they are the
// caller's to give; src/sources/redact.ts strips what it knows to be secret).

/** A URL was refused by the fetch policy (scheme, private address, redirect) before any byte was read. */
export class SourceRefusedError extends ComfyError {
  constructor(readonly url: string, reason: string, hint?: string) {
    super('COMFY_SOURCE_REFUSED', `Refused to fetch ${url}: ${reason}.`, {
      hint: hint ?? 'Only http://, https:// and s3:// URLs to public addresses are fetched; allow private addresses with allowPrivateNetwork (CLI: --allow-private-urls) when the source is on your own network.',
    });
  }
}

/** The source answered with an HTTP status other than success. */
export class SourceHttpError extends ComfyError {
  constructor(readonly url: string, readonly status: number, hint?: string) {
    super('COMFY_SOURCE_HTTP', `Fetching ${url} answered HTTP ${status}.`, {
      hint: hint ?? (status === 404 || status === 410 ? 'Check the URL: the file is not there.' : 'Check the URL and that the server is healthy; retry later for a 5xx.'),
    });
  }
}

/** The source refused our credentials (HTTP 401/403, S3 AccessDenied). */
export class SourceAccessDeniedError extends ComfyError {
  constructor(readonly url: string, detail: string) {
    super('COMFY_SOURCE_DENIED', `Access to ${url} was denied: ${detail}.`, {
      hint: 'Give credentials for that host (options.credentials, or COMFY_CONNECTOR_AUTH_<HOST> / AWS_ACCESS_KEY_ID for s3://) or check that they allow reading it.',
    });
  }
}

/** The host could not be reached, or the transfer stalled, after the allowed retries. */
export class SourceUnreachableError extends ComfyError {
  constructor(readonly url: string, detail: string, cause?: unknown) {
    super('COMFY_SOURCE_UNREACHABLE', `Could not fetch ${url}: ${detail}.`, {
      hint: 'Check the host name and that the server is up and reachable from this machine; raise connectTimeout/idleTimeout for slow servers.',
      cause,
    });
  }
}

/** The body is larger than the size limit; the partial file was removed. */
export class SourceTooLargeError extends ComfyError {
  constructor(readonly url: string, readonly limit: number, readonly size?: number) {
    super('COMFY_SOURCE_TOO_LARGE', `${url} is larger than the limit of ${limit} bytes${size !== undefined ? ` (${size} bytes)` : ''}; nothing was kept.`, {
      hint: 'Raise maxBytes (CLI: --max-bytes) if the file is expected to be this large.',
    });
  }
}

/** The downloaded bytes do not have the sha256 the caller gave; nothing was kept. */
export class HashMismatchError extends ComfyError {
  constructor(readonly url: string, readonly expected: string, readonly actual: string) {
    super('COMFY_HASH_MISMATCH', `${url} has sha256 ${actual}, not the expected ${expected}; the file was discarded.`, {
      hint: 'Check the sha256 you gave (it must be of the exact file), or whether the URL now serves another version.',
    });
  }
}

/** The model cache cannot make room: every file it could evict is in use by a running prompt. */
export class CacheFullError extends ComfyError {
  constructor(readonly url: string, readonly needed: number, readonly limit: number) {
    super('COMFY_CACHE_FULL', `The model cache cannot hold ${url} (${needed} bytes; limit ${limit} bytes): the rest is in use.`, {
      hint: 'Raise the cache size limit (cacheMaxBytes) or wait for running prompts to finish.',
    });
  }
}

/** The object is not in the output store. */
export class StoreNotFoundError extends ComfyError {
  constructor(readonly key: string, readonly store: string) {
    super('COMFY_STORE_NOT_FOUND', `No object "${key}" in ${store}.`, {
      hint: 'Check the key (the run result lists each output\'s key) and that you read the same store it was written to.',
    });
  }
}

/** The output store refused our credentials or the operation (S3 AccessDenied, folder EACCES). */
export class StoreAccessDeniedError extends ComfyError {
  constructor(readonly key: string, readonly store: string, detail: string) {
    super('COMFY_STORE_DENIED', `Access to "${key}" in ${store} was denied: ${detail}.`, {
      hint: 'Check the store credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the store options) and that they may read and write that bucket or folder.',
    });
  }
}

/** Any other failure of the output store (unreachable endpoint, missing bucket, disk full). */
export class StoreError extends ComfyError {
  constructor(readonly key: string, readonly store: string, detail: string, cause?: unknown) {
    super('COMFY_STORE', `Output store ${store} failed on "${key}": ${detail}.`, {
      hint: 'Check that the store is reachable and the bucket or folder exists.',
      cause,
    });
  }
}
