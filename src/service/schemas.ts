import { z } from 'zod';
import { OUTPUT_FORMATS } from '../queue/output-format.js';

/**
 * The request and response shapes of the /v1 routes. These schemas validate requests and generate
 * the OpenAPI 3.1 document at /docs: there is no second description to keep in line.
 */

const URL_SCHEMES = /^(https?:\/\/|s3:\/\/|data:)/i;

/** A file for one node input: a URL the worker fetches, a data: URL, or base64 bytes with a name. Never a local path. */
export const JobInputSchema = z.union([
  z.string().regex(URL_SCHEMES, 'must be an http(s)://, s3:// or data: URL (local paths are not accepted over the network)').max(16 * 1024 * 1024),
  z.object({
    base64: z.string().min(1).regex(/^[A-Za-z0-9+/=\s]+$/, 'must be base64'),
    filename: z.string().min(1).max(200).regex(/^[^/\\\0]+$/, 'must be a plain file name'),
  }).strict(),
]).meta({ description: 'http(s)://, s3:// or data: URL, or {base64, filename}' });

export const WebhookSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).meta({ description: 'Receives a POST signed per Standard Webhooks when the job finishes.' }),
  events: z.array(z.enum(['completed', 'failed', 'cancelled'])).min(1).optional().meta({ description: 'Default: all three.' }),
}).strict();

export const OutputOptionsSchema = z.object({
  inline: z.boolean().optional().meta({ description: 'Embed each output file as base64 in the result, up to inlineMaxBytes each (default false: URLs only).' }),
  inlineMaxBytes: z.number().int().positive().optional().meta({ description: 'Per-file limit for inline bytes; larger files keep their URL only. Capped by the service limit.' }),
  format: z.enum(OUTPUT_FORMATS).optional().meta({ description: 'Convert image outputs (kind image) to png, jpeg or webp, once, in the worker: the stored copy, inline bytes, size, sha256, MIME type and file name are the converted file\'s.' }),
  quality: z.number().int().min(1).max(100).optional().meta({ description: 'Encoder quality for jpeg and webp (1–100; sharp\'s default 80).' }),
}).strict();

export const SubmitBodySchema = z.object({
  workflow: z.record(z.string(), z.unknown()).meta({ description: 'A UI workflow (as saved by ComfyUI) or an API prompt.' }),
  overrides: z.record(z.string(), z.unknown()).optional().meta({ description: '"<node id or title>.<input>" → value, e.g. {"KSampler.seed": 42}.' }),
  inputs: z.record(z.string().regex(/^[^.]+(\.[^.]+)+$/, 'must be "<node>.<input>"'), JobInputSchema).optional(),
  outputs: OutputOptionsSchema.optional(),
  timeout: z.number().positive().max(86_400).optional().meta({ description: 'Seconds one attempt may run on ComfyUI.' }),
  deadline: z.iso.datetime({ offset: true }).optional().meta({ description: 'RFC 3339 time after which the job fails, also while it waits.' }),
  priority: z.number().int().min(0).max(2_097_152).optional().meta({ description: 'Lower runs first; 0 (default) is the highest.' }),
  webhook: WebhookSchema.optional(),
  wait: z.number().min(0).max(300).optional().meta({ description: 'Seconds to wait for the result: 200 with it when done in time, else 202.' }),
  requires: z.object({
    nodeClasses: z.array(z.string()).optional(),
    models: z.array(z.object({ folder: z.string(), name: z.string() }).strict()).optional(),
  }).strict().optional(),
  meta: z.record(z.string().max(64), z.string().max(512)).optional().meta({ description: 'Labels returned with the job.' }),
  previews: z.boolean().optional().meta({ description: 'Publish live preview images as `preview` events (read them with ?previews=true on the events stream). Same as ?previews=true on the submit.' }),
}).strict();
export type SubmitBody = z.infer<typeof SubmitBodySchema>;

export const WaitQuerySchema = z.object({
  wait: z.coerce.number().min(0).max(300).optional().meta({ description: 'Seconds to wait for the job to finish.' }),
});

export const SubmitQuerySchema = WaitQuerySchema.extend({
  previews: z.enum(['true', 'false']).optional().meta({ description: 'Publish live preview images as `preview` events (off by default: they are images).' }),
});

export const JobParamsSchema = z.object({ id: z.string().min(1).max(200) });

export const EventsQuerySchema = z.object({
  after: z.coerce.number().int().min(0).optional().meta({ description: 'Resume after this event id (the Last-Event-ID header wins).' }),
  previews: z.enum(['true', 'false']).optional().meta({ description: 'Include preview events (base64 images).' }),
});

export const ResultQuerySchema = z.object({
  inline: z.enum(['true', 'false']).optional(),
});

export const ErrorJsonSchema = z.object({
  code: z.string().nullable(),
  message: z.string(),
  hint: z.string().optional(),
  class: z.string(),
  retryable: z.boolean(),
  nodeId: z.string().optional(),
  classType: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
}).loose();

export const OutputViewSchema = z.object({
  node: z.string(),
  kind: z.string(),
  filename: z.string(),
  mime: z.string().optional(),
  size: z.number().optional(),
  sha256: z.string().optional(),
  url: z.string().optional().meta({ description: 'Where to fetch the bytes: this service, or the store (presigned for S3).' }),
  text: z.string().optional(),
  base64: z.string().optional(),
});

export const JobViewSchema = z.object({
  id: z.string(),
  state: z.enum(['waiting', 'active', 'retrying', 'completed', 'failed', 'cancelled']),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  attempts: z.number(),
  progress: z.object({ node: z.string().optional(), value: z.number().optional(), max: z.number().optional(), overall: z.number() }).optional(),
  outputs: z.array(OutputViewSchema).optional(),
  error: ErrorJsonSchema.optional(),
  meta: z.record(z.string(), z.string()).optional(),
  links: z.object({ self: z.string(), events: z.string(), cancel: z.string() }),
});
export type JobView = z.infer<typeof JobViewSchema>;

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  instance: z.string().optional(),
  code: z.string().nullable(),
  hint: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  issues: z.array(z.unknown()).optional(),
  jobId: z.string().optional(),
}).loose().meta({ description: 'RFC 9457 problem details (application/problem+json) with our stable code.' });

/** RunPod worker-comfyui: `{input: {workflow, images: [{name, image}]}}`. */
export const RunpodBodySchema = z.object({
  input: z.object({
    workflow: z.record(z.string(), z.unknown()),
    images: z.array(z.object({ name: z.string().min(1).max(200).regex(/^[^/\\\0]+$/, 'must be a plain file name'), image: z.string().min(1) })).optional(),
  }).loose(),
  webhook: z.url({ protocol: /^https?$/ }).optional(),
  policy: z.object({ executionTimeout: z.number().positive().optional(), ttl: z.number().optional() }).loose().optional(),
}).loose();

/** Salad comfyui-api: `POST /prompt {prompt, id?, webhook_v2?}`. */
export const SaladBodySchema = z.object({
  prompt: z.record(z.string(), z.unknown()),
  id: z.string().min(1).max(200).optional(),
  webhook: z.url({ protocol: /^https?$/ }).optional(),
  webhook_v2: z.url({ protocol: /^https?$/ }).optional(),
  convert_output: z.object({
    format: z.enum(OUTPUT_FORMATS),
    options: z.object({ quality: z.number().int().min(1).max(100).optional() }).loose().optional(),
  }).loose().optional().meta({ description: 'Convert image outputs to png, jpeg or webp (options.quality for jpeg and webp).' }),
}).loose();
