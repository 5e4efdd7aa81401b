/**
 * Parity without a browser: the native converter against the frontend's recorded prompts
 * (test/fixtures/oracle-1.48.7, written by scripts/record-oracle.ts from the real frontend 1.48.7).
 * parity.test.ts runs the same comparison live and fails when this fixture is stale.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus } from './corpus.js';
import { ORACLE_FIXTURE_DIR, oracleFixturePath } from './parity-fixture.js';
import { ParityTally } from './parity-tally.js';

const metaPath = join(ORACLE_FIXTURE_DIR, 'meta.json');
const definitionsPath = join(ORACLE_FIXTURE_DIR, 'object_info.json');
const skip = !existsSync(metaPath) || !existsSync(definitionsPath)
  ? 'no recorded oracle fixture (node --import tsx scripts/record-oracle.ts): fixture parity skipped'
  : false;

describe('native conversion equals the recorded frontend prompts', { skip }, () => {
  test('every recorded corpus workflow: native deep-equals the recording', (t) => {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as { workflows: Record<string, unknown> };
    // The definitions the frontend had when it recorded: comparing with any other would be unfair.
    const definitions = JSON.parse(readFileSync(definitionsPath, 'utf8')) as Record<string, unknown>;
    const corpus = loadCorpus(definitions);
    const recorded = corpus.usable.filter((e) => meta.workflows[e.name] === 'ok' && existsSync(oracleFixturePath(e.name)));
    const tally = new ParityTally(definitions);
    for (const entry of recorded) {
      tally.compare(entry, JSON.parse(readFileSync(oracleFixturePath(entry.name), 'utf8')) as Record<string, unknown>);
    }
    const { mismatches, nativeFailures, knownDifferences, knownOnly } = tally;
    const notRecorded = corpus.usable.length - recorded.length;
    const summary = `fixture parity: ${recorded.length} compared, ${tally.equal} equal ` +
      `(${tally.runtimeOnly.length} of them apart from runtime-only inputs), ${knownOnly} equal but for known differences ` +
      `(${knownDifferences.length} inputs, test/workflow/known-differences.ts), ` +
      `${mismatches.length} mismatched, ${nativeFailures.length} native failures, ${corpus.skipped.length} skipped (missing nodes), ` +
      `${notRecorded} not in the recording`;
    console.log(summary);
    t.diagnostic(summary);
    for (const k of knownDifferences) { console.log(`known difference ${k}`); t.diagnostic(`known difference ${k}`); }
    for (const line of [...nativeFailures.map((f) => `native failure ${f}`), ...mismatches.map((m) => `mismatch ${m}`)]) console.log(line);
    assert.ok(recorded.length > 0, 'the recording holds none of the corpus workflows found here');
    assert.deepEqual(nativeFailures, [], 'the native converter threw where the frontend did not');
    assert.deepEqual(mismatches, [], 'native and recorded frontend prompts differ');
  });
});
