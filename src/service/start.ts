import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ComfyQueue } from '../queue/producer.js';
import { RedisServer } from '../queue/redis-server.js';
import { ComfyWorker } from '../queue/worker.js';
import type { ServerSpec } from '../queue/servers.js';
import { FolderStore } from '../stores/folder-store.js';
import type { OutputStore } from '../stores/types.js';
import { buildService, type Service, type ServiceOptions } from './app.js';
import type { ApiKey } from './auth.js';
import type { Limits } from './context.js';
import { QueueBackend } from './queue-backend.js';
import { redisOptions } from './redis-connection.js';
import { newWebhookSecret } from './webhooks/sign.js';

export interface StartServiceOptions {
  host?: string;
  port?: number;
  /** A shared Redis. Absent: the embedded default, a private redis-server with AOF in dataDir. */
  redis?: string;
  /** The service's folder: the embedded Redis (AOF), outputs, the webhook secret. */
  dataDir?: string;
  /** ComfyUI servers for in-process workers (the fleet's ComfyWorker). Empty: a pure gateway. */
  servers?: ServerSpec[];
  /** Output store; default: a folder store in dataDir/outputs when this process runs workers. */
  store?: OutputStore;
  apiKeys: ApiKey[] | 'disabled';
  webhookSecret?: string;
  allowPrivateWebhooks?: boolean;
  /** First webhook retry delay, doubling (default 2 s). */
  webhookBackoffMs?: number;
  queue?: string;
  prefix?: string;
  limits?: Partial<Limits>;
  corsOrigins?: string[];
  /**
   * The private Redis' appendfsync. 'everysec' (default, Redis' own default): each write reaches the
   * AOF file before Redis answers, so an accepted job survives a crash or SIGKILL of the service and
   * of Redis; only a power loss or kernel crash can take the last second. 'always': every answer
   * waits for the disk (one fsync per write on the job's path; see docs/service.md, Durability).
   */
  fsync?: 'always' | 'everysec';
  /** The embedded worker's BullMQ lock; shorter means a killed service's jobs come back sooner. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** The in-process workers' server start (ComfyWorkerOptions.startMode; default 'fork'). */
  startMode?: 'fork' | 'cold';
  /** 'job': a fresh ComfyUI for every job (ComfyWorkerOptions.isolation; default 'none'). */
  isolation?: 'none' | 'job';
  version?: string;
  log?: (line: string) => void;
}

export interface RunningService {
  url: string;
  service: Service;
  queue: ComfyQueue;
  worker: ComfyWorker | undefined;
  redis: RedisServer | undefined;
  /** Stops taking requests, drains the workers (up to drainMs), stops the private Redis (data kept). */
  close(options?: { drainMs?: number }): Promise<void>;
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'comfy-connector', 'api');
}

export const isLoopback = (host: string) => host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');

/** The secret from the option, the environment, or a file in the data folder made once (0600). */
function webhookSecret(dataDir: string, given: string | undefined): string {
  if (given) return given;
  const file = join(dataDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = newWebhookSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/**
 * Starts the service: embedded (a private Redis with AOF plus in-process workers, the fleet's own
 * code path, so an accepted job survives a restart) or a gateway in front of a shared Redis.
 */
export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const host = options.host ?? '127.0.0.1';
  if (options.apiKeys === 'disabled' && !isLoopback(host)) {
    throw new Error(`API keys can only be disabled on a loopback address (not ${host}): pass --api-key, or bind 127.0.0.1.`);
  }
  if (options.apiKeys !== 'disabled' && options.apiKeys.length === 0) {
    throw new Error('The service needs at least one API key (--api-key or COMFY_CONNECTOR_API_KEYS), or --no-auth on a loopback address.');
  }
  const dataDir = options.dataDir ?? defaultDataDir();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const servers = options.servers ?? [];
  const cleanup: Array<() => Promise<unknown>> = [];
  const undo = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  try {
    let redis: RedisServer | undefined;
    if (!options.redis) {
      redis = await RedisServer.start({ dir: join(dataDir, 'redis'), extraArgs: ['--appendfsync', options.fsync ?? 'everysec'] });
      cleanup.push(() => redis!.stop({ keepData: true }));
    }
    const redisUrl = options.redis ?? redis!.url;
    const store = options.store ?? (servers.length ? new FolderStore(join(dataDir, 'outputs')) : undefined);
    const queueName = options.queue;
    const queue = new ComfyQueue({ redis: redisUrl, ...(queueName ? { queue: queueName } : {}), ...(options.prefix ? { prefix: options.prefix } : {}) });
    cleanup.push(() => queue.close());
    let worker: ComfyWorker | undefined;
    if (servers.length) {
      worker = await ComfyWorker.start({
        redis: redisUrl,
        ...(queueName ? { queue: queueName } : {}),
        ...(options.prefix ? { prefix: options.prefix } : {}),
        store: store!,
        servers,
        ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
        ...(options.stalledIntervalMs ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
        ...(options.startMode ? { startMode: options.startMode } : {}),
        ...(options.isolation ? { isolation: options.isolation } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
      const w = worker;
      cleanup.push(() => w.close({ drainTimeoutMs: 0 }));
    }
    const serviceOptions: ServiceOptions = {
      backend: new QueueBackend(queue, { store }),
      auth: options.apiKeys,
      webhooks: {
        connection: redisOptions(redisUrl),
        prefix: queue.prefix,
        secret: webhookSecret(dataDir, options.webhookSecret),
        allowPrivate: options.allowPrivateWebhooks ?? false,
        ...(options.webhookBackoffMs ? { backoffMs: options.webhookBackoffMs } : {}),
      },
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
      ...(options.version ? { version: options.version } : {}),
      ...(options.log ? { log: options.log } : {}),
    };
    const service = await buildService(serviceOptions);
    cleanup.push(() => service.close());
    const url = await service.app.listen({ host, port: options.port ?? 8080 });
    let closing: Promise<void> | undefined;
    return {
      url, service, queue, worker, redis,
      close: ({ drainMs = 30_000 } = {}) => (closing ??= (async () => {
        await service.close();
        await worker?.close({ drainTimeoutMs: drainMs });
        await queue.close();
        await redis?.stop({ keepData: true });
      })()),
    };
  } catch (error) {
    await undo();
    throw error;
  }
}
