import { resolve } from 'node:path';
import type { ComfyConnector, RunWorkflowOptions } from '../facade-types.js';
import { checkReadable } from '../check-files.js';
import { connectionPlan, describePlan, openConnector, type ConnectionPlan, type ServerFlags } from '../connection.js';
import { exitCodeFor, worstExitCode } from '../exit-codes.js';
import { parseCount, parseInputs, parseOverrides, parseSeconds } from '../parse-options.js';
import { chooseDisplayMode, createDisplay } from '../progress/create-display.js';
import type { RunDisplay } from '../progress/display.js';
import type { CliContext } from './context.js';
import { RepeatInputs, type RunInput } from './repeat-inputs.js';

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
  await checkReadable(files, ctx.cwd, 'The workflow file');
  await checkReadable(Object.values(inputs), ctx.cwd, 'The --input file');
  const plan = connectionPlan(flags, ctx.env);
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
    const saved = await result.save(outDir);
    display.succeed(result, saved);
    return 0;
  } catch (error) {
    display.fail(error, verbose ? connector.server?.logTail() : undefined);
    return exitCodeFor(error);
  }
}

function resolvePaths(inputs: Record<string, string>, cwd: string): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([key, file]) => [key, resolve(cwd, file)]));
}
