import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { colorEnabled, palette } from './color.js';
import { convertCommand } from './commands/convert.js';
import type { CliContext } from './commands/context.js';
import { infoCommand } from './commands/info.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { uploadCommand } from './commands/upload.js';
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from './exit-codes.js';
import { formatError } from './format-error.js';
import { serializeError } from './progress/json-display.js';
import { collect } from './parse-options.js';
import { UsageError } from './usage-error.js';

/** From package.json, two folders up from both src/cli and dist/cli. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const ENVIRONMENT_HELP = `Environment:
  COMFYUI_PATH, COMFYUI_PYTHON   defaults for --comfyui and --python
  NO_COLOR, FORCE_COLOR          turn colour off / on (https://no-color.org)`;

/**
 * Parses `argv` (without node and the script) and runs one command. Resolves with the exit code
 * and never exits itself: main.ts owns the process. Every error is printed here, once.
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(ctx, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; everything else commander rejects is usage.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (ctx.session.cancelled) return ctx.session.cancelExitCode;
    report(error, ctx, argv.includes('--verbose') || argv.includes('-v'));
    // A program reading --json output gets the failure there too, not only on stderr.
    if (argv.includes('--json')) ctx.stdout.write(`${JSON.stringify(serializeError(error))}\n`);
    return exitCodeFor(error);
  }
}

function report(error: unknown, ctx: CliContext, verbose: boolean): void {
  const colors = palette(colorEnabled(ctx.stderr, ctx.env));
  const logTail = verbose && !(error instanceof UsageError) ? ctx.session.connector?.server?.logTail() : undefined;
  ctx.stderr.write(`${formatError(error, colors, { verbose, ...(logTail ? { logTail } : {}) })}\n`);
}

export function buildProgram(ctx: CliContext, setCode: (code: number) => void): Command {
  const program = new Command('comfy-connector')
    .description('Run ComfyUI workflows from the command line: start a managed ComfyUI (or use a running one), run, convert, upload.')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}`)
    .configureOutput({
      writeOut: (text) => void ctx.stdout.write(text),
      writeErr: (text) => void ctx.stderr.write(text),
    })
    .exitOverride();

  const command = (name: string) =>
    program
      .command(name)
      .exitOverride()
      .configureOutput({
        writeOut: (text) => void ctx.stdout.write(text),
        writeErr: (text) => void ctx.stderr.write(text),
      })
      .addHelpText('after', `\n${EXIT_CODES_HELP}`);

  withServerOptions(command('run'))
    .description('run workflow or API prompt files in order and save their outputs')
    .argument('<files...>', 'workflow (UI) or prompt (API) JSON files')
    .option('-o, --out <dir>', 'where outputs are saved', './outputs')
    .option('-s, --set <key=value>', 'override an input, e.g. KSampler.seed=42 or 6.text="a cat" (repeatable; JSON values are parsed)', collect)
    .option('-i, --input <key=file>', 'upload a file for an input for this run only, e.g. LoadImage.image=./cat.png (repeatable)', collect)
    .option('-n, --repeat <n>', 'run each file n times; a UI workflow moves its seeds on between runs by their saved control_after_generate mode, as the ComfyUI frontend does', '1')
    .option('--vary-seed', 'API prompts: a random seed/noise_seed for every run (otherwise repeats of an API prompt are cached)')
    .option('-t, --timeout <seconds>', 'cancel a run that takes longer')
    .option('--browser', 'convert UI workflows through the real frontend in a browser instead of natively')
    .option('--json', 'one JSON event per line on stdout (RunEvents, then a result or error per run)')
    .option('--no-progress', 'plain lines instead of the live display')
    .addHelpText('after', `
Examples:
  comfy-connector run wf.json --comfyui ~/ComfyUI --set KSampler.seed=42 --set 6.text="a cat"
  comfy-connector run a.json b.json --repeat 10 --out ./renders --url http://127.0.0.1:8188
  comfy-connector run prompt_api.json --repeat 4 --vary-seed
  comfy-connector run img2img.json --input LoadImage.image=./cat.png --json`)
    .action(async (files: string[], flags) => setCode(await runCommand(files, flags, ctx)));

  withServerOptions(command('convert'))
    .description('print the API prompt of a UI workflow on stdout')
    .argument('<workflow>', 'workflow JSON file (as saved by ComfyUI)')
    .option('-d, --definitions <file>', 'convert offline with this /object_info JSON instead of asking a server')
    .option('--browser', 'convert through the real frontend in a browser instead of natively')
    .action(async (file: string, flags) => setCode(await convertCommand(file, flags, ctx)));

  withServerOptions(command('upload'))
    .description('upload files into a ComfyUI folder and print the names to use in workflows')
    .argument('<files...>', 'files to upload')
    .requiredOption('--to <folder>', 'destination: input, temp, output, or a model folder such as loras or checkpoints')
    .option('--subfolder <path>', 'relative subfolder inside the destination')
    .option('--ephemeral', 'remove the files again when this command exits')
    .option('--overwrite', 'replace a file of the same name instead of keeping both')
    .option('--json', 'print the uploaded items as JSON')
    .action(async (files: string[], flags) => setCode(await uploadCommand(files, flags, ctx)));

  withServerOptions(command('info'))
    .description('show the server URL, ComfyUI/Python/PyTorch versions, devices, node count and model folders')
    .option('--json', 'print the information as JSON')
    .action(async (flags) => setCode(await infoCommand(flags, ctx)));

  withServerOptions(command('serve'), { remote: false })
    .description('start a managed ComfyUI, print its URL, and keep it until Ctrl-C or SIGTERM')
    .action(async (flags) => setCode(await serveCommand(flags, ctx, (error) => report(error, ctx, flags.verbose === true))));

  return program;
}

/** The options that say which ComfyUI to use, shared by every command. */
function withServerOptions(cmd: Command, { remote = true } = {}): Command {
  cmd
    .option('--comfyui <dir>', 'ComfyUI checkout to start (default: $COMFYUI_PATH)')
    .option('--python <path>', 'Python interpreter of its environment (default: $COMFYUI_PYTHON)')
    .option('--port <port>', 'fixed port for the managed ComfyUI (default: a free one)')
    .option('--extra-model-paths <yaml>', 'an extra_model_paths.yaml for the managed ComfyUI, repeatable', collect)
    .option('--start-timeout <seconds>', 'how long the managed ComfyUI may take to become ready (default 600)')
    .option('--arg <flag>', 'extra ComfyUI flag, repeatable, e.g. --arg --lowvram', collect)
    .option('-v, --verbose', 'show the ComfyUI log tail with errors');
  if (remote) {
    cmd
      .option('--url <url>', 'use this running ComfyUI instead of starting one')
      .option('-H, --header <"Name: value">', 'HTTP header sent to --url, repeatable', collect);
  }
  return cmd;
}

