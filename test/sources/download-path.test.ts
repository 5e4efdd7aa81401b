// The fast download path (src/sources/http-raw.ts, file-sink.ts, hasher.ts): the body read straight
// into page-aligned blocks, hashed on a worker for large bodies, written with O_DIRECT where the
// filesystem allows. Checked end to end against the tests' own origin: bytes and sha256 equal, resume
// at aligned and odd offsets, the page-cache path (tmpfs), and the raw reader on its own.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fetchToFile } from '../../src/sources/fetch.js';
import { FileSink, WORKER_MIN_BYTES } from '../../src/sources/file-sink.js';
import { rawGet } from '../../src/sources/http-raw.js';
import { guardedLookup } from '../../src/sources/policy.js';
import { startOrigin, type Origin } from '../helpers/http-origin.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const local = { allowPrivateNetwork: true, retryDelayMs: 10 };
const rawOptions = { connectMs: 2000, idleMs: 2000, lookup: guardedLookup(true) as never, signal: undefined };

describe('the direct download path', () => {
  let origin: Origin;
  let dir: string;
  let shm: string | undefined;
  // Large enough for the worker hash and for every block to be busy at some point.
  const big = randomBytes(WORKER_MIN_BYTES + 3 * 1024 * 1024 + 777);
  before(async () => {
    origin = await startOrigin();
    dir = await mkdtemp(join(tmpdir(), 'sources-direct-'));
    if (existsSync('/dev/shm')) shm = await mkdtemp('/dev/shm/sources-direct-');
  });
  after(async () => {
    await origin.stop();
    await rm(dir, { recursive: true, force: true });
    if (shm) await rm(shm, { recursive: true, force: true });
  });

  async function leftovers(folder: string): Promise<string[]> {
    return (await readdir(folder)).filter((n) => n.includes('partial'));
  }

  test('a large body arrives whole, with its sha256 (worker hash, direct blocks, odd tail)', async () => {
    const url = origin.add('big.bin', { body: big });
    const got = await fetchToFile(url, { path: join(dir, 'big.bin'), sha256: sha(big) }, local);
    assert.equal(got.size, big.length);
    assert.equal(got.sha256, sha(big));
    assert.ok((await readFile(join(dir, 'big.bin'))).equals(big));
    assert.deepEqual(await leftovers(dir), []);
  });

  test('with COMFY_CONNECTOR_DIRECT_IO=0 (node:http, the streamed path) and on tmpfs the bytes are the same', async () => {
    const url = origin.add('big-plain.bin', { body: big });
    const before = origin.requests.length;
    const plain = await fetchToFile(url, { path: join(dir, 'plain.bin') }, { ...local, env: { COMFY_CONNECTOR_DIRECT_IO: '0' } });
    assert.equal(plain.sha256, sha(big));
    assert.ok((await readFile(join(dir, 'plain.bin'))).equals(big));
    assert.equal(origin.requests.length - before, 1);
    if (shm) {
      const got = await fetchToFile(url, { path: join(shm, 'big.bin') }, local);
      assert.equal(got.sha256, sha(big));
      assert.ok((await readFile(join(shm, 'big.bin'))).equals(big));
      assert.deepEqual(await leftovers(shm), []);
    }
  });

  test('a cut at an odd offset and at a block boundary both resume to the exact bytes', async () => {
    for (const cutAfter of [1024 * 1024 + 12345, 4 * 1024 * 1024]) {
      const body = randomBytes(6 * 1024 * 1024 + 3);
      const url = origin.add(`cut-${cutAfter}.bin`, { body, cutAfter, cutTimes: 1 });
      const before = origin.requests.length;
      const got = await fetchToFile(url, { path: join(dir, 'cut.bin'), sha256: sha(body) }, local);
      assert.equal(got.resumed, 1, `cut at ${cutAfter}`);
      assert.ok((await readFile(join(dir, 'cut.bin'))).equals(body));
      const range = origin.requests.slice(before).map((r) => r.headers.range)[1];
      assert.equal(range, `bytes=${cutAfter}-`, 'the file held exactly the bytes received before the cut');
    }
    assert.deepEqual(await leftovers(dir), []);
  });

  test('an empty body and a body of exactly one block arrive whole', async () => {
    for (const body of [Buffer.alloc(0), randomBytes(1024 * 1024)]) {
      const url = origin.add(`exact-${body.length}.bin`, { body });
      const got = await fetchToFile(url, { path: join(dir, 'exact.bin'), sha256: sha(body) }, local);
      assert.equal(got.size, body.length);
      assert.ok((await readFile(join(dir, 'exact.bin'))).equals(body));
    }
  });

  test('a large body without Content-Length goes through node:http and arrives whole', async () => {
    const url = origin.add('chunked-big.bin', { body: big, noLength: true });
    const got = await fetchToFile(url, { path: join(dir, 'chunked.bin') }, local);
    assert.equal(got.sha256, sha(big));
  });

  test('FileSink as a plain Writable: the same bytes and sha256 (worker hash, several blocks)', async () => {
    const path = join(dir, 'sink.bin');
    const sink = await FileSink.create(path, { offset: 0, expected: big.length });
    assert.equal(sink.hasher.onWorker, true);
    const chunks = function* (): Generator<Buffer> {
      for (let at = 0; at < big.length; at += 100_003) yield big.subarray(at, at + 100_003);
    };
    await pipeline(Readable.from(chunks()), sink);
    assert.equal(await sink.hasher.digest(), sha(big));
    await sink.hasher.close();
    assert.ok((await readFile(path)).equals(big));
  });

  test('the raw reader skips 1xx answers and reads as a plain stream too', async (t) => {
    const server: Server = createServer((socket) => {
      socket.once('data', () => {
        socket.end('HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 11\r\netag: "e1"\r\n\r\nhello world and trailing junk');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const res = await rawGet(new URL(`http://127.0.0.1:${port}/x`), { 'user-agent': 't' }, rawOptions);
    assert.ok(res?.body);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.etag, '"e1"');
    const parts: Buffer[] = [];
    for await (const chunk of res.body) parts.push(chunk as Buffer);
    assert.equal(Buffer.concat(parts).toString(), 'hello world');
  });

  test('the raw reader declines what it does not take (chunked, unsafe header values)', async () => {
    const url = origin.add('chunked-small.bin', { body: randomBytes(1000), noLength: true });
    assert.equal(await rawGet(new URL(url), {}, rawOptions), undefined);
    assert.equal(await rawGet(new URL(url), { authorization: 'Bearer x\r\nx-evil: 1' }, rawOptions), undefined);
    const notFound = await rawGet(new URL(`${origin.url}/status/404`), {}, rawOptions);
    assert.equal(notFound?.statusCode, 404);
    assert.equal(notFound?.body, undefined);
  });
});
