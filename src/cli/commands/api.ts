import { resolve } from 'node:path';
import type { ComfyConnector, CreateOptions } from '../facade-types.js';
import { connectionPlan } from '../connection.js';
import { EXIT } from '../exit-codes.js';
import { parseCount, parsePort, parseSeconds } from '../parse-options.js';
import { UsageError } from '../usage-error.js';
import type { CliContext } from './context.js';
import { noticeWriter } from './notice.js';

export interface ApiFlags {
  comfyui?: string;
  python?: string;
  arg?: string[];
  extraModelPaths?: string[];
  startTimeout?: string;
  gpus?: string;
  servers?: string;
  url?: string[];
  host: string;
  port: string;
  redis?: string;
  data?: string;
  store?: string;
  apiKey?: string[];
  auth: boolean;
  webhookSecret?: string;
  allowPrivateWebhooks?: boolean;
  bodyLimit?: string;
  maxQueueDepth?: string;
  cors?: string[];
  queue?: string;
  lockDuration?: string;
  redisFsync?: 'everysec' | 'always';
  startMode?: 'fork' | 'cold';
  isolation?: 'none' | 'job';
}

/** The ComfyUI servers of the in-process workers: one per GPU, N on CPU, or running ones by URL. */
export function serverSpecs(flags: ApiFlags, env: NodeJS.ProcessEnv): Array<CreateOptions | { url: string }> {
  if (flags.url?.length) {
    if (flags.comfyui || flags.gpus || flags.servers) throw new UsageError('--url attaches to running ComfyUI servers, so --comfyui, --gpus and --servers cannot apply.');
    return flags.url.map((url) => ({ url }));
  }
  const managed = flags.comfyui !== undefined || !!env.COMFYUI_PATH || !!env.COMFY_CONNECTOR_COMMAND;
  if (!managed) {
    if (flags.redis) return []; // a pure gateway in front of the fleet
    throw new UsageError('No ComfyUI to run jobs on.', 'Pass --comfyui DIR (or set COMFYUI_PATH), --url URL for a running ComfyUI, or --redis URL to be a gateway in front of `comfy-connector worker`s.');
  }
  const plan = connectionPlan({
    ...(flags.comfyui !== undefined ? { comfyui: flags.comfyui } : {}),
    ...(flags.python !== undefined ? { python: flags.python } : {}),
    ...(flags.arg ? { arg: flags.arg } : {}),
    ...(flags.extraModelPaths ? { extraModelPaths: flags.extraModelPaths } : {}),
    ...(flags.startTimeout !== undefined ? { startTimeout: flags.startTimeout } : {}),
  }, env);
  if (plan.mode !== 'managed') throw new UsageError('--comfyui starts managed servers.');
  if (flags.gpus !== undefined && flags.servers !== undefined) throw new UsageError('--gpus and --servers cannot be combined.', 'Use --gpus 0,1 (one server per GPU) or --servers N (N servers on the CPU).');
  if (flags.gpus !== undefined) {
    const devices = flags.gpus.split(',').map((d) => d.trim());
    if (!devices.length || devices.some((d) => !/^\d+$/.test(d))) throw new UsageError(`--gpus ${flags.gpus} is not a list of GPU indexes.`, 'For example --gpus 0,1');
    return devices.map((d) => ({ ...plan.options, device: 'gpu' as const, cudaDevice: Number(d) }));
  }
  const n = flags.servers !== undefined ? parseCount(flags.servers, '--servers') : 1;
  return Array.from({ length: n }, () => ({ ...plan.options }));
}

/**
 * `api`: the HTTP job service. Prints its URL on stdout once it listens, and serves until Ctrl-C or
 * SIGTERM, then drains: no new requests, running jobs get 30 s, every server and the private Redis
 * stop (its AOF stays, so jobs accepted and not yet run are there at the next start).
 */
