/**
 * One job on one server: inputs decoded from values, runWorkflow with the job's overrides, deadline
 * and cancel signal, every output streamed into the output store under a key of this attempt,
 * then the outputs removed from the server's disk (runWorkflow already removed the ephemeral
 * inputs). The worker (worker.ts) decides retries and writes the result.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { ComfyConnector } from '../connector.js';
import type { RunEvent } from '../client/index.js';
import type { OutputFile } from '../client/result.js';
import { fetchToFile, isUrlSource } from '../sources/index.js';
import type { FetchOptions } from '../sources/types.js';
import { keySegment } from '../stores/keys.js';
import { mimeOf } from '../stores/mime.js';
import type { OutputStore } from '../stores/types.js';
import { BadJobInputError, DeadlineExceededError, OutputStoreError } from './errors.js';
import { convertImage, renamedFor } from './output-format.js';
import type { JobEventBody } from './event-log.js';
import type { JobInput, JobOutput, JobResult, JobSpec } from './types.js';

/** Largest input fetched from a URL. */
export const URL_INPUT_LIMIT_BYTES = 256 * 1024 * 1024;

export interface RunJobContext {
  jobId: string;
  /** Distinguishes this attempt's store keys from another run of the same job. */
  attemptTag: string;
  connector: ComfyConnector;
  store: OutputStore;
  signal: AbortSignal;
  /** Outputs at most this big are also put inline (base64) in the result; 0 = never. */
  inlineOutputBytes: number;
  emit: (body: JobEventBody) => void;
  /** Records a store key before it is written, so files of a run that dies half-way can be found and removed. */
  beforePut: (key: string) => Promise<void>;
  progress: (progress: { node?: string; value?: number; max?: number; overall: number }) => void;
  /** How URL inputs are fetched (private networks, credentials, S3). */
  fetch?: FetchOptions;
}

export interface RunJobOutcome {
  outputs: JobOutput[];
  promptId: string;
  nodeErrors: Record<string, unknown>;
  runMs: number;
  storeMs: number;
  /** Store keys written (the loser of a result race deletes them). */
  keys: string[];
  /** Removes the outputs from a managed server's disk (the worker runs it while it claims the result). */
  cleanup: () => Promise<void>;
}

/**
 * Job inputs as bytes: base64 and data: URLs decoded, http(s)/s3 URLs fetched under the source
 * policy of src/sources (private and loopback addresses refused unless the operator allows them:
 * a job from the network must not reach the worker's own network).
 */
export async function decodeInputs(inputs: Record<string, JobInput> | undefined, signal: AbortSignal, fetchOptions: FetchOptions = {}): Promise<Record<string, Buffer> | undefined> {
  if (!inputs) return undefined;
  const out: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(inputs)) {
    if (typeof value !== 'string') {
      out[key] = Buffer.from(value.base64, 'base64');
    } else if (/^data:/i.test(value)) {
      const comma = value.indexOf(',');
      out[key] = Buffer.from(value.slice(comma + 1), 'base64');
    } else if (isUrlSource(value)) {
      const dir = await mkdtemp(join(tmpdir(), 'comfy-job-input-'));
      try {
        const fetched = await fetchToFile(value, { path: join(dir, 'input') }, { maxBytes: URL_INPUT_LIMIT_BYTES, ...fetchOptions, signal });
        out[key] = await readFile(fetched.path);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } else {
      throw new BadJobInputError(key, 'not a URL, a data: URL nor base64');
    }
  }
  return out;
}

