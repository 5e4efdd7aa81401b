/**
 * Parity: for every corpus workflow, the native converter's prompt deep-equals the one the real
 * ComfyUI frontend (1.48.7, in chromium, served by the stand-in) builds from the same workflow with
 * the same node definitions. One warm browser for the whole file.
 *
 * Also checks that the recorded oracle fixture (test/fixtures/oracle-1.48.7, used by
 * parity-fixture.test.ts without a browser) still matches the live frontend.
 * Needs /usr/bin/chromium and `bash scripts/setup-oracle.sh`; skips with one line otherwise.
 * PARITY_SAMPLE=N compares every N-th workflow only (for a quick local run; CI runs them all).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { BrowserConverter } from '../../src/workflow/browser.js';
import { loadCorpus, parityConvertOptions, type Corpus } from './corpus.js';
import { fetchObjectInfo, oracleUnavailable, startOracleServer, type OracleServer } from './oracle-server.js';
import { diffPrompts, realDifferences } from './parity-compare.js';
import { ParityTally } from './parity-tally.js';
import { oracleFixturePath } from './parity-fixture.js';

const unavailable = oracleUnavailable();

describe('native conversion equals the frontend (browser oracle)', { skip: unavailable ?? false }, () => {
  let server: OracleServer | undefined;
  let browser: BrowserConverter | undefined;
  let definitions: Record<string, unknown> = {};
  let corpus: Corpus;

  before(async () => {
    server = await startOracleServer();
    browser = new BrowserConverter({ url: server.url });
    await browser.start();
    // Exactly what the frontend saw: the stand-in's live /object_info (LoadImage lists its input folder).
    definitions = await fetchObjectInfo(server.url);
    corpus = loadCorpus(definitions);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('every corpus workflow: native deep-equals the oracle', async (t) => {
    const sample = Math.max(1, Number(process.env.PARITY_SAMPLE ?? 1));
    const entries = corpus.usable.filter((_, i) => i % sample === 0);
    const oracleFailures: string[] = [];
    const staleFixtures: string[] = [];
    const tally = new ParityTally(definitions);
    for (const entry of entries) {
      let oracle: Record<string, unknown>;
      try {
        oracle = await browser!.convert(entry.workflow, parityConvertOptions());
      } catch (error) {
        oracleFailures.push(`${entry.name}: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      const fixture = oracleFixturePath(entry.name);
      if (!existsSync(fixture) || realDifferences(diffPrompts(JSON.parse(readFileSync(fixture, 'utf8')), oracle, tally.runtimeInputs)).length) {
        staleFixtures.push(entry.name);
      }
      tally.compare(entry, oracle);
    }
    const { mismatches, nativeFailures, knownDifferences, knownOnly, equal } = tally;
    const knownRuntimeOnly = tally.runtimeOnly;
    const compared = entries.length - oracleFailures.length;
    const summary =
      `parity: ${compared} compared, ${equal} equal (${knownRuntimeOnly.length} of them apart from runtime-only inputs), ${knownOnly} equal but for known differences (${knownDifferences.length} inputs, test/workflow/known-differences.ts), ${mismatches.length} mismatched, ${nativeFailures.length} native failures, ` +
      `${corpus.skipped.length} skipped (missing nodes), ${oracleFailures.length} oracle failures` +
      (sample > 1 ? ` (PARITY_SAMPLE=${sample}: every ${sample}th of ${corpus.usable.length})` : '');
    console.log(summary);
    t.diagnostic(summary);
    for (const s of corpus.skipped) t.diagnostic(`skipped ${s.name}: needs ${s.missingTypes.join(', ')}`);
    for (const a of corpus.absent) t.diagnostic(`corpus source absent: ${a}`);
    for (const k of knownRuntimeOnly) t.diagnostic(`runtime-only inputs not compared in ${k}`);
    for (const k of knownDifferences) { console.log(`known difference ${k}`); t.diagnostic(`known difference ${k}`); }
    for (const line of [...oracleFailures.map((f) => `oracle failure ${f}`), ...nativeFailures.map((f) => `native failure ${f}`), ...mismatches.map((m) => `mismatch ${m}`)]) {
      console.log(line);
    }
    if (staleFixtures.length) {
      console.log(`oracle fixture stale for ${staleFixtures.length} workflows (re-record: node --import tsx scripts/record-oracle.ts): ${staleFixtures.slice(0, 5).join(', ')}`);
    }
    assert.ok(entries.length > 0, 'the corpus is empty: run scripts/setup-oracle.sh');
    assert.deepEqual(oracleFailures, [], 'the frontend could not convert these corpus workflows');
    assert.deepEqual(nativeFailures, [], 'the native converter threw where the frontend did not');
    assert.deepEqual(mismatches, [], 'native and frontend prompts differ');
    assert.deepEqual(staleFixtures, [], 'test/fixtures/oracle-1.48.7 no longer matches the frontend: re-record it');
  });
});
