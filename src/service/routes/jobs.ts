import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorFromJson, failurePolicy } from '../../error-policy.js';
import type { JobEvent, JobStatus } from '../../queue/types.js';
import { isTerminal } from '../backend.js';
import type { ServiceContext } from '../context.js';
import { BadRequestError, JobFinishedError, PayloadTooLargeError } from '../errors.js';
import { problemFromJson, PROBLEM_TYPE } from '../problem.js';
import { EventsQuerySchema, JobParamsSchema, JobViewSchema, ProblemSchema, ResultQuerySchema, SubmitBodySchema, SubmitQuerySchema, WaitQuerySchema, type SubmitBody } from '../schemas.js';
import { frameEvent, heartbeat, openStream, resumePoint } from '../sse.js';
import { jobPath, jobView, publicError } from '../views.js';
import { callerOf } from './auth-hook.js';

const problems = { 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 413: ProblemSchema, 422: ProblemSchema, 503: ProblemSchema };

/** A completed event as clients see it: the job record it carries for waiters (meta included) stays inside. */
function withoutJobFacts(event: Extract<JobEvent, { type: 'completed' }>): Omit<typeof event, 'job'> {
  const { job: _job, ...shown } = event;
  return shown;
}

/** An AbortSignal that fires when the client goes away (a waiting request must not outlive it). */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const abort = new AbortController();
  const res = reply.raw;
  // 'close' before the response finished means the client went away (keep-alive sockets live on).
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  return abort.signal;
}

/**
 * Answers with a job that may or may not have finished: 200 with the job when it completed (or was
 * cancelled), the job's own error as problem+json when it failed, else 202 pointing at the job.
 */
export async function answerJob(ctx: ServiceContext, reply: FastifyReply, status: JobStatus, options: { inline?: boolean } = {}): Promise<void> {
  const path = jobPath(status.jobId);
  if (status.state === 'failed' && status.error) {
    const code = failurePolicy(errorFromJson(status.error)).httpStatus;
    void reply.code(code).type(PROBLEM_TYPE).send(problemFromJson(status.error, code, path, status.jobId));
    return;
  }
  const view = await jobView(status, { store: ctx.backend.store, inlineMaxBytes: ctx.inlineFor(status, options.inline) });
  if (isTerminal(status)) void reply.code(200).send(view);
  else void reply.code(202).header('location', path).send(view);
}

/** Multipart submit: a `job` field with the JSON body, and one file part per input, named by its key. */
async function multipartBody(request: FastifyRequest, limitBytes: number): Promise<unknown> {
  let body: Record<string, unknown> | undefined;
  const inputs: Record<string, { base64: string; filename: string }> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      const data = await part.toBuffer();
      if (part.file.truncated) throw new PayloadTooLargeError(limitBytes, `The file of ${part.fieldname}`);
      inputs[part.fieldname] = { base64: data.toString('base64'), filename: part.filename || 'upload.bin' };
    } else if (part.fieldname === 'job') {
      try {
        body = JSON.parse(String(part.value)) as Record<string, unknown>;
      } catch (error) {
        throw new BadRequestError(`The "job" field is not valid JSON: ${(error as Error).message}`, [{ field: '/body/job', message: 'not valid JSON' }]);
      }
    } else {
      throw new BadRequestError(`Unknown multipart field "${part.fieldname}".`, [{ field: `/body/${part.fieldname}`, message: 'unknown field; use "job" for the JSON and file parts named "<node>.<input>"' }]);
    }
  }
  if (!body || typeof body !== 'object') throw new BadRequestError('A multipart submit needs a "job" field with the JSON body.', [{ field: '/body/job', message: 'required' }]);
  return { ...body, inputs: { ...((body['inputs'] as Record<string, unknown> | undefined) ?? {}), ...inputs } };
}

