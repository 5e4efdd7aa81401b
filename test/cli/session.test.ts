import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../src/cli/session.js';
import type { ComfyConnector } from '../../src/cli/facade-types.js';

function fakeConnector(log: string[]): ComfyConnector {
  return { killApi: async () => void log.push('killApi') } as unknown as ComfyConnector;
}

test('the first signal aborts the run signal and sets the exit code; the second is "again"', async () => {
  const session = new Session();
  assert.equal(session.cancelled, false);
  const waited = session.waitForSignal();
  assert.equal(session.interrupt('SIGINT'), 'first');
  assert.equal(session.signal.aborted, true);
  assert.equal(session.cancelExitCode, 130);
  assert.equal(await waited, 'SIGINT');
  assert.equal(session.interrupt('SIGINT'), 'again');

  const terminated = new Session();
  terminated.interrupt('SIGTERM');
  assert.equal(terminated.cancelExitCode, 143);
});

test('close() kills what was opened once, even when the boot finishes after the close', async () => {
  const log: string[] = [];
  const session = new Session();
  let finishBoot!: (c: ComfyConnector) => void;
  const opened = session.open(() => new Promise((resolve) => (finishBoot = resolve)));
  const closing = session.close();
  finishBoot(fakeConnector(log));
  await opened;
  await closing;
  await session.forceClose();
  assert.deepEqual(log, ['killApi']);
  assert.ok(session.connector);
});

test('close() without a connector, or after a failed boot, does nothing and does not throw', async () => {
  await new Session().close();
  const session = new Session();
  await assert.rejects(session.open(() => Promise.reject(new Error('boot failed'))), /boot failed/);
  await session.close();
});
