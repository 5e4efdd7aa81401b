#!/usr/bin/env node
import { EXIT } from './exit-codes.js';
import { runCli } from './program.js';
import { Session } from './session.js';

/**
 * The `comfy-connector` executable. The only place that touches process signals and exits:
 * first Ctrl-C/SIGTERM cancels the running prompt and stops the server cleanly (the command then
 * returns 130/143); a second one kills the server without waiting for the cancel and exits at once.
 */
const session = new Session();
session.announcer = (text) => void process.stderr.write(`\n${text}\n`);

function onSignal(signal: NodeJS.Signals): void {
  if (session.interrupt(signal) === 'first') {
    session.announce(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: cancelling and stopping ComfyUI… (again to force)`);
    return;
  }
  const code = signal === 'SIGTERM' ? EXIT.terminated : EXIT.cancelled;
  session.forceClose().then(
    () => process.exit(code),
    () => process.exit(code),
  );
}
process.on('SIGINT', onSignal);
// A forced exit skips the live display's cleanup; never leave the user's terminal without a cursor.
process.on('exit', () => {
  if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\x1b[?7h'); // cursor on, autowrap on
});
process.on('SIGTERM', onSignal);

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  session,
});
process.exit(code);
