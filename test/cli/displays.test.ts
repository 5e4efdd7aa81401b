import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, ExecutionError, ValidationError } from '../../src/errors.js';
import { palette } from '../../src/cli/color.js';
import type { RunEvent, RunResult } from '../../src/cli/facade-types.js';
import type { RunItem, TextStream } from '../../src/cli/progress/display.js';
import { JsonDisplay } from '../../src/cli/progress/json-display.js';
import { LineDisplay } from '../../src/cli/progress/line-display.js';
import { LiveDisplay, renderLiveLine } from '../../src/cli/progress/live-display.js';
import { chooseDisplayMode } from '../../src/cli/progress/create-display.js';
import { applyRunEvent, initialRunState } from '../../src/cli/progress/run-state.js';
import { fitWidth } from '../../src/cli/progress/format.js';

/** A stream that keeps what was written; `isTTY` as the test needs. */
function sink(isTTY = false, columns = 120): TextStream & { text(): string } {
  const chunks: string[] = [];
  return {
    isTTY,
    columns,
    write(text: string) {
      chunks.push(text);
      return true;
    },
    text: () => chunks.join(''),
  };
}

const P = 'prompt-1';
/** A typical run as the library reports it: queued, cached, two nodes, 4 sampler steps, a preview. */
const EVENTS: RunEvent[] = [
  { type: 'queued', promptId: P, number: 3, position: 1 },
  { type: 'started', promptId: P },
  { type: 'cached', promptId: P, nodes: ['4', '5'] },
  { type: 'executing', promptId: P, node: '6', classType: 'CLIPTextEncode' },
  { type: 'executing', promptId: P, node: '3', classType: 'KSampler' },
  ...[1, 2, 3, 4].map((value): RunEvent => ({ type: 'progress', promptId: P, node: '3', value, max: 4, overall: 0.4 + value * 0.1 })),
  { type: 'preview', promptId: P, node: '3', mime: 'image/jpeg', data: Buffer.alloc(1234) },
  { type: 'executed', promptId: P, node: '9', output: { images: [] } },
  { type: 'success', promptId: P },
];

const RESULT = {
  promptId: P,
  history: {},
  outputs: [{ node: '9', kind: 'image', filename: 'ComfyUI_00001_.png', subfolder: '', type: 'output', key: 'images' }],
  nodeErrors: {},
  texts: {},
  files: async () => [],
  save: async () => [],
} as unknown as RunResult;

const ITEM: RunItem = { file: 'wf.json', iteration: 2, repeat: 3, index: 2, count: 3 };
const colorless = palette(false);

describe('run state', () => {
  test('follows queue position, node, steps and overall progress', () => {
    const state = initialRunState(0);
    applyRunEvent(state, EVENTS[0]!);
    assert.equal(state.phase, 'queued');
    assert.equal(state.position, 1);
    for (const event of EVENTS.slice(1, 8)) applyRunEvent(state, event);
    assert.equal(state.phase, 'running');
    assert.equal(state.position, undefined);
    assert.equal(state.cachedNodes, 2);
    assert.deepEqual([state.node, state.classType, state.value, state.max], ['3', 'KSampler', 3, 4]);
    assert.ok(Math.abs(state.overall - 0.7) < 1e-9);
    for (const event of EVENTS.slice(8)) applyRunEvent(state, event);
    assert.equal(state.phase, 'done');
    assert.equal(state.overall, 1);
    assert.equal(state.previews, 1);
  });
});