export async function runJob(spec: JobSpec, ctx: RunJobContext): Promise<RunJobOutcome> {
  const inputs = await decodeInputs(spec.inputs, ctx.signal, ctx.fetch);
  let timeout = spec.timeoutMs;
  if (spec.deadline !== undefined) {
    const left = spec.deadline - Date.now();
    if (left <= 0) throw new DeadlineExceededError(ctx.jobId, spec.deadline);
    timeout = timeout === undefined ? left : Math.min(timeout, left);
  }
  let lastProgressAt = 0;
  const onEvent = (event: RunEvent) => {
    if (event.type === 'executing') {
      ctx.emit({ type: 'node', node: event.node, ...(event.classType ? { classType: event.classType } : {}) });
      ctx.progress({ node: event.node, overall: 0 });
    } else if (event.type === 'preview') {
      // Only when the job asked: previews are images, and every event is kept in Redis.
      if (spec.previews) ctx.emit({ type: 'preview', ...(event.node !== undefined ? { node: event.node } : {}), mime: event.mime, base64: event.data.toString('base64') });
    } else if (event.type === 'progress') {
      // A sampler reports every step; Redis gets at most ten a second per job (and the last one).
      const now = Date.now();
      if (now - lastProgressAt < 100 && event.value < event.max) return;
      lastProgressAt = now;
      ctx.emit({ type: 'progress', node: event.node, value: event.value, max: event.max, overall: event.overall });
      ctx.progress({ node: event.node, value: event.value, max: event.max, overall: event.overall });
    }
  };
  const started = Date.now();
  const result = await ctx.connector.runWorkflow(spec.workflow as never, {
    ...(spec.overrides ? { overrides: spec.overrides } : {}),
    ...(inputs ? { inputs } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    signal: ctx.signal,
    onEvent,
  });
  const runMs = Date.now() - started;

  const storeStarted = Date.now();
  const outputs: JobOutput[] = [];
  const keys: string[] = [];
  const taken = new Set<string>();
  try {
    for (const file of result.outputs) {
      // Image outputs the job asked in another format are converted once, here, before storing.
      const convert = spec.outputFormat && file.kind === 'image' ? spec.outputFormat : undefined;
      const filename = convert ? renamedFor(file.filename, convert.format) : file.filename;
      const name = uniqueKeyName(keySegment(filename), file.node, taken);
      const key = `runs/${keySegment(ctx.jobId)}/${ctx.attemptTag}/${keySegment(file.node)}/${name}`;
      let mime = mimeOf(file.filename);
      let stored;
      // The key is recorded while the bytes are read (one round trip fewer on every job's path).
      let [data] = await Promise.all([ctx.connector.client.view(file), ctx.beforePut(key)]);
      if (convert) ({ data, mime } = await convertImage(data, file.filename, mime, convert));
      try {
        stored = await ctx.store.put(key, data, { mime, size: data.length });
      } catch (error) {
        throw new OutputStoreError(key, (error as Error).message);
      }
      keys.push(key);
      outputs.push({
        node: file.node,
        kind: file.kind,
        filename,
        stored,
        mime,
        ...(ctx.inlineOutputBytes > 0 && data.length <= ctx.inlineOutputBytes ? { base64: data.toString('base64') } : {}),
      });
    }
  } catch (error) {
    await Promise.allSettled(keys.map((k) => ctx.store.delete(k)));
    throw error;
  }
  for (const [node, texts] of Object.entries(result.texts)) {
    for (const text of texts) outputs.push({ node, kind: 'text', filename: '', text, mime: 'text/plain' });
  }
  const storeMs = Date.now() - storeStarted;
  return { outputs, promptId: result.promptId, nodeErrors: result.nodeErrors, runMs, storeMs, keys, cleanup: () => removeServerOutputs(ctx.connector, result.outputs) };
}

function uniqueKeyName(name: string, node: string, taken: Set<string>): string {
  let candidate = name;
  for (let i = 1; taken.has(`${node}/${candidate}`); i++) candidate = `${i}-${name}`;
  taken.add(`${node}/${candidate}`);
  return candidate;
}

/** The outputs are in the store: a managed server's copies go (a remote server's are out of reach). */
export async function removeServerOutputs(connector: ComfyConnector, files: OutputFile[]): Promise<void> {
  const paths = connector.server?.paths;
  if (!paths) return;
  for (const file of files) {
    const root = file.type === 'temp' ? paths.tempDirectory : file.type === 'output' ? paths.outputDirectory : undefined;
    if (!root) continue; // never an input file
    const path = resolve(join(root, file.subfolder ?? '', file.filename));
    if (!path.startsWith(resolve(root) + sep)) continue;
    await rm(path, { force: true }).catch(() => {});
  }
}

/** The JobResult of a finished run. */
export function jobResult(base: Omit<JobResult, 'outputs' | 'promptId' | 'nodeErrors' | 'timings'>, outcome: RunJobOutcome, queuedMs: number): JobResult {
  return {
    ...base,
    promptId: outcome.promptId,
    outputs: outcome.outputs,
    ...(Object.keys(outcome.nodeErrors).length ? { nodeErrors: outcome.nodeErrors } : {}),
    timings: { queuedMs, runMs: outcome.runMs, storeMs: outcome.storeMs },
  };
}
