import { ComfyError } from '../errors.js';

/** The command line itself is wrong (malformed --set, missing file, bad number): exit code 2. */
export class UsageError extends ComfyError {
  constructor(message: string, hint?: string) {
    super('COMFY_CLI_USAGE', message, hint ? { hint } : {});
  }
}
