// Starts the service over real parts for a test: a private redis-server (the fleet's helper), the
// fleet's producer, the HTTP service on a free loopback port. stop() leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { ComfyQueue } from '../../src/queue/producer.js';
import type { OutputStore } from '../../src/stores/types.js';
import { buildService, type Service, type ServiceOptions } from '../../src/service/app.js';
import { QueueBackend } from '../../src/service/queue-backend.js';
import { redisOptions } from '../../src/service/redis-connection.js';
import { newWebhookSecret } from '../../src/service/webhooks/sign.js';
import { startRedis, uniqueQueueName, type RedisServer } from '../helpers/redis.js';

export const ADMIN_KEY = `admin-${randomBytes(12).toString('hex')}`;
export const ALICE_KEY = `alice-${randomBytes(12).toString('hex')}`;
export const BOB_KEY = `bob-${randomBytes(12).toString('hex')}`;

export interface Api {
  url: string;
  redis: RedisServer;
  queue: ComfyQueue;
  queueName: string;
  prefix: string;
  service: Service;
  secret: string;
  /** fetch against the service with a key (default: alice's). */
  call(path: string, init?: RequestInit & { key?: string | null; json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startApi(options: { redis?: RedisServer; store?: OutputStore; service?: Partial<ServiceOptions> } = {}): Promise<Api> {
  const ownRedis = !options.redis;
  const redis = options.redis ?? (await startRedis());
  const queueName = uniqueQueueName('api');
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const queue = new ComfyQueue({ redis: redis.url, queue: queueName, prefix });
  const secret = newWebhookSecret();
  const service = await buildService({
    backend: new QueueBackend(queue, { store: options.store }),
    auth: [
      { name: 'ops', key: ADMIN_KEY, admin: true },
      { name: 'alice', key: ALICE_KEY, admin: false },
      { name: 'bob', key: BOB_KEY, admin: false },
    ],
    webhooks: { connection: redisOptions(redis.url), prefix, secret, allowPrivate: true, attempts: 5, backoffMs: 200 },
    limits: { bodyBytes: 256 * 1024, waitSeconds: 60 },
    ...options.service,
  });
  const url = await service.app.listen({ host: '127.0.0.1', port: 0 });
  const call: Api['call'] = (path, init = {}) => {
    const { key = ALICE_KEY, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (key) headers.set('authorization', `Bearer ${key}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${url}${path}`, { ...rest, headers, ...(json !== undefined ? { method: rest.method ?? 'POST', body: JSON.stringify(json) } : {}) });
  };
  return {
    url, redis, queue, queueName, prefix, service, secret, call,
    async stop() {
      await service.close();
      await queue.close();
      if (ownRedis) await redis.stop();
    },
  };
}

/** A prompt the stand-in and ComfyUI both run in milliseconds; `color` makes it unique (no cache). */
export function tinyPrompt(color: number, prefix = 'api'): Record<string, unknown> {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } },
    '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
  };
}
