// The fleet's commands as a user runs them: `worker`, `submit`, `jobs` (through tsx from src, so
// no build is needed), against a private Redis and the stand-in.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { STANDIN_COMMAND, TEST_NODES_YAML } from '../cli/harness.js';
import { processAlive } from '../../src/server/process-group.js';
import { redisSkip, startRedis, uniqueQueueName } from '../helpers/redis.js';
import { REPO_ROOT } from '../helpers/targets.js';
import { sizedPrompt, slowPrompt, until } from './fixtures.js';

const skip = redisSkip();
const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stdout: () => stdout };
}

test('cli: worker, submit --wait --json, jobs (show, cancel, workers), exit codes as run, SIGTERM drains', { skip, timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
  const redis = await startRedis();
  const workers: Array<ReturnType<typeof cli>> = [];
  t.after(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = join(dir, 'base');
  mkdirSync(join(base, 'custom_nodes'), { recursive: true });
  const queue = ['--redis', redis.url, '--queue', uniqueQueueName('cli')];
  const file = (name: string, value: unknown) => {
    writeFileSync(join(dir, name), JSON.stringify(value));
    return join(dir, name);
  };

  const worker = cli(['worker', ...queue, '--servers', '1', '--store', join(dir, 'store'), '--extra-model-paths', TEST_NODES_YAML, `--arg=--base-directory=${base}`, '--json', '--lock-duration', '2', '--stalled-interval', '1'], { COMFY_CONNECTOR_COMMAND: STANDIN_COMMAND });
  workers.push(worker);
  const ready = await until('the worker to be ready', () => worker.stdout().split('\n').map((l) => (l.startsWith('{') ? (JSON.parse(l) as { type: string; servers?: Array<{ url: string }> }) : undefined)).find((l) => l?.type === 'ready'), 120_000);
  assert.equal(ready.servers?.length, 1);

  // submit --wait --json: events, then one result line; the output is copied from the folder store.
  const out = join(dir, 'out');
  const ok = await cli(['submit', file('ok.json', sizedPrompt(3)), ...queue, '--wait', '--json', '--out', out]).done;
  assert.equal(ok.code, 0, ok.stderr);
  const lines = ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; saved?: string[] });
  assert.ok(lines.some((l) => l.type === 'started'));
  const result = lines.at(-1)!;
  assert.equal(result.type, 'result');
  assert.equal(result.saved?.length, 1);
  assert.ok(existsSync(result.saved![0]!));

  // Exit codes as run: a workflow that is not one → 3, a node that raises → 4.
  assert.equal((await cli(['submit', file('bad.json', { nope: true }), ...queue]).done).code, 3);
  const raised = await cli(['submit', file('raise.json', { '1': { class_type: 'ComfyConnectorRaise', inputs: { message: 'x' } } }), ...queue, '--wait', '--json']).done;
  assert.equal(raised.code, 4, raised.stderr);
  assert.equal(JSON.parse(raised.stdout.trim().split('\n').at(-1)!).code, 'COMFY_EXECUTION');

  // submit without --wait prints the id; jobs --cancel interrupts it; jobs ID shows it.
  const submitted = await cli(['submit', file('slow.json', slowPrompt(2400, 25)), ...queue, '--key', 'slow-one']).done;
  assert.equal(submitted.stdout.trim(), 'slow-one');
  const listed = await cli(['jobs', ...queue, '--json']).done;
  assert.ok(listed.stdout.includes('"slow-one"'));
  const workersOut = await cli(['jobs', '--workers', ...queue, '--json']).done;
  assert.equal(workersOut.stdout.trim().split('\n').length, 1);
  const cancelled = await cli(['jobs', '--cancel', 'slow-one', ...queue]).done;
  assert.match(cancelled.stdout, /slow-one (removed|signalled)/);
  await until('the job to be cancelled', async () => JSON.parse((await cli(['jobs', 'slow-one', ...queue, '--json']).done).stdout).state === 'cancelled', 20_000);

  // SIGTERM: the worker drains and exits 0, its server gone.
  const pidLine = (await cli(['jobs', '--workers', ...queue, '--json']).done).stdout;
  assert.ok(pidLine.includes(ready.servers![0]!.url));
  worker.child.kill('SIGTERM');
  const end = await worker.done;
  assert.equal(end.code, 0, end.stderr.slice(-2000));
  const port = Number(new URL(ready.servers![0]!.url).port);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/system_stats`));
  assert.equal(processAlive(worker.child.pid!), false);
});