export async function apiCommand(flags: ApiFlags, ctx: CliContext, version: string): Promise<number> {
  const notice = noticeWriter(ctx);
  const servers = serverSpecs(flags, ctx.env);
  const { parseApiKeys } = await import('../../service/auth.js');
  let apiKeys;
  try {
    apiKeys = flags.auth === false ? ('disabled' as const) : parseApiKeys([...(flags.apiKey ?? []), ...(ctx.env.COMFY_CONNECTOR_API_KEYS ? [ctx.env.COMFY_CONNECTOR_API_KEYS] : [])]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (apiKeys !== 'disabled' && apiKeys.length === 0) {
    throw new UsageError('The service needs an API key.', 'Pass --api-key KEY (or NAME:KEY, NAME:KEY:admin; repeatable) or set COMFY_CONNECTOR_API_KEYS; on 127.0.0.1 only, --no-auth turns keys off.');
  }
  const { isLoopback, startService } = await import('../../service/start.js');
  if (apiKeys === 'disabled' && !isLoopback(flags.host)) throw new UsageError(`--no-auth is only allowed on a loopback address, not --host ${flags.host}.`);
  const mb = (text: string, option: string) => Math.round(parseSeconds(text, option) * 1024 * 1024);
  const { openStore } = await import('../../stores/open.js');
  let store;
  try {
    store = flags.store ? openStore(flags.store.startsWith('s3://') ? flags.store : resolve(ctx.cwd, flags.store)) : undefined;
  } catch (error) {
    throw new UsageError(`--store: ${(error as Error).message}`);
  }
  notice(servers.length ? `starting ${servers.length} ComfyUI server(s) and the service…` : `starting the gateway in front of ${flags.redis}…`);
  const running = await ctx.session.open(async () => {
    const svc = await startService({
      host: flags.host,
      port: parsePort(flags.port),
      ...(flags.redis ? { redis: flags.redis } : {}),
      ...(flags.data ? { dataDir: flags.data } : {}),
      ...(flags.redisFsync ? { fsync: flags.redisFsync } : {}),
      ...(flags.startMode ? { startMode: flags.startMode } : {}),
      ...(flags.isolation ? { isolation: flags.isolation } : {}),
      ...(store ? { store } : {}),
      servers,
      apiKeys,
      ...(flags.webhookSecret ?? ctx.env.COMFY_CONNECTOR_WEBHOOK_SECRET ? { webhookSecret: flags.webhookSecret ?? ctx.env.COMFY_CONNECTOR_WEBHOOK_SECRET! } : {}),
      ...(flags.allowPrivateWebhooks ? { allowPrivateWebhooks: true } : {}),
      limits: {
        ...(flags.bodyLimit ? { bodyBytes: mb(flags.bodyLimit, '--body-limit') } : {}),
        ...(flags.maxQueueDepth ? { queueDepth: parseCount(flags.maxQueueDepth, '--max-queue-depth') } : {}),
      },
      ...(flags.cors?.length ? { corsOrigins: flags.cors } : {}),
      ...(flags.queue ? { queue: flags.queue } : {}),
      ...(flags.lockDuration ? { lockDurationMs: parseSeconds(flags.lockDuration, '--lock-duration'), stalledIntervalMs: Math.max(500, parseSeconds(flags.lockDuration, '--lock-duration') / 2) } : {}),
      version,
      log: notice,
    });
    ctx.stdout.write(`${svc.url}\n`);
    notice(`serving on ${svc.url} (docs at ${svc.url}/docs); Ctrl-C or SIGTERM drains and stops`);
    // The session closes what it opened: give it the service's own shutdown as the "connector".
    return { killApi: () => svc.close(), url: svc.url, server: undefined } as unknown as ComfyConnector;
  });
  void running;
  if (!ctx.session.cancelled) await ctx.session.waitForSignal();
  notice('draining: no new requests; running jobs get 30 s…');
  await ctx.session.close();
  return EXIT.ok;
}
