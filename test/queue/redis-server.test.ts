import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisServer, pingRedis } from '../../src/queue/redis-server.js';
import { processAlive } from '../../src/server/process-group.js';
import { redisSkip } from '../helpers/redis.js';
import { REPO_ROOT } from '../helpers/targets.js';
import { until } from './fixtures.js';

const skip = redisSkip();

test('a private redis-server: AOF on, noeviction, loopback only; restart keeps data, port and folder; stop leaves nothing', { skip }, async (t) => {
  const redis = await RedisServer.start();
  t.after(() => redis.stop());
  const dir = redis.dir;
  const client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  client.on('error', () => {});
  t.after(() => client.disconnect());
  assert.deepEqual(await client.config('GET', 'appendonly'), ['appendonly', 'yes']);
  assert.deepEqual(await client.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
  assert.deepEqual(await client.config('GET', 'bind'), ['bind', '127.0.0.1']);
  await client.set('kept', 'across restarts');
  const port = redis.port;
  const firstPid = redis.pid;
  await redis.restart();
  assert.equal(redis.port, port);
  assert.notEqual(redis.pid, firstPid);
  assert.equal(processAlive(firstPid!), false);
  // The same client reconnects on its own and finds the data (AOF).
  assert.equal(await client.get('kept'), 'across restarts');
  const pid = redis.pid!;
  await redis.stop();
  assert.equal(processAlive(pid), false);
  assert.equal(await pingRedis(port), false);
  assert.equal(existsSync(dir), false, 'the private data folder is removed');
});

test('a data folder given by the caller is kept; a second start on it replays the AOF', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'redis-own-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await RedisServer.start({ dir });
  const c1 = new Redis(first.url);
  await c1.set('k', 'v');
  c1.disconnect();
  await first.stop();
  assert.ok(existsSync(dir));
  const second = await RedisServer.start({ dir });
  t.after(() => second.stop());
  const c2 = new Redis(second.url);
  t.after(() => c2.disconnect());
  assert.equal(await c2.get('k'), 'v');
});

test('without redis-server on PATH: a typed error that says how to install it', async () => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(RedisServer.start(), (e: Error & { code?: string }) => e.code === 'COMFY_REDIS_NOT_INSTALLED' && /apt-get install -y redis-server/.test(e.message));
  } finally {
    process.env.PATH = saved;
  }
});

test('the owner SIGKILLed: the watchdog takes redis-server down and removes its folder', { skip }, async (t) => {
  const script = `import { RedisServer } from ${JSON.stringify(join(REPO_ROOT, 'src/queue/redis-server.ts'))};
const r = await RedisServer.start(); console.log(JSON.stringify({ pid: r.pid, dir: r.dir, port: r.port })); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const info = await until('the child to start redis', () => (out.includes('\n') ? (JSON.parse(out.split('\n')[0]!) as { pid: number; dir: string; port: number }) : undefined));
  assert.ok(processAlive(info.pid));
  child.kill('SIGKILL');
  await until('redis-server to die with its owner', () => !processAlive(info.pid), 10_000);
  await until('its folder to be removed', () => !existsSync(info.dir), 10_000);
  assert.equal(await pingRedis(info.port), false);
});
