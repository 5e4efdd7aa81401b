/**
 * SYNTHETIC DEMO of the live display, for looking at it in a real terminal (tmux) when no server is
 * at hand: it feeds made-up RunEvents with pauses, exactly as `run` would feed the library's.
 * Run: node --import tsx test/cli/live-demo.ts
 */
import { ExecutionError } from '../../src/errors.js';
import { colorEnabled, palette } from '../../src/cli/color.js';
import type { RunEvent, RunResult } from '../../src/cli/facade-types.js';
import { LiveDisplay } from '../../src/cli/progress/live-display.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const display = new LiveDisplay({ stdout: process.stdout, stderr: process.stderr, colors: palette(colorEnabled(process.stderr)) });
const P = 'a3c1e9f2-demo';
const step = Number(process.env.DEMO_STEP_MS ?? 150);

display.notice('[synthetic demo: made-up events, no ComfyUI]');
display.notice('starting ComfyUI (/work/comfy/ComfyUI)…');
display.notice('ComfyUI ready at http://127.0.0.1:40123');

display.begin({ file: 'txt2img.json', iteration: 1, repeat: 1, index: 1, count: 2 });
const emit = (e: RunEvent) => display.event(e);
await sleep(step * 3);
emit({ type: 'queued', promptId: P, number: 7, position: 1 });
await sleep(step * 8);
emit({ type: 'queued', promptId: P, number: 7, position: 0 });
await sleep(step * 4);
emit({ type: 'started', promptId: P });
emit({ type: 'cached', promptId: P, nodes: ['4'] });
emit({ type: 'executing', promptId: P, node: '6', classType: 'CLIPTextEncode' });
await sleep(step * 3);
emit({ type: 'executing', promptId: P, node: '3', classType: 'KSampler' });
for (let value = 1; value <= 20; value++) {
  await sleep(step);
  emit({ type: 'progress', promptId: P, node: '3', value, max: 20, overall: (2 + value / 20) / 4 });
  if (value === 12 && process.env.DEMO_PAUSE_AT_12) await sleep(Number(process.env.DEMO_PAUSE_AT_12));
}
emit({ type: 'executing', promptId: P, node: '8', classType: 'VAEDecode' });
await sleep(step * 3);
emit({ type: 'executing', promptId: P, node: '9', classType: 'SaveImage' });
emit({ type: 'success', promptId: P });
display.succeed({ promptId: P } as RunResult, ['/work/demo/outputs/ComfyUI_00001_.png']);

display.begin({ file: 'broken.json', iteration: 1, repeat: 1, index: 2, count: 2 });
await sleep(step * 2);
emit({ type: 'queued', promptId: 'b7', number: 8, position: 0 });
emit({ type: 'started', promptId: 'b7' });
emit({ type: 'executing', promptId: 'b7', node: '5', classType: 'ComfyConnectorRaise' });
await sleep(step * 3);
display.fail(new ExecutionError('b7', '5', 'ComfyConnectorRaise', 'RuntimeError', 'ComfyConnectorRaise was asked to fail', [], {}));
display.close();
