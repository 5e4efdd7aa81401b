// `comfy-connector api` refuses unsafe or impossible command lines before anything starts (exit 2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../../src/cli/program.js';
import { Session } from '../../src/cli/session.js';
import { serverSpecs, type ApiFlags } from '../../src/cli/commands/api.js';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stderr = '';
  const code = await runCli(args, { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) }, env, cwd: process.cwd(), session: new Session() });
  return { code, stderr };
}

test('api: no key, no-auth off loopback, no ComfyUI, bad --gpus are usage errors', async () => {
  const noKey = await cli(['api', '--comfyui', '/nowhere']);
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /needs an API key/);
  const open = await cli(['api', '--comfyui', '/nowhere', '--no-auth', '--host', '0.0.0.0']);
  assert.equal(open.code, 2);
  assert.match(open.stderr, /only allowed on a loopback/);
  const nothing = await cli(['api', '--api-key', 'k'.repeat(20)]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /No ComfyUI to run jobs on/);
  const gpus = await cli(['api', '--comfyui', '/x', '--gpus', 'a,b', '--api-key', 'k'.repeat(20)]);
  assert.equal(gpus.code, 2);
  const shortKey = await cli(['api', '--comfyui', '/x', '--api-key', 'short']);
  assert.equal(shortKey.code, 2);
  assert.match(shortKey.stderr, /shorter than 16/);
  assert.ok(!shortKey.stderr.includes('short\n'), 'the key itself is not echoed');
});

test('api: one server per GPU, N on the CPU, none for a gateway', () => {
  const base: ApiFlags = { host: '127.0.0.1', port: '8080', auth: true };
  assert.deepEqual(serverSpecs({ ...base, comfyui: '/c', gpus: '0,1' }, {}).map((s) => (s as { cudaDevice?: number }).cudaDevice), [0, 1]);
  assert.equal(serverSpecs({ ...base, comfyui: '/c', servers: '3' }, {}).length, 3);
  assert.equal(serverSpecs({ ...base, redis: 'redis://r:6379' }, {}).length, 0);
  assert.deepEqual(serverSpecs({ ...base, url: ['http://127.0.0.1:8188'] }, {}), [{ url: 'http://127.0.0.1:8188' }]);
});
