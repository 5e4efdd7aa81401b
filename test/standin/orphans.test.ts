// A test run that is killed outright (SIGKILL: no after hooks, no exit handlers) must not leave
// the servers its helpers started running, nor their folders: test/helpers/targets.ts guards each
// with the connector's watchdog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/targets.js';
import { processAlive } from '../../src/server/process-group.js';

test('a stand-in started by the helpers is gone soon after the test process is SIGKILLed', { timeout: 120_000 }, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'standin', 'orphan-child.ts')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let report: { pid: number; root: string } | undefined;
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
    if (report) {
      try { process.kill(-report.pid, 'SIGKILL'); } catch { /* gone, as it should be */ }
      rmSync(report.root, { recursive: true, force: true });
    }
  });
  let out = '';
  report = await new Promise<{ pid: number; root: string }>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { pid: number; root: string });
    });
    void exited.then(() => reject(new Error(`the child exited before it reported: ${out}`)));
  });
  assert.ok(processAlive(report.pid), 'the stand-in runs');
  child.kill('SIGKILL');
  await exited;
  const deadline = Date.now() + 15_000;
  while (processAlive(report.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(processAlive(report.pid), false, `stand-in ${report.pid} outlived its SIGKILLed test process`);
  // The watchdog removes the server's folders too, once the group is gone.
  while (existsSync(report.root) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(existsSync(report.root), false, `${report.root} was left behind`);
});
