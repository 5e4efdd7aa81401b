/**
 * One job on one server: inputs decoded from values, runWorkflow with the job's overrides, deadline
 * and cancel signal, every output streamed into the output store under a key of this attempt,
 * then the outputs removed from the server's disk (runWorkflow already removed the ephemeral
 * inputs). The worker (worker.ts) decides retries and writes the result.
 */
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { checkRealChain } from '../assets/safe-path.js';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { ComfyConnector } from '../connector.js';
import type { RunEvent } from '../client/index.js';
import { collectOutputs, type OutputFile } from '../client/result.js';
import type { HistoryEntry } from '../client/types.js';
import { fetchToFile, isUrlSource } from '../sources/index.js';
import type { FetchOptions } from '../sources/types.js';
import { keySegment } from '../stores/keys.js';
import { mimeOf } from '../stores/mime.js';
import type { OutputStore } from '../stores/types.js';
import { BadJobInputError, DeadlineExceededError, OutputStoreError } from './errors.js';
import { convertImage, renamedFor } from './output-format.js';
import type { JobEventBody } from './event-log.js';
import type { JobInput, JobOutput, JobResult, JobSpec } from './types.js';

/** Output files read and stored at the same time, per job. */
const STORE_CONCURRENCY = 4;

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
  const storing = new OutputStoring(spec, ctx);
  let lastProgressAt = 0;
  const onEvent = (event: RunEvent) => {
    if (event.type === 'executing') {
      ctx.emit({ type: 'node', node: event.node, ...(event.classType ? { classType: event.classType } : {}) });
      // The job's progress record follows the same ten-a-second budget as sampler steps.
      const now = Date.now();
      if (now - lastProgressAt < 100) return;
      lastProgressAt = now;
      ctx.progress({ node: event.node, overall: 0 });
    } else if (event.type === 'executed') {
      // A node's files are stored while the rest of the workflow runs (and while its history is read).
      storing.early(collectOutputs({ outputs: { [event.node]: event.output } } as unknown as HistoryEntry).outputs);
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
  let result;
  try {
    result = await ctx.connector.runWorkflow(spec.workflow as never, {
      ...(spec.overrides ? { overrides: spec.overrides } : {}),
      ...(inputs ? { inputs } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
      signal: ctx.signal,
      onEvent,
      queuePosition: false, // the fleet's own 'queued' event says where the job waits
    });
  } catch (error) {
    await storing.discard();
    throw error;
  }
  const runMs = Date.now() - started;

  const storeStarted = Date.now();
  const outputs = await storing.all(result.outputs);
  for (const [node, texts] of Object.entries(result.texts)) {
    for (const text of texts) outputs.push({ node, kind: 'text', filename: '', text, mime: 'text/plain' });
  }
  const storeMs = Date.now() - storeStarted;
  return { outputs, promptId: result.promptId, nodeErrors: result.nodeErrors, runMs, storeMs, keys: storing.keys, cleanup: () => removeServerOutputs(ctx.connector, result.outputs) };
}

/**
 * The outputs of one run into the store, each under a key of this attempt: read from ComfyUI,
 * converted when the job asked, recorded (beforePut), written. A file reported by a node's
 * `executed` message starts at once; the run's final list (its history) decides what is kept.
 */
class OutputStoring {
  readonly keys: string[] = [];
  readonly #taken = new Set<string>();
  readonly #started = new Map<string, Promise<JobOutput>>();
  readonly #waiting: Array<() => void> = [];
  #active = 0;

  readonly #prefix: string;
  readonly #prepared: Promise<void> | undefined;

  constructor(
    private readonly spec: JobSpec,
    private readonly ctx: RunJobContext,
  ) {
    this.#prefix = `runs/${keySegment(ctx.jobId)}/${ctx.attemptTag}`;
    // The attempt's folders are made while the workflow runs, not on the first output's path.
    this.#prepared = ctx.store.prepare?.(this.#prefix).catch(() => undefined);
  }

  early(files: OutputFile[]): void {
    for (const file of files) {
      const ref = refOf(file);
      if (this.#started.has(ref)) continue;
      const stored = this.#one(file);
      stored.catch(() => undefined); // collected (and reported) by all() or discard()
      this.#started.set(ref, stored);
    }
  }

  /** Every file of the run's outputs, stored, in the run's order; on any failure nothing stays. */
  async all(files: OutputFile[]): Promise<JobOutput[]> {
    const wanted = files.map((file) => {
      const ref = refOf(file);
      let stored = this.#started.get(ref);
      if (!stored) this.#started.set(ref, (stored = this.#one(file)));
      return stored;
    });
    const settled = await Promise.allSettled(wanted);
    const failed = settled.find((s) => s.status === 'rejected');
    await Promise.allSettled(this.#started.values()); // early files the history does not list, too
    if (failed) {
      await this.discard();
      throw failed.reason;
    }
    // A file a node reported that the history does not list (none known in ComfyUI): not a result.
    const kept = new Set(settled.map((s) => (s as PromiseFulfilledResult<JobOutput>).value.stored?.key));
    const stray = this.keys.filter((k) => !kept.has(k));
    if (stray.length) {
      await Promise.allSettled(stray.map((k) => this.ctx.store.delete(k)));
      this.keys.splice(0, this.keys.length, ...this.keys.filter((k) => kept.has(k)));
    }
    if (!this.keys.length) {
      // No file (a text-only run): the folders made ahead go.
      await this.#prepared;
      await this.ctx.store.release?.(this.#prefix).catch(() => undefined);
    }
    return settled.map((s) => (s as PromiseFulfilledResult<JobOutput>).value);
  }

  /** After a failed run: waits for what was started and deletes every key written (and the folders made ahead). */
  async discard(): Promise<void> {
    await Promise.allSettled(this.#started.values());
    await Promise.allSettled(this.keys.map((k) => this.ctx.store.delete(k)));
    await this.#prepared;
    await this.ctx.store.release?.(this.#prefix).catch(() => undefined);
  }

  /** A few files at a time: a batch of large outputs must not all sit in memory at once. */
  async #one(file: OutputFile): Promise<JobOutput> {
    if (this.#active < STORE_CONCURRENCY) this.#active++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // a finishing one hands its slot over
    try {
      return await this.#store(file);
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }

  async #store(file: OutputFile): Promise<JobOutput> {
    const { spec, ctx } = this;
    // Image outputs the job asked in another format are converted once, here, before storing.
    const convert = spec.outputFormat && file.kind === 'image' ? spec.outputFormat : undefined;
    const filename = convert ? renamedFor(file.filename, convert.format) : file.filename;
    const name = uniqueKeyName(keySegment(filename), file.node, this.#taken);
    // <node>-<file> in the attempt's folder (made ahead): no folder to create on the output's path.
    const key = `${this.#prefix}/${keySegment(file.node)}-${name}`;
    let mime = mimeOf(file.filename);
    // The key is recorded while the bytes are read (one round trip fewer on every job's path).
    let [data] = await Promise.all([readOutput(ctx.connector, file), ctx.beforePut(key)]);
    if (convert) ({ data, mime } = await convertImage(data, file.filename, mime, convert));
    this.keys.push(key);
    let stored;
    try {
      stored = await ctx.store.put(key, data, { mime, size: data.length });
    } catch (error) {
      throw new OutputStoreError(key, (error as Error).message);
    }
    return {
      node: file.node,
      kind: file.kind,
      filename,
      stored,
      mime,
      ...(ctx.inlineOutputBytes > 0 && data.length <= ctx.inlineOutputBytes ? { base64: data.toString('base64') } : {}),
    };
  }
}

function refOf(file: OutputFile): string {
  return JSON.stringify([file.node, file.type, file.subfolder, file.filename]);
}

function uniqueKeyName(name: string, node: string, taken: Set<string>): string {
  let candidate = name;
  for (let i = 1; taken.has(`${node}/${candidate}`); i++) candidate = `${i}-${name}`;
  taken.add(`${node}/${candidate}`);
  return candidate;
}

/** Where a managed server wrote an output file (undefined for a remote server, an input, or a name that leaves its folder). */
function serverPathOf(connector: ComfyConnector, file: OutputFile): { root: string; path: string } | undefined {
  const paths = connector.server?.paths;
  if (!paths) return undefined;
  const root = file.type === 'temp' ? paths.tempDirectory : file.type === 'output' ? paths.outputDirectory : undefined;
  if (!root) return undefined; // never an input file
  const path = resolve(join(root, file.subfolder ?? '', file.filename));
  return path.startsWith(resolve(root) + sep) ? { root, path } : undefined;
}

/**
 * An output's bytes: a managed server's file is read from its folder (no HTTP round trip through
 * ComfyUI, whose event loop serves the next prompt meanwhile); anything else through /view.
 */
async function readOutput(connector: ComfyConnector, file: OutputFile): Promise<Buffer> {
  const local = serverPathOf(connector, file);
  if (local) {
    try {
      await checkRealChain(local.root, local.path, file.filename);
      if ((await lstat(local.path)).isFile()) return await readFile(local.path);
    } catch {
      // not readable here (moved, a symlink that leads out): ComfyUI serves it as it sees it
    }
  }
  return connector.client.view(file);
}

/** The outputs are in the store: a managed server's copies go (a remote server's are out of reach). */
export async function removeServerOutputs(connector: ComfyConnector, files: OutputFile[]): Promise<void> {
  for (const file of files) {
    const local = serverPathOf(connector, file);
    if (local) await rm(local.path, { force: true }).catch(() => {});
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
