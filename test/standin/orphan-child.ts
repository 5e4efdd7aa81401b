// Child of orphans.test.ts: starts a stand-in through the test helpers, prints its pid and the
// folder it runs in, then waits to be SIGKILLed (as a test run killed by Ctrl-C or a CI timeout).
import { startStandin } from '../helpers/targets.js';

const t = await startStandin();
process.stdout.write(`${JSON.stringify({ pid: t.child.pid, root: t.dirs.root })}\n`);
setInterval(() => {}, 1 << 30);
