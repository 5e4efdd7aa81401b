import type { TextStream } from '../progress/display.js';
import type { Session } from '../session.js';

/** What a command gets from main.ts instead of touching process.* itself (tests pass their own). */
export interface CliContext {
  stdout: TextStream;
  stderr: TextStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  session: Session;
}
