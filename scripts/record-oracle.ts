/**
 * Records what the real ComfyUI frontend (the oracle) makes of every corpus workflow, so the native
 * converter can be compared without a browser:
 *
 *   node --import tsx scripts/record-oracle.ts                 # starts the stand-in with the frontend
 *   node --import tsx scripts/record-oracle.ts --url http://127.0.0.1:8188   # a server you started
 *   node --import tsx scripts/record-oracle.ts --frontend 1.58.1             # another frontend (.cache/py-1.58.1)
 *
 * Writes test/fixtures/oracle-<version>/prompts/<origin>__<name>.json (the prompt, pretty-printed) and
 * meta.json (versions, options, and per workflow: ok, skipped with the missing types, or the error).
 * Needs chromium (/usr/bin/chromium) and `bash scripts/setup-oracle.sh` first.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BrowserConverter } from '../src/workflow/browser.js';
import { loadCorpus, parityConvertOptions, PARITY_NOW } from '../test/workflow/corpus.js';
import { fetchObjectInfo, startOracleServer } from '../test/workflow/oracle-server.js';
import { oracleFixtureDir, oracleFixtureName } from '../test/workflow/parity-fixture.js';
import { DEFAULT_FRONTEND_VERSION } from '../test/workflow/corpus.js';

const { values } = parseArgs({ options: { url: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' }, frontend: { type: 'string' } } });
const frontend = values.frontend ?? DEFAULT_FRONTEND_VERSION;

const server = values.url ? undefined : await startOracleServer(frontend);
const url = values.url ?? server!.url;
// The definitions the oracle's frontend saw, so whoever compares against these prompts uses the same.
const definitions = await fetchObjectInfo(url);
const corpus = loadCorpus(definitions);
const outDir = values.out ?? oracleFixtureDir(frontend);
const converter = new BrowserConverter({ url });
// Ctrl-C must not leave the stand-in or chromium behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([converter.close(), server?.stop()]).then(() => process.exit(130));
  });
}
const results: Record<string, unknown> = {};
const started = Date.now();
try {
  const info = await converter.start();
  if (!values.url && info.frontendVersion !== frontend) throw new Error(`asked for frontend ${frontend}, the page runs ${info.frontendVersion}`);
  if (!values.only) rmSync(join(outDir, 'prompts'), { recursive: true, force: true });
  mkdirSync(join(outDir, 'prompts'), { recursive: true });
  if (!values.only) writeFileSync(join(outDir, 'object_info.json'), `${JSON.stringify(definitions)}\n`);
  const entries = corpus.usable.filter((e) => !values.only || e.name.includes(values.only));
  let done = 0;
  for (const entry of entries) {
    try {
      const prompt = await converter.convert(entry.workflow, parityConvertOptions());
      writeFileSync(join(outDir, 'prompts', `${oracleFixtureName(entry.name)}.json`), `${JSON.stringify(prompt, null, 1)}\n`);
      results[entry.name] = 'ok';
    } catch (error) {
      results[entry.name] = { error: (error as Error).message.split('\n')[0] };
    }
    if (++done % 50 === 0) console.log(`${done}/${entries.length} (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  for (const skipped of corpus.skipped) results[skipped.name] = { skipped: skipped.missingTypes };
  const failures = Object.values(results).filter((r) => typeof r === 'object' && r && 'error' in r).length;
  if (!values.only) {
    const meta = {
      frontendVersion: info.frontendVersion,
      server: values.url ? url : 'stand-in (test/standin/main.ts --front-end-root)',
      nodeTypes: info.nodeTypes,
      recordedAt: new Date().toISOString(),
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      options: { random: 'parityConvertOptions() in test/workflow/corpus.ts (mulberry32, fresh per workflow)', now: PARITY_NOW.toISOString() },
      sources: corpus.sources,
      workflows: results,
    };
    writeFileSync(join(outDir, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
  }
  console.log(
    `record-oracle: ${entries.length} converted, ${failures} oracle failures, ${corpus.skipped.length} skipped (missing nodes) in ${Math.round((Date.now() - started) / 1000)} s -> ${outDir}`,
  );
} finally {
  await converter.close();
  await server?.stop();
}
