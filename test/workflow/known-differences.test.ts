import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { KNOWN_DIFFERENCES, knownDifferenceFor, splitKnownDifferences } from './known-differences.js';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/workflow-conversion.md'), 'utf8');

describe('known differences from the frontend', () => {
  test('every entry names a frontend bug and is documented in docs/workflow-conversion.md', () => {
    assert.ok(KNOWN_DIFFERENCES.length > 0);
    for (const k of KNOWN_DIFFERENCES) {
      assert.match(k.cause, /^Frontend bug\b/, `${k.workflow} ${k.node}.${k.input}: only frontend bugs may be listed`);
      const row = doc.split('\n').find((line) => line.includes(`\`${k.workflow}\``) && line.includes(`\`${k.node}\``) && line.includes(`\`${k.input}\``));
      assert.ok(row, `${k.workflow} ${k.node}.${k.input} has no row in docs/workflow-conversion.md`);
      assert.match(row, /Frontend bug/);
    }
  });

  test('a difference counts as known only with exactly the recorded values', () => {
    const k = KNOWN_DIFFERENCES[0]!;
    const d = { node: k.node, where: `inputs.${k.input}`, native: k.native, oracle: k.frontend };
    assert.ok(knownDifferenceFor(k.workflow, d));
    assert.equal(knownDifferenceFor(k.workflow, { ...d, native: 'something else' }), undefined);
    assert.equal(knownDifferenceFor('templates/other', d), undefined);
    const split = splitKnownDifferences(k.workflow, [d, { ...d, where: 'inputs.other' }]);
    assert.equal(split.known.length, 1);
    assert.equal(split.unexplained.length, 1);
  });
});
