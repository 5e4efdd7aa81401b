/**
 * Live parity, per frontend version: native conversion (told that version) deep-equals what the real
 * ComfyUI frontend in chromium, served by the stand-in (--front-end-root), builds from the same
 * workflow with the same node definitions. One warm browser per version.
 *
 * The whole corpus costs minutes per version in a browser, so CI compares a fixed sample live
 * (every PARITY_SAMPLE-th workflow, default 8: 74 of 587) and the whole corpus against the
 * recordings (parity-fixture.test.ts); this test also fails when a sampled workflow's recording no
 * longer matches the live frontend. PARITY_SAMPLE=1 compares every workflow live.
 * With CI=true a missing chromium or frontend package fails instead of skipping.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { BrowserConverter } from '../../src/workflow/browser.js';
import { EXPECTED_USABLE_WORKFLOWS, FRONTEND_VERSIONS, IN_CI, loadCorpus, parityConvertOptions, type Corpus } from './corpus.js';
import { fetchObjectInfo, oracleUnavailable, startOracleServer, type OracleServer } from './oracle-server.js';
import { diffPrompts, realDifferences } from './parity-compare.js';
import { ParityTally } from './parity-tally.js';
import { oracleFixturePath } from './parity-fixture.js';

const sample = Math.max(1, Number(process.env.PARITY_SAMPLE ?? 8));

for (const version of FRONTEND_VERSIONS) {
  const unavailable = oracleUnavailable(version);
  describe(`native conversion equals the frontend ${version} (browser oracle)`, { skip: !IN_CI && unavailable ? unavailable : false }, () => {
    let server: OracleServer | undefined;
    let browser: BrowserConverter | undefined;
    let definitions: Record<string, unknown> = {};
    let corpus: Corpus;

    before(async () => {
      if (unavailable) return;
      server = await startOracleServer(version);
      browser = new BrowserConverter({ url: server.url });
      const info = await browser.start();
      assert.equal(info.frontendVersion, version);
      // Exactly what the frontend saw: the stand-in's live /object_info (LoadImage lists its input folder).
      definitions = await fetchObjectInfo(server.url);
      corpus = loadCorpus(definitions);
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    test(`every ${sample === 1 ? '' : `${sample}th `}corpus workflow: native deep-equals the oracle, and the recording is current`, async (t) => {
      assert.equal(unavailable, undefined, unavailable);
      if (IN_CI) assert.equal(corpus.usable.length, EXPECTED_USABLE_WORKFLOWS, `CI's corpus is incomplete: ${corpus.absent.join('; ')}`);
      const entries = corpus.usable.filter((_, i) => i % sample === 0);
      const oracleFailures: string[] = [];
      const staleFixtures: string[] = [];
      const tally = new ParityTally(definitions, version);
      for (const entry of entries) {
        let oracle: Record<string, unknown>;
        try {
          oracle = await browser!.convert(entry.workflow, parityConvertOptions());
        } catch (error) {
          oracleFailures.push(`${entry.name}: ${(error as Error).message.split('\n')[0]}`);
          continue;
        }
        const fixture = oracleFixturePath(entry.name, version);
        if (!existsSync(fixture) || realDifferences(diffPrompts(JSON.parse(readFileSync(fixture, 'utf8')), oracle, tally.runtimeInputs)).length) {
          staleFixtures.push(entry.name);
        }
        tally.compare(entry, oracle);
      }
      const { mismatches, nativeFailures, knownDifferences, knownOnly, equal } = tally;
      const compared = entries.length - oracleFailures.length;
      const summary =
        `parity ${version} (live): ${compared} compared, ${equal} equal (${tally.runtimeOnly.length} of them apart from runtime-only inputs), ` +
        `${knownOnly} known differences (${knownDifferences.length} inputs), ${mismatches.length} unexplained, ${nativeFailures.length} native failures, ` +
        `${corpus.skipped.length} skipped (missing nodes), ${oracleFailures.length} oracle failures` +
        (sample > 1 ? ` (PARITY_SAMPLE=${sample}: every ${sample}th of ${corpus.usable.length})` : '');
      console.log(summary);
      t.diagnostic(summary);
      for (const s of corpus.skipped) t.diagnostic(`skipped ${s.name}: needs ${s.missingTypes.join(', ')}`);
      for (const a of corpus.absent) t.diagnostic(`corpus source absent: ${a}`);
      for (const k of knownDifferences) { console.log(`known difference ${k}`); t.diagnostic(`known difference ${k}`); }
      for (const line of [...oracleFailures.map((f) => `oracle failure ${f}`), ...nativeFailures.map((f) => `native failure ${f}`), ...mismatches.map((m) => `mismatch ${m}`)]) {
        console.log(line);
      }
      if (staleFixtures.length) {
        console.log(`oracle fixture ${version} stale for ${staleFixtures.length} workflows (re-record: node --import tsx scripts/record-oracle.ts --frontend ${version}): ${staleFixtures.slice(0, 5).join(', ')}`);
      }
      assert.ok(entries.length > 0, 'the corpus is empty: run scripts/setup-oracle.sh');
      assert.deepEqual(oracleFailures, [], 'the frontend could not convert these corpus workflows');
      assert.deepEqual(nativeFailures, [], 'the native converter threw where the frontend did not');
      assert.deepEqual(mismatches, [], 'native and frontend prompts differ');
      assert.deepEqual(staleFixtures, [], `test/fixtures/oracle-${version} no longer matches the frontend: re-record it`);
    });
  });
}
