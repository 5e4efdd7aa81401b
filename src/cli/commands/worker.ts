import { resolve } from 'node:path';
import { checkPlanFiles, connectionPlan, type ServerFlags } from '../connection.js';
import { EXIT } from '../exit-codes.js';
import { parseCount, parsePort, parseSeconds } from '../parse-options.js';
import { UsageError } from '../usage-error.js';
import type { CliContext } from './context.js';
import { noticeWriter } from './notice.js';
import { redisUrl, type QueueFlags } from './submit.js';

export interface WorkerFlags extends QueueFlags, Omit<ServerFlags, 'url'> {
  servers?: string;
  gpus?: string;
  url?: string[];
  store?: string;
  metricsPort?: string;
  drainTimeout?: string;
  lockDuration?: string;
  stalledInterval?: string;
  json?: boolean;
  startMode?: 'fork' | 'cold';
  isolation?: 'none' | 'job';
}

/**
 * `worker`: starts N managed ComfyUI servers (one per --gpus index, or --servers N) or attaches to
 * running ones (--url, repeatable), takes jobs from the queue until SIGINT/SIGTERM, then drains:
 * no new jobs, running ones finish (or are handed back after --drain-timeout), every server stops.
 */
export async function workerCommand(flags: WorkerFlags, ctx: CliContext): Promise<number> {
  if (!flags.store) throw new UsageError('worker needs --store DIR: outputs go to a store, never through Redis.', 'For example --store /mnt/shared/comfy-outputs');
  if (flags.gpus !== undefined && flags.servers !== undefined) throw new UsageError('--gpus and --servers both say how many servers to start; give one.');
  const attach = flags.url ?? [];
  const notice = noticeWriter(ctx);
  const { url: _url, ...managedFlags } = flags;
  const servers: Array<Record<string, unknown>> = attach.map((url) => ({ url }));
  if (!attach.length || flags.servers !== undefined || flags.gpus !== undefined) {
    const plan = connectionPlan(managedFlags as ServerFlags, ctx.env, ctx.cwd);
    await checkPlanFiles(plan, ctx.cwd);
    if (plan.mode !== 'managed') throw new UsageError('worker: use --url for running servers.');
    const base = { ...plan.options, logs: 'silent' as const };
    if (flags.gpus !== undefined) {
      const gpus = flags.gpus.split(',').map((g) => {
        if (!/^\s*\d+\s*$/.test(g)) throw new UsageError(`--gpus ${JSON.stringify(flags.gpus)} is not a list of GPU indexes.`, 'For example --gpus 0,1');
        return Number(g);
      });
      for (const gpu of gpus) servers.push({ ...base, cudaDevice: gpu, device: 'gpu' });
    } else {
      const n = parseCount(flags.servers ?? '1', '--servers');
      for (let i = 0; i < n; i++) servers.push({ ...base });
    }
  }
  const { ComfyWorker } = await import('../../queue/index.js');
  const { FolderStore } = await import('../../stores/index.js');
  const log = flags.json
    ? (line: string) => void ctx.stdout.write(`${JSON.stringify({ type: 'log', at: Date.now(), message: line })}\n`)
    : (line: string) => notice(line);
  notice(`starting ${servers.length} server(s)…`);
  const worker = await ComfyWorker.start({
    redis: redisUrl(flags, ctx.env),
    ...(flags.queue ? { queue: flags.queue } : {}),
    ...(flags.prefix ? { prefix: flags.prefix } : {}),
    store: new FolderStore(resolve(ctx.cwd, flags.store)),
    servers: servers as never,
    log,
    ...(flags.metricsPort !== undefined ? { metricsPort: parsePort(flags.metricsPort) } : {}),
    ...(flags.lockDuration !== undefined ? { lockDurationMs: parseSeconds(flags.lockDuration, '--lock-duration') } : {}),
    ...(flags.stalledInterval !== undefined ? { stalledIntervalMs: parseSeconds(flags.stalledInterval, '--stalled-interval') } : {}),
    ...(flags.startMode ? { startMode: flags.startMode } : {}),
    ...(flags.isolation ? { isolation: flags.isolation } : {}),
  });
  const ready = { type: 'ready', worker: worker.id, servers: worker.slots.map((s) => ({ name: s.name, url: s.connector.url })), ...(worker.metrics.port ? { metricsPort: worker.metrics.port } : {}) };
  if (flags.json) ctx.stdout.write(`${JSON.stringify(ready)}\n`);
  else ctx.stdout.write(`worker ${worker.id} ready: ${ready.servers.map((s) => s.url).join(' ')}${worker.metrics.port ? ` metrics :${worker.metrics.port}` : ''}\n`);
  const signal = await ctx.session.waitForSignal();
  notice(`${signal}: draining (no new jobs; running ones get ${flags.drainTimeout ?? 60} s)…`);
  await worker.close({ drainTimeoutMs: flags.drainTimeout !== undefined ? parseSeconds(flags.drainTimeout, '--drain-timeout') : 60_000 });
  return EXIT.ok;
}
