/**
 * advanceControlWidgets against the real frontend 1.48.7: each corpus workflow is queued twice with
 * app.queuePrompt (api.queuePrompt stubbed to capture, Math.random fixed), so the second prompt is
 * what "control after generate" made of the first. Where the native converter already equals the
 * first prompt, the native conversion of the advanced workflow must equal the second one.
 * Uses the stand-in serving the real frontend; skips with one line without chromium or the package.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BrowserConverter } from '../../src/workflow/browser.js';
import { advanceControlWidgets, convertWorkflow, NodeDefinitions, type ApiPrompt, type UiWorkflow } from '../../src/workflow/index.js';
import { loadCorpus } from './corpus.js';
import { fetchObjectInfo, oracleUnavailable, startOracleServer, type OracleServer } from './oracle-server.js';

const RANDOM = 0.5;

/** Two queues in the page; returns both captured prompts (the frontend advances widgets in between). */
const QUEUE_TWICE = `(async () => {
  const app = window.app;
  const realRandom = Math.random;
  const original = app.api.queuePrompt;
  const captured = [];
  Math.random = () => ${RANDOM};
  app.api.queuePrompt = async (number, p) => { captured.push(p.output); return { node_errors: {} }; };
  try {
    await app.queuePrompt(0, 2);
    return JSON.stringify(captured);
  } finally {
    Math.random = realRandom;
    app.api.queuePrompt = original;
  }
})()`;

interface Page { evaluate(script: string): Promise<unknown> }

const unavailable = oracleUnavailable();
describe('control after generate equals the frontend\'s queuePrompt', { skip: process.env.CI === 'true' ? false : unavailable ?? false }, () => {
  let server: OracleServer;
  let converter: BrowserConverter;
  before(async () => {
    assert.equal(unavailable, undefined, `CI installs chromium and the frontend package: ${unavailable}`);
    server = await startOracleServer();
    converter = new BrowserConverter({ url: server.url });
  });
  after(async () => {
    await converter?.close();
    await server?.stop();
  });

  test('every corpus workflow with a control widget: the second queued prompt', { timeout: 600_000 }, async (t) => {
    const info = await fetchObjectInfo(server.url);
    const defs = new NodeDefinitions(info);
    const entries = loadCorpus(info).usable.filter((e) => /"(randomize|increment|decrement|fixed)"/.test(JSON.stringify(e.workflow)));
    await converter.start();
    // The page the converter booted: loading through convert() leaves the workflow in the graph.
    const { page } = await (converter as unknown as { booting: Promise<{ page: Page }> }).booting;
    let compared = 0;
    let advanced = 0;
    const differences: string[] = [];
    for (const entry of entries) {
      const workflow = entry.workflow as unknown as UiWorkflow;
      try {
        await converter.convert(workflow);
      } catch {
        continue; // workflows the frontend cannot load are the converter parity tests' business
      }
      const [first, second] = JSON.parse(String(await page.evaluate(QUEUE_TWICE))) as ApiPrompt[];
      const options = { random: () => RANDOM };
      if (JSON.stringify(convertWorkflow(workflow, defs, options)) !== JSON.stringify(first)) continue;
      compared++;
      const native = convertWorkflow(advanceControlWidgets(workflow, defs, options), defs, options);
      if (JSON.stringify(native) !== JSON.stringify(first)) advanced++;
      try {
        assert.deepEqual(native, second);
      } catch {
        differences.push(entry.name);
      }
    }
    t.diagnostic(`${entries.length} workflows with a control widget; ${compared} convert equal to the frontend; ${advanced} of those change when advanced`);
    assert.deepEqual(differences, [], 'native advance differs from the frontend');
    assert.ok(compared > 100 && advanced > compared / 2, `compared ${compared}, of which ${advanced} changed: the corpus should exercise the modes`);
  });
});
