/**
 * `npm run bench`: every benchmark in one run, each printing its own table with side-by-side ratios.
 * Pick some with arguments: `npm run bench -- convert run`. Real ComfyUI rows appear when
 * COMFYUI_PATH and COMFYUI_PYTHON are set. BENCH_UPLOAD_MB shrinks the 1 GB upload for a quick run;
 * BENCH_ASSETS_MB the 1 GB download and store writes.
 */
import { benchBrowser, browserBenchOptions, reportBrowser } from './browser.bench.js';
import { benchConvert, reportConvert } from './convert.bench.js';
import { benchRun } from './run.bench.js';
import { benchServer } from './server.bench.js';
import { benchUpload } from './upload.bench.js';
import { benchAssets } from './assets.bench.js';
import { benchQueue } from './queue.bench.js';
import { benchApi } from './api.bench.js';
import { benchIsolation } from './isolation.bench.js';

const all: Record<string, () => Promise<unknown>> = {
  convert: async () => reportConvert(benchConvert()),
  browser: async () => reportBrowser(await benchBrowser(browserBenchOptions())),
  run: () => benchRun(),
  server: () => benchServer(),
  upload: () => benchUpload(),
  assets: () => benchAssets(),
  queue: () => benchQueue(),
  api: () => benchApi(),
  isolation: () => benchIsolation(),
};

const wanted = process.argv.slice(2).filter((name) => !name.startsWith('-'));
for (const name of wanted.length ? wanted : Object.keys(all)) {
  const bench = all[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; choose from: ${Object.keys(all).join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  console.log(`\n=== ${name} ===`);
  await bench();
}
