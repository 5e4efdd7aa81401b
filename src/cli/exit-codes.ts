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
  1    unexpected error (a bug, or an error without a comfy-connector code); also COMFY_BROWSER
       (browser conversion failed) and COMFY_JOB_FAILED (a fleet job failed without a known code)
  2    usage: unknown option, missing argument, malformed --set/--input/--header, missing file:
       COMFY_CLI_USAGE, COMFY_FILE_UNREADABLE; fleet: COMFY_JOB_NOT_FOUND, COMFY_BAD_JOB_ID, COMFY_WORKER_OPTIONS;
       service: COMFY_API_BAD_REQUEST, COMFY_API_UNAUTHORIZED, COMFY_API_FORBIDDEN,
       COMFY_API_JOB_NOT_FOUND, COMFY_API_ROUTE_NOT_FOUND, COMFY_API_IDEMPOTENCY_CONFLICT,
       COMFY_API_JOB_FINISHED, COMFY_API_TOO_LARGE, COMFY_API_UNSUPPORTED_MEDIA_TYPE
  3    validation: COMFY_VALIDATION, COMFY_BAD_OVERRIDE, COMFY_INVALID_WORKFLOW, COMFY_UNKNOWN_NODE_TYPE,
       COMFY_BAD_JOB_INPUT, COMFY_OUTPUT_CONVERT
  4    execution: COMFY_EXECUTION, COMFY_INTERRUPTED
  5    timeout: COMFY_TIMEOUT, COMFY_DEADLINE_EXCEEDED
  6    server failed to start or died: COMFY_START_*, COMFY_NOT_FOUND, COMFY_PYTHON_UNUSABLE,
       COMFY_BAD_ARGUMENTS, COMFY_PORT_IN_USE, COMFY_SERVER_CRASHED, COMFY_CONNECTION_LOST,
       COMFY_WORKER_STALLED, COMFY_CLOSED, COMFY_HTTP; fleet: COMFY_REDIS_NOT_INSTALLED,
       COMFY_REDIS_START_FAILED, COMFY_LOCK_LOST, COMFY_OUTPUT_STORE; service: COMFY_API_NOT_READY,
       COMFY_API_QUEUE_FULL
  7    upload, path, source or store: COMFY_UPLOAD, COMFY_UNSAFE_PATH, COMFY_UNKNOWN_FOLDER,
       COMFY_REMOTE_UNSUPPORTED, COMFY_SOURCE_REFUSED, COMFY_SOURCE_HTTP, COMFY_SOURCE_DENIED,
       COMFY_SOURCE_UNREACHABLE, COMFY_SOURCE_TOO_LARGE, COMFY_HASH_MISMATCH, COMFY_CACHE_FULL,
       COMFY_STORE_NOT_FOUND, COMFY_STORE_DENIED, COMFY_STORE
  130  cancelled by Ctrl-C (SIGINT): COMFY_CANCELLED, COMFY_JOB_CANCELLED
  143  stopped by SIGTERM
A batch (several files, --repeat) goes on after a failed item and exits with the highest code.`;
