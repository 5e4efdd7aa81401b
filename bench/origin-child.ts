// The benchmark's HTTP origin in a process of its own, so the downloader under test does not share
// its event loop (and CPU time) with the server, as curl does not. Prints the file's URL; exits when
// stdin closes.
import { startOrigin } from '../test/helpers/http-origin.js';

const [path] = process.argv.slice(2);
const origin = await startOrigin();
process.stdout.write(`${origin.add('model.safetensors', { path: path! })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void origin.stop().then(() => process.exit(0)));
