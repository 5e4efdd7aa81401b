// runWorkflow() end to end through the facade: API prompts, UI workflows, overrides, inline inputs,
// and every typed failure (validation, execution, cancel, timeout). One server per target.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyConnector } from '../../src/connector.js';
import { CancelledError, ComfyError, ExecutionError, RunTimeoutError, ValidationError } from '../../src/errors.js';
import type { RunEvent } from '../../src/client/index.js';
import { connectorTargets, invertPrompt, invertUiWorkflow, loadImagePrompt, pngSize, pngTexts, slowPrompt, tinyPng } from './harness.js';

function isCode(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ComfyError, `expected a ComfyError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

async function historyCount(connector: ComfyConnector): Promise<number> {
  const response = await fetch(`${connector.url}/history`);
  return Object.keys((await response.json()) as object).length;
}

/** The last status message of a prompt's history entry, waiting up to 10 s for the entry. */
async function endedWith(connector: ComfyConnector, promptId: string): Promise<string | undefined> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const history = (await (await fetch(`${connector.url}/history/${promptId}`)).json()) as Record<string, { status: { messages: Array<[string, unknown]> } }>;
    const last = history[promptId]?.status.messages.at(-1)?.[0];
    if (last !== undefined || Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Files in a folder, recursively, relative names. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(dir.length + 1));
}

for (const target of connectorTargets()) {
  describe(`runWorkflow (${target.name})`, { skip: target.skip }, () => {
    let connector: ComfyConnector;
    let cleanupBase: () => void = () => {};
    before(async () => {
      const { options, cleanup } = target.options();
      cleanupBase = cleanup;
      connector = await ComfyConnector.create(options);
    });
    after(async () => {
      await connector?.killApi();
      cleanupBase();
    });

    test('an API prompt resolves with its outputs, and files() returns the PNG', async () => {
      const result = await connector.runWorkflow(invertPrompt('api', 16, 8));
      assert.match(result.promptId, /^[0-9a-f-]{36}$/);
      assert.equal(result.outputs.length, 1);
      const [output] = result.outputs;
      assert.equal(output?.node, '3');
      assert.equal(output?.type, 'output');
      assert.match(output?.filename ?? '', /^api_\d{5}_\.png$/);
      const [file] = await result.files();
      assert.deepEqual(pngSize(file!.data), { width: 16, height: 8 });
      assert.ok(existsSync(join(connector.server!.paths.outputDirectory, output!.filename)));
    });

    test('an API prompt given as JSON text and as a file path runs the same', async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'connector-prompt-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'prompt.json');
      writeFileSync(file, JSON.stringify(invertPrompt('fromfile', 12, 4)));
      const fromText = await connector.runWorkflow(JSON.stringify(invertPrompt('fromtext', 12, 4)));
      const fromFile = await connector.runWorkflow(file);
      assert.deepEqual(pngSize((await fromText.files())[0]!.data), { width: 12, height: 4 });
      assert.deepEqual(pngSize((await fromFile.files())[0]!.data), { width: 12, height: 4 });
      assert.match(fromFile.outputs[0]!.filename, /^fromfile_/);
    });

    test('a UI workflow is converted and run; the saved PNG carries the workflow and the prompt', async () => {
      const workflow = invertUiWorkflow('ui', 24, 8);
      const result = await connector.runWorkflow(workflow);
      const [file] = await result.files();
      assert.deepEqual(pngSize(file!.data), { width: 24, height: 8 });
      const texts = pngTexts(file!.data);
      assert.ok(texts.workflow, `the PNG has a workflow text chunk (has: ${Object.keys(texts).join(', ')})`);
      assert.deepEqual(JSON.parse(texts.workflow), JSON.parse(JSON.stringify(workflow)));
      const prompt = JSON.parse(texts.prompt ?? '{}') as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
      assert.equal(prompt['1']?.class_type, 'EmptyImage');
      assert.equal(prompt['1']?.inputs.width, 24);
    });

    test('overrides by node id and by title change the output', async () => {
      const byId = await connector.runWorkflow(invertPrompt('ovr-id', 16, 8), { overrides: { '1.width': 40, '3.filename_prefix': 'ovr-id2' } });
      assert.deepEqual(pngSize((await byId.files())[0]!.data), { width: 40, height: 8 });
      assert.match(byId.outputs[0]!.filename, /^ovr-id2_/);

      const byTitle = await connector.runWorkflow(invertPrompt('ovr-title', 16, 8), { overrides: { 'Empty.height': 20 } });
      assert.deepEqual(pngSize((await byTitle.files())[0]!.data), { width: 16, height: 20 });

      // A UI workflow's node title ("Canvas") works the same after conversion.
      const ui = await connector.runWorkflow(invertUiWorkflow('ovr-ui', 24, 8), { overrides: { 'Canvas.width': 36 } });
      assert.deepEqual(pngSize((await ui.files())[0]!.data), { width: 36, height: 8 });
    });

    test('an unknown override rejects COMFY_BAD_OVERRIDE and queues nothing', async () => {
      const before = await historyCount(connector);
      await assert.rejects(connector.runWorkflow(invertPrompt('bad'), { overrides: { 'NoSuchNode.width': 1 } }), isCode('COMFY_BAD_OVERRIDE'));
      await assert.rejects(connector.runWorkflow(invertPrompt('bad'), { overrides: { '1.no_such_input': 1 } }), isCode('COMFY_BAD_OVERRIDE'));
      await assert.rejects(connector.runWorkflow(invertPrompt('bad'), { inputs: { 'NoSuchNode.image': Buffer.from('x') } }), isCode('COMFY_BAD_OVERRIDE'));
      assert.equal(await historyCount(connector), before, 'nothing was queued');
      const queue = (await (await fetch(`${connector.url}/queue`)).json()) as { queue_running: unknown[]; queue_pending: unknown[] };
      assert.equal(queue.queue_pending.length + queue.queue_running.length, 0);
    });

    test('inline inputs (Buffer and path) are uploaded for the run and gone from the input folder after it', async (t) => {
      const input = connector.server!.paths.inputDirectory;
      const before = listFiles(input);
      const fromBuffer = await connector.runWorkflow(loadImagePrompt('inline-buf'), { inputs: { 'LoadImage.image': tinyPng(7, 5) } });
      assert.deepEqual(pngSize((await fromBuffer.files())[0]!.data), { width: 7, height: 5 });
      assert.deepEqual(listFiles(input), before, 'the buffer upload is gone');

      const dir = mkdtempSync(join(tmpdir(), 'connector-inline-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'inline-source.png');
      writeFileSync(file, tinyPng(3, 9));
      const fromPath = await connector.runWorkflow(loadImagePrompt('inline-path'), { inputs: { '1.image': file } });
      assert.deepEqual(pngSize((await fromPath.files())[0]!.data), { width: 3, height: 9 });
      assert.deepEqual(listFiles(input), before, 'the path upload is gone');
      assert.equal(existsSync(file), true, 'the source file itself is untouched');
    });

    test('inline inputs are removed when the run fails too', async () => {
      const input = connector.server!.paths.inputDirectory;
      const before = listFiles(input);
      const prompt = { ...loadImagePrompt('inline-fail'), '4': { class_type: 'ComfyConnectorRaise', inputs: { message: 'inline fail', image: ['1', 0] } } };
      await assert.rejects(connector.runWorkflow(prompt, { inputs: { 'LoadImage.image': tinyPng(2, 2) } }), isCode('COMFY_EXECUTION'));
      assert.deepEqual(listFiles(input), before);
    });

    test('a validation error rejects COMFY_VALIDATION naming the node and the input', async () => {
      const error = await connector.runWorkflow(invertPrompt('invalid'), { overrides: { '1.width': 0 } }).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ValidationError, String(error));
      assert.equal(error.code, 'COMFY_VALIDATION');
      const issue = error.issues.find((i) => i.nodeId === '1');
      assert.ok(issue, `an issue names node 1: ${error.message}`);
      assert.equal(issue.inputName, 'width');
      assert.equal(issue.classType, 'EmptyImage');
      assert.match(error.message, /node 1 \(EmptyImage\) input "width"/);
    });

    test('a node that raises rejects COMFY_EXECUTION with the node and the exception', async () => {
      const prompt = { '5': { class_type: 'ComfyConnectorRaise', inputs: { message: 'boom from the test' } } };
      const error = await connector.runWorkflow(prompt).then(() => assert.fail('expected a rejection'), (e: unknown) => e);
      assert.ok(error instanceof ExecutionError, String(error));
      assert.equal(error.code, 'COMFY_EXECUTION');
      assert.equal(error.nodeId, '5');
      assert.equal(error.classType, 'ComfyConnectorRaise');
      assert.equal(error.exceptionType, 'RuntimeError');
      assert.match(error.exceptionMessage, /boom from the test/);
    });

    test('aborting the signal while the prompt runs rejects COMFY_CANCELLED and frees the server', async () => {
      const controller = new AbortController();
      const events: RunEvent['type'][] = [];
      const run = connector.runWorkflow(slowPrompt(500, 50), {
        signal: controller.signal,
        onEvent: (event) => {
          events.push(event.type);
          if (event.type === 'progress' && event.value >= 2) controller.abort();
        },
      });
      const error = await run.then(() => assert.fail('expected a rejection'), (e: unknown) => e);
      assert.ok(error instanceof ComfyError, String(error));
      assert.equal(error.code, 'COMFY_CANCELLED', error.message);
      assert.ok(events.includes('progress'), 'it was running when cancelled');
      assert.ok(error instanceof CancelledError && error.promptId, String(error));
      // 500 × 50 ms: only an interrupt ends it within the wait below.
      assert.equal(await endedWith(connector, error.promptId), 'execution_interrupted');
      // The server is free again: the next run completes.
      assert.equal((await connector.runWorkflow(invertPrompt('after-cancel'))).outputs.length, 1);
    });

    test('a run longer than its timeout rejects COMFY_TIMEOUT and is cancelled on the server', async () => {
      const error = await connector.runWorkflow(slowPrompt(600, 50), { timeout: 1500 }).then(() => assert.fail('expected a rejection'), (e: unknown) => e);
      assert.ok(error instanceof RunTimeoutError, String(error));
      assert.ok(error.promptId, 'the timed-out run names its prompt');
      // The prompt was running (600 × 50 ms): only an interrupt ends it before 30 s.
      assert.equal(await endedWith(connector, error.promptId), 'execution_interrupted');
      const queue = (await (await fetch(`${connector.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
      assert.deepEqual([...queue.queue_running, ...queue.queue_pending].map((item) => item[1]), []);
      assert.equal((await connector.runWorkflow(invertPrompt('after-timeout'))).outputs.length, 1);
    });
  });
}
