/**
 * Parity without a browser, per frontend version: the native converter (told that version) against
 * the frontend's recorded prompts (test/fixtures/oracle-<version>, written by scripts/record-oracle.ts
 * from the real frontend in chromium). parity.test.ts runs the same comparison live on a sample and
 * fails when a recording is stale. With CI=true a missing recording fails, and the whole corpus
 * (EXPECTED_USABLE_WORKFLOWS) must be compared.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPECTED_USABLE_WORKFLOWS, FRONTEND_VERSIONS, IN_CI, loadCorpus } from './corpus.js';
import { oracleFixtureDir, oracleFixturePath } from './parity-fixture.js';
import { ParityTally } from './parity-tally.js';

for (const version of FRONTEND_VERSIONS) {
  const dir = oracleFixtureDir(version);
  const metaPath = join(dir, 'meta.json');
  // Every recording was made against the same stand-in definitions: 1.48.7's copy is the one kept.
  const definitionsPath = join(oracleFixtureDir('1.48.7'), 'object_info.json');
  const missing = !existsSync(metaPath) || !existsSync(definitionsPath)
    ? `no recorded oracle fixture for frontend ${version} (node --import tsx scripts/record-oracle.ts --frontend ${version})`
    : undefined;
  describe(`native conversion equals the recorded frontend ${version} prompts`, { skip: !IN_CI && missing ? `${missing}: fixture parity skipped` : false }, () => {
    test(`every recorded corpus workflow: native (frontendVersion ${version}) deep-equals the recording`, (t) => {
      assert.equal(missing, undefined, missing);
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { frontendVersion: string; workflows: Record<string, unknown> };
      assert.equal(meta.frontendVersion, version, `${metaPath} was recorded with frontend ${meta.frontendVersion}`);
      const definitions = JSON.parse(readFileSync(definitionsPath, 'utf8')) as Record<string, unknown>;
      const corpus = loadCorpus(definitions);
      const recorded = corpus.usable.filter((e) => meta.workflows[e.name] === 'ok' && existsSync(oracleFixturePath(e.name, version)));
      const tally = new ParityTally(definitions, version);
      for (const entry of recorded) {
        tally.compare(entry, JSON.parse(readFileSync(oracleFixturePath(entry.name, version), 'utf8')) as Record<string, unknown>);
      }
      const { mismatches, nativeFailures, knownDifferences, knownOnly } = tally;
      const notRecorded = corpus.usable.length - recorded.length;
      const summary = `fixture parity ${version}: ${recorded.length} compared, ${tally.equal} equal ` +
        `(${tally.runtimeOnly.length} of them apart from runtime-only inputs), ${knownOnly} known differences ` +
        `(${knownDifferences.length} inputs, test/workflow/known-differences.ts), ` +
        `${mismatches.length} unexplained, ${nativeFailures.length} native failures, ${corpus.skipped.length} skipped (missing nodes), ` +
        `${notRecorded} not in the recording`;
      console.log(summary);
      t.diagnostic(summary);
      for (const k of knownDifferences) { console.log(`known difference ${k}`); t.diagnostic(`known difference ${k}`); }
      for (const line of [...nativeFailures.map((f) => `native failure ${f}`), ...mismatches.map((m) => `mismatch ${m}`)]) console.log(line);
      assert.ok(recorded.length > 0, 'the recording holds none of the corpus workflows found here');
      if (IN_CI) assert.equal(recorded.length, EXPECTED_USABLE_WORKFLOWS, `CI must compare the whole corpus (${corpus.absent.join('; ') || 'recording incomplete'})`);
      assert.deepEqual(nativeFailures, [], 'the native converter threw where the frontend did not');
      assert.deepEqual(mismatches, [], 'native and recorded frontend prompts differ');
    });
  });
}