export function jobRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/jobs', {
    schema: {
      summary: 'Submit a job',
      description: 'A UI workflow or an API prompt with overrides, inputs (URL, base64, or multipart/form-data with a "job" JSON field and one file part per "<node>.<input>"), output options, a deadline, a priority and a webhook. The Idempotency-Key header makes a retried submit return the same job. With `wait`, answers 200 with the finished job when it finishes in time, else 202 with its URL.',
      tags: ['jobs'],
      headers: z.object({ 'idempotency-key': z.string().optional() }).loose(),
      querystring: SubmitQuerySchema,
      body: SubmitBodySchema,
      response: { 200: JobViewSchema, 202: JobViewSchema, ...problems },
    },
    preValidation: async (request) => {
      if (request.isMultipart()) (request as { body: unknown }).body = await multipartBody(request, ctx.limits.bodyBytes);
    },
  }, async (request, reply) => {
    const caller = callerOf(request);
    const { wait: bodyWait, webhook, ...given } = request.body;
    const body = request.query.previews === 'true' ? { ...given, previews: true } : given;
    const key = request.headers['idempotency-key'];
    const { jobId, created, status: submitted } = await ctx.submit(caller, body, {
      idempotencyKey: typeof key === 'string' ? key : undefined,
      webhook: webhook ? { url: webhook.url, events: webhook.events ?? ['completed', 'failed', 'cancelled'], format: 'standard' } : undefined,
    });
    if (!created) reply.header('idempotent-replayed', 'true');
    const wait = Math.min(request.query.wait ?? bodyWait ?? 0, ctx.limits.waitSeconds);
    const status = wait > 0 && !isTerminal(submitted) ? await ctx.backend.wait(jobId, wait * 1000, disconnectSignal(reply)) : submitted;
    await answerJob(ctx, reply, status ?? submitted);
  });

  r.get('/v1/jobs/:id', {
    schema: {
      summary: 'A job: state, progress, and its outputs once done',
      description: 'With `wait`, holds the request until the job finishes or the seconds run out (long polling).',
      tags: ['jobs'], params: JobParamsSchema, querystring: WaitQuerySchema,
      response: { 200: JobViewSchema, ...problems },
    },
  }, async (request, reply) => {
    const caller = callerOf(request);
    let status = await ctx.visibleJob(caller, request.params.id);
    const wait = Math.min(request.query.wait ?? 0, ctx.limits.waitSeconds);
    if (wait > 0 && !isTerminal(status)) status = (await ctx.backend.wait(status.jobId, wait * 1000, disconnectSignal(reply))) ?? status;
    return jobView(status, { store: ctx.backend.store, inlineMaxBytes: ctx.inlineFor(status) });
  });

  r.get('/v1/jobs/:id/result', {
    schema: {
      summary: "A job's result",
      description: '200 with the outputs (kind, MIME type, size, sha256, URL; text inline; files inline as base64 with ?inline=true up to the service limit) when it completed; its error as problem+json when it failed; 202 while it runs.',
      tags: ['jobs'], params: JobParamsSchema, querystring: ResultQuerySchema,
      response: { 200: JobViewSchema, 202: JobViewSchema, ...problems },
    },
  }, async (request, reply) => {
    const status = await ctx.visibleJob(callerOf(request), request.params.id);
    await answerJob(ctx, reply, status, { inline: request.query.inline === 'true' });
  });

  r.get('/v1/jobs/:id/outputs/:index', {
    schema: {
      summary: 'The bytes of one output file',
      tags: ['jobs'],
      params: z.object({ id: z.string(), index: z.coerce.number().int().min(0) }),
    },
  }, async (request, reply) => {
    const status = await ctx.visibleJob(callerOf(request), request.params.id);
    const output = status.result?.outputs[request.params.index];
    const store = ctx.backend.store;
    if (!output?.stored || !store) {
      throw new BadRequestError(`Job ${status.jobId} has no stored output ${request.params.index} that this service can read.`, [{ field: '/params/index', message: 'no such stored output' }]);
    }
    reply.header('content-type', output.stored.mime).header('content-length', String(output.stored.size));
    reply.header('content-disposition', `inline; filename="${output.filename.replace(/[^\w.-]/g, '_')}"`);
    return reply.send(await store.get(output.stored.key));
  });

  r.get('/v1/jobs/:id/events', {
    schema: {
      summary: "A job's events as Server-Sent Events",
      description: 'queued, started, node, progress, preview (with ?previews=true), retrying, completed, failed, cancelled. Each event id is its sequence number: reconnect with Last-Event-ID (or ?after=) to resume without gaps. The stream ends after a terminal event.',
      tags: ['jobs'], params: JobParamsSchema, querystring: EventsQuerySchema,
      headers: z.object({ 'last-event-id': z.string().optional() }).loose(),
    },
  }, async (request, reply) => {
    const status = await ctx.visibleJob(callerOf(request), request.params.id);
    const after = resumePoint(request.headers['last-event-id'], request.query.after);
    const previews = request.query.previews === 'true';
    reply.hijack();
    const res = reply.raw;
    openStream(res);
    ctx.metrics.sseClients.inc();
    const stop = heartbeat(res);
    const signal = disconnectSignal(reply);
    try {
      for await (const event of ctx.backend.events(status.jobId, { after, signal })) {
        if (event.type === 'preview' && !previews) continue;
        const shown = event.type === 'failed' || event.type === 'retrying' ? { ...event, error: publicError(event.error) } : event.type === 'completed' ? withoutJobFacts(event) : event;
        if (!res.write(frameEvent(shown))) await new Promise((resolve) => res.once('drain', resolve));
      }
    } catch (error) {
      if (!signal.aborted) res.write(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
    } finally {
      stop();
      ctx.metrics.sseClients.dec();
      res.end();
    }
  });

  r.post('/v1/jobs/:id/cancel', {
    schema: {
      summary: 'Cancel a job',
      description: 'Removes a waiting job; interrupts a running one on its ComfyUI. 409 when it already finished.',
      tags: ['jobs'], params: JobParamsSchema,
      response: { 202: JobViewSchema, ...problems },
    },
  }, async (request, reply) => {
    const caller = callerOf(request);
    const status = await ctx.visibleJob(caller, request.params.id);
    if (isTerminal(status)) throw new JobFinishedError(status.jobId, status.state);
    await ctx.backend.cancel(status.jobId, `cancelled through the API by ${caller.name}`);
    const now = (await ctx.backend.status(status.jobId)) ?? status;
    return reply.code(202).send(await jobView(now));
  });
}
