import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComfyQueue, JobEvent, JobResult, SubmitOptions } from '../../queue/index.js';
import type { RunEvent, RunResult } from '../facade-types.js';
import { checkReadable, checkWorkflowFiles } from '../check-files.js';
import { exitCodeFor, worstExitCode } from '../exit-codes.js';
import { parseInputs, parseOverrides, parseSeconds } from '../parse-options.js';
import { chooseDisplayMode, createDisplay } from '../progress/create-display.js';
import type { RunDisplay } from '../progress/display.js';
import { UsageError } from '../usage-error.js';
import type { CliContext } from './context.js';

/** The options every fleet command shares. */
export interface QueueFlags {
  redis?: string;
  queue?: string;
  prefix?: string;
}

export interface SubmitFlags extends QueueFlags {
  set?: string[];
  input?: string[];
  priority?: string;
  key?: string;
  deadline?: string;
  timeout?: string;
  requireModel?: string[];
  requireNode?: string[];
  wait?: boolean;
  out?: string;
  json?: boolean;
  progress?: boolean;
  verbose?: boolean;
}

export function redisUrl(flags: QueueFlags, env: NodeJS.ProcessEnv): string {
  const url = flags.redis ?? env.COMFY_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`--redis ${JSON.stringify(url)} is not a redis:// URL.`, 'For example --redis redis://127.0.0.1:6379');
  return url;
}

/** Opens the producer; the library is imported lazily so --help stays instant. */
export async function openQueue(flags: QueueFlags, env: NodeJS.ProcessEnv): Promise<ComfyQueue> {
  const { ComfyQueue } = await import('../../queue/index.js');
  return new ComfyQueue({ redis: redisUrl(flags, env), ...(flags.queue ? { queue: flags.queue } : {}), ...(flags.prefix ? { prefix: flags.prefix } : {}) });
}

function parseRequirements(flags: SubmitFlags): SubmitOptions['requires'] {
  const models = (flags.requireModel ?? []).map((text) => {
    const at = text.indexOf('/');
    if (at <= 0 || at === text.length - 1) throw new UsageError(`--require-model ${JSON.stringify(text)} is not FOLDER/NAME.`, 'For example --require-model checkpoints/sd15.safetensors');
    return { folder: text.slice(0, at), name: text.slice(at + 1) };
  });
  const nodeClasses = flags.requireNode ?? [];
  if (!models.length && !nodeClasses.length) return undefined;
  return { ...(models.length ? { models } : {}), ...(nodeClasses.length ? { nodeClasses } : {}) };
}

/**
 * `submit <files...>`: queues each file as a job (inputs are read here and sent as values) and
 * prints the job ids; with --wait, follows each with the same display, JSON events and exit codes
 * as `run`, and copies the outputs into --out when the store is a folder this machine sees.
 */
export async function submitCommand(files: string[], flags: SubmitFlags, ctx: CliContext): Promise<number> {
  const overrides = parseOverrides(flags.set ?? []);
  const inputs = parseInputs(flags.input ?? []);
  await checkReadable(Object.values(inputs), ctx.cwd, '--input');
  await checkWorkflowFiles(files, ctx.cwd, { overrides, inputs });
  if (flags.key !== undefined && files.length > 1) throw new UsageError('--key names one job; it cannot apply to several files.', 'Submit the files one by one, each with its own --key.');
  const requires = parseRequirements(flags);
  const options: SubmitOptions = {
    ...(Object.keys(overrides).length ? { overrides } : {}),
    ...(flags.priority !== undefined ? { priority: parseInteger(flags.priority, '--priority') } : {}),
    ...(flags.key !== undefined ? { idempotencyKey: flags.key } : {}),
    ...(flags.deadline !== undefined ? { deadline: Date.now() + parseSeconds(flags.deadline, '--deadline') } : {}),
    ...(flags.timeout !== undefined ? { timeoutMs: parseSeconds(flags.timeout, '--timeout') } : {}),
    ...(requires ? { requires } : {}),
  };
  if (Object.keys(inputs).length) {
    // Local files are read on this side: a job carries values, never paths.
    const values: Record<string, { base64: string; filename: string }> = {};
    for (const [key, file] of Object.entries(inputs)) values[key] = { base64: (await readFile(resolve(ctx.cwd, file))).toString('base64'), filename: basename(file) };
    options.inputs = values;
  }
  const display = createDisplay(chooseDisplayMode(flags, ctx.stdout, ctx.stderr), { ...ctx, verbose: flags.verbose ?? false });
  ctx.session.announcer = (text) => display.notice(text);
  const queue = await openQueue(flags, ctx.env);
  try {
    const handles = [];
    for (const file of files) {
      const handle = await queue.submit(resolve(ctx.cwd, file), options);
      handles.push({ file, handle });
      if (!flags.wait) {
        if (flags.json) ctx.stdout.write(`${JSON.stringify({ type: 'submitted', file, jobId: handle.id, created: handle.created })}\n`);
        else ctx.stdout.write(`${handle.id}\n`);
      }
    }
    if (!flags.wait) return 0;
    const codes: number[] = [];
    const outDir = resolve(ctx.cwd, flags.out ?? './outputs');
    for (const [i, { file, handle }] of handles.entries()) {
      if (ctx.session.cancelled) break;
      display.begin({ file, iteration: 1, repeat: 1, index: i + 1, count: handles.length });
      codes.push(await follow(queue, handle.id, display, outDir, ctx));
    }
    if (ctx.session.cancelled) {
      await Promise.allSettled(handles.map(({ handle }) => handle.cancel('the submitting command was interrupted')));
      return ctx.session.cancelExitCode;
    }
    return worstExitCode(codes);
  } finally {
    display.close();
    await queue.close();
  }
}

