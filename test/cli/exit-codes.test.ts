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
import { classifiedCodes } from '../../src/error-policy.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/targets.js';

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

/** EXIT_CODES_HELP as exit code → its text (continuation lines joined). */
function helpBlocks(): Map<number, string> {
  const blocks = new Map<number, string>();
  let current: number | undefined;
  for (const line of EXIT_CODES_HELP.split('\n')) {
    const start = /^ {2}(\d+)\s/.exec(line);
    if (start) blocks.set((current = Number(start[1])), line);
    else if (current !== undefined && /^ {3,}\S/.test(line)) blocks.set(current, `${blocks.get(current)} ${line.trim()}`);
    else current = undefined;
  }
  return blocks;
}

/** Imports every module under src/ that calls registerFailureClass, so classifiedCodes() is complete. */
async function loadRegistrations(): Promise<void> {
  const src = join(REPO_ROOT, 'src');
  for (const name of readdirSync(src, { recursive: true }).map(String)) {
    if (!name.endsWith('.ts') || name === 'error-policy.ts') continue;
    if (/registerFailureClass\(\s*'/.test(readFileSync(join(src, name), 'utf8'))) await import(pathToFileURL(join(src, name)).href);
  }
}

function blocksNaming(code: string): number[] {
  const word = new RegExp(`(?<![A-Z_])${code}(?![A-Z_])`);
  return [...helpBlocks()].filter(([, text]) => word.test(text)).map(([exit]) => exit);
}

test('every classified error code is listed in the exit-code help, under the exit code it gives', async () => {
  // The fleet, the service and others register their codes when their module loads.
  await loadRegistrations();
  const codes = classifiedCodes();
  assert.ok(codes.length > 50, `${codes.length} codes classified`);
  const wrong: string[] = [];
  for (const [code] of codes) {
    const expected = exitCodeFor(new ComfyError(code, 'x'));
    const listed = blocksNaming(code);
    if (listed.length !== 1 || listed[0] !== expected) wrong.push(`${code}: exits ${expected}, listed under ${listed.join(', ') || 'none'}`);
  }
  assert.deepEqual(wrong, []);
});

test('every error code the sources throw is in the exit-code help (unclassified ones under 1)', async () => {
  await loadRegistrations();
  const src = join(REPO_ROOT, 'src');
  const thrown = new Set<string>();
  for (const name of readdirSync(src, { recursive: true }).map(String)) {
    if (!name.endsWith('.ts')) continue;
    for (const m of readFileSync(join(src, name), 'utf8').matchAll(/super\(\s*'(COMFY_[A-Z_]+)'/g)) thrown.add(m[1]!);
  }
  assert.ok(thrown.has('COMFY_STORE') && thrown.has('COMFY_API_QUEUE_FULL'), 'the scan finds the codes');
  const missing = [...thrown].filter((code) => {
    const expected = exitCodeFor(new ComfyError(code, 'x'));
    const listed = blocksNaming(code);
    // COMFY_START_* codes are covered by the wildcard on the server line.
    if (code.startsWith('COMFY_START_') && listed.length === 0) return expected !== 6 || !/COMFY_START_\*/.test(helpBlocks().get(6) ?? '');
    return listed.length !== 1 || listed[0] !== expected;
  });
  assert.deepEqual(missing, []);
});
