import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { lookup } from 'node:dns/promises';
import { isInternalAddress } from '../../src/sources/policy.js';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fetchToFile } from '../../src/sources/fetch.js';
import { rejection } from './rejection.js';
import type { TransferProgress } from '../../src/sources/types.js';
import { startOrigin, type Origin } from '../helpers/http-origin.js';
import { freePort } from '../helpers/targets.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
// The origin is on loopback, so the tests allow private addresses except where the policy is tested.
const local = { allowPrivateNetwork: true, retryDelayMs: 10 };

describe('fetchToFile over HTTP', () => {
  let origin: Origin;
  let dir: string;
  before(async () => {
    origin = await startOrigin();
    dir = await mkdtemp(join(tmpdir(), 'sources-'));
  });
  after(async () => {
    await origin.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function leftovers(): Promise<string[]> {
    return (await readdir(dir)).filter((n) => n.includes('partial'));
  }

  test('streams a file to disk with its sha256, type, name and progress', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 5);
    const url = origin.add('cat.png', { body, type: 'image/png', chunkDelayMs: 1 });
    const events: TransferProgress[] = [];
    const got = await fetchToFile(url, { path: join(dir, 'cat.png') }, { ...local, onProgress: (p) => events.push(p), progressIntervalMs: 0 });
    assert.equal(got.sha256, sha(body));
    assert.equal(got.size, body.length);
    assert.equal(got.mime, 'image/png');
    assert.equal(got.resumed, 0);
    assert.deepEqual(await readFile(join(dir, 'cat.png')), body);
    assert.ok(events.length > 2);
    const last = events.at(-1)!;
    assert.equal(last.done, true);
    assert.equal(last.received, body.length);
    assert.equal(last.total, body.length);
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.received >= events[i - 1]!.received);
    assert.ok(events.some((e) => e.etaSeconds !== undefined && e.bytesPerSecond > 0));
  });

  test('a given sha256 is verified; a mismatch keeps nothing (COMFY_HASH_MISMATCH)', async () => {
    const body = randomBytes(1000);
    const url = origin.add('v.bin', { body });
    const ok = await fetchToFile(url, { path: join(dir, 'v.bin'), sha256: sha(body).toUpperCase() }, local);
    assert.equal(ok.sha256, sha(body));
    const err = await rejection(fetchToFile(url, { path: join(dir, 'w.bin'), sha256: '0'.repeat(64) }, local));
    assert.equal(err.code, 'COMFY_HASH_MISMATCH');
    assert.match(err.message, new RegExp(sha(body)));
    assert.match(err.message, /files\/v\.bin/);
    await assert.rejects(readFile(join(dir, 'w.bin')), { code: 'ENOENT' });
    assert.deepEqual(await leftovers(), []);
  });

  test('404 is COMFY_SOURCE_HTTP naming the URL; nothing is written', async () => {
    const err = await rejection(fetchToFile(`${origin.url}/files/missing.png`, { path: join(dir, 'missing.png') }, local));
    assert.equal(err.code, 'COMFY_SOURCE_HTTP');
    assert.equal(err.url, `${origin.url}/files/missing.png`);
    assert.match(err.message, /404/);
    await assert.rejects(readFile(join(dir, 'missing.png')));
    assert.deepEqual(await leftovers(), []);
  });

  test('a port where nothing listens is COMFY_SOURCE_UNREACHABLE after the retries', async () => {
    const port = await freePort();
    const err = await rejection(fetchToFile(`http://127.0.0.1:${port}/x.png`, { path: join(dir, 'x.png') }, { ...local, retries: 2 }));
    assert.equal(err.code, 'COMFY_SOURCE_UNREACHABLE');
    assert.match(err.message, /ECONNREFUSED/);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}/x\\.png`));
  });

  test('a host name that does not resolve is COMFY_SOURCE_UNREACHABLE at once', async () => {
    const err = await rejection(fetchToFile('http://no-such-host.invalid/x.png', { path: join(dir, 'x.png') }, { retries: 5, retryDelayMs: 5000 }));
    assert.equal(err.code, 'COMFY_SOURCE_UNREACHABLE');
    assert.match(err.message, /does not resolve/);
  });

  test('a body over the limit is refused (by Content-Length, and while streaming) and removed', async () => {
    const body = randomBytes(200_000);
    const url = origin.add('big.bin', { body });
    await assert.rejects(fetchToFile(url, { path: join(dir, 'big.bin') }, { ...local, maxBytes: 100_000 }), { code: 'COMFY_SOURCE_TOO_LARGE' });
    const chunked = origin.add('chunked.bin', { body, noLength: true });
    const err = await rejection(fetchToFile(chunked, { path: join(dir, 'chunked.bin') }, { ...local, maxBytes: 100_000 }));
    assert.equal(err.code, 'COMFY_SOURCE_TOO_LARGE');
    assert.match(err.message, /100000 bytes/);
    await assert.rejects(readFile(join(dir, 'chunked.bin')));
    assert.deepEqual(await leftovers(), []);
  });

  test('redirects are followed; a redirect to file: or another scheme is refused', async () => {
    const body = randomBytes(500);
    const target = origin.add('moved.bin', { body });
    const got = await fetchToFile(`${origin.url}/redirect?to=${encodeURIComponent(target)}&code=301`, { path: join(dir, 'moved.bin') }, local);
    assert.equal(got.sha256, sha(body));
    for (const to of ['file:///etc/passwd', 'ftp://example.com/x', 'gopher://x/']) {
      const err = await rejection(fetchToFile(`${origin.url}/redirect?to=${encodeURIComponent(to)}`, { path: join(dir, 'r.bin') }, local));
      assert.equal(err.code, 'COMFY_SOURCE_REFUSED', to);
      assert.match(err.message, /redirected to/);
    }
    const loop = `${origin.url}/loop`;
    await assert.rejects(fetchToFile(loop, { path: join(dir, 'loop.bin') }, { ...local, maxRedirects: 3 }), { code: 'COMFY_SOURCE_UNREACHABLE', message: /more than 3 redirects/ });
    assert.deepEqual(await leftovers(), []);
  });

  test('file:, data: and other schemes are refused before anything happens', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/a', 'data:text/plain,hi', 'not a url']) {
      await assert.rejects(fetchToFile(url, { path: join(dir, 'f') }, local), { code: 'COMFY_SOURCE_REFUSED' }, url);
    }
  });

  test('loopback and private addresses are refused unless allowed, before any request', async () => {
    const url = origin.add('private.bin', { body: Buffer.from('secret internal data') });
    const before = origin.requests.length;
    for (const u of [url, url.replace('127.0.0.1', 'localhost'), 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]:1/x', 'http://[::ffff:127.0.0.1]/x', 'http://0.0.0.0/x']) {
      const err = await rejection(fetchToFile(u, { path: join(dir, 'p.bin') }));
      assert.equal(err.code, 'COMFY_SOURCE_REFUSED', u);
      assert.match(err.message, /allowPrivateNetwork/);
    }
    assert.equal(origin.requests.length, before);
    assert.equal((await fetchToFile(url, { path: join(dir, 'p.bin') }, local)).size, 20);
    // A host name (not a literal) that resolves to an internal address: refused on the address the
    // socket would connect to. The machine's own name resolves locally, usually to loopback.
    const own = hostname();
    const address = await lookup(own).then((a) => a.address, () => undefined);
    if (address && isInternalAddress(address) && own !== 'localhost') {
      const err = await rejection(fetchToFile(url.replace('127.0.0.1', own), { path: join(dir, 'p4.bin') }, { retries: 0 }));
      assert.equal(err.code, 'COMFY_SOURCE_REFUSED');
      assert.match(err.message, new RegExp(`resolves to ${address.replace(/\./g, '\\.')}`));
      assert.equal(origin.requests.length, before + 1, 'only the allowed fetch above reached the origin');
    }
    // The operator's switch in the environment; an explicit option wins over it.
    const env = { COMFY_CONNECTOR_ALLOW_PRIVATE_URLS: '1' };
    assert.equal((await fetchToFile(url, { path: join(dir, 'p2.bin') }, { env })).size, 20);
    await assert.rejects(fetchToFile(url, { path: join(dir, 'p3.bin') }, { env, allowPrivateNetwork: false }), { code: 'COMFY_SOURCE_REFUSED' });
  });

  test('per-host credentials from options or the environment; never in messages', async () => {
    const body = randomBytes(300);
    const url = origin.add('private-model.safetensors', { body, authorization: 'Bearer sekrit-token' });
    const denied = await rejection(fetchToFile(url, { path: join(dir, 'a.bin') }, local));
    assert.equal(denied.code, 'COMFY_SOURCE_DENIED');
    const host = `127.0.0.1:${origin.port}`;
    const withOption = await fetchToFile(url, { path: join(dir, 'a.bin') }, { ...local, credentials: { [host]: { bearer: 'sekrit-token' } } });
    assert.equal(withOption.sha256, sha(body));
    const env = { [`COMFY_CONNECTOR_AUTH_127_0_0_1_${origin.port}`]: 'Bearer sekrit-token' };
    assert.equal((await fetchToFile(url, { path: join(dir, 'b.bin') }, { ...local, env })).sha256, sha(body));
    const wrong = await rejection(fetchToFile(url.replace('http://', 'http://user:hunter2@'), { path: join(dir, 'c.bin') }, local));
    assert.equal(wrong.code, 'COMFY_SOURCE_DENIED');
    assert.doesNotMatch(wrong.message, /hunter2|user:/);
    // Basic auth from the URL reaches the server, as basic.
    const basicSeen = origin.requests.at(-1)!.headers.authorization;
    assert.equal(basicSeen, `Basic ${Buffer.from('user:hunter2').toString('base64')}`);
    const signed = await rejection(fetchToFile(`${origin.url}/files/none?X-Amz-Signature=abc123&token=t0k`, { path: join(dir, 'd.bin') }, local));
    assert.doesNotMatch(signed.message, /abc123|t0k/);
  });

  test('a body cut short is resumed with a Range request and verified', async () => {
    const body = randomBytes(1024 * 1024);
    const url = origin.add('cut.bin', { body, cutAfter: 300_000, cutTimes: 1 });
    const before = origin.requests.length;
    const got = await fetchToFile(url, { path: join(dir, 'cut.bin'), sha256: sha(body) }, local);
    assert.equal(got.resumed, 1);
    assert.deepEqual(await readFile(join(dir, 'cut.bin')), body);
    const ranged = origin.requests.slice(before).map((r) => r.headers.range);
    assert.equal(ranged[0], undefined);
    assert.match(String(ranged[1]), /^bytes=\d+-$/);
    assert.ok(Number(/=(\d+)-/.exec(String(ranged[1]))![1]) > 0);
  });

  test('without range support a cut body restarts from the beginning', async () => {
    const body = randomBytes(500_000);
    const url = origin.add('noranges.bin', { body, cutAfter: 200_000, cutTimes: 1, noRanges: true });
    const got = await fetchToFile(url, { path: join(dir, 'noranges.bin') }, local);
    assert.equal(got.resumed, 0);
    assert.equal(got.sha256, sha(body));
  });

  test('a stalled body and a server that never answers hit the idle timeout; nothing is left', async () => {
    const url = origin.add('stall.bin', { body: randomBytes(200_000), stallAfter: 70_000 });
    await assert.rejects(fetchToFile(url, { path: join(dir, 'stall.bin') }, { ...local, idleTimeoutMs: 300, retries: 0 }), { code: 'COMFY_SOURCE_UNREACHABLE', message: /no data for 300 ms/ });
    await assert.rejects(fetchToFile(`${origin.url}/hang`, { path: join(dir, 'hang.bin') }, { ...local, idleTimeoutMs: 300, retries: 1 }), { code: 'COMFY_SOURCE_UNREACHABLE' });
    assert.deepEqual(await leftovers(), []);
  });

  test('5xx is retried a bounded number of times', async () => {
    const before = origin.requests.length;
    await assert.rejects(fetchToFile(`${origin.url}/status/503`, { path: join(dir, 's.bin') }, { ...local, retries: 2 }), { code: 'COMFY_SOURCE_HTTP', message: /503/ });
    assert.equal(origin.requests.length - before, 3);
    const before4 = origin.requests.length;
    await assert.rejects(fetchToFile(`${origin.url}/status/400`, { path: join(dir, 's.bin') }, { ...local, retries: 2 }), { code: 'COMFY_SOURCE_HTTP' });
    assert.equal(origin.requests.length - before4, 1);
  });

  test('an abort signal stops the transfer and removes the partial file', async () => {
    const url = origin.add('slow.bin', { body: randomBytes(2_000_000), chunkDelayMs: 20 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user cancelled')), 150);
    await assert.rejects(fetchToFile(url, { path: join(dir, 'slow.bin') }, { ...local, signal: controller.signal }));
    assert.deepEqual(await leftovers(), []);
    await assert.rejects(readFile(join(dir, 'slow.bin')));
  });
});