describe('plain line display', () => {
  test('prints queue, nodes, quarter steps, then saved paths on stdout', () => {
    const out = sink();
    const err = sink();
    let now = 1000;
    const display = new LineDisplay({ stdout: out, stderr: err, colors: colorless, now: () => now });
    display.begin(ITEM);
    for (const event of EVENTS) display.event(event);
    now = 4400;
    display.succeed(RESULT, ['/tmp/out/ComfyUI_00001_.png']);
    const lines = err.text().trimEnd().split('\n');
    assert.deepEqual(lines, [
      '[2/3] wf.json #2: submitting',
      '[2/3] wf.json #2: queued as prompt prompt-1 (position 1)',
      '[2/3] wf.json #2: started',
      '[2/3] wf.json #2: 2 nodes cached',
      '[2/3] wf.json #2: node 6 (CLIPTextEncode)',
      '[2/3] wf.json #2: node 3 (KSampler)',
      '[2/3] wf.json #2: node 3 (KSampler) 1/4 (overall 50%)',
      '[2/3] wf.json #2: node 3 (KSampler) 2/4 (overall 60%)',
      '[2/3] wf.json #2: node 3 (KSampler) 3/4 (overall 70%)',
      '[2/3] wf.json #2: node 3 (KSampler) 4/4 (overall 80%)',
      '[2/3] wf.json #2: done in 3.4 s, 1 file saved (prompt prompt-1)',
    ]);
    assert.equal(out.text(), '/tmp/out/ComfyUI_00001_.png\n');
    assert.doesNotMatch(err.text(), /\x1b\[/, 'no escape codes without colour');
  });

  test('a 100-step node prints at most five progress lines', () => {
    const err = sink();
    const display = new LineDisplay({ stdout: sink(), stderr: err, colors: colorless });
    display.begin({ file: 'a.json', iteration: 1, repeat: 1, index: 1, count: 1 });
    display.event({ type: 'executing', promptId: P, node: '3', classType: 'KSampler' });
    for (let value = 1; value <= 100; value++) display.event({ type: 'progress', promptId: P, node: '3', value, max: 100, overall: value / 100 });
    const progressLines = err.text().split('\n').filter((line) => /\d+\/100/.test(line));
    assert.ok(progressLines.length <= 5, progressLines.join('\n'));
    assert.match(progressLines.at(-1) ?? '', /100\/100 \(overall 100%\)/);
    assert.match(err.text(), /^a\.json: submitting/, 'a single run is not numbered');
  });

  test('a failure prints the code and the message that names the node', () => {
    const err = sink();
    const display = new LineDisplay({ stdout: sink(), stderr: err, colors: colorless });
    display.begin(ITEM);
    display.fail(new ExecutionError(P, '3', 'KSampler', 'RuntimeError', 'out of memory', [], {}), ['[INFO] line one', '\x1b[31m[ERROR]\x1b[0m boom']);
    const text = err.text();
    assert.match(text, /error \[2\/3\] wf\.json #2: COMFY_EXECUTION/);
    assert.match(text, /Node 3 \(KSampler\) failed: RuntimeError: out of memory/);
    assert.match(text, /ComfyUI log \(last lines\):\n {4}\[INFO\] line one\n {4}\[ERROR\] boom/);
  });
});

describe('live display', () => {
  test('the live line shows node, step bar, overall, queue position and elapsed time', () => {
    const state = initialRunState(0);
    assert.equal(renderLiveLine(ITEM, state, 500, 120, colorless), '▶ [2/3] wf.json #2  0:00  submitting…');
    applyRunEvent(state, EVENTS[0]!);
    assert.equal(renderLiveLine(ITEM, state, 2000, 120, colorless), '▶ [2/3] wf.json #2  0:02  queued, position 1');
    for (const event of EVENTS.slice(1, 7)) applyRunEvent(state, event);
    assert.equal(
      renderLiveLine(ITEM, state, 65_000, 140, colorless),
      `▶ [2/3] wf.json #2  1:05  ${'█'.repeat(10)}${'░'.repeat(10)}  2/4  overall 60%  node 3 (KSampler)`,
    );
    state.phase = 'done';
    assert.equal(renderLiveLine(ITEM, state, 3_725_000, 120, colorless), '✔ [2/3] wf.json #2  1:02:05  done');
  });

  test('a narrow terminal gets a cut line, never a wrapped one, and no colour codes inside the cut', () => {
    const state = initialRunState(0);
    for (const event of EVENTS.slice(0, 7)) applyRunEvent(state, event);
    const line = renderLiveLine(ITEM, state, 1000, 30, palette(true));
    assert.ok([...line].length < 30, line);
    assert.doesNotMatch(line, /\x1b/);
    assert.match(renderLiveLine(ITEM, state, 1000, 200, palette(true)), /\x1b\[36m█/, 'the bar is coloured when it fits');
  });

  test('a long line is cut by characters, not by bytes', () => {
    const bars = `▶ ${'█'.repeat(40)} x`;
    assert.equal(fitWidth(bars, 200), bars);
    const cut = fitWidth(bars, 30);
    assert.ok(cut.endsWith('…') && [...cut].length === 29, cut);
  });

  test('draws on the terminal stream, leaves a summary line and prints paths on stdout', () => {
    const out = sink();
    const err = sink(true, 100);
    const display = new LiveDisplay({ stdout: out, stderr: err, colors: colorless });
    display.begin(ITEM);
    for (const event of EVENTS) display.event(event);
    display.succeed(RESULT, ['/tmp/out/a.png']);
    display.close();
    assert.match(err.text(), /✔ \[2\/3\] wf\.json #2 {2}\d+:\d\d {2}done/);
    assert.match(err.text(), /1 file saved in/);
    assert.equal(out.text(), '/tmp/out/a.png\n');
  });
});

describe('cancellation and notices', () => {
  test('our own cancel is a short "cancelled", not an error paragraph', () => {
    const err = sink();
    const lines = new LineDisplay({ stdout: sink(), stderr: err, colors: colorless });
    lines.begin(ITEM);
    lines.fail(new CancelledError(P, 'running'));
    assert.match(err.text(), /wf\.json #2: cancelled\n$/);
    assert.doesNotMatch(err.text(), /error/);

    const tty = sink(true, 100);
    const live = new LiveDisplay({ stdout: sink(), stderr: tty, colors: colorless });
    live.begin(ITEM);
    live.fail(new CancelledError(P, 'running'));
    live.close();
    assert.match(tty.text(), /✖ \[2\/3\] wf\.json #2 {2}\d+:\d\d {2}cancelled/);
    assert.doesNotMatch(tty.text(), /COMFY_CANCELLED/);
  });

  test('a notice during a live run ends the live line first, then a new one is drawn below it', () => {
    const tty = sink(true, 100);
    const live = new LiveDisplay({ stdout: sink(), stderr: tty, colors: colorless });
    live.begin(ITEM);
    for (const event of EVENTS.slice(0, 6)) live.event(event);
    live.notice('Ctrl-C: cancelling');
    live.fail(new CancelledError(P, 'running'));
    live.close();
    const text = tty.text();
    const notice = text.indexOf('Ctrl-C: cancelling');
    const before = text.lastIndexOf('1/4', notice);
    const after = text.indexOf('cancelled', notice + 'Ctrl-C: cancelling'.length);
    assert.ok(before !== -1 && before < notice, 'the live line was finished before the notice');
    assert.ok(after > notice, 'the live line goes on below the notice');
  });
});

describe('json display', () => {
  test('one parseable object per line, previews without bytes, ending with the result', () => {
    const out = sink();
    const display = new JsonDisplay({ stdout: out, stderr: sink(), now: () => 0 });
    display.notice('starting ComfyUI…');
    display.begin(ITEM);
    for (const event of EVENTS) display.event(event);
    display.event({ type: 'error', promptId: P, error: new ValidationError('x', 'y', [], {}) });
    display.succeed(RESULT, ['/tmp/out/a.png']);
    const records = out.text().trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(records.length, EVENTS.length + 1, 'the library error event is folded into the final line');
    assert.ok(records.every((r) => r.file === 'wf.json' && r.iteration === 2));
    const preview = records.find((r) => r.type === 'preview');
    assert.deepEqual(preview, { type: 'preview', promptId: P, node: '3', mime: 'image/jpeg', bytes: 1234, file: 'wf.json', iteration: 2 });
    const last = records.at(-1)!;
    assert.equal(last.type, 'result');
    assert.deepEqual(last.saved, ['/tmp/out/a.png']);
    assert.equal(last.promptId, P);
  });

  test('a failure ends with {type:"error", code, message, exitCode}', () => {
    const out = sink();
    const display = new JsonDisplay({ stdout: out, stderr: sink() });
    display.begin(ITEM);
    display.fail(new ExecutionError(P, '3', 'KSampler', 'RuntimeError', 'boom', [], {}));
    display.fatal(new Error('unexpected'));
    const [failed, fatal] = out.text().trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(failed?.type, 'error');
    assert.equal(failed?.code, 'COMFY_EXECUTION');
    assert.equal(failed?.exitCode, 4);
    assert.equal(failed?.nodeId, '3');
    assert.match(String(failed?.message), /Node 3 \(KSampler\) failed/);
    assert.deepEqual(fatal, { type: 'error', code: null, exitCode: 1, message: 'unexpected' });
  });
});

test('display mode: --json wins, a live display needs terminals on both streams', () => {
  assert.equal(chooseDisplayMode({ json: true }, sink(true), sink(true)), 'json');
  assert.equal(chooseDisplayMode({ progress: true }, sink(true), sink(true)), 'live');
  assert.equal(chooseDisplayMode({ progress: false }, sink(true), sink(true)), 'lines');
  assert.equal(chooseDisplayMode({ progress: true }, sink(false), sink(true)), 'lines');
  assert.equal(chooseDisplayMode({ progress: true }, sink(true), sink(false)), 'lines');
});
