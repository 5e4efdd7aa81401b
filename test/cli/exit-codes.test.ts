import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BadArgumentsError,
  CancelledError,
  ComfyError,
  ComfyNotFoundError,
  ConnectionLostError,
  ExecutionError,
  InterruptedError,
  InvalidWorkflowError,
  OverrideError,
  PortInUseError,
  PythonNotUsableError,
  RemoteUnsupportedError,
  RunTimeoutError,
  ServerCrashedError,
  ServerStartError,
  StartTimeoutError,
  UnknownFolderError,
  UnknownNodeTypeError,
  UnsafePathError,
  UploadError,
  ValidationError,
} from '../../src/errors.js';
import { EXIT, EXIT_CODES_HELP, exitCodeFor, worstExitCode } from '../../src/cli/exit-codes.js';
import { UsageError } from '../../src/cli/usage-error.js';

const exit = { exitCode: 1, signal: null, logTail: [] };

test('each error class maps to its documented exit code', () => {
  const cases: Array<[unknown, number]> = [
    [new UsageError('bad'), 2],
    [new ValidationError('prompt_outputs_failed_validation', 'x', [], {}), 3],
    [new OverrideError('KSampler.seed', 'no such node'), 3],
    [new InvalidWorkflowError('not a workflow'), 3],
    [new UnknownNodeTypeError('3', 'Nope'), 3],
    [new ExecutionError('p', '3', 'KSampler', 'RuntimeError', 'boom', [], {}), 4],
    [new InterruptedError('p', '3', 'KSampler'), 4],
    [new RunTimeoutError('p', 1000), 5],
    [new ServerStartError(exit), 6],
    [new StartTimeoutError(1000, []), 6],
    [new ComfyError('COMFY_START_SOMETHING_NEW', 'future start failure'), 6],
    [new ComfyNotFoundError('/nope', 'no main.py'), 6],
    [new PythonNotUsableError('python9', 'missing'), 6],
    [new BadArgumentsError(['--bogus'], []), 6],
    [new PortInUseError(8188, '127.0.0.1'), 6],
    [new ServerCrashedError(exit), 6],
    [new ConnectionLostError('http://x', 'gone'), 6],
    [new UploadError('a.png', 'refused'), 7],
    [new UnsafePathError('../x', 'escapes'), 7],
    [new UnknownFolderError('nope', ['loras']), 7],
    [new RemoteUnsupportedError('Uploading a model'), 7],
    [new CancelledError('p', 'running'), 130],
    [new Error('plain'), 1],
    ['a string', 1],
    [new ComfyError('COMFY_SOMETHING_UNKNOWN', 'x'), 1],
  ];
  for (const [error, code] of cases) {
    assert.equal(exitCodeFor(error), code, error instanceof Error ? `${error.constructor.name}` : String(error));
  }
});

test('a batch exits with its worst failure', () => {
  assert.equal(worstExitCode([]), 0);
  assert.equal(worstExitCode([0, 4, 0, 3]), 4);
  assert.equal(worstExitCode([5, 7, 0]), 7);
});

test('the help text lists every exit code', () => {
  for (const code of Object.values(EXIT)) assert.match(EXIT_CODES_HELP, new RegExp(`^  ${code} `, 'm'), String(code));
});
