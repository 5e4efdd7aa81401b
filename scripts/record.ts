// Records real ComfyUI behaviour into test/fixtures/comfyui-<version>/ (format: test/fixtures/README.md).
//   npm run record -- --url http://127.0.0.1:8188
//   npm run record -- --comfyui /path/to/ComfyUI --python /path/to/python
import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { launchComfy, type LaunchedComfy } from './recorder/launch.js';
import { record } from './recorder/record.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const program = new Command()
  .name('record')
  .description('Record ComfyUI HTTP/WebSocket fixtures into test/fixtures/comfyui-<version>/')
  .option('--url <url>', 'a running ComfyUI (start it with the test node pack to record every scenario)')
  .option('--comfyui <dir>', 'a ComfyUI checkout to start, record and stop')
  .option('--python <path>', 'the Python that runs --comfyui', 'python3')
  .option('--out <dir>', 'fixtures root', join(repoRoot, 'test', 'fixtures'))
  .option('--only <names...>', 'record only scenarios whose name contains one of these (keeps other files)')
  .parse();

const opts = program.opts<{ url?: string; comfyui?: string; python: string; out: string; only?: string[] }>();

async function main(): Promise<void> {
  if (!opts.url && !opts.comfyui) {
    program.error('give --url http://127.0.0.1:PORT (a running ComfyUI) or --comfyui DIR --python PY (start one)');
  }
  let launched: LaunchedComfy | undefined;
  const onSignal = () => {
    void launched?.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    let url = opts.url;
    if (!url) {
      const extra = join(repoRoot, 'test', 'comfy-nodes', 'extra_model_paths.yaml');
      console.log(`starting ComfyUI from ${opts.comfyui} …`);
      launched = await launchComfy(resolve(opts.comfyui ?? ''), opts.python, extra);
      url = launched.url;
      console.log(`ComfyUI is up at ${url}`);
    }
    const dir = await record({ url, fixturesRoot: resolve(opts.out), ...(opts.only ? { only: opts.only } : {}) });
    console.log(`fixtures written to ${dir}`);
  } finally {
    await launched?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
