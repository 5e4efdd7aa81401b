import { access, constants } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from './usage-error.js';

/** Fails before any server starts when a named file is missing: a typo should cost no boot. */
export async function checkReadable(files: readonly string[], cwd: string, what: string): Promise<void> {
  for (const file of files) {
    try {
      await access(resolve(cwd, file), constants.R_OK);
    } catch {
      throw new UsageError(`${what} ${JSON.stringify(file)} does not exist or cannot be read.`);
    }
  }
}
