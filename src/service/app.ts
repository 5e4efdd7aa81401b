import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { RedisConnection } from './redis-connection.js';
import type { JobStatus } from '../queue/types.js';
import { Authenticator, type ApiKey } from './auth.js';
import type { JobBackend } from './backend.js';
import { runpodRoutes, runpodStatus } from './compat/runpod.js';
import { saladResult, saladRoutes } from './compat/salad.js';
import { ServiceContext, type Limits } from './context.js';
import { mountDashboard } from './dashboard.js';
import { RouteNotFoundError } from './errors.js';
import { ServiceMetrics } from './metrics.js';
import { PROBLEM_TYPE, toProblem } from './problem.js';
import { authHook } from './routes/auth-hook.js';
import { jobRoutes } from './routes/jobs.js';
import { opsRoutes } from './routes/ops.js';
import { jobView } from './views.js';
import { WebhookDispatcher, type WebhookFormat } from './webhooks/dispatcher.js';

export interface ServiceOptions {
  backend: JobBackend;
  /** API keys, or 'disabled' (only allowed on a loopback address; checked by the CLI and startService). */
  auth: ApiKey[] | 'disabled';
  limits?: Partial<Limits>;
  /** Webhooks need Redis of their own (the fleet's); absent: requests with a webhook are refused. */
  webhooks?: {
    connection: RedisConnection;
    prefix: string;
    secret: string;
    allowPrivate?: boolean;
    attempts?: number;
    backoffMs?: number;
  };
  /** Origins allowed to call from a browser; absent or empty: no CORS headers at all. */
  corsOrigins?: string[];
  /** Mount bull-board at /dashboard (default true). */
  dashboard?: boolean;
  version?: string;
  /** One line per notable event (webhook retries, ...); never credentials. */
  log?: (line: string) => void;
}

export const DEFAULT_LIMITS: Limits = { bodyBytes: 25 * 1024 * 1024, inlineBytes: 8 * 1024 * 1024, queueDepth: 1000, waitSeconds: 300 };

export interface Service {
  app: FastifyInstance;
  context: ServiceContext;
  webhooks: WebhookDispatcher | undefined;
  close(): Promise<void>;
}

/** The HTTP service over a job backend: routes, validation, auth, errors, docs, dashboard, metrics, webhooks. */
export async function buildService(options: ServiceOptions): Promise<Service> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const app = Fastify({ bodyLimit: limits.bodyBytes, logger: false, return503OnClosing: true, forceCloseConnections: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only (and multipart where a route says so): text/plain bodies are refused with 415.
  app.removeContentTypeParser('text/plain');

  const metrics = new ServiceMetrics(options.backend);
  const payload = async (status: JobStatus, format: WebhookFormat): Promise<unknown> => {
    if (format === 'runpod') return runpodStatus(status, options.backend.store);
    if (format === 'salad') return saladResult(status, options.backend.store);
    return { type: `job.${status.state}`, timestamp: new Date().toISOString(), data: await jobView(status, { store: options.backend.store }) };
  };
  const webhooks = options.webhooks
    ? new WebhookDispatcher({
        backend: options.backend,
        ...options.webhooks,
        payload,
        onDelivery: (outcome) => metrics.webhooks.inc({ outcome }),
        ...(options.log ? { log: options.log } : {}),
      })
    : undefined;
  const context = new ServiceContext(options.backend, limits, metrics, webhooks);

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request.url.split('?')[0]);
    if (problem.status >= 500 && problem.code === null) options.log?.(`${request.method} ${request.url.split('?')[0]}: ${(error as Error).stack ?? String(error)}`);
    if (problem.status === 401) reply.header('www-authenticate', 'Bearer');
    void reply.code(problem.status).type(PROBLEM_TYPE).send(problem);
  });
  app.setNotFoundHandler((request, reply) => {
    const problem = toProblem(new RouteNotFoundError(request.method, request.url), request.url.split('?')[0]);
    void reply.code(404).type(PROBLEM_TYPE).send(problem);
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    if (!route.endsWith('/events')) metrics.duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  const cors = new Set(options.corsOrigins ?? []);
  if (cors.size) {
    app.addHook('onRequest', async (request, reply) => {
      const origin = request.headers.origin;
      if (!origin || !cors.has(origin)) return;
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      if (request.method === 'OPTIONS') {
        reply.header('access-control-allow-methods', 'GET, POST').header('access-control-allow-headers', 'authorization, content-type, idempotency-key, last-event-id').header('access-control-max-age', '600');
        return reply.code(204).send();
      }
    });
  }

  await app.register(multipart, { limits: { fileSize: limits.bodyBytes, files: 32, fields: 4, parts: 40 } });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'comfy-connector',
        version: options.version ?? '0',
        description: 'An HTTP job API in front of ComfyUI. Errors are application/problem+json (RFC 9457) with a stable `code`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  authHook(app, new Authenticator(options.auth));
  jobRoutes(app, context);
  opsRoutes(app, context);
  runpodRoutes(app, context);
  saladRoutes(app, context);
  if (options.dashboard !== false) {
    await mountDashboard(app, [...options.backend.dashboardQueues(), ...(webhooks ? [webhooks.queue] : [])]);
  }
  await app.ready();
  await webhooks?.start();

  let closing: Promise<void> | undefined;
  return {
    app,
    context,
    webhooks,
    close: () => (closing ??= (async () => {
      await app.close();
      await webhooks?.close();
    })()),
  };
}
