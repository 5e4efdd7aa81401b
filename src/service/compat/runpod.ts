import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobStatus } from '../../queue/types.js';
import type { OutputStore } from '../../stores/types.js';
import type { ServiceContext } from '../context.js';
import { disconnectSignal } from '../routes/jobs.js';
import { callerOf } from '../routes/auth-hook.js';
import { JobParamsSchema, ProblemSchema, RunpodBodySchema } from '../schemas.js';
import { outputFiles } from '../views.js';

/**
 * RunPod worker-comfyui's shapes (`/run`, `/runsync`, `/status/{id}`, `/cancel/{id}` with
 * `{input: {workflow, images: [{name, image}]}}`), so its clients switch by changing the base URL.
 */
const STATUS: Record<JobStatus['state'], string> = {
  waiting: 'IN_QUEUE', active: 'IN_PROGRESS', retrying: 'IN_PROGRESS', completed: 'COMPLETED', failed: 'FAILED', cancelled: 'CANCELLED',
};

/** `data:image/png;base64,AAAA` or bare base64 → bare base64. */
const stripDataUri = (s: string) => s.replace(/^data:[^,]*;base64,/, '');

/**
 * worker-comfyui uploads each image under its name and the workflow refers to it by that name; we
 * turn each node input that names an image into an inline input of the job instead.
 */
export function runpodInputs(workflow: Record<string, unknown>, images: Array<{ name: string; image: string }> = []): Record<string, { base64: string; filename: string }> {
  const inputs: Record<string, { base64: string; filename: string }> = {};
  for (const { name, image } of images) {
    for (const [nodeId, node] of Object.entries(workflow)) {
      const nodeInputs = (node as { inputs?: Record<string, unknown> } | null)?.inputs ?? {};
      for (const [input, value] of Object.entries(nodeInputs)) {
        if (value === name) inputs[`${nodeId}.${input}`] = { base64: stripDataUri(image), filename: name };
      }
    }
  }
  return inputs;
}

export async function runpodStatus(status: JobStatus, store: OutputStore | undefined): Promise<{ id: string; status: string; [k: string]: unknown }> {
  const out: { id: string; status: string; [k: string]: unknown } = { id: status.jobId, status: STATUS[status.state] };
  if (status.startedAt) out['delayTime'] = status.startedAt - status.createdAt;
  if (status.startedAt && status.finishedAt) out['executionTime'] = status.finishedAt - status.startedAt;
  if (status.state === 'completed') {
    const files = await outputFiles(status, store);
    out['output'] = {
      images: files.filter((f) => f.output.kind === 'image' || f.output.kind === 'animated').map((f) => ({ filename: f.output.filename, type: 'base64', data: f.data.toString('base64') })),
    };
  }
  if (status.state === 'failed' && status.error) {
    out['error'] = status.error.message;
    out['output'] = { error: status.error.message, details: status.error.details ?? {} };
  }
  return out;
}

const RunpodStatusSchema = z.object({ id: z.string(), status: z.string() }).loose();

export function runpodRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const submit = async (caller: ReturnType<typeof callerOf>, body: z.infer<typeof RunpodBodySchema>) => {
    const inputs = runpodInputs(body.input.workflow, body.input.images);
    return ctx.submit(caller, {
      workflow: body.input.workflow,
      ...(Object.keys(inputs).length ? { inputs } : {}),
      ...(body.policy?.executionTimeout ? { timeout: body.policy.executionTimeout / 1000 } : {}),
    }, { webhook: body.webhook ? { url: body.webhook, events: ['completed', 'failed', 'cancelled'], format: 'runpod' } : undefined });
  };

  r.post('/run', {
    schema: { summary: 'RunPod worker-comfyui: queue a job', tags: ['compat: RunPod'], body: RunpodBodySchema, response: { 200: RunpodStatusSchema, 400: ProblemSchema, 422: ProblemSchema } },
  }, async (request) => {
    const { jobId } = await submit(callerOf(request), request.body);
    return { id: jobId, status: 'IN_QUEUE' };
  });

  r.post('/runsync', {
    schema: { summary: 'RunPod worker-comfyui: run and wait', tags: ['compat: RunPod'], body: RunpodBodySchema, response: { 200: RunpodStatusSchema, 400: ProblemSchema, 422: ProblemSchema } },
  }, async (request, reply) => {
    const { jobId } = await submit(callerOf(request), request.body);
    const status = await ctx.backend.wait(jobId, Math.min(90, ctx.limits.waitSeconds) * 1000, disconnectSignal(reply));
    return runpodStatus(status ?? (await ctx.visibleJob(callerOf(request), jobId)), ctx.backend.store);
  });

  r.get('/status/:id', {
    schema: { summary: 'RunPod worker-comfyui: job status', tags: ['compat: RunPod'], params: JobParamsSchema, response: { 200: RunpodStatusSchema, 404: ProblemSchema } },
  }, async (request) => runpodStatus(await ctx.visibleJob(callerOf(request), request.params.id), ctx.backend.store));

  r.post('/cancel/:id', {
    schema: { summary: 'RunPod worker-comfyui: cancel', tags: ['compat: RunPod'], params: JobParamsSchema, response: { 200: RunpodStatusSchema, 404: ProblemSchema } },
  }, async (request) => {
    const status = await ctx.visibleJob(callerOf(request), request.params.id);
    if (status.state !== 'completed' && status.state !== 'failed' && status.state !== 'cancelled') await ctx.backend.cancel(status.jobId, 'cancelled through /cancel');
    return { id: status.jobId, status: STATUS[(await ctx.backend.status(status.jobId))?.state ?? status.state] };
  });
}
