// getPromptFromWorkflow() through the facade: native conversion on the connected server's node
// definitions, and the browser mode (the real frontend in chromium), which killApi() closes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyConnector } from '../../src/connector.js';
import type { UiWorkflow } from '../../src/workflow/index.js';
import { examplesCorpusDir, frontendStaticDir } from '../workflow/corpus.js';
import { oracleFixturePath } from '../workflow/parity-fixture.js';
import { chromiumPids, connectorTargets, invertUiWorkflow, stopThenDelete, waitDead } from './harness.js';

const CORPUS_FILE = 'examples-pairs/controlnet__controlnet_example.json';
const corpusDir = examplesCorpusDir();
const CHROMIUM = '/usr/bin/chromium';

for (const target of connectorTargets()) {
  const corpusSkip = !corpusDir
    ? 'no workflow corpus (../shared/corpus beside the checkout, or COMFY_CORPUS_DIR): corpus conversion skipped'
    : undefined;

  describe(`getPromptFromWorkflow (${target.name})`, { skip: target.skip }, () => {
    test('native conversion on the connected server equals what the real frontend made of the workflow (recorded)', { skip: corpusSkip }, async (t) => {
      const { options, cleanup } = target.options();
      const stopFirst = stopThenDelete(t, cleanup);
      const connector = await ComfyConnector.create(options);
      stopFirst(() => connector.killApi());
      const entry = JSON.parse(readFileSync(join(corpusDir!, CORPUS_FILE), 'utf8')) as { workflow: UiWorkflow };
      // The expected prompt is what the real frontend 1.48.7 made of this workflow (recorded in
      // test/fixtures/oracle-1.48.7), not convertWorkflow again: that would compare it with itself.
      const expected = JSON.parse(readFileSync(oracleFixturePath(CORPUS_FILE.replace(/\.json$/, '')), 'utf8')) as Record<string, unknown>;
      const actual = await connector.getPromptFromWorkflow(structuredClone(entry.workflow));
      assert.deepEqual(actual, expected);
      assert.ok(Object.values(actual).some((node) => node.class_type === 'KSampler'), 'a real graph was converted');
      // JSON text goes through the same way.
      assert.deepEqual(await connector.getPromptFromWorkflow(JSON.stringify(entry.workflow)), expected);
    });

    const browserSkip = !existsSync(CHROMIUM)
      ? `no chromium at ${CHROMIUM}: browser conversion skipped`
      : target.name === 'standin' && !frontendStaticDir()
        ? 'ComfyUI frontend package absent (bash scripts/setup-oracle.sh): stand-in browser conversion skipped'
        : undefined;
    // CI installs both (scripts/setup.sh): there a missing one is a failure, not a skip.
    if (browserSkip && process.env.CI === 'true') throw new Error(`${browserSkip} — but CI=true, where scripts/setup.sh installs it`);
    test("mode 'browser' equals native for a simple workflow, and killApi() closes the browser", { skip: browserSkip }, async (t) => {
      // The stand-in serves no frontend unless it is given one; real ComfyUI serves its own.
      const frontend = target.name === 'standin' ? ['--front-end-root', frontendStaticDir()!] : [];
      const { options, cleanup } = target.options({ extraArgs: frontend, browserPath: CHROMIUM });
      const stopFirst = stopThenDelete(t, cleanup);
      const connector = await ComfyConnector.create(options);
      stopFirst(() => connector.killApi());
      const workflow = invertUiWorkflow('browser', 20, 10);
      const native = await connector.getPromptFromWorkflow(structuredClone(workflow));
      const browser = await connector.getPromptFromWorkflow(structuredClone(workflow), { mode: 'browser' });
      assert.deepEqual(browser, native);
      const ours = chromiumPids();
      assert.ok(ours.length > 0, 'a chromium was started for the conversion');

      await connector.killApi();
      assert.deepEqual(await waitDead(ours, 5000), [], 'no chromium of ours is left');
      const profiles = readdirSync(tmpdir()).filter((name) => name.startsWith(`comfy-connector-chromium-${process.pid}-`));
      assert.deepEqual(profiles, [], 'its temporary profile is removed');
    });
  });
}
