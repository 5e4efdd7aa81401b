import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModelCache } from '../../src/model-cache/model-cache.js';
import { placeModel } from '../../src/model-cache/place.js';
import { loadManifest, parseManifest } from '../../src/model-cache/manifest.js';
import { startOrigin, type Origin } from '../helpers/http-origin.js';
import { REPO_ROOT } from '../helpers/targets.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const fetchOpts = { allowPrivateNetwork: true, retryDelayMs: 10 };

describe('ModelCache', () => {
  let origin: Origin;
  let root: string;
  before(async () => {
    origin = await startOrigin();
    root = await mkdtemp(join(tmpdir(), 'model-cache-'));
  });
  after(async () => {
    await origin.stop();
    await rm(root, { recursive: true, force: true });
  });
  const requestsFor = (name: string): number => origin.requests.filter((r) => r.path.includes(`/files/${name}`)).length;

  test('downloads once, then hits; concurrent gets share one download; the hash is reported', async () => {
    const body = randomBytes(400_000);
    const url = origin.add('lora-a.safetensors', { body, chunkDelayMs: 2 });
    const cache = new ModelCache({ dir: join(root, 'c1'), fetch: fetchOpts });
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => cache.get(url)));
    assert.equal(requestsFor('lora-a.safetensors'), 1);
    for (const got of all) assert.equal(got.sha256, sha(body));
    assert.equal(all.filter((g) => !g.hit).length, 5); // all five waited on the same download
    const again = await cache.get(url);
    assert.equal(again.hit, true);
    assert.equal(requestsFor('lora-a.safetensors'), 1);
    assert.deepEqual(await readFile(again.path), body);
    const byHash = await cache.get(`${origin.url}/files/other-name`, { sha256: sha(body) });
    assert.equal(byHash.hit, true, 'a known sha256 needs no download, whatever the URL');
    // A new instance on the same folder knows the file (index on disk).
    const reopened = new ModelCache({ dir: join(root, 'c1'), fetch: fetchOpts });
    assert.equal((await reopened.get(url)).hit, true);
  });

  test('a hash mismatch keeps nothing in the cache', async () => {
    const url = origin.add('bad.safetensors', { body: randomBytes(1000) });
    const cache = new ModelCache({ dir: join(root, 'c2'), fetch: fetchOpts });
    await assert.rejects(cache.get(url, { sha256: 'a'.repeat(64) }), { code: 'COMFY_HASH_MISMATCH' });
    assert.deepEqual(await readdir(join(root, 'c2', 'blobs')), []);
    assert.deepEqual(await readdir(join(root, 'c2', 'tmp')), []);
    assert.equal(cache.size, 0);
  });

  test('LRU eviction within the size limit skips files leased by a running prompt', async () => {
    const bodies = [0, 1, 2, 3].map(() => randomBytes(100_000));
    const urls = bodies.map((b, i) => origin.add(`m${i}.bin`, { body: b }));
    const cache = new ModelCache({ dir: join(root, 'c3'), maxBytes: 250_000, fetch: fetchOpts });
    const a = await cache.get(urls[0]!);
    const b = await cache.get(urls[1]!);
    await cache.get(urls[0]!); // a is now more recent than b
    await cache.get(urls[2]!); // evicts b
    assert.deepEqual(cache.records().map((r) => r.sha256).sort(), [a.sha256, sha(bodies[2]!)].sort());
    assert.ok(cache.size <= 250_000);
    // a is the least recently used now, but a running prompt holds it: c goes instead.
    const release = cache.lease(a.sha256);
    await cache.get(urls[3]!);
    assert.ok(cache.records().some((r) => r.sha256 === a.sha256));
    assert.ok(!cache.records().some((r) => r.sha256 === sha(bodies[2]!)));
    await stat(a.path);
    // Everything leased: no room is a typed error, nothing is kept.
    const release2 = cache.lease(sha(bodies[3]!));
    await assert.rejects(cache.get(origin.add('m9.bin', { body: randomBytes(100_000) })), { code: 'COMFY_CACHE_FULL' });
    assert.deepEqual(await readdir(join(root, 'c3', 'tmp')), []);
    release();
    release2();
    assert.equal(b.hit, false);
  });

  test('placement is a hard link (not a symlink), reused when identical, refused over other bytes, removed on eviction', async () => {
    const body = randomBytes(150_000);
    const url = origin.add('vae.safetensors', { body });
    const cache = new ModelCache({ dir: join(root, 'c4'), maxBytes: 200_000, fetch: fetchOpts });
    const got = await cache.get(url);
    const models = join(root, 'models', 'vae');
    const placed = await placeModel(got.path, got.sha256, models, 'sub', 'taesd_decoder.safetensors');
    await cache.addPlacement(got.sha256, placed.path);
    assert.equal(placed.linked, true);
    const info = await stat(placed.path);
    assert.equal(info.ino, (await stat(got.path)).ino);
    assert.equal((await placeModel(got.path, got.sha256, models, 'sub', 'taesd_decoder.safetensors')).reused, true);
    await writeFile(join(models, 'other.safetensors'), 'different');
    await assert.rejects(placeModel(got.path, got.sha256, models, undefined, 'other.safetensors'), { code: 'COMFY_UPLOAD', message: /overwrite/ });
    await assert.rejects(placeModel(got.path, got.sha256, models, '../escape', 'x.safetensors'), { code: 'COMFY_UNSAFE_PATH' });
    assert.deepEqual((await readdir(models)).filter((n) => n.includes('partial')), []);
    // A new file that needs the room evicts this one, and its hard link in the model folder.
    await cache.get(origin.add('next.bin', { body: randomBytes(150_000) }));
    await assert.rejects(stat(placed.path), { code: 'ENOENT' });
    assert.equal(await readFile(join(models, 'other.safetensors'), 'utf8'), 'different');
  });

  test('a crash mid-download leaves nothing a later run takes for complete', async () => {
    const body = randomBytes(3_000_000);
    const url = origin.add('slow-model.bin', { body, chunkDelayMs: 15 });
    const dir = join(root, 'c5');
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'assets', 'cache-crash-child.ts'), dir, url], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('started')) resolve(); });
      child.once('exit', () => reject(new Error('the child finished before it was killed')));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.deepEqual((await readdir(join(dir, 'blobs'))), []);
    assert.ok((await readdir(join(dir, 'tmp'))).length > 0, 'the partial download is there (and only there)');
    const cache = new ModelCache({ dir, fetch: fetchOpts });
    const got = await cache.get(url);
    assert.equal(got.hit, false);
    assert.equal(got.sha256, sha(body));
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  });

  test('manifests in JSON or YAML, from a URL', async () => {
    assert.deepEqual(parseManifest('[{"to":"loras","source":"https://x/a.safetensors","sha256":"ab"}]'), [{ to: 'loras', source: 'https://x/a.safetensors', sha256: 'ab' }]);
    assert.deepEqual(parseManifest('models:\n  - to: vae\n    url: s3://b/k.safetensors\n    name: k.safetensors\n'), [{ to: 'vae', source: 's3://b/k.safetensors', name: 'k.safetensors' }]);
    assert.throws(() => parseManifest('{"nope": 1}'), { code: 'COMFY_UPLOAD' });
    assert.throws(() => parseManifest('[{"to": "vae"}]'), { code: 'COMFY_UPLOAD' });
    const url = origin.add('manifest.yaml', { body: Buffer.from('- to: loras\n  source: https://example.com/l.safetensors\n') });
    assert.deepEqual(await loadManifest(url, fetchOpts), [{ to: 'loras', source: 'https://example.com/l.safetensors' }]);
    await assert.rejects(loadManifest('/etc/passwd', { localPaths: false }), { code: 'COMFY_UPLOAD' });
  });
});
