import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseCommandEnv,
  parseCount,
  parseHeaders,
  parseInputs,
  parseOverrides,
  parsePort,
  parseSeconds,
  parseSetValue,
} from '../../src/cli/parse-options.js';
import { UsageError } from '../../src/cli/usage-error.js';

describe('--set values', () => {
  test('JSON is parsed when it parses, otherwise the text is kept', () => {
    assert.equal(parseSetValue('42'), 42);
    assert.equal(parseSetValue('1.5'), 1.5);
    assert.equal(parseSetValue('true'), true);
    assert.equal(parseSetValue('null'), null);
    assert.deepEqual(parseSetValue('[1,2]'), [1, 2]);
    assert.deepEqual(parseSetValue('{"a":1}'), { a: 1 });
    assert.equal(parseSetValue('"42"'), '42', 'a quoted number stays a string');
    assert.equal(parseSetValue('a cat'), 'a cat');
    assert.equal(parseSetValue(''), '');
  });

  test('overrides split at the first "=" and keep "=" in the value; a later key wins', () => {
    assert.deepEqual(parseOverrides(['KSampler.seed=42', '6.text=a=b', 'KSampler.seed=7', 'My.Title.cfg=7.5']), {
      'KSampler.seed': 7,
      '6.text': 'a=b',
      'My.Title.cfg': 7.5,
    });
  });

  test('malformed keys are usage errors naming the text', () => {
    for (const bad of ['seed', '=42', 'seed=42', '.seed=1', 'KSampler.=1']) {
      assert.throws(() => parseOverrides([bad]), (error: unknown) => error instanceof UsageError && error.code === 'COMFY_CLI_USAGE' && error.message.includes(JSON.stringify(bad)), bad);
    }
  });
});

test('--input maps keys to files and needs a file', () => {
  assert.deepEqual(parseInputs(['LoadImage.image=./cat.png']), { 'LoadImage.image': './cat.png' });
  assert.throws(() => parseInputs(['LoadImage.image=']), UsageError);
  assert.throws(() => parseInputs(['./cat.png']), UsageError);
});

test('--header parses "Name: value" and keeps colons in the value', () => {
  assert.deepEqual(parseHeaders(['Authorization: Bearer a:b', 'X-Empty:']), { Authorization: 'Bearer a:b', 'X-Empty': '' });
  assert.throws(() => parseHeaders(['no colon']), UsageError);
  assert.throws(() => parseHeaders([': value']), UsageError);
  assert.throws(() => parseHeaders(['Bad Name: v']), UsageError);
});

test('seconds become milliseconds; counts and ports are whole numbers in range', () => {
  assert.equal(parseSeconds('1.5', '--timeout'), 1500);
  assert.equal(parseSeconds('600', '--start-timeout'), 600_000);
  for (const bad of ['0', '-1', 'abc', '', 'Infinity']) assert.throws(() => parseSeconds(bad, '--timeout'), UsageError, bad);
  assert.equal(parseCount('3', '--repeat'), 3);
  for (const bad of ['0', '1.5', '-2', 'x', '']) assert.throws(() => parseCount(bad, '--repeat'), UsageError, bad);
  assert.equal(parsePort('8188'), 8188);
  for (const bad of ['0', '65536', 'http']) assert.throws(() => parsePort(bad), UsageError, bad);
});

test('COMFY_CONNECTOR_COMMAND is a JSON array of strings', () => {
  assert.equal(parseCommandEnv(undefined), undefined);
  assert.equal(parseCommandEnv(''), undefined);
  assert.deepEqual(parseCommandEnv('["node","--import","tsx","main.ts"]'), ['node', '--import', 'tsx', 'main.ts']);
  for (const bad of ['node main.ts', '[]', '[1]', '{"a":"b"}']) assert.throws(() => parseCommandEnv(bad), UsageError, bad);
});
