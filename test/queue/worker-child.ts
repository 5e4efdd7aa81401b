// A worker process for the fleet tests: FLEET_CHILD='{"redis","queue","store","base","servers","id"}'.
// Prints one JSON line when ready (its servers' pids); SIGTERM drains and exits 0.
import { ComfyWorker } from '../../src/queue/index.js';
import { FolderStore } from '../../src/stores/index.js';
import { STANDIN_COMMAND, TEST_NODES_CONFIG } from '../connector/harness.js';
import { FAST } from './fixtures.js';

const config = JSON.parse(process.env.FLEET_CHILD ?? '{}') as { redis: string; queue: string; store: string; base: string; servers: number; id: string };
const worker = await ComfyWorker.start({
  ...FAST,
  id: config.id,
  redis: config.redis,
  queue: config.queue,
  store: new FolderStore(config.store),
  servers: Array.from({ length: config.servers }, () => ({
    command: STANDIN_COMMAND,
    extraModelPaths: [TEST_NODES_CONFIG],
    startTimeout: 120_000,
    extraArgs: ['--base-directory', config.base],
  })),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify({ id: worker.id, pids: worker.slots.map((s) => s.connector.server?.pid), dirs: worker.slots.map((s) => s.connector.server?.paths.instanceDirectory) })}\n`);
process.once('SIGTERM', () => {
  void worker.close({ drainTimeoutMs: 20_000 }).then(() => process.exit(0));
});
