import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../context.js';
import { NotReadyError } from '../errors.js';
import { ProblemSchema } from '../schemas.js';
import { callerOf } from './auth-hook.js';

const ReadySchema = z.object({ ready: z.boolean(), workers: z.number(), servers: z.number(), waiting: z.number(), active: z.number(), maxQueueDepth: z.number() });

/** Probes, capabilities and metrics: what load balancers, operators and clients ask before they submit. */
export function opsRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/health', {
    config: { auth: 'none' },
    schema: { summary: 'Liveness: the process serves HTTP', tags: ['ops'], security: [], response: { 200: z.object({ status: z.literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  r.get('/ready', {
    config: { auth: 'none' },
    schema: {
      summary: 'Readiness: a warm ComfyUI can take a job and the queue is below its depth limit',
      tags: ['ops'], security: [], response: { 200: ReadySchema, 503: ProblemSchema },
    },
  }, async () => {
    const [ready, counts] = await Promise.all([ctx.backend.readiness(), ctx.backend.counts()]);
    if (!ready.ready) throw new NotReadyError(ready.reason ?? 'no warm ComfyUI server');
    if (counts.waiting >= ctx.limits.queueDepth) throw new NotReadyError(`${counts.waiting} jobs wait, the limit is ${ctx.limits.queueDepth}`);
    return { ready: true, workers: ready.workers, servers: ready.servers, waiting: counts.waiting, active: counts.active, maxQueueDepth: ctx.limits.queueDepth };
  });

  r.get('/v1/models', {
    schema: { summary: 'Model files the servers have, per folder', tags: ['capabilities'], response: { 200: z.object({ models: z.record(z.string(), z.array(z.string())) }) } },
  }, async () => ({ models: (await ctx.backend.capabilities()).models }));

  r.get('/v1/node-classes', {
    schema: { summary: 'Node classes the servers can run', tags: ['capabilities'], response: { 200: z.object({ nodeClasses: z.array(z.string()) }) } },
  }, async () => ({ nodeClasses: (await ctx.backend.capabilities()).nodeClasses }));

  r.get('/metrics', {
    config: { auth: 'admin' },
    schema: { summary: 'Prometheus metrics (admin key)', tags: ['ops'] },
  }, async (request, reply) => {
    callerOf(request);
    reply.type(ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
