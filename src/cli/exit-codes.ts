import { ComfyError } from '../errors.js';

/**
 * The CLI's exit codes. Scripts branch on these, so they are part of the public contract:
 * documented in `--help`, docs/cli.md and the README. Mapped from the stable error `code`.
 */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  validation: 3,
  execution: 4,
  timeout: 5,
  server: 6,
  upload: 7,
  cancelled: 130,
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CODE: Record<string, ExitCode> = {
  COMFY_CLI_USAGE: EXIT.usage,
  COMFY_VALIDATION: EXIT.validation,
  COMFY_BAD_OVERRIDE: EXIT.validation,
  COMFY_INVALID_WORKFLOW: EXIT.validation,
  COMFY_UNKNOWN_NODE_TYPE: EXIT.validation,
  COMFY_EXECUTION: EXIT.execution,
  COMFY_INTERRUPTED: EXIT.execution,
  COMFY_TIMEOUT: EXIT.timeout,
  COMFY_NOT_FOUND: EXIT.server,
  COMFY_PYTHON_UNUSABLE: EXIT.server,
  COMFY_BAD_ARGUMENTS: EXIT.server,
  COMFY_PORT_IN_USE: EXIT.server,
  COMFY_SERVER_CRASHED: EXIT.server,
  COMFY_CONNECTION_LOST: EXIT.server,
  // A worker thread that stopped draining the queue is a dead server in all but name.
  COMFY_WORKER_STALLED: EXIT.server,
  COMFY_UPLOAD: EXIT.upload,
  COMFY_UNSAFE_PATH: EXIT.upload,
  COMFY_UNKNOWN_FOLDER: EXIT.upload,
  COMFY_REMOTE_UNSUPPORTED: EXIT.upload,
  COMFY_CANCELLED: EXIT.cancelled,
};

/** The exit code for an error: by its stable `code`; anything unforeseen is 1. */
export function exitCodeFor(error: unknown): ExitCode {
  const code = errorCode(error);
  if (code === undefined) return EXIT.unexpected;
  // Every start failure (COMFY_START_FAILED, COMFY_START_TIMEOUT, ...) means the server never served.
  if (code.startsWith('COMFY_START_')) return EXIT.server;
  return BY_CODE[code] ?? EXIT.unexpected;
}

/** Of several failures, the one the batch exits with: the highest code, so any failure shows. */
export function worstExitCode(codes: Iterable<number>): number {
  let worst: number = EXIT.ok;
  for (const code of codes) if (code > worst) worst = code;
  return worst;
}

export function errorCode(error: unknown): string | undefined {
  if (error instanceof ComfyError) return error.code;
  // Errors from a second copy of the library (or a plain object in JSON) still carry a code.
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string' && error.code.startsWith('COMFY_')) {
    return error.code;
  }
  return undefined;
}

/** The table printed after `--help` and copied into docs/cli.md and the README. */
export const EXIT_CODES_HELP = `Exit codes:
  0    success
  1    unexpected error (a bug, or an error without a comfy-connector code)
  2    usage: unknown option, missing argument, malformed --set/--input/--header, missing file
  3    validation: COMFY_VALIDATION, COMFY_BAD_OVERRIDE, COMFY_INVALID_WORKFLOW, COMFY_UNKNOWN_NODE_TYPE
  4    execution: COMFY_EXECUTION, COMFY_INTERRUPTED
  5    timeout: COMFY_TIMEOUT
  6    server failed to start or died: COMFY_START_*, COMFY_NOT_FOUND, COMFY_PYTHON_UNUSABLE,
       COMFY_BAD_ARGUMENTS, COMFY_PORT_IN_USE, COMFY_SERVER_CRASHED, COMFY_CONNECTION_LOST,
       COMFY_WORKER_STALLED
  7    upload or path: COMFY_UPLOAD, COMFY_UNSAFE_PATH, COMFY_UNKNOWN_FOLDER, COMFY_REMOTE_UNSUPPORTED
  130  cancelled by Ctrl-C (SIGINT)
  143  stopped by SIGTERM
A batch (several files, --repeat) goes on after a failed item and exits with the highest code.`;
