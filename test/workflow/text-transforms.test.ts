import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTextReplacements, formatDate, processDynamicPrompt } from '../../src/workflow/index.js';

describe('dynamic prompts', () => {
  test('choices, nesting and escapes', () => {
    assert.equal(processDynamicPrompt('{a|b|c}', () => 0.99), 'c');
    assert.equal(processDynamicPrompt('x {a|{b|c}} y', () => 0.9), 'x c y');
    assert.equal(processDynamicPrompt('\\{not\\|a choice\\}', () => 0), '{not|a choice}');
  });
  test('comments are stripped, as the frontend does (even after http:)', () => {
    assert.equal(processDynamicPrompt('keep /* drop */ this // and not this'), 'keep  this ');
    assert.equal(processDynamicPrompt('see http://example.com'), 'see http:');
  });
});

describe('filename replacement', () => {
  const date = new Date(2024, 10, 5, 7, 8, 9);
  test('date tokens', () => {
    assert.equal(formatDate('yyyy-MM-dd hh:mm:ss yy M d', date), '2024-11-05 07:08:09 24 11 5');
  });
  test('%Node.widget% by S&R name, then title; unsafe characters become _; unknown left alone', () => {
    const nodes = [
      { searchName: 'KSampler', title: 'Sampler A', widgetValue: (n: string) => (n === 'seed' ? { found: true, value: 12 } : { found: false, value: undefined }) },
      { searchName: undefined, title: 'Names', widgetValue: () => ({ found: true, value: 'a/b:c' }) },
    ];
    assert.equal(applyTextReplacements('%KSampler.seed%-%Names.x%-%Nope.x%-%date:yyyy%-%width%', nodes, () => date), '12-a_b_c-%Nope.x%-2024-%width%');
  });
});
