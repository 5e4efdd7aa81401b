// Child process for the parent-SIGKILL tests: ComfyConnector.create(<options JSON>), optionally
// uploads ephemeral files through the facade, prints one JSON line with its pids, then waits to be
// SIGKILLed. argv: <CreateOptions JSON> [<UploadItem[] JSON, Buffer sources given as strings>]
import { ComfyConnector, type CreateOptions } from '../../src/connector.js';
import type { UploadItem } from '../../src/assets/index.js';

const options = JSON.parse(process.argv[2] as string) as CreateOptions;
const uploads = JSON.parse(process.argv[3] ?? '[]') as Array<Omit<UploadItem, 'source'> & { source: string }>;
const connector = await ComfyConnector.create(options);
const uploaded = uploads.length
  ? await connector.uploadData(uploads.map((u) => ({ ...u, source: Buffer.from(u.source) })))
  : [];
process.stdout.write(`${JSON.stringify({
  node: process.pid,
  comfy: connector.server?.pid,
  group: connector.server?.pgid,
  watchdog: connector.server?.watchdogPid,
  instance: connector.server?.paths.instanceDirectory,
  paths: uploaded.map((u) => u.path),
})}\n`);
setInterval(() => {}, 1000); // stay alive until killed
