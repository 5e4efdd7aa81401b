import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobStatus } from '../../queue/types.js';
import type { OutputStore } from '../../stores/types.js';
import type { ServiceContext } from '../context.js';
import { answerJob, disconnectSignal } from '../routes/jobs.js';
import { callerOf } from '../routes/auth-hook.js';
import { ProblemSchema, SaladBodySchema } from '../schemas.js';
import { outputFiles, publicError } from '../views.js';

/** Salad comfyui-api's `POST /prompt` shape, so its clients switch by changing the base URL. */
export const META_CLIENT_ID = 'svc.clientId';

export async function saladResult(status: JobStatus, store: OutputStore | undefined): Promise<Record<string, unknown>> {
  const id = status.meta?.[META_CLIENT_ID] ?? status.jobId;
  if (status.state !== 'completed') {
    return { type: 'prompt.failed', id, error: status.error?.message ?? `job ${status.state}`, ...(status.error ? { details: publicError(status.error) } : {}) };
  }
  const files = await outputFiles(status, store);
  const start = status.startedAt ?? status.createdAt;
  const end = status.finishedAt ?? Date.now();
  return {
    type: 'prompt.complete',
    id,
    images: files.map((f) => f.data.toString('base64')),
    filenames: files.map((f) => f.output.filename),
    stats: {
      comfy_execution: { total: { start, end, duration: end - start } },
      upload_time: status.result?.timings.storeMs ?? 0,
      total_time: end - status.createdAt,
    },
  };
}

export function saladRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/prompt', {
    schema: {
      summary: 'Salad comfyui-api: run a prompt',
      description: 'Without a webhook, waits and answers 200 with base64 images and filenames; with webhook_v2 (or webhook), answers 202 at once and POSTs prompt.complete / prompt.failed, signed per Standard Webhooks. The id is an idempotency key. convert_output {format: png|jpeg|webp, options: {quality}} converts image outputs in the worker.',
      tags: ['compat: Salad'], body: SaladBodySchema,
      response: { 200: z.object({ id: z.string() }).loose(), 202: z.object({ id: z.string(), status: z.string() }).loose(), 400: ProblemSchema, 422: ProblemSchema },
    },
  }, async (request, reply) => {
    const caller = callerOf(request);
    const body = request.body;
    const convert = body.convert_output;
    const quality = convert?.options?.quality;
    const outputs = convert ? { outputs: { format: convert.format, ...(quality !== undefined ? { quality } : {}) } } : {};
    const hook = body.webhook_v2 ?? body.webhook;
    const { jobId } = await ctx.submit(caller, { workflow: body.prompt, ...outputs, ...(body.id ? { meta: { [META_CLIENT_ID]: body.id } } : {}) }, {
      idempotencyKey: body.id,
      webhook: hook ? { url: hook, events: ['completed', 'failed', 'cancelled'], format: 'salad' } : undefined,
    });
    const id = body.id ?? jobId;
    if (hook) {
      void reply.code(202).send({ id, status: 'ok', webhook_v2: hook, prompt: body.prompt });
      return;
    }
    const status = (await ctx.backend.wait(jobId, ctx.limits.waitSeconds * 1000, disconnectSignal(reply))) ?? (await ctx.visibleJob(caller, jobId));
    if (status.state !== 'completed') {
      await answerJob(ctx, reply, status);
      return;
    }
    const { type: _type, ...result } = await saladResult(status, ctx.backend.store);
    void reply.code(200).send({ ...result, id, prompt: body.prompt });
  });
}
