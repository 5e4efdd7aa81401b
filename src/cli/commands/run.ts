import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoredOutput } from '../../assets/outputs-to-store.js';
import type { StoredRunResult } from '../../assets/url-assets.js';
import type { OutputStore } from '../../stores/types.js';
import { UsageError } from '../usage-error.js';
import type { ComfyConnector, RunWorkflowOptions } from '../facade-types.js';
import { checkReadable, checkWorkflowFiles } from '../check-files.js';
import { checkPlanFiles, connectionPlan, describePlan, openConnector, type ConnectionPlan, type ServerFlags } from '../connection.js';
import { exitCodeFor, worstExitCode } from '../exit-codes.js';
import { parseCount, parseInputs, parseOverrides, parseSeconds } from '../parse-options.js';
import { chooseDisplayMode, createDisplay } from '../progress/create-display.js';
import type { RunDisplay } from '../progress/display.js';
import type { CliContext } from './context.js';
import { RepeatInputs, type RunInput } from './repeat-inputs.js';
import { isUrlSource } from '../../sources/fetch.js';
import { transferProgress } from '../progress/transfer-line.js';

export interface RunFlags extends ServerFlags {
  out: string;
  set?: string[];
  input?: string[];
  repeat: string;
  timeout?: string;
  json?: boolean;
  progress?: boolean;
  browser?: boolean;
  varySeed?: boolean;
  /** A folder or s3://bucket/prefix: outputs go there (runs/<promptId>/...) instead of --out. */
  store?: string;
}

/**
 * `run <files...>`: every file, `--repeat` times, in order, on one server. A failed item is reported
 * and the batch goes on; the exit code is the worst failure's. A signal ends the batch.
 */
export async function runCommand(files: string[], flags: RunFlags, ctx: CliContext): Promise<number> {
  // Everything that can be wrong with the command line fails here, before a server boots.
  const overrides = parseOverrides(flags.set ?? []);
  const inputs = parseInputs(flags.input ?? []);
  const repeat = parseCount(flags.repeat, '--repeat');
  const timeout = flags.timeout !== undefined ? parseSeconds(flags.timeout, '--timeout') : undefined;
  const store = flags.store !== undefined ? await storeFlag(flags.store, ctx.cwd) : undefined;
  await checkReadable(Object.values(inputs).filter((v) => !isUrlSource(v)), ctx.cwd, '--input'); // URLs are checked when fetched
  await checkWorkflowFiles(files, ctx.cwd, { overrides, inputs });
  const plan = connectionPlan(flags, ctx.env, ctx.cwd);
  await checkPlanFiles(plan, ctx.cwd);
  const outDir = resolve(ctx.cwd, flags.out);

  const verbose = flags.verbose ?? false;
  const display = createDisplay(chooseDisplayMode(flags, ctx.stdout, ctx.stderr), { ...ctx, verbose });
  ctx.session.announcer = (text) => display.notice(text);
  const options: RunWorkflowOptions = {
    ...(Object.keys(overrides).length ? { overrides } : {}),
    ...(Object.keys(inputs).length ? { inputs: resolvePaths(inputs, ctx.cwd) } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(flags.browser ? { conversion: 'browser' as const } : {}),
    signal: ctx.session.signal,
    onEvent: (event) => display.event(event),
    ...(Object.values(inputs).some(isUrlSource) ? { onTransfer: transferProgress(ctx.stderr) } : {}),
    ...(store ? { store } : {}),
  };
  let code: number;
  let closeError: unknown;
  try {
    code = await runBatch({ files, repeat, varySeed: flags.varySeed ?? false, plan, outDir, options, display, verbose }, ctx);
  } finally {
    display.close();
    closeError = await ctx.session.close().then(() => undefined, (error: unknown) => error ?? new Error('killApi failed'));
  }
  if (closeError !== undefined) {
    // The outputs are saved; a failed cleanup still must not pass unnoticed.
    display.fatal(closeError);
    code = worstExitCode([code, exitCodeFor(closeError)]);
  }
  return code;
}

/** Everything one batch needs, decided before the server starts. */
interface Batch {
  files: string[];
  repeat: number;
  /** API prompts: a random seed/noise_seed per run (UI workflows follow their saved control modes). */
  varySeed: boolean;
  plan: ConnectionPlan;
  outDir: string;
  options: RunWorkflowOptions;
  display: RunDisplay;
  verbose: boolean;
}

async function runBatch({ files, repeat, varySeed, plan, outDir, options, display, verbose }: Batch, ctx: CliContext): Promise<number> {
  display.notice(describePlan(plan));
  let connector: ComfyConnector;
  try {
    connector = await ctx.session.open(() => openConnector(plan));
  } catch (error) {
    if (ctx.session.cancelled) return ctx.session.cancelExitCode;
    display.fatal(error);
    return exitCodeFor(error);
  }
  if (ctx.session.cancelled) return ctx.session.cancelExitCode;
  display.notice(`ComfyUI ready at ${connector.url}`);

  const codes: number[] = [];
  const count = files.length * repeat;
  let index = 0;
  const repeats = new RepeatInputs(connector, { repeat, varySeed, warn: (text) => display.notice(text) });
  for (const file of files) {
    const runs = repeats.forFile(resolve(ctx.cwd, file));
    for (let iteration = 1; iteration <= repeat; iteration++) {
      if (ctx.session.cancelled) return ctx.session.cancelExitCode;
      index += 1;
      display.begin({ file, iteration, repeat, index, count });
      const code = await runOne(connector, () => runs.next(), outDir, options, display, verbose);
      if (ctx.session.cancelled) return ctx.session.cancelExitCode;
      codes.push(code);
    }
  }
  return worstExitCode(codes);
}

async function runOne(
  connector: ComfyConnector,
  input: () => Promise<RunInput>,
  outDir: string,
  options: RunWorkflowOptions,
  display: RunDisplay,
  verbose: boolean,
): Promise<number> {
  try {
    const result = await connector.runWorkflow(await input(), options);
    // With --store the outputs are already written there: list where, instead of saving a copy.
    const stored = (result as StoredRunResult).stored;
    const saved = options.store ? (stored ?? []).map(storedName) : await result.save(outDir);
    display.succeed(result, saved);
    return 0;
  } catch (error) {
    display.fail(error, verbose ? connector.server?.logTail() : undefined);
    return exitCodeFor(error);
  }
}

function resolvePaths(inputs: Record<string, string>, cwd: string): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([key, file]) => [key, isUrlSource(file) ? file : resolve(cwd, file)]));
}

/** `--store DIR|s3://bucket/prefix`, checked before a server boots. */
async function storeFlag(spec: string, cwd: string): Promise<OutputStore> {
  // Imported here: the S3 client is heavy, and `--help` and runs without --store never need it.
  const { openStore } = await import('../../stores/open.js');
  try {
    return openStore(/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) ? spec : resolve(cwd, spec)); // a URL is openStore's to judge
  } catch (error) {
    throw new UsageError(`--store ${JSON.stringify(spec)}: ${(error as Error).message}`, 'For example --store ./outputs-store or --store s3://my-bucket/renders');
  }
}

/** A stored output as the display lists it: the file's path for a folder, else s3://bucket/key. */
function storedName(object: StoredOutput): string {
  if (object.url?.startsWith('file:')) return fileURLToPath(object.url);
  return object.url ?? object.key;
}
