import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { colorEnabled, palette } from './color.js';
import { apiCommand } from './commands/api.js';
import { convertCommand } from './commands/convert.js';
import type { CliContext } from './commands/context.js';
import { infoCommand } from './commands/info.js';
import { jobsCommand } from './commands/jobs.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { submitCommand } from './commands/submit.js';
import { uploadCommand } from './commands/upload.js';
import { workerCommand } from './commands/worker.js';
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
  COMFYUI_PATH, COMFYUI_PYTHON   defaults for --comfyui and --python (without either, comfy-cli's
                                 workspace or ./ComfyUI is used: see \`comfy-connector info\`)
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
    .option('--store <dir|s3://bucket/prefix>', 'write the outputs to this store (a folder, or S3 with AWS_* credentials) instead of --out, and list their keys')
    .option('--allow-private-urls', 'allow URL inputs on loopback and private networks (as COMFY_CONNECTOR_ALLOW_PRIVATE_URLS=1)')
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
    .option('--allow-private-urls', 'allow URLs on loopback and private networks (as COMFY_CONNECTOR_ALLOW_PRIVATE_URLS=1)')
    .action(async (files: string[], flags) => setCode(await uploadCommand(files, flags, ctx)));

  withServerOptions(command('info'))
    .description('show the server URL, ComfyUI/Python/PyTorch versions, devices, node count and model folders')
    .option('--json', 'print the information as JSON')
    .action(async (flags) => setCode(await infoCommand(flags, ctx)));

  withServerOptions(command('serve'), { remote: false })
    .description('start a managed ComfyUI, print its URL, and keep it until Ctrl-C or SIGTERM')
    .action(async (flags) => setCode(await serveCommand(flags, ctx, (error) => report(error, ctx, flags.verbose === true))));

  command('api')
    .description('serve the HTTP job API (OpenAPI at /docs): a private Redis with AOF and in-process workers, or a gateway with --redis')
    .option('--comfyui <dir>', 'ComfyUI checkout for the in-process workers (default: $COMFYUI_PATH)')
    .option('--python <path>', 'Python interpreter of its environment (default: $COMFYUI_PYTHON)')
    .option('--gpus <list>', 'one ComfyUI per GPU, e.g. 0,1')
    .option('--servers <n>', 'n ComfyUI servers on the CPU (default 1)')
    .option('--url <url>', 'attach the in-process worker to a running ComfyUI instead, repeatable', collect)
    .option('--arg <flag>', 'extra ComfyUI flag, repeatable', collect)
    .option('--extra-model-paths <yaml>', 'an extra_model_paths.yaml for the managed servers, repeatable', collect)
    .option('--start-timeout <seconds>', 'how long each managed ComfyUI may take to become ready')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8080')
    .option('--redis <url>', 'a shared Redis (default: a private redis-server with AOF in --data); without --comfyui: a gateway for `comfy-connector worker`s')
    .option('--data <dir>', 'the service folder: private Redis, outputs, webhook secret (default: ~/.local/state/comfy-connector/api)')
    .option('--store <dir|s3://bucket/prefix>', 'output store the workers write to and the service reads outputs from (default: <data>/outputs; S3 endpoint and keys from AWS_*)')
    .option('--api-key <key>', 'KEY, NAME:KEY or NAME:KEY:admin, repeatable (or COMFY_CONNECTOR_API_KEYS, comma-separated)', collect)
    .option('--no-auth', 'accept requests without a key (loopback addresses only)')
    .option('--webhook-secret <whsec_...>', 'Standard Webhooks signing secret (default: $COMFY_CONNECTOR_WEBHOOK_SECRET, else made once in <data>/webhook-secret)')
    .option('--allow-private-webhooks', 'allow webhook URLs on loopback and private networks')
    .option('--body-limit <MB>', 'largest request body (default 25)')
    .option('--max-queue-depth <n>', 'refuse submits and fail /ready while this many jobs wait (default 1000)')
    .option('--cors <origin>', 'allow browser calls from this origin, repeatable (default: none)', collect)
    .addOption(new Option('--redis-fsync <when>', 'the private Redis\' AOF fsync: everysec (a power loss may lose the last second) or always (every write waits for the disk)').choices(['everysec', 'always']).default('everysec'))
    .addOption(startModeOption())
    .addOption(isolationOption())
    .addOption(new Option('--queue <name>', 'the fleet queue name').hideHelp())
    .addOption(new Option('--lock-duration <seconds>', 'the in-process worker\'s job lock (a killed service\'s jobs run again after it)').hideHelp())
    .addHelpText('after', `
Examples:
  comfy-connector api --comfyui ~/ComfyUI --api-key $(openssl rand -hex 32)
  comfy-connector api --comfyui ~/ComfyUI --gpus 0,1 --host 0.0.0.0 --api-key ops:KEY1:admin --api-key app:KEY2
  comfy-connector api --redis redis://queue.internal:6379 --api-key KEY      # gateway for comfy-connector workers`)
    .action(async (flags) => setCode(await apiCommand(flags, ctx, packageVersion())));

  withServerOptions(command('worker'), { remote: false })
    .description('take jobs from the fleet queue on N warm ComfyUI servers until Ctrl-C or SIGTERM, then drain')
    .option('--redis <url>', 'the fleet\'s Redis (default: $COMFY_REDIS_URL, else redis://127.0.0.1:6379)')
    .option('--servers <n>', 'n managed ComfyUI servers on this machine (default 1)')
    .option('--gpus <list>', 'one managed ComfyUI per GPU index, e.g. 0,1')
    .option('--url <url>', 'take jobs on a running ComfyUI instead, repeatable', collect)
    .option('--store <dir>', 'the output folder store (a shared volume) results name files in')
    .option('--metrics-port <port>', 'serve Prometheus counters at 127.0.0.1:<port>/metrics')
    .option('--drain-timeout <seconds>', 'on SIGTERM, how long running jobs may finish before they are handed back (default 60)')
    .option('--json', 'one JSON line per log line on stdout')
    .addOption(startModeOption())
    .addOption(isolationOption())
    .addOption(new Option('--queue <name>', 'the fleet queue name (default comfy-jobs)').hideHelp())
    .addOption(new Option('--lock-duration <seconds>', 'BullMQ job lock (default 30)').hideHelp())
    .addOption(new Option('--stalled-interval <seconds>', 'how often dead workers\' jobs are looked for (default 30)').hideHelp())
    .addHelpText('after', `
Examples:
  comfy-connector worker --redis redis://queue.internal:6379 --gpus 0,1 --comfyui ~/ComfyUI --store /mnt/outputs
  comfy-connector worker --servers 2 --store ./outputs --metrics-port 9464`)
    .action(async (flags) => setCode(await workerCommand(flags, ctx)));

  command('submit')
    .description('queue workflow or prompt files as fleet jobs; print their ids, or follow them with --wait')
    .argument('<files...>', 'workflow (UI) or prompt (API) JSON files')
    .option('--redis <url>', 'the fleet\'s Redis (default: $COMFY_REDIS_URL, else redis://127.0.0.1:6379)')
    .option('-s, --set <key=value>', 'override an input, e.g. KSampler.seed=42 (repeatable)', collect)
    .option('-i, --input <key=file>', 'a file for an input, read here and sent with the job (repeatable)', collect)
    .option('--priority <n>', 'lower runs first (default 0)')
    .option('--key <idempotency-key>', 'the same key gives the same job, never a second run')
    .option('--deadline <seconds>', 'fail the job if it has not finished this many seconds from now')
    .option('-t, --timeout <seconds>', 'how long one attempt may run on ComfyUI')
    .option('--require-model <folder/name>', 'run only on workers that have this model, repeatable', collect)
    .option('--require-node <class>', 'run only on workers that have this node class, repeatable', collect)
    .option('-w, --wait', 'follow each job to its end with the same display and exit codes as run')
    .option('-o, --out <dir>', 'with --wait: where outputs from a folder store are copied', './outputs')
    .option('--json', 'one JSON line per job (or per event with --wait)')
    .option('--no-progress', 'plain lines instead of the live display')
    .option('-v, --verbose', 'more detail with errors')
    .addOption(new Option('--queue <name>', 'the fleet queue name (default comfy-jobs)').hideHelp())
    .addHelpText('after', `
Examples:
  comfy-connector submit wf.json --redis redis://127.0.0.1:6379 --set KSampler.seed=42 --wait
  comfy-connector submit a.json b.json --priority -5 --json`)
    .action(async (files: string[], flags) => setCode(await submitCommand(files, flags, ctx)));

  command('jobs')
    .description('list the fleet\'s jobs, show some by id, cancel them, or list the live workers')
    .argument('[ids...]', 'job ids to show (or cancel with --cancel)')
    .option('--redis <url>', 'the fleet\'s Redis (default: $COMFY_REDIS_URL, else redis://127.0.0.1:6379)')
    .option('--cancel', 'cancel the given jobs (waiting: removed; running: interrupted on ComfyUI)')
    .option('--workers', 'list the live workers and their servers')
    .option('--state <state>', 'list only jobs in this state, repeatable (waiting, active, retrying, completed, failed, cancelled)', collect)
    .option('--limit <n>', 'list at most n jobs (default 50)')
    .option('--json', 'one JSON object per line')
    .addOption(new Option('--queue <name>', 'the fleet queue name (default comfy-jobs)').hideHelp())
    .action(async (ids: string[], flags) => setCode(await jobsCommand(ids, flags, ctx)));

  return program;
}

/** The options that say which ComfyUI to use, shared by every command. */
/** How a worker's managed servers start: `worker` and `api` (its in-process workers) alike. */
function startModeOption(): Option {
  return new Option('--start-mode <mode>', 'how managed servers (re)start: fork from one preloaded Python (about 1 s) or cold (docs/fast-start.md)').choices(['fork', 'cold']).default('fork');
}

function isolationOption(): Option {
  return new Option('--isolation <level>', 'job: a fresh ComfyUI for every job (nothing of one job reaches the next); none: servers stay warm').choices(['none', 'job']).default('none');
}

function withServerOptions(cmd: Command, { remote = true } = {}): Command {
  cmd
    .option('--comfyui <dir>', "ComfyUI checkout to start (default: $COMFYUI_PATH, else the one comfy-cli installed, else ./ComfyUI; `info` shows the search)")
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

