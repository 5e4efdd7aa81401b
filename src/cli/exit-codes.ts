import { errorCode, failurePolicy } from '../error-policy.js';

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

/** The exit code for an error: by its stable `code` (src/error-policy.ts); anything unforeseen is 1. */
export function exitCodeFor(error: unknown): ExitCode {
  return failurePolicy(error).exitCode as ExitCode;
}

/** Of several failures, the one the batch exits with: the highest code, so any failure shows. */
export function worstExitCode(codes: Iterable<number>): number {
  let worst: number = EXIT.ok;
  for (const code of codes) if (code > worst) worst = code;
  return worst;
}

export { errorCode };

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