/** Follows one job's events into the display; returns its exit code. */
async function follow(queue: ComfyQueue, jobId: string, display: RunDisplay, outDir: string, ctx: CliContext): Promise<number> {
  try {
    for await (const event of queue.events(jobId, { signal: ctx.session.signal })) {
      const run = toRunEvent(event);
      if (run) display.event(run);
      if (event.type === 'completed') {
        const saved = await saveOutputs(event.result, outDir);
        display.succeed(asRunResult(event.result), saved);
        return 0;
      }
      if (event.type === 'failed' || event.type === 'cancelled') break;
    }
    if (ctx.session.cancelled) return ctx.session.cancelExitCode;
    // The terminal state from the job itself (an event can be trimmed; the status cannot).
    const result = await queue.result(jobId);
    display.succeed(asRunResult(result), await saveOutputs(result, outDir));
    return 0;
  } catch (error) {
    if (ctx.session.cancelled) return ctx.session.cancelExitCode;
    display.fail(error);
    return exitCodeFor(error);
  }
}

/** A JobEvent as the RunEvent the displays know (the job id stands for the prompt id). */
export function toRunEvent(event: JobEvent): RunEvent | undefined {
  const promptId = event.jobId;
  switch (event.type) {
    case 'queued':
      return { type: 'queued', promptId, number: 0, position: event.position };
    case 'started':
      return { type: 'started', promptId };
    case 'node':
      return { type: 'executing', promptId, node: event.node, ...(event.classType ? { classType: event.classType } : {}) };
    case 'progress':
      return { type: 'progress', promptId, node: event.node, value: event.value, max: event.max, overall: event.overall };
    default:
      return undefined;
  }
}

/** What the displays read of a RunResult, from a JobResult. */
function asRunResult(result: JobResult): RunResult {
  const texts: Record<string, string[]> = {};
  for (const o of result.outputs) if (o.text !== undefined) (texts[o.node] ??= []).push(o.text);
  return {
    promptId: result.promptId,
    history: { prompt: [0, result.promptId, {}, {}, []], outputs: {} },
    outputs: result.outputs.filter((o) => o.stored).map((o) => ({ node: o.node, kind: o.kind as never, filename: o.filename, subfolder: '', type: 'output' as const, key: 'images' })),
    nodeErrors: result.nodeErrors ?? {},
    texts,
    files: async () => [],
    save: async () => [],
  };
}

/** Copies outputs this machine can reach (a folder store's file:// URLs, inline bytes) into outDir. */
async function saveOutputs(result: JobResult, outDir: string): Promise<string[]> {
  const saved: string[] = [];
  for (const output of result.outputs) {
    if (!output.stored && output.base64 === undefined) continue;
    const name = basename(output.filename.replace(/\\/g, '/')) || 'output';
    const path = join(outDir, `${result.jobId}-${output.node}-${name}`);
    if (output.base64 !== undefined) {
      await mkdir(outDir, { recursive: true });
      await writeFile(path, Buffer.from(output.base64, 'base64'));
      saved.push(path);
    } else if (output.stored?.url?.startsWith('file://')) {
      await mkdir(outDir, { recursive: true });
      await copyFile(fileURLToPath(output.stored.url), path);
      saved.push(path);
    }
  }
  return saved;
}

function parseInteger(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new UsageError(`${option} ${JSON.stringify(text)} is not an integer.`);
  return n;
}
