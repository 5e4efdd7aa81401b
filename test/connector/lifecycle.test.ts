// create()'s singleton, launch()'s independent servers and killApi()'s guarantees, on the stand-in
// and (when configured) real ComfyUI.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComfyConnector } from '../../src/connector.js';
import { ComfyError } from '../../src/errors.js';
import { alive, connectorTargets, groupAlive, invertPrompt, slowPrompt, stopThenDelete } from './harness.js';

function isCode(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ComfyError, `expected a ComfyError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

for (const target of connectorTargets()) {
  describe(`connector lifecycle (${target.name})`, { skip: target.skip }, () => {
    test('concurrent and repeated create() share one boot and one instance; after killApi() a new one boots', async (t) => {
      const { options, cleanup } = target.options();
      const stopFirst = stopThenDelete(t, cleanup);
      const started: ComfyConnector[] = [];
      stopFirst(async () => {
        for (const c of started) await c.killApi();
      });
      const [a, b, c] = await Promise.all([ComfyConnector.create(options), ComfyConnector.create(options), ComfyConnector.create(options)]);
      started.push(a);
      assert.equal(a, b);
      assert.equal(b, c);
      const d = await ComfyConnector.create(options);
      assert.equal(d, a, 'a repeated call returns the same instance');
      const pid = a.server?.pid;
      assert.ok(pid && alive(pid), 'one live server process');
      assert.equal(d.server?.pid, pid);

      await a.killApi();
      assert.equal(alive(pid), false);
      const e = await ComfyConnector.create(options);
      started.push(e);
      assert.notEqual(e, a, 'after killApi() create() boots a new instance');
      assert.notEqual(e.server?.pid, pid);
      assert.ok(alive(e.server?.pid));
      const result = await e.runWorkflow(invertPrompt('lifecycle'));
      assert.equal(result.outputs.length, 1);
    });

    test('a failed create() does not poison the next call', async (t) => {
      const missing = join(tmpdir(), 'comfy-connector-no-such-folder');
      // Without `command` comfyuiPath is required to hold main.py.
      await assert.rejects(ComfyConnector.create({ comfyuiPath: missing }), isCode('COMFY_NOT_FOUND'));
      await assert.rejects(ComfyConnector.create({ comfyuiPath: missing }), isCode('COMFY_NOT_FOUND'), 'the failure is not cached either');
      const { options, cleanup } = target.options();
      const stopFirst = stopThenDelete(t, cleanup);
      const connector = await ComfyConnector.create(options);
      stopFirst(() => connector.killApi());
      assert.ok(alive(connector.server?.pid));
      assert.equal((await connector.runWorkflow(invertPrompt('after-failure'))).outputs.length, 1);
    });

    test('launch() gives independent servers side by side', async (t) => {
      const one = target.options();
      const two = target.options();
      const stopFirst = stopThenDelete(t, () => {
        one.cleanup();
        two.cleanup();
      });
      const launched: ComfyConnector[] = [];
      stopFirst(async () => {
        await Promise.all(launched.map((c) => c.killApi()));
      });
      const a = await ComfyConnector.launch(one.options);
      launched.push(a);
      const b = await ComfyConnector.launch(two.options);
      launched.push(b);
      assert.notEqual(a, b);
      assert.notEqual(a.url, b.url);
      assert.notEqual(a.server?.pid, b.server?.pid);
      const singleton = await ComfyConnector.create(one.options);
      launched.push(singleton);
      assert.notEqual(singleton, a, 'launch() does not feed the singleton');
      await singleton.killApi();

      const [ra, rb] = await Promise.all([a.runWorkflow(invertPrompt('side-a')), b.runWorkflow(invertPrompt('side-b'))]);
      assert.equal(ra.outputs[0]?.filename.startsWith('side-a'), true);
      assert.equal(rb.outputs[0]?.filename.startsWith('side-b'), true);
      await a.killApi();
      assert.equal(alive(a.server?.pid), false);
      assert.ok(alive(b.server?.pid), 'killing one leaves the other running');
      assert.equal((await b.runWorkflow(invertPrompt('side-b2'))).outputs.length, 1);
    });

    test('killApi(): idempotent and concurrent; every process, the instance folder and the socket are gone; later calls reject COMFY_CLOSED', async (t) => {
      const { options, cleanup } = target.options();
      const stopFirst = stopThenDelete(t, cleanup);
      const connector = await ComfyConnector.create(options);
      stopFirst(() => connector.killApi());
      const server = connector.server!;
      const pid = server.pid!;
      const pgid = server.pgid!;
      const watchdog = server.watchdogPid;
      assert.ok(alive(watchdog), 'a watchdog guards the server');
      const instance = server.paths.instanceDirectory;
      assert.ok(existsSync(instance));
      // Open the socket by running something; a run still in flight must be failed by killApi.
      await connector.runWorkflow(invertPrompt('kill'));
      const inFlight = connector.runWorkflow(slowPrompt(200, 50));
      const inFlightSettled = inFlight.then(() => 'resolved', (e: unknown) => e);

      // The socket is a private detail of ComfyClient; read at runtime to prove killApi() closes it.
      const socket = (connector.client as unknown as { socket: { isOpen: boolean } }).socket;
      assert.equal(socket.isOpen, true, 'the WebSocket is open before killApi()');
      const first = connector.killApi();
      const second = connector.killApi();
      await Promise.all([first, second]);
      await connector.killApi(); // and once more after it finished

      assert.equal(alive(pid), false, 'ComfyUI is gone');
      assert.equal(alive(watchdog), false, 'the watchdog is gone');
      assert.equal(groupAlive(pgid), false, 'nothing of the process group is left');
      assert.equal(existsSync(instance), false, 'the instance folder is removed');
      const settled = await inFlightSettled;
      assert.ok(settled instanceof ComfyError && settled.code === 'COMFY_CLOSED', `the run in flight rejects COMFY_CLOSED, got ${String(settled)}`);

      await assert.rejects(connector.runWorkflow(invertPrompt('late')), isCode('COMFY_CLOSED'));
      await assert.rejects(connector.uploadData({ source: Buffer.from('x'), name: 'x.png', to: 'input' }), isCode('COMFY_CLOSED'));
      await assert.rejects(connector.getPromptFromWorkflow('{"nodes":[]}'), isCode('COMFY_CLOSED'));
      assert.equal(socket.isOpen, false, 'the WebSocket is closed');
      assert.equal(connector.client.activeRuns, 0, 'no run is left waiting');
      // Nothing listens on that port any more.
      await assert.rejects(fetch(`${connector.url}/system_stats`));
    });
  });
}

test("killApi() leaves the user's base directory and its outputs in place", async (t) => {
  // The base directory is the user's (passed with --base-directory): killApi() must not delete it.
  const [standin] = connectorTargets();
  const { options, base, cleanup } = standin!.options();
  const stopFirst = stopThenDelete(t, cleanup);
  const connector = await ComfyConnector.create(options);
  stopFirst(() => connector.killApi());
  await connector.runWorkflow(invertPrompt('keep'));
  await connector.killApi();
  assert.equal(existsSync(base), true);
  assert.equal(existsSync(join(base, 'output')), true, 'outputs stay where the user put them');
});
